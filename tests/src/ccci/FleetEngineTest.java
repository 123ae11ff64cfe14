package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnSwarmEngines;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SwarmCluster;
import ccci.sandbox.SwarmNode;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * `prune --fleet` and `gates --fleet` on a real three-node swarm (a manager and two workers, each
 * its own engine on its own disk; {@link SwarmCluster#shared()}): one global job of the toolkit's
 * image, each node deciding on its own disk and containers with the manager's verdict.
 */
@OnSwarmEngines
class FleetEngineTest {
    private static final String STACK_SERVICE = "abcd-1a2b3c_ci_commoninternet_net_app";

    /**
     * The shared cluster closes at JVM exit, too late to fail a test: on an engine with a minimum
     * API (28.5-containerd: 1.44) no node may have refused a request as too old, from the toolkit's
     * node jobs or anything else.
     */
    @AfterAll
    static void noNodeRefusedARequestAsTooOld() {
        SwarmCluster.existing().ifPresent(cluster -> assertEquals(List.of(), cluster.requestsRefusedAsTooOld()));
    }

    static CommandResult fleet(String script, String... args) {
        return ScriptRun.of(script, fleetArgs(SwarmCluster.shared(), "2m", args).toArray(String[]::new));
    }

    /** Without {@link SwarmCluster#shared()}, which would bring a drained or stopped node back. */
    static List<String> fleetArgs(SwarmCluster cluster, String timeout, String... args) {
        List<String> all = new ArrayList<>(List.of("--host", cluster.manager().host(), "--fleet",
                "--image", cluster.toolkitImage(), "--config", cluster.manager().engine().dockerConfigDir().toString(),
                "--fleet-timeout", timeout));
        all.addAll(List.of(args));
        return all;
    }

    /** The fleet's per-node results by node name (manager, worker1...). */
    static Map<String, JsonNode> byNode(SwarmCluster cluster, JsonNode fleetJson) {
        Map<String, JsonNode> nodes = new LinkedHashMap<>();
        for (JsonNode n : fleetJson.path("nodes")) {
            nodes.put(cluster.byId(n.path("id").asText()).name(), n);
        }
        return nodes;
    }

    static String fleetJobs(SwarmCluster cluster) {
        return cluster.manager().dockerOk("service", "ls", "-q", "--filter", "label=" + GatePolicy.FLEET_JOB_LABEL);
    }

    /**
     * Every node holds the prune scenario; only worker1's disk is over the threshold. The dry run
     * lists on each node what the seed's three commands remove on an identical engine; the real run
     * prunes worker1 only (exactly that set); a run at threshold 1 then prunes the others, each
     * exactly that set again. The phases free too little to get a node below its threshold, so each
     * node that pruned reports insufficient (17), and so does the fleet (its worst node).
     */
    @Test
    void oneNodeOverTheThresholdPrunesAloneAndEachNodeRemovesWhatTheSeedsCommandsRemove() throws Exception {
        SwarmCluster cluster = SwarmCluster.shared();
        cluster.toolkitImage();
        Instant now = Instant.now();
        SwarmNode full = cluster.node("worker1");
        Path filler = full.diskOnHost().resolve("ccci-filler");
        Map<String, Set<String>> start = new LinkedHashMap<>();
        // the reference engine and every node build the scenario at once (each mostly waits on its
        // own engine: on the containerd store each restarts to backdate its image records)
        ExecutorService builders = Executors.newCachedThreadPool();
        long t0 = System.nanoTime();
        try {
            Future<Set<String>> seed = builders.submit(() -> {
                try (SandboxEngine reference = SandboxEngine.start(SandboxEngine.options().swarm(false))) {
                    PruneScenario.build(reference, now, 1, false);
                    Set<String> before = PruneScenario.survivors(reference);
                    reference.dockerOk("container", "prune", "-f", "--filter", "until=24h");
                    reference.dockerOk("image", "prune", "-f", "--filter", "until=24h");
                    reference.dockerOk("builder", "prune", "-f", "--filter", "until=24h");
                    return minus(before, PruneScenario.survivors(reference));
                }
            });
            Map<String, Future<Set<String>>> built = new LinkedHashMap<>();
            for (SwarmNode node : cluster.nodes()) {
                built.put(node.name(), builders.submit(() -> {
                    PruneScenario.build(node.engine(), now, 1, false);
                    return state(node);
                }));
            }
            Set<String> seedRemoves = valueOf(seed);
            assertEquals(3, seedRemoves.size(), "the seed's commands remove the three old dangling images: " + seedRemoves);
            for (Map.Entry<String, Future<Set<String>>> node : built.entrySet()) {
                start.put(node.getKey(), valueOf(node.getValue()));
            }
            System.err.printf("[fleet test] the scenario built on the reference engine and the %d nodes in %d ms%n",
                    built.size(), (System.nanoTime() - t0) / 1_000_000);
            int others = cluster.nodes().stream().filter(n -> n != full).mapToInt(FleetEngineTest::usedPercent).max().orElseThrow();
            int threshold = others + 8;
            fill(full, filler, threshold + 2);
            System.err.println("[fleet test] threshold " + threshold + "%; disks: " + cluster.nodes().stream()
                    .map(n -> n.name() + " " + usedPercent(n) + "%").toList());

            CommandResult dry = fleet("Prune", "--dry-run", "--threshold", Integer.toString(threshold), "--json");
            assertEquals(ExitCodes.OK, dry.exit(), dry.toString());
            Map<String, JsonNode> dryNodes = byNode(cluster, dry.json());
            assertEquals(Set.of("manager", "worker1", "worker2"), dryNodes.keySet());
            for (SwarmNode node : cluster.nodes()) {
                JsonNode report = dryNodes.get(node.name()).path("report");
                assertEquals("dry-run", report.path("outcome").asText(), node + ": " + report);
                assertEquals(seedRemoves, ids("image ", report.path("wouldRemove")), node + " would remove what the seed removes");
                assertEquals(start.get(node.name()), state(node), node + ": a dry run removes nothing");
            }

            CommandResult run = fleet("Prune", "--threshold", Integer.toString(threshold));
            System.err.println("[fleet test] one node over the threshold:\n" + run.out());
            assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
            List<String> rows = run.out().lines().toList();
            assertTrue(rows.stream().anyMatch(l -> l.startsWith("NODE ") && l.contains("DISK") && l.contains("REMOVED")
                    && l.contains("RECLAIMED") && l.endsWith("OUTCOME")), run.out());
            assertTrue(rows.stream().anyMatch(l -> l.contains(full.nodeId().substring(0, 12)) && l.contains(" 3 ")
                    && l.contains("insufficient: disk still ")), run.out());
            assertEquals(2, rows.stream().filter(l -> l.contains("noop: disk: ")).count(), run.out());
            assertTrue(run.out().contains("fleet: 3 nodes: 1 insufficient, 2 noop; removed 3, reclaimed "), run.out());
            for (SwarmNode node : cluster.nodes()) {
                Set<String> removed = minus(start.get(node.name()), state(node));
                assertEquals(node == full ? seedRemoves : Set.of(), removed, node + " removed");
            }

            CommandResult all = fleet("Prune", "--threshold", "1", "--json");
            assertEquals(ExitCodes.INSUFFICIENT, all.exit(), all.toString());
            Map<String, JsonNode> allNodes = byNode(cluster, all.json());
            for (SwarmNode node : cluster.nodes()) {
                JsonNode report = allNodes.get(node.name()).path("report");
                assertEquals("insufficient", report.path("outcome").asText(), node + ": " + report);
                assertEquals(node == full ? Set.of() : seedRemoves, ids("image ", report.path("removed")), node + ": " + report);
                assertEquals(seedRemoves, minus(start.get(node.name()), state(node)), node + ": in all, what the seed removes");
                JsonNode convergence = gate(report, "convergence");
                assertEquals("holds", convergence.path("clusterVerdict").asText(), node + " got the manager's verdict: " + convergence);
                assertEquals(node == cluster.manager() ? "manager" : "worker", convergence.path("swarm").asText());
            }
            assertEquals("", fleetJobs(cluster), "no job service left behind");
        } finally {
            builders.shutdown();
            builders.awaitTermination(5, TimeUnit.MINUTES); // a failed build's siblings finish before the cleanup
            Files.deleteIfExists(filler);
            for (SwarmNode node : cluster.nodes()) {
                node.docker("rm", "-f", "ccci-created", "ccci-exited", "ccci-holds-dangling");
                node.docker("volume", "rm", PruneScenario.VOLUME);
            }
        }
    }

    /**
     * A run-app stack's service with its task on a worker, and a service short of its tasks: the
     * manager decides each cluster gate blocks, and every node keeps its cache.
     */
    @Test
    void aRunAppStackLiveOnAWorkerAndAConvergingServiceBlockTheWholeFleet() {
        SwarmCluster cluster = SwarmCluster.shared();
        String busybox = busyboxInRegistry(cluster);
        cluster.manager().dockerOk("service", "create", "--detach", "--with-registry-auth", "--name", STACK_SERVICE,
                "--constraint", "node.labels." + SwarmCluster.NODE_LABEL + "==worker1", "--stop-grace-period", "1s",
                busybox, "sleep", "600");
        cluster.manager().dockerOk("service", "create", "--detach", "--name", "ccci-stuck",
                "--constraint", "node.labels.nowhere==1", busybox, "sleep", "600");
        try {
            GatesEngineTest.waitUntil(() -> cluster.manager().dockerOk("service", "ls", "--filter", "name=" + STACK_SERVICE,
                    "--format", "{{.Replicas}}").equals("1/1"), "the stack's service running on worker1");
            CommandResult run = fleet("Prune", "--threshold", "1", "--json");
            assertEquals(ExitCodes.OK, run.exit(), run.toString());
            JsonNode json = run.json();
            assertEquals("stack=blocks,convergence=blocks", json.path("clusterVerdict").asText(), run.out());
            for (JsonNode node : json.path("nodes")) {
                assertEquals("noop", node.path("outcome").asText(), node.toString());
                assertEquals(0, node.path("removed").asInt(), node.toString());
                String detail = node.path("detail").asText();
                assertTrue(detail.startsWith("stack: live run-app stack "), detail);
                assertTrue(detail.contains("; convergence: services converging in the cluster (the manager's verdict"), detail);
            }
            CommandResult gates = fleet("Gates", "--threshold", "1");
            System.err.println("[fleet test] gates with a stack on worker1 and a converging service:\n" + gates.out());
            assertEquals(ExitCodes.GATE_BLOCKS, gates.exit(), gates.toString());
            assertTrue(gates.out().contains("cluster: stack blocks (live run-app stack abcd-1a2b3c_ci_commoninternet_net"), gates.out());
            assertTrue(gates.out().contains("convergence blocks (1 service converging: ccci-stuck 0/1)"), gates.out());
            assertEquals(3, gates.out().lines().filter(l -> l.contains("blocks: stack: live run-app stack")).count(), gates.out());
        } finally {
            cluster.manager().dockerOk("service", "rm", STACK_SERVICE, "ccci-stuck");
        }
    }

    /** A worker whose engine stops while the job runs is reported; the others finish; no hang. */
    @Test
    void aWorkerStoppedMidRunIsReportedAndTheOthersFinish() throws Exception {
        SwarmCluster cluster = SwarmCluster.shared();
        cluster.toolkitImage();
        SwarmNode stopped = cluster.node("worker2");
        long t0 = System.nanoTime();
        CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(
                () -> ScriptRun.of("Prune", fleetArgs(cluster, "60s", "--threshold", "99").toArray(String[]::new)));
        try {
            GatesEngineTest.waitUntil(() -> running.isDone() || !fleetJobs(cluster).isEmpty(), "the fleet's job created");
            stopped.stopEngine();
            CommandResult run = running.get(3, TimeUnit.MINUTES);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            System.err.println("[fleet test] worker2 stopped mid-run, after " + took.toSeconds() + " s:\n" + run.out());
            assertEquals(ExitCodes.FLEET_NODE_MISSING, run.exit(), run.toString());
            assertTrue(took.compareTo(Duration.ofSeconds(60 + 30)) < 0, "ended by the fleet timeout: " + took);
            String line = run.out().lines().filter(l -> l.contains(stopped.nodeId().substring(0, 12))).findFirst().orElseThrow();
            assertTrue(line.matches(".*(went-down|no-report|failed): .*"), line);
            for (SwarmNode node : List.of(cluster.manager(), cluster.node("worker1"))) {
                String row = run.out().lines().filter(l -> l.contains(node.nodeId().substring(0, 12))).findFirst().orElseThrow();
                assertTrue(row.contains("noop: disk: "), "it reported: " + row);
            }
            assertTrue(run.out().contains("not accounted for: "), run.out());
            assertEquals("", fleetJobs(cluster), "no job service left behind");
        } finally {
            running.get(3, TimeUnit.MINUTES);
            if (!stopped.isRunning()) {
                stopped.startEngine();
            }
            cluster.awaitState(stopped, "ready", Duration.ofSeconds(60));
        }
    }

    /** SIGTERM while the job runs: the shutdown hook removes the job service. */
    @Test
    void sigtermLeavesNoJobServiceBehind() throws Exception {
        SwarmCluster cluster = SwarmCluster.shared();
        cluster.toolkitImage();
        Path out = Files.createTempFile("ccci-fleet", ".out");
        Path err = Files.createTempFile("ccci-fleet", ".err");
        List<String> command = new ArrayList<>(List.of("Prune"));
        command.addAll(fleetArgs(cluster, "2m", "--threshold", "99"));
        Process process = JavaProcess.java(command, ProcessBuilder.Redirect.to(out.toFile()), ProcessBuilder.Redirect.to(err.toFile()));
        try {
            GatesEngineTest.waitUntil(() -> !process.isAlive() || !fleetJobs(cluster).isEmpty(), "the fleet's job created");
            assertTrue(process.isAlive(), "still waiting for its nodes");
            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "prune --fleet did not exit after SIGTERM");
            String output = Files.readString(out) + Files.readString(err);
            System.err.println("[fleet test] SIGTERM:\n" + output);
            assertEquals(143, process.exitValue(), output);
            assertEquals("", fleetJobs(cluster), "the job service is gone:\n" + output);
            assertTrue(Files.readString(err).contains("prune: stopped by a signal: removed the fleet job service " + Fleet.NAME_PREFIX), output);
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** While a job with the fleet's label exists, another fleet run starts nothing and exits 14. */
    @Test
    void aSecondFleetRunRefusesWhileAJobExists() {
        SwarmCluster cluster = SwarmCluster.shared();
        cluster.manager().dockerOk("service", "create", "--detach", "--name", "ccci-fleet-other", "--label",
                GatePolicy.FLEET_JOB_LABEL + "=1", "--replicas", "0", cluster.toolkitImage(), "gates");
        try {
            for (String script : List.of("Prune", "Gates")) {
                CommandResult run = fleet(script, "--threshold", "1");
                assertEquals(ExitCodes.LOCKED, run.exit(), run.toString());
                assertTrue(run.err().contains("another fleet run's job exists: service ccci-fleet-other"), run.toString());
                assertTrue(run.err().contains("docker service rm ccci-fleet-other"), run.toString());
                assertEquals(1, fleetJobs(cluster).lines().count(), "nothing else was started");
            }
        } finally {
            cluster.manager().dockerOk("service", "rm", "ccci-fleet-other");
        }
    }

    /**
     * The node's job takes the node's own prune lock (the lock's directory is mounted into it): while
     * another prune holds it on worker1, that node reports "locked" (14) and removes nothing.
     */
    @Test
    void aNodesJobSharesTheNodesPruneLock() throws Exception {
        SwarmCluster cluster = SwarmCluster.shared();
        SwarmNode worker = cluster.node("worker1");
        String dockerd = Files.readString(worker.engine().workDir().resolve("dockerd.pid")).strip();
        Process holder = new ProcessBuilder("nsenter", "-t", dockerd, "-m",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                JavaProcess.HoldLock.class.getName(), PruneLock.defaultPath().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            JavaProcess.awaitLine(holder, "held");
            CommandResult run = fleet("Prune", "--threshold", "1", "--json");
            // the others ran, and stay over threshold 1: insufficient (17), the worst node's code
            assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
            Map<String, JsonNode> nodes = byNode(cluster, run.json());
            assertEquals("locked", nodes.get("worker1").path("outcome").asText(), run.out());
            assertTrue(nodes.get("worker1").path("detail").asText().contains("another prune is running"), run.out());
            assertEquals(ExitCodes.LOCKED, nodes.get("worker1").path("exitCode").asInt(), run.out());
            assertEquals("insufficient", nodes.get("manager").path("outcome").asText(), "the other nodes' locks are their own: " + run.out());
            assertEquals("insufficient", nodes.get("worker2").path("outcome").asText(), run.out());
        } finally {
            holder.getOutputStream().close();
            holder.waitFor(30, TimeUnit.SECONDS);
            holder.destroyForcibly();
        }
    }

    /**
     * Each node measures the file systems that hold its image store, on its own disk. By default the
     * fleet hands every node the data root (also on the containerd store: the nodes' containerd is
     * dockerd's own, its root DATA_ROOT/containerd/daemon inside the data root's file system, and no
     * /var/lib/containerd exists to mount). With --containerd-root the containerd store's nodes
     * measure that root too, beside the data root, both on the node's own disk; the classic store has
     * no containerd root to measure, so there the option changes nothing.
     */
    @Test
    void eachNodeMeasuresItsOwnImageStoresFileSystems() throws IOException {
        SwarmCluster cluster = SwarmCluster.shared();
        Path ownContainerdRoot = cluster.dataRoot().resolve("containerd").resolve("daemon");
        for (SwarmNode node : cluster.nodes()) {
            // on either store; only the containerd store keeps image content and snapshots there
            Path onHost = node.diskOnHost().resolve("containerd").resolve("daemon");
            assertTrue(Files.isDirectory(onHost), node + ": its containerd is dockerd's own, its root in the data root: " + onHost);
        }
        CommandResult byDefault = fleet("Gates", "--threshold", "1", "--json");
        assertEquals(ExitCodes.OK, byDefault.exit(), byDefault.toString());
        assertMeasured(cluster, byDefault, List.of(cluster.dataRoot()));

        CommandResult named = fleet("Gates", "--threshold", "1", "--json", "--containerd-root", ownContainerdRoot.toString());
        assertEquals(ExitCodes.OK, named.exit(), named.toString());
        assertMeasured(cluster, named, cluster.containerdRoot().isPresent()
                ? List.of(cluster.dataRoot(), ownContainerdRoot) : List.of(cluster.dataRoot()));
    }

    /** Every node's disk gate measured exactly {@code paths}, each on the node's own disk (its size). */
    private static void assertMeasured(SwarmCluster cluster, CommandResult run, List<Path> paths) throws IOException {
        Map<String, JsonNode> nodes = byNode(cluster, run.json());
        assertEquals(3, nodes.size(), run.out());
        for (SwarmNode node : cluster.nodes()) {
            JsonNode disk = gate(nodes.get(node.name()).path("report"), "disk");
            FileStore store = Files.getFileStore(node.diskOnHost());
            long size = store.getTotalSpace() - store.getUnallocatedSpace() + store.getUsableSpace();
            List<String> measured = new ArrayList<>();
            for (JsonNode path : disk.path("paths")) {
                measured.add(path.path("path").asText());
                assertEquals(size, path.path("usedBytes").asLong() + path.path("availableBytes").asLong(),
                        node + " measured its own disk at " + path);
            }
            assertEquals(paths.stream().map(Path::toString).toList(), measured, node + ": " + disk);
        }
    }

    /** A drained node gets no task; it is listed, and the run exits 25. */
    @Test
    void aDrainedNodeIsListedAndCounts() {
        SwarmCluster cluster = SwarmCluster.shared();
        SwarmNode drained = cluster.node("worker1");
        String[] args = fleetArgs(cluster, "2m", "--threshold", "1").toArray(String[]::new);
        cluster.drain(drained);
        try {
            CommandResult run = ScriptRun.of("Gates", args);
            assertEquals(ExitCodes.FLEET_NODE_MISSING, run.exit(), run.toString());
            String row = run.out().lines().filter(l -> l.contains(drained.nodeId().substring(0, 12))).findFirst().orElseThrow();
            assertTrue(row.endsWith("drained: not run: the node is ready and drain"), row);
            assertEquals(2, run.out().lines().filter(l -> l.endsWith(" allowed")).count(), run.out());
        } finally {
            cluster.activate(drained);
        }
    }

    /**
     * Alone on a worker, the gates that need the cluster's view are unknown (fail closed), and the
     * output says where to run instead; with the manager's verdict they are that verdict.
     */
    @Test
    void onAWorkerTheClustersGatesAreUnknownAloneAndTheManagersVerdictInANodeJob() throws IOException {
        SwarmCluster cluster = SwarmCluster.shared();
        SwarmNode worker = cluster.node("worker1");
        CommandResult alone = ScriptRun.of("Gates", "--host", worker.host(), "--threshold", "1");
        assertEquals(ExitCodes.CANNOT_EVALUATE, alone.exit(), alone.toString());
        assertTrue(alone.out().lines().anyMatch(l -> l.matches("convergence +unknown +cannot evaluate: a swarm worker cannot see "
                + "the cluster's services; run from a manager, or with --fleet on a manager")), alone.out());
        assertTrue(alone.out().lines().anyMatch(l -> l.matches("stack +unknown +cannot evaluate: a swarm worker cannot see .*")), alone.out());

        Path lock = Files.createTempDirectory("ccci-fleet-lock").resolve("prune.lock");
        CommandResult prune = ScriptRun.of("Prune", "--host", worker.host(), "--threshold", "1", "--lock-file", lock.toString(), "--json");
        assertEquals(ExitCodes.CANNOT_EVALUATE, prune.exit(), prune.toString());
        assertEquals("failed", prune.json().path("outcome").asText());
        assertFalse(prune.json().path("ran").asBoolean());

        CommandResult verdict = ScriptRun.of("Gates", "--host", worker.host(), "--threshold", "1", "--json",
                "--cluster-verdict", "stack=holds,convergence=holds");
        assertEquals(ExitCodes.OK, verdict.exit(), verdict.toString());
        assertEquals("holds", ScriptRun.gate(verdict, "convergence").path("clusterVerdict").asText());
        CommandResult blocks = ScriptRun.of("Gates", "--host", worker.host(), "--threshold", "1", "--json",
                "--cluster-verdict", "stack=holds,convergence=blocks");
        assertEquals(ExitCodes.GATE_BLOCKS, blocks.exit(), blocks.toString());

        CommandResult manager = ScriptRun.of("Gates", "--host", cluster.manager().host(), "--threshold", "1", "--json");
        assertEquals("holds", ScriptRun.gate(manager, "convergence").path("state").asText(), "a manager sees the cluster: " + manager);
        CommandResult fleetOnWorker = ScriptRun.of("Gates", "--host", worker.host(), "--fleet", "--image", "cc-ci:1");
        assertEquals(ExitCodes.BAD_INPUT, fleetOnWorker.exit(), fleetOnWorker.toString());
        assertTrue(fleetOnWorker.err().contains("--fleet runs on a swarm manager"), fleetOnWorker.toString());
    }

    private static String busyboxInRegistry(SwarmCluster cluster) {
        String ref = cluster.registry().address() + "/ccci/busybox:fleet";
        cluster.manager().engine().importBusybox(ref);
        cluster.manager().dockerOk("push", ref);
        return ref;
    }

    /**
     * What prune could remove on a node, named so that two engines compare (the fleet's own job
     * containers left out: on 20.10 a finished job's containers outlive its service). Read again
     * while `docker system df` fails on the containerd store because a container is being removed,
     * as a fleet job's are right after its service is removed (HTTP 500 "rw layer snapshot not found
     * for container ...", or 404 "NotFound: snapshot ... does not exist").
     */
    private static Set<String> state(SwarmNode node) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                Set<String> all = new TreeSet<>(PruneScenario.survivors(node.engine()));
                all.removeIf(s -> s.startsWith("container " + Fleet.NAME_PREFIX));
                return all;
            } catch (AssertionError e) {
                String message = String.valueOf(e.getMessage());
                boolean removing = message.contains("rw layer snapshot not found for container")
                        || message.matches("(?s).*NotFound: snapshot \\S+ does not exist.*");
                if (!removing || System.nanoTime() > deadline) {
                    throw e;
                }
                System.err.println("[fleet test] " + node.name() + ": a container was being removed; reading its state again");
                try {
                    Thread.sleep(500);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** The task's value; its own exception when it threw one. */
    private static <T> T valueOf(Future<T> task) throws Exception {
        try {
            return task.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }

    private static Set<String> ids(String prefix, JsonNode items) {
        Set<String> ids = new TreeSet<>();
        items.forEach(i -> ids.add(prefix + i.path("id").asText()));
        return ids;
    }

    private static JsonNode gate(JsonNode report, String name) {
        for (JsonNode gate : report.path("gates")) {
            if (gate.path("name").asText().equals(name)) {
                return gate;
            }
        }
        throw new AssertionError("no gate " + name + " in " + report);
    }

    private static int usedPercent(SwarmNode node) {
        try {
            return Disk.measure(node.diskOnHost()).usedPercent();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Fills the node's disk with one file until df shows at least {@code percent}. */
    private static void fill(SwarmNode node, Path file, int percent) throws IOException {
        FileStore store = Files.getFileStore(node.diskOnHost());
        long total = store.getTotalSpace() - store.getUnallocatedSpace() + store.getUsableSpace();
        long used = store.getTotalSpace() - store.getUnallocatedSpace();
        long bytes = Math.max(0, total * percent / 100 - used) + (1L << 20);
        Cmd.run("fallocate", "-l", Long.toString(bytes), file.toString()).requireOk();
        assertTrue(usedPercent(node) >= percent, node + " at " + usedPercent(node) + "%, not " + percent + "%");
    }
}
