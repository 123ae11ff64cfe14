//SOURCES Cli.java Defaults.java Disk.java EngineInfo.java HostSnapshot.java Reading.java Text.java
//SOURCES Threshold.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Option;

/** The three gates of the prune policy, as pure functions of what was read from the host. */
public final class GatePolicy {
    private GatePolicy() {}

    /**
     * The gate policy's knobs, validated once at the edge; every error quotes the offending input.
     * diskPaths: the file systems to measure (--path, any number), or empty to follow the image store;
     * containerdRoot: --containerd-root, where containerd keeps image content on the containerd store;
     * clusterVerdict: the manager's verdict for the cluster's gates, given to a fleet run's node job.
     */
    public record Settings(int thresholdPercent, Pattern stackPattern, List<Path> diskPaths, Optional<Path> containerdRoot,
                           Optional<ClusterVerdict> clusterVerdict, long minFreeBytes) {

        /** Without --min-free. */
        public Settings(int thresholdPercent, Pattern stackPattern, List<Path> diskPaths, Optional<Path> containerdRoot,
                        Optional<ClusterVerdict> clusterVerdict) {
            this(thresholdPercent, stackPattern, diskPaths, containerdRoot, clusterVerdict, 0);
        }

        public static final int DEFAULT_THRESHOLD = Defaults.THRESHOLD_PERCENT;
        public static final String DEFAULT_STACK_PATTERN = Defaults.STACK_PATTERN;
        /** containerd's default root: measured on the containerd image store when it exists on this host. */
        public static final Path DEFAULT_CONTAINERD_ROOT = Path.of(Defaults.CONTAINERD_ROOT);

        /** The disk gate's threshold (with --min-free as its second trigger): the one "at or above" decision. */
        public Threshold threshold() {
            return new Threshold(thresholdPercent, minFreeBytes);
        }

        /** The same settings with a floor of free bytes (--min-free; 0: none). */
        public Settings withMinFree(long bytes) {
            return new Settings(thresholdPercent, stackPattern, diskPaths, containerdRoot, clusterVerdict, bytes);
        }

        public static Settings parse(String threshold, String stackPattern, String path) {
            return parse(threshold, stackPattern, path == null ? List.of() : List.of(path), null, null);
        }

        /**
         * @param paths every --path given; @param containerdRoot --containerd-root, or null;
         * @param clusterVerdict --cluster-verdict (a fleet run's node job), or null
         */
        public static Settings parse(String threshold, String stackPattern, List<String> paths, String containerdRoot,
                                     String clusterVerdict) {
            return parse(threshold, stackPattern, paths, containerdRoot, clusterVerdict, null);
        }

        /** @param minFree --min-free (a size in Docker's decimal units, e.g. 5G), or null for none */
        public static Settings parse(String threshold, String stackPattern, List<String> paths, String containerdRoot,
                                     String clusterVerdict, String minFree) {
            return new Settings(parseThreshold(threshold), parsePattern(stackPattern),
                    paths.stream().map(p -> parsePath("--path", p).orElseThrow()).distinct().toList(),
                    parsePath("--containerd-root", containerdRoot),
                    clusterVerdict == null ? Optional.empty() : Optional.of(ClusterVerdict.parse(clusterVerdict)),
                    minFree == null ? 0 : Threshold.parseBytes("--min-free", minFree));
        }

        static int parseThreshold(String text) {
            int value;
            try {
                value = Cli.wholeNumber(text.strip().replaceFirst("%$", ""));
            } catch (NumberFormatException e) {
                throw new BadInput("--threshold '" + text + "' is not a whole number of percent (1-100)");
            }
            if (value < 1 || value > 100) {
                throw new BadInput("--threshold " + value + " is outside 1-100 (percent of the disk in use)");
            }
            return value;
        }

        static Pattern parsePattern(String text) {
            if (text.isEmpty()) {
                throw new BadInput("--stack-pattern is empty: it would match every name and block pruning forever");
            }
            try {
                return Pattern.compile(text);
            } catch (PatternSyntaxException e) {
                throw new BadInput("--stack-pattern '" + text + "' is not a valid regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }

        static Optional<Path> parsePath(String text) {
            return parsePath("--path", text);
        }

        static Optional<Path> parsePath(String option, String text) {
            if (text == null) {
                return Optional.empty();
            }
            Path path;
            try {
                path = Path.of(text);
                Files.readAttributes(path, BasicFileAttributes.class);
            } catch (InvalidPathException e) {
                throw new BadInput(option + " '" + text + "' is not a path: " + e.getReason());
            } catch (NoSuchFileException e) {
                throw new BadInput(option + " '" + text + "' does not exist");
            } catch (AccessDeniedException e) {
                throw new BadInput(option + " '" + text + "': permission denied (cannot look it up)");
            } catch (IOException e) {
                throw new BadInput(option + " '" + text + "' cannot be read: " + Text.rootMessage(e));
            }
            return Optional.of(path.toAbsolutePath().normalize());
        }
    }

    /** The gate options shared by every script that evaluates the gates (a picocli mixin). */
    public static final class Options {
        @Option(names = "--threshold", paramLabel = "PERCENT", defaultValue = "" + Settings.DEFAULT_THRESHOLD,
                description = {"Disk use (df's Use%%) at or above which pruning may run.", "Default: ${DEFAULT-VALUE}"})
        String threshold = "" + Settings.DEFAULT_THRESHOLD;

        @Option(names = "--path", paramLabel = "DIR",
                description = {"Filesystem to measure; give it once per filesystem that holds images (the fullest counts).",
                    "Default: the engine's data root (DockerRootDir), or / when that path is not on this host; with the containerd "
                        + "image store also containerd's root (--containerd-root)."})
        List<String> paths = new ArrayList<>();

        @Option(names = "--containerd-root", paramLabel = "DIR",
                description = {"containerd's root, where the containerd image store keeps image content and snapshots; measured "
                        + "beside the data root when the engine uses that store and no --path is given.",
                    "Default: /var/lib/containerd when it exists on this host."})
        String containerdRoot;

        @Option(names = "--min-free", paramLabel = "BYTES",
                description = "A second disk trigger: pruning may also run when less than BYTES is available, whatever Use%%; "
                        + "eviction then goes on until the disk is below --evict-to and at least BYTES is available. In Docker's decimal "
                        + "units: 5G = 5*10^9 bytes, 500M = 5*10^8 (not GiB/MiB). Off unless given.")
        String minFree;

        @Option(names = "--stack-pattern", paramLabel = "REGEX",
                defaultValue = Settings.DEFAULT_STACK_PATTERN,
                description = {"A swarm service or running container whose name or com.docker.stack.namespace label matches is a live run-app stack.",
                    "Default: under Defaults below"})
        String stackPattern = Settings.DEFAULT_STACK_PATTERN;

        @Option(names = ClusterVerdict.OPTION, paramLabel = "V", hidden = true,
                description = {"Set by a fleet run for its node job: the manager's verdict for the gates that need the cluster's view,",
                    "as stack=STATE,convergence=STATE (holds, blocks or unknown); this node then checks its own disk and containers.",
                    "The command then exits 0 and reports its outcome in its output (a failing swarm job task would run again)."})
        String clusterVerdict;

        public Settings settings() {
            return Settings.parse(threshold, stackPattern, paths, containerdRoot, clusterVerdict, minFree);
        }

        /** The help's footer for a default too wide for the option table: on a line of its own. */
        public static final String DEFAULTS_FOOTER_HEADING = "%nDefaults:%n";
        public static final String STACK_PATTERN_DEFAULT_LINE = "  --stack-pattern " + Settings.DEFAULT_STACK_PATTERN;
    }

    /** The label of a fleet run's job service: not a workload, so never counted as converging. */
    public static final String FLEET_JOB_LABEL = "ccci.fleet";

    /**
     * The manager's answer for the gates that need the cluster's view (a worker cannot list
     * services), handed to each node job of a fleet run as {@code stack=holds,convergence=blocks}.
     */
    public record ClusterVerdict(GateResult.State stack, GateResult.State convergence) {
        public static final String OPTION = "--cluster-verdict";
        private static final List<String> GATES = List.of("stack", "convergence");

        public static ClusterVerdict of(GateResult stack, GateResult convergence) {
            return new ClusterVerdict(stack.state() == GateResult.State.SKIPPED ? GateResult.State.UNKNOWN : stack.state(),
                    convergence.state() == GateResult.State.SKIPPED ? GateResult.State.UNKNOWN : convergence.state());
        }

        /** @throws BadInput quoting the text unless it names both gates once, each holds, blocks or unknown */
        public static ClusterVerdict parse(String text) {
            Map<String, GateResult.State> states = new LinkedHashMap<>();
            for (String part : text.split(",", -1)) {
                String[] kv = part.strip().split("=", -1);
                GateResult.State state = kv.length == 2 ? state(kv[1].strip()) : null;
                String gate = kv[0].strip();
                if (state == null || !GATES.contains(gate) || states.put(gate, state) != null) {
                    throw badVerdict(text);
                }
            }
            if (!states.keySet().containsAll(GATES)) {
                throw badVerdict(text);
            }
            return new ClusterVerdict(states.get("stack"), states.get("convergence"));
        }

        private static GateResult.State state(String word) {
            return switch (word) {
                case "holds" -> GateResult.State.HOLDS;
                case "blocks" -> GateResult.State.BLOCKS;
                case "unknown" -> GateResult.State.UNKNOWN;
                default -> null;
            };
        }

        private static BadInput badVerdict(String text) {
            return new BadInput(OPTION + " '" + text + "' is not stack=STATE,convergence=STATE (each holds, blocks or unknown)");
        }

        public GateResult.State of(String gate) {
            return gate.equals("stack") ? stack : convergence;
        }

        @Override
        public String toString() {
            return "stack=" + word(stack) + ",convergence=" + word(convergence);
        }

        static String word(GateResult.State state) {
            return state.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One gate's answer. UNKNOWN means it could not be evaluated, which never counts as holding;
     * SKIPPED means it was not asked because another gate already decided (never holds either).
     * figures are the numbers behind the answer, for --json (path, percent, stacks, services...).
     */
    public record GateResult(String name, State state, String detail, Map<String, Object> figures) {
        public enum State { HOLDS, BLOCKS, UNKNOWN, SKIPPED }

        public boolean holds() {
            return state == State.HOLDS;
        }
    }

    /**
     * All gates' answers; pruning is allowed only when every gate holds. problems are the one-line
     * reasons why something could not be read (engine unreachable, disk not measurable), each once.
     * disks is what the disk gate measured, when it could: every file system that holds images.
     */
    public record Verdict(List<GateResult> gates, List<String> problems, List<Disk> disks) {

        /**
         * The file system the disk gate went by: the fullest measured, or with --min-free the one with
         * too little free when none reaches the percent (the gate names it in its figures).
         */
        public Optional<Disk> disk() {
            Object path = gates.stream().filter(g -> g.name().equals("disk")).findFirst()
                    .map(g -> g.figures().get("path")).orElse(null);
            if (path != null) {
                for (Disk d : disks) {
                    if (d.path().toString().equals(path)) {
                        return Optional.of(d);
                    }
                }
            }
            return Disk.fullest(disks);
        }

        public boolean pruneAllowed() {
            return gates.stream().allMatch(GateResult::holds);
        }

        public List<GateResult> notHolding() {
            return gates.stream().filter(g -> !g.holds()).toList();
        }

        /** 0 when allowed; CANNOT_EVALUATE beats GATE_BLOCKS, because a broken check needs a human. */
        public int exitCode() {
            if (gates.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN)) {
                return ExitCodes.CANNOT_EVALUATE;
            }
            return pruneAllowed() ? ExitCodes.OK : ExitCodes.GATE_BLOCKS;
        }

        /**
         * Between phases (and eviction's removals), a workload gate (stack, convergence) that stops
         * holding, or any gate that can no longer be evaluated, stops the run. The disk gate only
         * starts a run: the phases themselves free space, and the seed's commands run all three once
         * the disk crossed the threshold.
         */
        public List<GateResult> closedMidRun() {
            return gates.stream().filter(g -> g.state() == GateResult.State.UNKNOWN
                    || (g.state() == GateResult.State.BLOCKS && !g.name().equals("disk"))).toList();
        }

        /**
         * One line saying why pruning is not allowed, e.g. "stack: live run-app stack abcd-...";
         * gates that could not be evaluated for the same reason (an unreachable engine) share one clause.
         */
        public String reason() {
            Map<String, List<String>> byDetail = new LinkedHashMap<>();
            notHolding().stream().filter(g -> g.state() != GateResult.State.SKIPPED)
                    .forEach(g -> byDetail.computeIfAbsent(sameCause(g), k -> new ArrayList<>()).add(g.name()));
            return String.join("; ", byDetail.entrySet().stream()
                    .map(e -> String.join(", ", e.getValue()) + ": " + e.getKey()).toList());
        }

        /** A gate's detail, with "cannot measure: " and "cannot evaluate: " made one, so one cause reads once. */
        private static String sameCause(GateResult g) {
            return g.detail().replaceFirst("^cannot measure: ", "cannot evaluate: ");
        }
    }

    /** Update states in which a service has not settled: swarm is (or was left) mid-change. */
    static final Set<String> UNSETTLED_UPDATE_STATES = Set.of("updating", "paused", "rollback_started", "rollback_paused");

    public static Verdict evaluate(Settings settings, Reading<HostSnapshot> facts, Reading<List<Disk>> disk) {
        List<String> problems = new ArrayList<>();
        if (facts instanceof Reading.Failed<HostSnapshot> failed) {
            problems.add(failed.reason());
        }
        if (disk instanceof Reading.Failed<List<Disk>> failed && !problems.contains(failed.reason())) {
            problems.add(failed.reason());
        }
        return new Verdict(List.of(
                diskGate(settings.threshold(), disk),
                stackGate(settings, facts),
                convergenceGate(facts, settings.clusterVerdict())), problems, measured(disk));
    }

    /**
     * A fleet run's decision on its manager: the stack gate over the cluster's services only (each
     * node checks its own containers) and the convergence gate, once for every node.
     */
    public static List<GateResult> clusterGates(Settings settings, Reading<HostSnapshot> facts) {
        Reading<HostSnapshot> servicesOnly = facts instanceof Reading.Ok<HostSnapshot> ok
                ? Reading.ok(new HostSnapshot(ok.value().readAt(), ok.value().engine(), ok.value().services(), ok.value().tasks(),
                        List.of(), Optional.empty()))
                : facts;
        Settings alone = new Settings(settings.thresholdPercent(), settings.stackPattern(), settings.diskPaths(),
                settings.containerdRoot(), Optional.empty(), settings.minFreeBytes());
        GateResult stack = stackGate(alone, servicesOnly);
        if (stack.holds()) {
            int services = ((Reading.Ok<HostSnapshot>) servicesOnly).value().services().size();
            stack = new GateResult("stack", stack.state(), "no live run-app stack among the cluster's " + services
                    + " services (each node checks its own containers)", stack.figures());
        }
        return List.of(stack, convergenceGate(servicesOnly, Optional.empty()));
    }

    /**
     * The verdict when the disk gate alone already blocks: the other gates are not asked, which
     * keeps the daily no-op run from touching the engine at all.
     */
    public static Verdict diskAlreadyBlocks(GateResult gate, Reading<List<Disk>> disk) {
        String why = "not evaluated: the disk gate already blocks";
        return new Verdict(List.of(gate, skipped("stack", why), skipped("convergence", why)), List.of(), measured(disk));
    }

    /** No gate was asked (e.g. another prune holds the lock): every gate is skipped, so nothing is allowed. */
    public static Verdict notEvaluated(String why) {
        return new Verdict(List.of(skipped("disk", why), skipped("stack", why), skipped("convergence", why)),
                List.of(), List.of());
    }

    private static GateResult skipped(String gate, String why) {
        return new GateResult(gate, GateResult.State.SKIPPED, why, new LinkedHashMap<>());
    }

    private static List<Disk> measured(Reading<List<Disk>> disk) {
        return disk instanceof Reading.Ok<List<Disk>> ok ? ok.value() : List.of();
    }

    /**
     * Which file systems the disk gate measures: every --path; else those that hold the image store:
     * the engine's data root (/ when that path is not on this host), and on the containerd image
     * store also containerd's root (--containerd-root, else /var/lib/containerd when it exists here).
     */
    public static Reading<List<Path>> diskTargets(Settings settings, Reading<HostSnapshot> facts, Predicate<Path> exists) {
        if (!settings.diskPaths().isEmpty()) {
            return Reading.ok(settings.diskPaths());
        }
        if (facts instanceof Reading.Failed<HostSnapshot> failed) {
            return Reading.failed(failed.reason());
        }
        HostSnapshot host = ((Reading.Ok<HostSnapshot>) facts).value();
        Path root = Path.of(host.engine().dockerRootDir());
        List<Path> targets = new ArrayList<>(List.of(exists.test(root) ? root : Path.of("/")));
        if (host.engine().imageStore() == EngineInfo.ImageStore.CONTAINERD) {
            Path containerd = settings.containerdRoot().orElse(Settings.DEFAULT_CONTAINERD_ROOT);
            if (exists.test(containerd) && !targets.contains(containerd)) {
                targets.add(containerd);
            }
        }
        return Reading.ok(List.copyOf(targets));
    }

    /** The fullest of the measured file systems decides; each is named with its figure. */
    static GateResult diskGate(Threshold threshold, Reading<List<Disk>> disk) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("threshold", threshold.percent());
        if (disk instanceof Reading.Failed<List<Disk>> failed) {
            return new GateResult("disk", GateResult.State.UNKNOWN, "cannot measure: " + failed.reason(), figures);
        }
        List<Disk> disks = ((Reading.Ok<List<Disk>>) disk).value();
        Disk usage = threshold.deciding(disks).orElseThrow();
        int percent = usage.usedPercent();
        if (threshold.minFreeBytes() > 0) {
            figures.put("minFreeBytes", threshold.minFreeBytes());
        }
        figures.put("usedPercent", percent);
        figures.put("path", usage.path().toString());
        figures.put("usedBytes", usage.usedBytes());
        figures.put("availableBytes", usage.availableBytes());
        figures.put("bytesPercent", usage.bytesPercent());
        figures.put("inodesPercent", usage.inodesPercent().orElse(null));
        figures.put("decidedBy", usage.inodesDecide() ? "inodes" : "bytes");
        List<Map<String, Object>> each = new ArrayList<>();
        for (Disk d : disks) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("path", d.path().toString());
            one.put("usedPercent", d.usedPercent());
            one.put("usedBytes", d.usedBytes());
            one.put("availableBytes", d.availableBytes());
            each.add(one);
        }
        figures.put("paths", each);
        boolean holds = threshold.reachedBy(usage);
        threshold.trigger(usage).ifPresent(t -> figures.put("trigger", t));
        String others = String.join(", ", disks.stream().filter(d -> d != usage)
                .map(d -> d.path() + " " + d.usedPercent() + "%").toList());
        String detail = threshold.describe(usage)
                + (others.isEmpty() ? "" : " (" + (threshold.freeBelowFloor(usage) && !threshold.reachedAt(percent)
                        ? "the least free" : "the fullest") + "; also " + others + ")");
        return new GateResult("disk", holds ? GateResult.State.HOLDS : GateResult.State.BLOCKS, detail, figures);
    }

    static GateResult stackGate(Settings settings, Reading<HostSnapshot> facts) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("pattern", settings.stackPattern().pattern());
        if (facts instanceof Reading.Failed<HostSnapshot> failed) {
            return new GateResult("stack", GateResult.State.UNKNOWN, "cannot evaluate: " + failed.reason(), figures);
        }
        HostSnapshot host = ((Reading.Ok<HostSnapshot>) facts).value();
        Optional<ClusterVerdict> cluster = settings.clusterVerdict();
        Set<String> stacks = new TreeSet<>();
        List<String> matches = new ArrayList<>();
        String object = "";
        try {
            // with the manager's verdict, the cluster's services are its business; this node checks its containers
            for (HostSnapshot.Service s : cluster.isPresent() ? List.<HostSnapshot.Service>of() : host.services()) {
                object = "service " + s.name();
                stackOf(settings, s.name(), s.labels()).ifPresent(stack -> {
                    stacks.add(stack);
                    matches.add("service " + s.name());
                });
            }
            for (HostSnapshot.Container c : host.runningContainers()) {
                object = "container " + c.name();
                stackOf(settings, c.name(), c.labels()).ifPresent(stack -> {
                    stacks.add(stack);
                    matches.add("container " + c.name());
                });
            }
        } catch (Bounded.TooSlow e) {
            return new GateResult("stack", GateResult.State.UNKNOWN, "cannot evaluate: --stack-pattern took more than "
                    + Bounded.STEPS + " steps on " + object + " (it backtracks too much): simplify the pattern", figures);
        }
        figures.put("liveStacks", List.copyOf(stacks));
        figures.put("matchedObjects", matches);
        cluster.ifPresent(c -> figures.put("clusterVerdict", ClusterVerdict.word(c.stack())));
        String checkedHere = Text.count(host.runningContainers().size(), "running container") + " checked here";
        if (stacks.isEmpty() && cluster.isPresent()) {
            return switch (cluster.get().stack()) {
                case HOLDS -> new GateResult("stack", GateResult.State.HOLDS, "no live run-app stack (the manager's verdict for the cluster's services; "
                        + checkedHere + ")", figures);
                case BLOCKS -> new GateResult("stack", GateResult.State.BLOCKS, "live run-app stack in the cluster (the manager's verdict, given by the fleet run)", figures);
                default -> new GateResult("stack", GateResult.State.UNKNOWN, "cannot evaluate: the manager could not read the cluster's services (its verdict, given by the fleet run)", figures);
            };
        }
        if (stacks.isEmpty() && host.engine().swarmRole() == EngineInfo.SwarmRole.WORKER) {
            return new GateResult("stack", GateResult.State.UNKNOWN, "cannot evaluate: a swarm worker cannot see the cluster's services ("
                    + checkedHere + "); " + FROM_A_MANAGER, figures);
        }
        if (stacks.isEmpty()) {
            List<String> unmatched = otherStacks(host);
            figures.put("stacksNotMatched", unmatched);
            return new GateResult("stack", GateResult.State.HOLDS, "no live run-app stack ("
                    + Text.count(host.services().size(), "service") + ", " + Text.count(host.runningContainers().size(), "running container")
                    + " checked)" + (unmatched.isEmpty() ? "" : "; note: --stack-pattern matches none of the stacks here ("
                    + abbreviate(unmatched) + "): if they are CI runs, set --stack-pattern"), figures);
        }
        return new GateResult("stack", GateResult.State.BLOCKS, "live run-app stack "
                + abbreviate(List.copyOf(stacks)) + " (" + abbreviate(matches) + ")", figures);
    }

    /**
     * The stack an object belongs to when its stack label or its name matches the pattern.
     *
     * @throws Bounded.TooSlow when the pattern needs more than {@link Bounded#STEPS} steps on one text
     */
    static Optional<String> stackOf(Settings settings, String name, Map<String, String> labels) {
        String namespace = labels.get(HostSnapshot.STACK_LABEL);
        if (namespace != null && settings.stackPattern().matcher(new Bounded(namespace)).find()) {
            return Optional.of(namespace);
        }
        Matcher m = settings.stackPattern().matcher(new Bounded(name));
        if (m.find()) {
            String matched = name.substring(0, m.end());
            return Optional.of(matched.endsWith("_") ? matched.substring(0, matched.length() - 1) : matched);
        }
        return Optional.empty();
    }

    /**
     * The stacks running here (by their com.docker.stack.namespace label) when the pattern matched
     * none: the default pattern is one organisation's, and on anyone else's CI the gate would hold
     * forever without a word.
     */
    static List<String> otherStacks(HostSnapshot host) {
        Set<String> stacks = new TreeSet<>();
        host.services().forEach(s -> s.stack().ifPresent(stacks::add));
        host.runningContainers().forEach(c -> c.stack().ifPresent(stacks::add));
        return List.copyOf(stacks);
    }

    /** What a worker says when a gate needs the cluster's view. */
    static final String FROM_A_MANAGER = "run from a manager, or with --fleet on a manager";

    static GateResult convergenceGate(Reading<HostSnapshot> facts) {
        return convergenceGate(facts, Optional.empty());
    }

    static GateResult convergenceGate(Reading<HostSnapshot> facts, Optional<ClusterVerdict> cluster) {
        Map<String, Object> figures = new LinkedHashMap<>();
        if (facts instanceof Reading.Failed<HostSnapshot> failed) {
            return new GateResult("convergence", GateResult.State.UNKNOWN, "cannot evaluate: " + failed.reason(), figures);
        }
        HostSnapshot host = ((Reading.Ok<HostSnapshot>) facts).value();
        figures.put("swarm", host.engine().swarmRole().word());
        if (cluster.isPresent()) {
            GateResult.State state = cluster.get().convergence();
            figures.put("clusterVerdict", ClusterVerdict.word(state));
            return new GateResult("convergence", state, switch (state) {
                case HOLDS -> "all services converged (the manager's verdict, given by the fleet run)";
                case BLOCKS -> "services converging in the cluster (the manager's verdict, given by the fleet run)";
                default -> "cannot evaluate: the manager could not read the cluster's services (its verdict, given by the fleet run)";
            }, figures);
        }
        switch (host.engine().swarmRole()) {
            case NOT_IN_SWARM:
                figures.put("converging", List.of());
                return new GateResult("convergence", GateResult.State.HOLDS,
                        "not a swarm node: no services to converge", figures);
            case WORKER:
                return new GateResult("convergence", GateResult.State.UNKNOWN,
                        "cannot evaluate: a swarm worker cannot see the cluster's services; " + FROM_A_MANAGER, figures);
            default:
                break;
        }
        List<Map<String, Object>> converging = new ArrayList<>();
        List<String> described = new ArrayList<>();
        // a fleet run's own job runs while the fleet decides, and is no workload
        List<HostSnapshot.Service> workloads = host.services().stream().filter(s -> !s.labels().containsKey(FLEET_JOB_LABEL)).toList();
        for (HostSnapshot.Service s : workloads) {
            if (isConverging(s)) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("service", s.name());
                entry.put("mode", s.mode());
                entry.put("running", s.runningTasks());
                entry.put("desired", s.desiredTasks());
                entry.put("updateState", s.updateState().orElse(null));
                converging.add(entry);
                described.add(s.name() + " " + s.runningTasks() + "/" + s.desiredTasks()
                        + s.updateState().filter(UNSETTLED_UPDATE_STATES::contains).map(u -> " " + u).orElse(""));
            }
        }
        figures.put("services", workloads.size());
        figures.put("converging", converging);
        if (converging.isEmpty()) {
            return new GateResult("convergence", GateResult.State.HOLDS, switch (workloads.size()) {
                case 0 -> "no services to converge";
                case 1 -> "its 1 service converged";
                default -> "all " + workloads.size() + " services converged";
            }, figures);
        }
        return new GateResult("convergence", GateResult.State.BLOCKS, converging.size()
                + (converging.size() == 1 ? " service converging: " : " services converging: ")
                + abbreviate(described), figures);
    }

    /**
     * A text read through a step budget: java.util.regex reads its input through charAt, so a
     * pattern that backtracks without end (e.g. (.*a){20}$ on a long label) runs out of steps and
     * fails closed instead of holding the lock for minutes.
     */
    static final class Bounded implements CharSequence {
        static final int STEPS = 1_000_000;

        static final class TooSlow extends RuntimeException {
            TooSlow() {
                super(null, null, false, false);
            }
        }

        private final String text;
        private final int[] left;

        Bounded(String text) {
            this(text, new int[] {STEPS});
        }

        private Bounded(String text, int[] left) {
            this.text = text;
            this.left = left;
        }

        @Override
        public char charAt(int index) {
            if (--left[0] < 0) {
                throw new TooSlow();
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Bounded(text.substring(start, end), left);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** Jobs run to completion, so a job converges while it still has running tasks. */
    static boolean isConverging(HostSnapshot.Service s) {
        if (s.updateState().filter(UNSETTLED_UPDATE_STATES::contains).isPresent()) {
            return true;
        }
        if (s.mode().endsWith("-job")) {
            return s.runningTasks() > 0;
        }
        return s.runningTasks() != s.desiredTasks();
    }

    private static String abbreviate(List<String> items) {
        int shown = Math.min(items.size(), 3);
        String head = String.join(", ", items.subList(0, shown));
        return items.size() > shown ? head + " and " + (items.size() - shown) + " more" : head;
    }
}
