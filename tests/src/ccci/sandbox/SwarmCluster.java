package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * A multi-node Docker Swarm on this machine: a manager and workers, each a dockerd of its own in
 * its own mount namespace ({@link SwarmNode}), on its own small loop-mounted disk, joined over
 * loopback (each node its own --listen-addr/--advertise-addr port), told apart by the node label
 * {@value #NODE_LABEL} (they share the host's hostname). With it a private registry, to which the
 * manager's client is logged in: services created with --with-registry-auth pull on every node.
 *
 * <p>The test JVM plays the manager's host, where a fleet run starts: on this host the data root's
 * path shows the manager's disk (a bind mount), as /var/lib/docker does on a real manager. Each
 * node's own namespace has its own disk there.
 *
 * <p>{@link #shared()} is one cluster per test JVM; a test that stops a worker or drains a node
 * may leave it so: the next {@code shared()} brings every node back (running, active, ready).
 */
public final class SwarmCluster implements AutoCloseable {
    public static final String NODE_LABEL = "ccci.node";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final String REGISTRY_USER = "fleet";
    private static final String REGISTRY_PASSWORD = "fleet-sandbox-password";
    private static SwarmCluster shared;

    public static final class Options {
        private int workers = 2;
        private int managerDiskMb = 512;
        private int workerDiskMb = 320;

        public Options workers(int count) {
            this.workers = count;
            return this;
        }

        /**
         * Each node's data root file system. The manager's holds swarm's raft log (~120 MB); every
         * node holds the pulled toolkit image (~80 MB). Workers get distinct sizes (+32 MB each),
         * so a node's disk figures tell which node measured them.
         */
        public Options diskMb(int manager, int firstWorker) {
            this.managerDiskMb = manager;
            this.workerDiskMb = firstWorker;
            return this;
        }
    }

    private final Path dir;
    private final Watchdog watchdog;
    private final List<SwarmNode> nodes = new ArrayList<>();
    private SandboxRegistry registry;
    private String toolkitImage;
    private boolean closed;

    private SwarmCluster(Path dir) {
        this.dir = dir;
        this.watchdog = Watchdog.guard(dir, List.of(dir.resolve("no-daemon.pid")));
    }

    public static Options options() {
        return new Options();
    }

    /**
     * The requests any node refused as below its minimum API (see
     * {@link SandboxEngine#requestsRefusedAsTooOld()}), each after its node's name.
     */
    public List<String> requestsRefusedAsTooOld() {
        return nodes.stream().flatMap(n -> n.engine().requestsRefusedAsTooOld().stream().map(r -> n.name() + ": " + r)).toList();
    }

    /** The cluster of this JVM, if one was started and is not closed (unlike {@link #shared()}, never starts or heals one). */
    public static synchronized Optional<SwarmCluster> existing() {
        return shared == null || shared.closed ? Optional.empty() : Optional.of(shared);
    }

    /** The cluster of this JVM (manager + 2 workers), started on first use, every node ready. */
    public static synchronized SwarmCluster shared() {
        if (shared == null || shared.closed) {
            shared = start(new Options());
        } else {
            shared.heal();
        }
        return shared;
    }

    public static SwarmCluster start(Options o) {
        Provision.ensureInstalled();
        long t0 = System.nanoTime();
        SwarmCluster cluster;
        try {
            cluster = new SwarmCluster(Files.createTempDirectory(Path.of("/tmp"), "sbx-swarm-"));
            Files.createDirectories(cluster.dataRoot());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Reaper.register(cluster);
        try {
            // the registry and every node's engine start at once (each dockerd mostly waits on its
            // own start-up), then the manager inits the swarm and the workers join it at once
            CompletableFuture<SandboxRegistry> registry = CompletableFuture.supplyAsync(
                    () -> SandboxRegistry.start(REGISTRY_USER, REGISTRY_PASSWORD), THREAD_EACH);
            Map<String, Integer> disks = new LinkedHashMap<>();
            disks.put("manager", o.managerDiskMb);
            for (int i = 1; i <= o.workers; i++) {
                disks.put("worker" + i, o.workerDiskMb + 32 * (i - 1));
            }
            List<CompletableFuture<SwarmNode>> starting = disks.entrySet().stream()
                    .map(d -> CompletableFuture.supplyAsync(() -> SwarmNode.start(d.getKey(), d.getValue(), cluster.dataRoot()),
                            THREAD_EACH))
                    .toList();
            List<Throwable> failures = new ArrayList<>();
            // close() stops whatever did start when another failed
            starting.forEach(node -> valueOf(node, failures).ifPresent(cluster.nodes::add));
            cluster.registry = valueOf(registry, failures).orElse(null);
            throwFirst(failures);
            cluster.showManagersDataRootHere();
            long started = System.nanoTime();
            SwarmNode manager = cluster.manager();
            int port = FreePorts.next();
            manager.dockerOk("swarm", "init", "--advertise-addr", "127.0.0.1:" + port, "--listen-addr", "127.0.0.1:" + port);
            manager.engine().login(cluster.registry.address(), REGISTRY_USER, REGISTRY_PASSWORD);
            String token = manager.dockerOk("swarm", "join-token", "-q", "worker");
            List<CompletableFuture<String>> joining = cluster.workers().stream().map(worker -> CompletableFuture.supplyAsync(() -> {
                int workerPort = FreePorts.next();
                return worker.dockerOk("swarm", "join", "--token", token, "--advertise-addr", "127.0.0.1:" + workerPort,
                        "--listen-addr", "127.0.0.1:" + workerPort, "127.0.0.1:" + port);
            }, THREAD_EACH)).toList();
            joining.forEach(join -> valueOf(join, failures));
            throwFirst(failures);
            for (SwarmNode node : cluster.nodes) {
                node.nodeId(node.dockerOk("info", "-f", "{{.Swarm.NodeID}}"));
                manager.dockerOk("node", "update", "--label-add", NODE_LABEL + "=" + node.name(), node.nodeId());
            }
            cluster.awaitAll("ready", "active");
            long t1 = System.nanoTime();
            System.err.printf("[sandbox] swarm %s (engine %s): %d nodes ready in %d ms (engines and registry up in %d ms, swarm formed in %d ms)%n",
                    cluster.dir, EngineKind.current(), cluster.nodes.size(), (t1 - t0) / 1_000_000, (started - t0) / 1_000_000,
                    (t1 - started) / 1_000_000);
            return cluster;
        } catch (RuntimeException | Error e) {
            try {
                cluster.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Binds the manager's disk at {@link #dataRoot()} on this host (private: nothing propagates), so
     * that what a fleet run checks on its host (e.g. that --containerd-root exists) is the manager's.
     * The nodes' namespaces already exist; one started later inherits this mount and mounts its own
     * disk over it.
     */
    private void showManagersDataRootHere() {
        Exec.ok(List.of("mount", "--bind", manager().diskOnHost().toString(), dataRoot().toString()));
        Exec.ok(List.of("mount", "--make-private", dataRoot().toString()));
    }

    /** A new daemon thread for each task: the cluster's start-up steps wait on processes, not on CPU. */
    private static final Executor THREAD_EACH = task -> {
        Thread thread = new Thread(task, "sandbox-swarm-start");
        thread.setDaemon(true);
        thread.start();
    };

    /** Waits for {@code future}; its value, or empty with its failure added to {@code failures}. */
    private static <T> Optional<T> valueOf(CompletableFuture<T> future, List<Throwable> failures) {
        try {
            return Optional.ofNullable(future.join());
        } catch (CompletionException e) {
            failures.add(e.getCause() != null ? e.getCause() : e);
            return Optional.empty();
        }
    }

    private static void throwFirst(List<Throwable> failures) {
        if (failures.isEmpty()) {
            return;
        }
        Throwable first = failures.get(0);
        failures.subList(1, failures.size()).forEach(first::addSuppressed);
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(first);
    }

    public SwarmNode manager() {
        return nodes.get(0);
    }

    public List<SwarmNode> workers() {
        return List.copyOf(nodes.subList(1, nodes.size()));
    }

    /** The manager first, then the workers in order. */
    public List<SwarmNode> nodes() {
        return List.copyOf(nodes);
    }

    public SwarmNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name + " in " + nodes));
    }

    public SwarmNode byId(String nodeId) {
        return nodes.stream().filter(n -> n.nodeId().equals(nodeId)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node with ID " + nodeId + " in " + nodes));
    }

    /** Every node's DockerRootDir: the same path on all of them, each its own disk there. */
    public Path dataRoot() {
        return dir.resolve("docker");
    }

    /**
     * On the containerd image store, containerd's root as every node's containers see it: dockerd's
     * own containerd keeps it in the data root (DATA_ROOT/containerd/daemon), so on the node's own disk.
     */
    public Optional<Path> containerdRoot() {
        return EngineKind.current().containerdImageStore()
                ? Optional.of(SandboxEngine.ownContainerdRoot(dataRoot())) : Optional.empty();
    }

    public SandboxRegistry registry() {
        return registry;
    }

    /**
     * The toolkit's image (ToolkitImage), pushed once to the registry: the reference every node
     * pulls. Every worker pulls it here already, so that a test's disk figures include it whichever
     * test runs first: a node whose disk a test has filled could not pull it any more (on the
     * containerd store it takes its compressed content and its unpacked snapshot, ~115 MB).
     */
    public synchronized String toolkitImage() {
        if (toolkitImage == null) {
            long t0 = System.nanoTime();
            String ref = ToolkitImage.pushTo(manager().engine(), registry);
            long pushed = System.nanoTime();
            List<Throwable> failures = new ArrayList<>();
            workers().stream().map(worker -> CompletableFuture.runAsync(() -> {
                worker.engine().login(registry.address(), REGISTRY_USER, REGISTRY_PASSWORD);
                worker.dockerOk("pull", "-q", ref);
            }, THREAD_EACH)).toList().forEach(pull -> valueOf(pull, failures));
            throwFirst(failures);
            toolkitImage = ref;
            System.err.printf("[sandbox] swarm %s: %s imported and pushed in %d ms, pulled by the workers in %d ms%n", dir,
                    toolkitImage, (pushed - t0) / 1_000_000, (System.nanoTime() - pushed) / 1_000_000);
        }
        return toolkitImage;
    }

    /** `docker service create --detach --mode global-job --with-registry-auth OPTIONS... IMAGE ARGS...` on the manager. */
    public GlobalJob globalJob(String name, List<String> options, String image, String... args) {
        return GlobalJob.create(this, name, options, image, args);
    }

    /** `docker node update --availability drain`: no new task goes there. */
    public void drain(SwarmNode node) {
        manager().dockerOk("node", "update", "--availability", "drain", node.nodeId());
    }

    public void activate(SwarmNode node) {
        manager().dockerOk("node", "update", "--availability", "active", node.nodeId());
    }

    /** The manager's view of a node: "ready active", "down active", "ready drain"... */
    public String state(SwarmNode node) {
        return manager().dockerOk("node", "inspect", "-f", "{{.Status.State}} {{.Spec.Availability}}", node.nodeId());
    }

    /** Waits until the manager reports {@code state} (e.g. "down" after stopEngine) for the node. */
    public void awaitState(SwarmNode node, String state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String now;
        while (!(now = state(node)).startsWith(state + " ")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node + " is still " + now + " after " + timeout + ", not " + state);
            }
            sleep(200);
        }
    }

    /** Every node's dockerd running, active and ready, as the manager sees them. */
    synchronized void heal() {
        for (SwarmNode node : nodes) {
            if (!node.isRunning()) {
                node.startEngine();
            }
        }
        for (SwarmNode node : nodes) {
            if (!state(node).endsWith(" active")) {
                activate(node);
            }
        }
        awaitAll("ready", "active");
    }

    private void awaitAll(String state, String availability) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            Map<String, String> states = new TreeMap<>();
            for (SwarmNode node : nodes) {
                states.put(node.name(), state(node));
            }
            if (states.values().stream().allMatch((state + " " + availability)::equals)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nodes not all " + state + " " + availability + " after " + READY_TIMEOUT + ": " + states);
            }
            sleep(200);
        }
    }

    /** Stops every node (workers first) and the registry, and removes what they left. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Reaper.unregister(this);
        List<RuntimeException> failures = new ArrayList<>();
        List<Path> stuck = Mounts.unmountAllUnder(dataRoot()); // the manager's disk, seen from here
        if (!stuck.isEmpty()) {
            failures.add(new IllegalStateException("still mounted: " + stuck));
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            try {
                nodes.get(i).engine().close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (registry != null) {
            registry.close();
        }
        watchdog.dismiss();
        Exec.run(List.of("rm", "-rf", "--one-file-system", dir.toString()));
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }

    @Override
    public String toString() {
        return "SwarmCluster[" + dir + ", " + nodes + "]";
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
