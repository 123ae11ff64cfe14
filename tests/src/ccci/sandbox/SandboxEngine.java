package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.Optional;

/**
 * A private dockerd of one {@link EngineKind} (Debian's docker.io 20.10 by default, or the one
 * -Dccci.engine names): its own socket, data root, exec root and pid files under a fresh dir in
 * /tmp; never the default socket. With the containerd image store it also runs a containerd of
 * its own ({@link PrivateContainerd}) whose root lies in the data root's file system, or lets
 * dockerd start its own containerd ({@link Options#ownContainerd}, as a swarm node needs). Optionally a
 * single-node swarm manager, optionally with the data root on a small loop-mounted ext4 or a tmpfs
 * (both support overlay2 here, as does ext4 /tmp). Closed by {@link #close()} or, at the latest,
 * at JVM exit.
 */
public final class SandboxEngine implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(10);
    private static final String SHUTDOWN_COMPLETE = "Daemon shutdown complete";

    public static final class Options {
        private EngineKind kind = EngineKind.current();
        private boolean swarm = true;
        private int loopMb;
        private int tmpfsMb;
        private int containerdLoopMb;
        private boolean ownContainerd;
        private boolean debug;
        private UnaryOperator<List<String>> launcher = UnaryOperator.identity();

        /** Default: {@link EngineKind#current()}, the one -Dccci.engine names. */
        public Options engine(EngineKind kind) {
            this.kind = kind;
            return this;
        }

        /** Default true: `docker swarm init` on 127.0.0.1 with a free listen port. */
        public Options swarm(boolean on) {
            this.swarm = on;
            return this;
        }

        /**
         * Data root on a loop-mounted ext4 of this size (no root-reserved blocks). Swarm's raft
         * store pre-allocates ~120 MB at init: use 256+ with swarm.
         */
        public Options dataRootOnLoopFs(int sizeMb) {
            this.loopMb = sizeMb;
            this.tmpfsMb = 0;
            return this;
        }

        /**
         * With the containerd image store: containerd's root (image content and snapshots) on a
         * loop-mounted ext4 of its own, another file system than the data root. Without this it
         * lies in the data root's file system. Ignored on the classic store.
         */
        public Options containerdRootOnLoopFs(int sizeMb) {
            this.containerdLoopMb = sizeMb;
            return this;
        }

        /**
         * With the containerd image store: no containerd of the sandbox's own; dockerd (without
         * --containerd) starts its own as a child, with its root at DATA_ROOT/containerd/daemon, as
         * NixOS and any dockerd started without --containerd do. A swarm node needs this: the
         * containerd then runs in the node's mount namespace, so its containers' bind mounts resolve
         * to the node's files. Not with {@link #containerdRootOnLoopFs}. Ignored on the classic store.
         */
        public Options ownContainerd(boolean on) {
            this.ownContainerd = on;
            return this;
        }

        /** dockerd --debug: its log then has one line per API request (see {@link #apiRequestsServed}). */
        public Options debug(boolean on) {
            this.debug = on;
            return this;
        }

        /** Rewrites dockerd's command line before each start (SwarmNode: its own mount namespace). */
        Options launcher(UnaryOperator<List<String>> wrap) {
            this.launcher = wrap;
            return this;
        }

        /** Data root on a tmpfs of this size (overlay2 on tmpfs works on this kernel, 6.x). */
        public Options dataRootOnTmpfs(int sizeMb) {
            this.tmpfsMb = sizeMb;
            this.loopMb = 0;
            return this;
        }
    }

    private final Options options;
    private final Path workDir;
    private final Path dataRoot;
    private final Path execRoot;
    private final Path socket;
    private final Path configDir;
    private final Path log;
    private final Path pidFile;
    private final EngineKind.Binaries binaries;
    private final DockerCli cli;
    private final PrivateContainerd containerd;
    /** containerd's root on the containerd image store (the private containerd's, or dockerd's own), else null. */
    private final Path containerdRoot;
    private Daemon dockerd;
    private Watchdog watchdog;
    private int swarmPort = -1;
    /** Where in dockerd's log refused requests count from (see {@link #acknowledgeRefusedRequests}). */
    private long refusedFrom;
    private boolean closed;

    private SandboxEngine(Options options, Path workDir) {
        this.options = options;
        this.workDir = workDir;
        this.dataRoot = workDir.resolve("data");
        this.execRoot = workDir.resolve("exec");
        this.socket = workDir.resolve("docker.sock");
        this.configDir = workDir.resolve("docker-config");
        this.log = workDir.resolve("dockerd.log");
        this.pidFile = workDir.resolve("dockerd.pid");
        this.binaries = options.kind.binaries();
        this.cli = new DockerCli(binaries.docker(), host(), configDir, log);
        if (options.ownContainerd && options.containerdLoopMb > 0) {
            throw new IllegalArgumentException("dockerd's own containerd keeps its root in the data root: no containerdRootOnLoopFs");
        }
        this.containerd = options.kind.containerdImageStore() && !options.ownContainerd
                ? new PrivateContainerd(binaries, workDir, options.containerdLoopMb > 0
                        ? workDir.resolve("containerd-root") : dataRoot.resolve("containerd-root")) : null;
        this.containerdRoot = !options.kind.containerdImageStore() ? null
                : containerd != null ? containerd.root() : ownContainerdRoot(dataRoot);
    }

    /** Where a dockerd started without --containerd has its own containerd keep its root. */
    static Path ownContainerdRoot(Path dataRoot) {
        return dataRoot.resolve("containerd").resolve("daemon");
    }

    public static Options options() {
        return new Options();
    }

    public static SandboxEngine start() {
        return start(new Options());
    }

    /** Starts dockerd and waits until /_ping answers (then inits the swarm if asked). */
    public static SandboxEngine start(Options o) {
        Provision.ensureInstalled();
        long t0 = System.nanoTime();
        SandboxEngine engine = new SandboxEngine(o, createWorkDir());
        Reaper.register(engine);
        try {
            engine.prepareDirs();
            List<Path> pidFiles = new ArrayList<>(List.of(engine.pidFile));
            if (engine.containerd != null) {
                pidFiles.add(engine.containerd.pidFile());
            }
            engine.watchdog = Watchdog.guard(engine.workDir, pidFiles);
            engine.launch();
            long t1 = System.nanoTime();
            if (o.swarm) {
                engine.initSwarm();
            }
            long t2 = System.nanoTime();
            System.err.printf("[sandbox] %s: engine %s up in %d ms, swarm init %d ms%n",
                    engine.workDir, o.kind, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
            return engine;
        } catch (RuntimeException | Error e) {
            try {
                engine.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * docker-java's own client on this engine, for setting up what a test needs (containers with
     * labels, services) where the docker CLI is clumsier. The toolkit itself speaks through its seam.
     */
    public com.github.dockerjava.api.DockerClient dockerJava() {
        var config = com.github.dockerjava.core.DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host()).build();
        var http = new com.github.dockerjava.zerodep.ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost()).build();
        return com.github.dockerjava.core.DockerClientImpl.getInstance(config, http);
    }

    public String host() {
        return "unix://" + socket;
    }

    public EngineKind kind() {
        return options.kind;
    }

    public Path dataRoot() {
        return dataRoot;
    }

    public Path workDir() {
        return workDir;
    }

    /** Where image content and snapshots live: containerd's root on the containerd image store, else the data root. */
    public Path imageStoreRoot() {
        return containerdRoot != null ? containerdRoot : dataRoot;
    }

    /** containerd's root (as this host sees it), when this engine uses the containerd image store. */
    public Optional<Path> containerdRoot() {
        return Optional.ofNullable(containerdRoot);
    }

    public Path dockerConfigDir() {
        return configDir;
    }

    public Path logFile() {
        return log;
    }

    public String logTail(int lines) {
        return LogTail.of(log, lines);
    }

    /** API requests the engine has served so far (needs {@link Options#debug}): count before and after a call. */
    public long apiRequestsServed() {
        try (var lines = Files.lines(log)) {
            // 20.10 logs "Calling GET /v1.41/info", 28.x "handling GET request ... request-url=/info"
            return lines.filter(l -> l.contains("msg=\"Calling ") || l.contains("msg=\"handling ")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The requests this engine refused because their API version is below its minimum (an engine
     * kind with {@link EngineKind#minApiVersion()} runs with --debug, which logs them), e.g.
     * "GET /v1.41/info", since start or {@link #acknowledgeRefusedRequests}. close() fails while any
     * is left: a refusal a command swallowed would otherwise go unseen.
     */
    public List<String> requestsRefusedAsTooOld() {
        List<String> refused = new ArrayList<>();
        java.util.regex.Pattern url = java.util.regex.Pattern.compile(" method=(\\S+) .*request-url=(\\S+)");
        try (var in = Files.newInputStream(log)) {
            in.skipNBytes(Math.min(refusedFrom, Files.size(log)));
            new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .filter(l -> l.contains("msg=\"error response for ") && l.contains("Minimum supported API version is"))
                    .map(url::matcher)
                    .filter(java.util.regex.Matcher::find)
                    .forEach(m -> refused.add(m.group(1) + " " + m.group(2)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return refused;
    }

    /** A test that sent a too old request on purpose: what was refused so far no longer counts. */
    public void acknowledgeRefusedRequests() {
        refusedFrom = LogTail.size(log);
    }

    /** The swarm's --listen-addr port, or -1 without swarm. */
    public int swarmPort() {
        return swarmPort;
    }

    public boolean isRunning() {
        return dockerd != null && dockerd.isAlive();
    }

    /** dockerd's pid, e.g. to freeze it (SIGSTOP) so that a request hangs. */
    public long dockerdPid() {
        return dockerd.pid();
    }

    /** The docker CLI against this engine only; never throws on a non-zero exit. */
    public CommandResult docker(String... args) {
        return dockerWithEnv(Map.of(), args);
    }

    /** The command line of this engine's docker CLI with {@code args}, for a test's own ProcessBuilder. */
    public List<String> dockerCommandLine(String... args) {
        return cli.command(args);
    }

    /** Like {@link #docker} but throws an AssertionError (stderr, dockerd log tail) when exit != 0. */
    public String dockerOk(String... args) {
        return cli.requireOk(docker(args), args).out().strip();
    }

    /** env overrides the defaults (e.g. DOCKER_CONFIG); a null value removes a variable. */
    public CommandResult dockerWithEnv(Map<String, String> env, String... args) {
        return cli.run(env, null, Exec.DEFAULT_TIMEOUT, args);
    }

    /** With {@code stdin} on the CLI's standard input (e.g. `login --password-stdin`). */
    public CommandResult dockerWithInput(String stdin, String... args) {
        return cli.run(Map.of(), stdin, Exec.DEFAULT_TIMEOUT, args);
    }

    /**
     * Waits until a service's task container runs. A service removed before that can still get its
     * container a moment after `service rm` returns (the agent was creating it), which then outlives
     * any "no containers left" check made in between.
     */
    public void awaitServiceContainer(String service) {
        Await.await(() -> !dockerOk("ps", "-q", "--filter", "label=com.docker.swarm.service.name=" + service).isEmpty(),
                Duration.ofSeconds(60), "a container of service " + service + " runs");
    }

    /** `service rm`, then waits until no container of the service is left. */
    public void removeService(String service) {
        dockerOk("service", "rm", service);
        Await.await(() -> dockerOk("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=" + service).isEmpty(),
                Duration.ofSeconds(60), "the containers of service " + service + " are gone");
    }

    /** {@link #dockerOk}'s output parsed as JSON ("null" reads as an empty node). */
    public com.fasterxml.jackson.databind.JsonNode dockerJson(String... args) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(dockerOk(args));
        } catch (IOException e) {
            throw new AssertionError("not JSON from docker " + String.join(" ", args), e);
        }
    }

    /** `docker login` into the private DOCKER_CONFIG; throws when it fails. */
    public void login(String registry, String user, String password) {
        String[] args = {"login", "--username", user, "--password-stdin", registry};
        cli.requireOk(dockerWithInput(password, args), args);
    }

    /**
     * Imports a busybox-static root file system as {@code ref}: runs `sh -c ...` with
     * `--network none` (there is no bridge) and `sleep 3600` as a swarm service.
     */
    public void importBusybox(String ref) {
        String[] args = {"import", "-", ref};
        cli.requireOk(cli.runStreaming(BusyboxRootfs::writeTo, LOAD_TIMEOUT, args), args);
    }

    /**
     * A BuildKit build of {@code dockerfile} (context: an otherwise empty dir), which leaves build
     * cache behind. It uses Debian's docker.io client (/usr/bin/docker): its BuildKit is built in,
     * while newer clients need the buildx plugin, which is not installed here. That client's API
     * (1.41) is below the minimum of an engine with {@link EngineKind#minApiVersion()}: it then
     * sends that minimum (DOCKER_API_VERSION).
     */
    public void buildWithBuildKit(String dockerfile, String tag) {
        Path context = workDir().resolve("build-" + Math.abs((long) (tag + dockerfile).hashCode()));
        try {
            Files.createDirectories(context);
            Files.writeString(context.resolve("Dockerfile"), dockerfile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = List.of("/usr/bin/docker", "-H", host(), "build", "--network", "none", "-t", tag, context.toString());
        Map<String, String> env = new HashMap<>();
        env.put("DOCKER_BUILDKIT", "1");
        // that client speaks API 1.41 at most: an engine that refuses less (Docker 29: 1.44) takes it
        // at the engine's minimum, which its BuildKit session works with (verified with 28.5 at 1.44)
        env.put("DOCKER_API_VERSION", options.kind.minApiVersion().orElse(null));
        env.put("DOCKER_HOST", null);
        env.put("DOCKER_CONFIG", dockerConfigDir().toString());
        CommandResult r = Exec.run(command, env, null, LOAD_TIMEOUT);
        if (!r.ok()) {
            throw new AssertionError("BuildKit build of " + tag + " failed (exit " + r.exit() + "):\n" + r.err() + r.out());
        }
    }

    /** `docker load`s a hand-made archive for {@code spec}; returns the (deterministic) image ID. */
    public String loadImage(ImageSpec spec) {
        ImageArchive archive = new ImageArchive(spec);
        String[] args = {"load"};
        cli.requireOk(cli.runStreaming(archive::writeTo, LOAD_TIMEOUT, args), args);
        String id = archive.imageId(options.kind.containerdImageStore());
        if (spec.isDangling()) {
            String dangling = dockerOk("images", "-q", "--no-trunc", "-f", "dangling=true");
            if (!dangling.lines().toList().contains(id)) {
                throw new AssertionError("image " + id + " of " + spec + " is not dangling; it is tagged "
                        + dockerOk("image", "inspect", "-f", "{{.RepoTags}}", id));
            }
        }
        return id;
    }

    /**
     * Makes the engine's own record of each image as old as its spec's created, as on a host where
     * it arrived (or became dangling) when it was built. Only the containerd image store ages images
     * by that record (the classic store reads created from the config, already right): there this
     * stops the engine, sets the records' times in containerd's metadata and starts it again, so
     * call it before creating containers. A dangling spec's record is moby-dangling@ID.
     */
    public void backdateImageRecords(List<ImageSpec> specs) {
        if (containerdRoot == null || specs.isEmpty()) {
            return;
        }
        Map<String, Instant> records = new LinkedHashMap<>();
        for (ImageSpec spec : specs) {
            records.put(spec.isDangling() ? "moby-dangling@" + new ImageArchive(spec).imageId(true) : normalizedName(spec.ref()),
                    spec.created());
        }
        String swarm = swarmState();
        stopEngine();
        if (containerd == null) {
            awaitManagedContainerdExit(); // it holds meta.db while it runs
        }
        ContainerdImageRecords.setTimes(containerdRoot.resolve("io.containerd.metadata.v1.bolt").resolve("meta.db"),
                containerdNamespace(), records);
        restartEngine();
        // a swarm node answers before its swarm is back (a manager says "not a swarm manager" for a while)
        Await.await(() -> swarmState().equals(swarm) && (!swarm.equals("active true") || docker("node", "ls", "-q").exit() == 0),
                Duration.ofSeconds(60), "the swarm node is back as it was (" + swarm + ")");
    }

    /** "active true" on a manager, "active false" on a worker, "inactive false" outside a swarm. */
    private String swarmState() {
        return dockerOk("info", "-f", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}").strip();
    }

    /** How containerd names a tagged image: docker.io/library/ added as the docker CLI adds it. */
    static String normalizedName(String ref) {
        int slash = ref.indexOf('/');
        String first = slash < 0 ? "" : ref.substring(0, slash);
        if (slash < 0) {
            return "docker.io/library/" + ref;
        }
        return first.contains(".") || first.contains(":") || first.equals("localhost") ? ref : "docker.io/" + ref;
    }

    /** Loads many images with one `docker load` (one archive); returns their IDs in order. */
    public List<String> loadImages(List<ImageSpec> specs) {
        List<ImageArchive> archives = specs.stream().map(ImageArchive::new).toList();
        String[] args = {"load", "-q"};
        cli.requireOk(cli.runStreaming(out -> ImageArchive.writeAll(archives, out), LOAD_TIMEOUT, args), args);
        return archives.stream().map(a -> a.imageId(options.kind.containerdImageStore())).toList();
    }

    /**
     * Stops dockerd (SIGTERM by pid, SIGKILL after 20 s), then the private containerd if any, and
     * keeps all state: "the engine went away".
     * dockerd first stops running containers, each with its stop timeout (10 s unless `docker run
     * --stop-timeout`; --shutdown-timeout does not shorten it on 20.10): the busybox `sleep` exits
     * on SIGTERM, a `sh -c 'while ...'` PID 1 does not.
     */
    public void stopEngine() {
        if (dockerd != null) {
            dockerd.stop(STOP_GRACE, SHUTDOWN_COMPLETE);
        }
        if (containerd != null) {
            containerd.stop();
        }
    }

    /** Starts dockerd (and containerd) again on the same sockets and roots (a swarm comes back by itself). */
    public void restartEngine() {
        if (isRunning()) {
            throw new IllegalStateException("dockerd of " + workDir + " is still running");
        }
        if (containerd == null) {
            awaitManagedContainerdExit();
        } else {
            containerd.stop();
        }
        launch();
    }

    /**
     * dockerd's own containerd outlives it for a moment; a new dockerd that finds it still shutting
     * down reuses it and fails after ~15 s. Wait for it first.
     */
    private void awaitManagedContainerdExit() {
        Path pidFile = execRoot.resolve("containerd").resolve("containerd.pid");
        try {
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            Await.within(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(15));
        } catch (IOException | NumberFormatException noPidFile) {
            // no containerd left from the last run
        }
    }

    /** Stops dockerd, kills what it left, unmounts everything below the work dir and deletes it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Reaper.unregister(this);
        try {
            if (isRunning()) {
                removeAllContainersQuietly();
            }
            stopEngine();
        } finally {
            if (watchdog != null) {
                watchdog.dismiss();
            }
        }
        Leftovers.kill(workDir, dataRoot);
        List<String> refused = options.kind.minApiVersion().isPresent() ? requestsRefusedAsTooOld() : List.of();
        List<Path> stuck = Mounts.unmountAllUnder(workDir);
        if (!stuck.isEmpty()) {
            throw new IllegalStateException("still mounted, so not deleting " + workDir + ": " + stuck);
        }
        Exec.ok(List.of("rm", "-rf", "--one-file-system", workDir.toString()));
        if (!refused.isEmpty()) {
            throw new AssertionError("engine " + options.kind + " refused " + refused.size() + " request(s) below its minimum API "
                    + options.kind.minApiVersion().orElseThrow() + ": " + refused);
        }
    }

    @Override
    public String toString() {
        return "SandboxEngine[" + workDir + "]";
    }

    private static Path createWorkDir() {
        try {
            // short, fixed base: unix socket paths are limited to 108 bytes
            return Files.createTempDirectory(Path.of("/tmp"), "sbx-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void prepareDirs() {
        try {
            Files.createDirectories(dataRoot);
            Files.createDirectories(execRoot);
            Files.createDirectories(configDir);
            // a config file of our own, so a host's /etc/docker/daemon.json cannot leak in
            Files.writeString(workDir.resolve("daemon.json"), options.kind.containerdImageStore()
                    ? "{\"features\": {\"containerd-snapshotter\": true}}\n" : "{}\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (options.loopMb > 0) {
            Mounts.loopExt4(workDir.resolve("data.img"), dataRoot, options.loopMb);
        } else if (options.tmpfsMb > 0) {
            Mounts.tmpfs(dataRoot, options.tmpfsMb);
        }
        if (containerd != null && options.containerdLoopMb > 0) {
            try {
                Files.createDirectories(containerd.root());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Mounts.loopExt4(workDir.resolve("containerd.img"), containerd.root(), options.containerdLoopMb);
        }
    }

    private void launch() {
        // dockerd uses a system containerd when /run/containerd/containerd.sock exists (and starts
        // its own under the exec root otherwise): own namespaces keep engines apart either way
        String namespace = containerdNamespace();
        List<String> command = new ArrayList<>(List.of(binaries.dockerd().toString(),
                "--config-file", workDir.resolve("daemon.json").toString(),
                "--data-root", dataRoot.toString(),
                "--exec-root", execRoot.toString(),
                "--pidfile", execRoot.resolve("docker.pid").toString(),
                "-H", host(),
                "--bridge", "none", "--iptables=false", "--ip-masq=false",
                "--containerd-namespace", namespace,
                "--containerd-plugins-namespace", namespace + "-plugins"));
        if (containerd != null) {
            containerd.start();
            command.addAll(List.of("--containerd", containerd.socket().toString()));
        } else if (containerdRoot == null) {
            command.addAll(List.of("--storage-driver", "overlay2"));
        } // else: the containerd store with dockerd's own containerd (its snapshotter: overlayfs)
        if (options.debug || options.kind.minApiVersion().isPresent()) {
            // with a minimum API: every refused request is logged, for close() to report
            command.add("--debug");
        }
        dockerd = Daemon.start("dockerd", options.launcher.apply(command), binaries.env(), log, pidFile);
        waitUntilAnswering();
    }

    /** The containerd namespace of this engine's containers and (on the containerd store) images. */
    private String containerdNamespace() {
        return workDir.getFileName().toString();
    }

    private void waitUntilAnswering() {
        boolean answered = Await.within(() -> !dockerd.isAlive() || UnixPing.answers(socket), START_TIMEOUT);
        if (!dockerd.isAlive()) {
            throw new IllegalStateException("dockerd exited before answering /_ping\n" + logTail(40));
        }
        if (!answered) {
            throw new IllegalStateException("dockerd did not answer /_ping within " + START_TIMEOUT + "\n" + logTail(40));
        }
    }

    private void initSwarm() {
        for (int attempt = 1; ; attempt++) {
            int port = FreePorts.next();
            String[] args = {"swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:" + port};
            CommandResult r = docker(args);
            if (r.ok()) {
                swarmPort = port;
                return;
            }
            if (attempt == 3 || !r.err().contains("address already in use")) {
                cli.requireOk(r, args);
            }
        }
    }

    private void removeAllContainersQuietly() {
        try {
            CommandResult ids = cli.run(Map.of(), null, Duration.ofSeconds(15), "ps", "-aq");
            List<String> list = ids.out().lines().filter(s -> !s.isBlank()).toList();
            if (ids.ok() && !list.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("rm", "-f"));
                rm.addAll(list);
                cli.run(Map.of(), null, Duration.ofSeconds(30), rm.toArray(String[]::new));
            }
        } catch (AssertionError | RuntimeException e) {
            System.err.println("[sandbox] could not remove containers before stopping " + workDir + ": " + e);
        }
    }
}
