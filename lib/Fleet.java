//SOURCES Cli.java ClientConfig.java EngineApi.java EngineInfo.java FleetJob.java GateCheck.java
//SOURCES GatePolicy.java HostSnapshot.java ImageRef.java Json.java Reading.java Registry.java Text.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import ccci.GatePolicy.ClusterVerdict;
import ccci.GatePolicy.GateResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * Fleet mode, on a swarm manager: the gates that need the cluster's view (stack over the services,
 * convergence) are decided once, then ONE swarm global job of the toolkit's image runs the node's
 * own command on every ready, active node, with the node's Docker socket and data root mounted and
 * the manager's verdict as --cluster-verdict. Each node reads its own disk and containers; its JSON
 * result comes back through the job's logs. Nodes that are down, drained or never report are
 * listed; the run ends at --fleet-timeout. The job service is labelled {@value GatePolicy#FLEET_JOB_LABEL},
 * removed on every path (a shutdown hook for SIGTERM and Ctrl-C), and a second fleet run refuses
 * while one exists.
 */
public final class Fleet {
    private Fleet() {}

    public static final String IMAGE_ENV = "CCCI_FLEET_IMAGE";
    public static final String NAME_PREFIX = "ccci-fleet-";
    public static final String DEFAULT_TIMEOUT = "10m";
    /** How long reading the finished nodes' results may take after the wait (all at once). */
    private static final Duration LOGS_TIMEOUT = Duration.ofSeconds(20);
    private static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    /** The fleet options shared by gates and prune (a picocli mixin). */
    public static final class Options {
        @Option(names = "--fleet",
                description = "On a swarm manager: decide the cluster's gates once, then run this command on every ready, active node as "
                        + "one swarm global job of the toolkit's image (--image); one line per node, the exit code of the worst node.")
        boolean fleet;

        @Option(names = "--image", paramLabel = "REF",
                description = {"With --fleet: the toolkit's container image each node runs (built from deploy/container).",
                    "Default: $" + IMAGE_ENV})
        String image;

        @Option(names = "--fleet-timeout", paramLabel = "TIME", defaultValue = DEFAULT_TIMEOUT,
                description = {"With --fleet: stop waiting for nodes after this long (s, m or h); the missing ones are listed.",
                    "Default: ${DEFAULT-VALUE}"})
        String timeout = DEFAULT_TIMEOUT;

        @Option(names = "--config", paramLabel = "DIR",
                description = {"With --fleet: the docker client config whose credentials for the image's registry go with the job "
                        + "(as docker service create --with-registry-auth).", "Default: $DOCKER_CONFIG, else ~/.docker"})
        String config;

        public boolean on() {
            return fleet;
        }

        /** @throws BadInput for a fleet option without --fleet, or --fleet without an image or with a bad value */
        public Settings settings() {
            return Settings.parse(fleet, image, System.getenv(IMAGE_ENV), timeout, config);
        }
    }

    /** The fleet's knobs, validated at the edge. */
    public record Settings(ImageRef image, Duration timeout, Path configDir) {
        private static final Pattern TIME = Pattern.compile("(\\d{1,6})([smh])");

        /** @return null without --fleet (after checking no fleet-only option was given) */
        public static Settings parse(boolean fleet, String imageOption, String imageEnv, String timeout, String config) {
            if (!fleet) {
                if (imageOption != null || config != null) {
                    throw new BadInput((imageOption != null ? "--image" : "--config") + " is for --fleet runs (the job each node runs)");
                }
                if (timeout != null && !timeout.equals(DEFAULT_TIMEOUT)) {
                    throw new BadInput("--fleet-timeout is for --fleet runs");
                }
                return null;
            }
            String image = imageOption != null ? imageOption : imageEnv;
            if (image == null || image.isBlank()) {
                throw new BadInput("--fleet needs the toolkit's image: --image REF or $" + IMAGE_ENV
                        + " (build it from deploy/container and push it where every node can pull)");
            }
            return new Settings(ImageRef.parse(image), parseTimeout(timeout == null ? DEFAULT_TIMEOUT : timeout), ClientConfig.configDir(config));
        }

        static Duration parseTimeout(String text) {
            Matcher m = TIME.matcher(text.strip());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw new BadInput("--fleet-timeout '" + text + "' is not a time like 90s, 10m or 1h");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
    }

    /**
     * What each node runs: the command and its own options beyond the gates' (which the fleet adds:
     * --json, --threshold, --stack-pattern, --path and --cluster-verdict).
     *
     * @param lockFile the lock file's path on every node (prune): its directory is mounted into the job
     */
    public record Command(String name, List<String> options, Optional<Path> lockFile, boolean dryRun) {
        public static Command gates() {
            return new Command("gates", List.of(), Optional.empty(), false);
        }

        public static Command prune(String until, boolean dryRun, Path lockFile) {
            List<String> options = new ArrayList<>(List.of("--until", until));
            if (dryRun) {
                options.add("--dry-run");
            } else {
                options.addAll(List.of("--lock-file", FleetJob.HOST_LOCK_DIR + "/" + lockFile.getFileName()));
            }
            return new Command("prune", List.copyOf(options), dryRun ? Optional.empty() : Optional.of(lockFile), dryRun);
        }
    }

    /** A swarm node as the manager sees it (GET /nodes). */
    public record Node(String id, String hostname, String role, String state, String availability) {
        /** A global job runs a task here only when the node is ready and active. */
        public boolean eligible() {
            return state.equals("ready") && availability.equals("active");
        }

        public String shortId() {
            return id.substring(0, Math.min(12, id.length()));
        }

        static List<Node> parse(JsonNode array) {
            List<Node> nodes = new ArrayList<>();
            for (JsonNode n : array) {
                nodes.add(new Node(n.path("ID").asText(), n.path("Description").path("Hostname").asText(),
                        n.path("Spec").path("Role").asText(), n.path("Status").path("State").asText("unknown"),
                        n.path("Spec").path("Availability").asText("unknown")));
            }
            nodes.sort(Comparator.comparing((Node n) -> !n.role().equals("manager")).thenComparing(Node::hostname).thenComparing(Node::id));
            return nodes;
        }
    }

    /**
     * How a node ended: REPORTED (its JSON came back; exitCode is the node's own), or one of the ways
     * it did not, each exit 25: FAILED (its task failed or printed no result), NO_REPORT (nothing by
     * the timeout), DOWN, WENT_DOWN (during the run), DRAINED, PAUSED (no task was placed there).
     */
    public enum Status {
        REPORTED, FAILED, NO_REPORT, DOWN, WENT_DOWN, DRAINED, PAUSED;

        public String word() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** One node's result; report is the node command's own JSON when it reported. */
    public record NodeResult(Node node, Status status, int exitCode, Optional<JsonNode> report, String detail) {

        /** The node's outcome in one word: prune's (pruned, noop, dry-run...), gates' (allowed, blocks, unknown) or the status. */
        public String outcome() {
            if (report.isEmpty()) {
                return status.word();
            }
            JsonNode r = report.get();
            if (r.has("outcome")) {
                return r.path("outcome").asText();
            }
            return r.path("pruneAllowed").asBoolean() ? "allowed" : exitCode == ExitCodes.CANNOT_EVALUATE ? "unknown" : "blocks";
        }

        public Optional<Integer> diskBefore() {
            return report.flatMap(r -> r.has("diskBefore") ? intOf(r.path("diskBefore")) : intOf(diskGate(r).path("usedPercent")));
        }

        public Optional<Integer> diskAfter() {
            return report.flatMap(r -> intOf(r.path("diskAfter")));
        }

        /** What the node removed (or, in a dry run, would remove): containers, images, build cache records. */
        public int removed() {
            return report.map(r -> r.path(r.path("dryRun").asBoolean() ? "wouldRemove" : "removed").size()).orElse(0);
        }

        /** Bytes reclaimed (a dry run: the listed size of what it would remove). */
        public long reclaimedBytes() {
            return report.map(r -> {
                if (!r.path("dryRun").asBoolean()) {
                    return r.path("reclaimedBytes").asLong();
                }
                long sum = 0;
                for (JsonNode item : r.path("wouldRemove")) {
                    sum += item.path("size").asLong();
                }
                return sum;
            }).orElse(0L);
        }

        private static JsonNode diskGate(JsonNode report) {
            for (JsonNode gate : report.path("gates")) {
                if (gate.path("name").asText().equals("disk")) {
                    return gate;
                }
            }
            return report.path("none");
        }

        private static Optional<Integer> intOf(JsonNode value) {
            return value.isNumber() ? Optional.of(value.asInt()) : Optional.empty();
        }
    }

    /** A fleet run's result: the manager's verdict for the cluster's gates and one result per node. */
    public record Report(String command, boolean dryRun, String job, String image, List<GateResult> clusterGates,
                         ClusterVerdict verdict, List<NodeResult> nodes, List<String> notes, Duration elapsed) {
        /** The worst node's exit code (the highest); 25 when there is no node at all. */
        public int exitCode() {
            return nodes.stream().mapToInt(NodeResult::exitCode).max().orElse(ExitCodes.FLEET_NODE_MISSING);
        }
    }

    /** Progress for a terminal or journald. */
    public interface Listener {
        default void started(String job, String image, List<Node> targets, Duration timeout) {}

        /** A line for stderr: the shutdown hook's (SIGTERM or Ctrl-C), or a job service that could not be removed. */
        default void warning(String line) {}
    }

    /**
     * A node job's exit: 0 whenever --cluster-verdict is given, so swarm does not run a failed task
     * again and again (it does, whatever the restart policy); the outcome is in its output, and the
     * real code on stderr as exit=N for a run that printed no JSON.
     */
    public static int nodeJobExit(String[] args, int code) {
        for (String arg : args) {
            if (arg.equals(ClusterVerdict.OPTION) || arg.startsWith(ClusterVerdict.OPTION + "=")) {
                System.err.println("exit=" + code);
                return ExitCodes.OK;
            }
        }
        return code;
    }

    /**
     * The whole fleet run. Throws a {@link Cli.Failure} only before any job exists: not a manager
     * (12), engine unreachable (11), another fleet run's job exists (14).
     */
    public static Report run(EngineApi engine, Settings fleet, GatePolicy.Settings gates, Command command, Listener listener) {
        long start = System.nanoTime();
        if (gates.clusterVerdict().isPresent()) {
            throw new BadInput(ClusterVerdict.OPTION + " is what a fleet run gives its node jobs: not with --fleet");
        }
        EngineInfo info = EngineInfo.of(engine.info());
        EngineInfo.SwarmRole role = info.swarmRole();
        if (role != EngineInfo.SwarmRole.MANAGER) {
            throw new BadInput("--fleet runs on a swarm manager; the engine at " + engine.host() + " is "
                    + (role == EngineInfo.SwarmRole.WORKER ? "a swarm worker" : "not in a swarm") + " (use -H to reach a manager)");
        }
        FleetJob.refuseWhileOneExists(engine, Optional.empty());
        Reading<HostSnapshot> facts = GateCheck.readWorkloads(engine);
        List<GateResult> clusterGates = GatePolicy.clusterGates(gates, facts);
        ClusterVerdict verdict = ClusterVerdict.of(clusterGates.get(0), clusterGates.get(1));
        // every node is taken to keep its images where the manager does (--path, else the data root
        // and, on the containerd store, containerd's root: --containerd-root, else its default only
        // when this host has it; a node's task whose bind mount names a missing path is rejected, and
        // dockerd's own containerd keeps its root inside the data root, measured with it)
        List<Path> diskPaths = GatePolicy.diskTargets(gates, facts, path -> gates.containerdRoot().isPresent()
                || !path.equals(GatePolicy.Settings.DEFAULT_CONTAINERD_ROOT) || Files.isDirectory(path)) instanceof Reading.Ok<List<Path>> ok
                ? ok.value() : List.of(Path.of(info.dockerRootDir()));
        List<Node> nodes = Node.parse(engine.nodes());
        List<Node> targets = nodes.stream().filter(Node::eligible).toList();
        List<String> notes = new ArrayList<>();
        Registry.Lookup auth = Registry.lookup(fleet.configDir(), fleet.image().registry());
        auth.whyNone().ifPresent(why -> notes.add("nodes pull " + fleet.image() + " without credentials: " + why));

        String name = NAME_PREFIX + NAME_TIME.format(Instant.now()) + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
        String image = pinned(engine, fleet.image(), auth.credentials(), notes);
        ObjectNode spec = FleetJob.spec(name, image, nodeArgs(command, gates, diskPaths, verdict),
                diskPaths, command.lockFile().map(Path::getParent), nodes.stream().filter(n -> !n.eligible()).map(Node::id).toList());
        List<NodeResult> results = new ArrayList<>();
        try (FleetJob job = FleetJob.create(engine, name, spec, auth.credentials().map(Registry.Credentials::header), listener::warning)) {
            FleetJob.refuseWhileOneExists(engine, Optional.of(job));
            listener.started(name, image, targets, fleet.timeout());
            results.addAll(collect(engine, job, targets, start + fleet.timeout().toNanos()));
        }
        for (Node n : nodes) {
            if (!n.eligible()) {
                results.add(leftOut(n));
            }
        }
        results.sort(Comparator.comparingInt(r -> nodes.indexOf(r.node())));
        return new Report(command.name(), command.dryRun(), name, image, clusterGates, verdict,
                List.copyOf(results), notes, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The image every node runs, pinned to the digest the manager resolved (the registry's answer,
     * else the digest the manager's own copy has in that repository): nodes pulling a tag each could
     * get other content. Without either, the tag, and a note says so.
     */
    static String pinned(EngineApi engine, ImageRef image, Optional<Registry.Credentials> credentials, List<String> notes) {
        if (image.digest().isPresent()) {
            return image.local();
        }
        Registry.Answer manifest = Registry.manifest(engine, image, credentials);
        Optional<String> digest = manifest.digest();
        if (digest.isEmpty()) {
            try {
                JsonNode local = engine.inspectImage(image.local());
                for (JsonNode d : local.path("RepoDigests")) {
                    Optional<ImageRef> ref = ImageRef.tryParse(d.asText());
                    if (ref.isPresent() && ref.get().canonicalName().equals(image.canonicalName())) {
                        digest = ref.get().digest();
                        break;
                    }
                }
            } catch (EngineApi.Unavailable e) {
                // no local copy either: the note below says so
            }
        }
        if (digest.isEmpty()) {
            notes.add("nodes run " + image + " by its tag: the manager could not resolve its digest (" + manifest.detail() + ")");
            return image.local();
        }
        return image.pinned(digest.get());
    }

    /** The node command's arguments (after the image's entry point). */
    static List<String> nodeArgs(Command command, GatePolicy.Settings gates, List<Path> diskPaths, ClusterVerdict verdict) {
        List<String> args = new ArrayList<>(List.of(command.name(), "--json",
                "--threshold", Integer.toString(gates.thresholdPercent()),
                "--stack-pattern", gates.stackPattern().pattern()));
        if (gates.minFreeBytes() > 0) {
            args.addAll(List.of("--min-free", Long.toString(gates.minFreeBytes())));
        }
        diskPaths.forEach(path -> args.addAll(List.of("--path", path.toString())));
        args.addAll(List.of(ClusterVerdict.OPTION, verdict.toString()));
        args.addAll(command.options());
        return args;
    }

    /** Waits for every target's task to end (or its node to go down) until the deadline; then reads the results. */
    private static List<NodeResult> collect(EngineApi engine, FleetJob job, List<Node> targets, long deadline) {
        Map<String, NodeResult> done = new LinkedHashMap<>();
        Map<String, JsonNode> finished = new LinkedHashMap<>();
        while (true) {
            Map<String, JsonNode> latest;
            Map<String, Node> now = new LinkedHashMap<>();
            try {
                latest = FleetJob.latestTaskPerNode(job.tasks(engine));
                Node.parse(engine.nodes()).forEach(n -> now.put(n.id(), n));
                job.managerProblem = null;
            } catch (EngineApi.Unavailable e) {
                // the manager may be busy or electing a leader: ask again until the deadline
                job.managerProblem = e.getMessage();
                latest = Map.of();
            }
            for (Node node : targets) {
                if (done.containsKey(node.id()) || finished.containsKey(node.id())) {
                    continue;
                }
                JsonNode task = latest.get(node.id());
                if (task != null && FleetJob.TaskStates.terminal(task.path("Status").path("State").asText())) {
                    finished.put(node.id(), task);
                } else if (now.containsKey(node.id()) && !now.get(node.id()).state().equals("ready")) {
                    done.put(node.id(), new NodeResult(node, Status.WENT_DOWN, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                            "the node went " + now.get(node.id()).state() + " during the run"
                                    + (task == null ? "" : " (its task was " + task.path("Status").path("State").asText() + ")")));
                }
            }
            if (done.size() + finished.size() == targets.size() || System.nanoTime() > deadline) {
                break;
            }
            FleetJob.sleep(FleetJob.POLL);
        }
        Map<String, FleetJob.LogsCall> logs = new LinkedHashMap<>();
        finished.forEach((node, task) -> logs.put(node, job.startLogs(engine, task.path("ID").asText())));
        // the results are read within LOGS_TIMEOUT after the wait, however many nodes hang
        long logsDeadline = System.nanoTime() + LOGS_TIMEOUT.toNanos();
        List<NodeResult> results = new ArrayList<>();
        for (Node node : targets) {
            if (done.containsKey(node.id())) {
                results.add(done.get(node.id()));
            } else if (finished.containsKey(node.id())) {
                Duration left = Duration.ofNanos(Math.max(0, logsDeadline - System.nanoTime()));
                results.add(fromTask(node, finished.get(node.id()), logs.get(node.id()).await(left)));
            } else {
                results.add(new NodeResult(node, Status.NO_REPORT, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                        "no report by the fleet timeout (its task: " + job.lastState(node.id()) + ")"
                                + (job.managerProblem == null ? "" : "; the manager did not answer: " + job.managerProblem)));
            }
        }
        return results;
    }

    /** A node's result from its finished task and the task's output (pure). */
    static NodeResult fromTask(Node node, JsonNode task, FleetJob.Logs logs) {
        String state = task.path("Status").path("State").asText();
        String err = task.path("Status").path("Err").asText("");
        if (!state.equals("complete")) {
            JsonNode exit = task.path("Status").path("ContainerStatus").path("ExitCode");
            return new NodeResult(node, Status.FAILED, ExitCodes.FLEET_NODE_MISSING, Optional.empty(), "its task " + state
                    + (exit.isNumber() ? " (exit " + exit.asInt() + ")" : "") + (err.isBlank() ? "" : ": " + err)
                    + lastLine(logs.err()).map(l -> "; " + l).orElse(""));
        }
        if (logs.problem().isPresent()) {
            return new NodeResult(node, Status.FAILED, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                    "its task completed, but its output could not be read: " + logs.problem().get());
        }
        Optional<JsonNode> report = parseReport(logs.out());
        if (report.isEmpty()) {
            return new NodeResult(node, Status.FAILED, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                    "its job printed no result" + lastLine(logs.err()).filter(l -> !l.startsWith("exit=")).map(l -> ": " + l)
                            .or(() -> lastLines(logs.err(), 2).map(l -> ": " + l)).orElse(""));
        }
        JsonNode r = report.get();
        String reason = r.path("reason").isTextual() ? r.path("reason").asText() : "";
        int code = r.path("exitCode").isInt() ? r.path("exitCode").asInt() : -1;
        if (!ExitCodes.known(code)) {
            return new NodeResult(node, Status.FAILED, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                    "its job reported an exit code the toolkit does not have (" + Text.safe(r.path("exitCode").toString()) + ")");
        }
        return new NodeResult(node, Status.REPORTED, code, report, reason);
    }

    /** The node command's JSON object (its whole standard output), if that is what it printed. */
    static Optional<JsonNode> parseReport(String out) {
        try {
            JsonNode node = Json.mapper().readTree(out);
            return node != null && node.isObject() && node.has("exitCode") ? Optional.of(node) : Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> lastLine(String text) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return lines.isEmpty() ? Optional.empty() : Optional.of(lines.get(lines.size() - 1));
    }

    private static Optional<String> lastLines(String text, int n) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return lines.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", lines.subList(Math.max(0, lines.size() - n), lines.size())));
    }

    private static NodeResult leftOut(Node n) {
        Status status = !n.state().equals("ready") ? Status.DOWN : n.availability().equals("drain") ? Status.DRAINED : Status.PAUSED;
        return new NodeResult(n, status, ExitCodes.FLEET_NODE_MISSING, Optional.empty(),
                "not run: the node is " + n.state() + " and " + n.availability());
    }
}
