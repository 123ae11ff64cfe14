package ccci;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;

/** The three gates of the prune policy, as pure functions of what was read from the host. */
public final class GatePolicy {
    private GatePolicy() {}

    /** Update states in which a service has not settled: swarm is (or was left) mid-change. */
    static final Set<String> UNSETTLED_UPDATE_STATES = Set.of("updating", "paused", "rollback_started", "rollback_paused");

    public static Verdict evaluate(GateSettings settings, Reading<HostFacts> facts, Reading<DiskUsage> disk) {
        List<String> problems = new ArrayList<>();
        if (facts instanceof Reading.Failed<HostFacts> failed) {
            problems.add(failed.reason());
        }
        if (disk instanceof Reading.Failed<DiskUsage> failed && !problems.contains(failed.reason())) {
            problems.add(failed.reason());
        }
        return new Verdict(List.of(
                diskGate(settings.thresholdPercent(), disk),
                stackGate(settings, facts),
                convergenceGate(facts)), problems);
    }

    /**
     * The verdict when the disk gate alone already blocks: the other gates are not asked, which
     * keeps the daily no-op run from touching the engine at all.
     */
    public static Verdict diskAlreadyBlocks(GateResult disk) {
        String why = "not evaluated: the disk gate already blocks";
        return new Verdict(List.of(disk,
                new GateResult("stack", GateResult.State.SKIPPED, why, new LinkedHashMap<>()),
                new GateResult("convergence", GateResult.State.SKIPPED, why, new LinkedHashMap<>())), List.of());
    }

    /** Which path the disk gate measures: --path, else the engine's data root, else / when that is not on this host. */
    public static Reading<Path> diskTarget(Optional<Path> option, Reading<HostFacts> facts, Predicate<Path> exists) {
        if (option.isPresent()) {
            return Reading.ok(option.get());
        }
        if (facts instanceof Reading.Failed<HostFacts> failed) {
            return Reading.failed(failed.reason());
        }
        Path root = Path.of(((Reading.Ok<HostFacts>) facts).value().dockerRootDir());
        return Reading.ok(exists.test(root) ? root : Path.of("/"));
    }

    static GateResult diskGate(int threshold, Reading<DiskUsage> disk) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("threshold", threshold);
        if (disk instanceof Reading.Failed<DiskUsage> failed) {
            return new GateResult("disk", GateResult.State.UNKNOWN, "cannot measure: " + failed.reason(), figures);
        }
        DiskUsage usage = ((Reading.Ok<DiskUsage>) disk).value();
        int percent = usage.usedPercent();
        figures.put("usedPercent", percent);
        figures.put("path", usage.path().toString());
        figures.put("usedBytes", usage.usedBytes());
        figures.put("availableBytes", usage.availableBytes());
        boolean holds = percent >= threshold;
        String detail = holds
                ? percent + "% of " + usage.path() + " \u2265 " + threshold + "%"
                : percent + "% of " + usage.path() + " < " + threshold + "%";
        return new GateResult("disk", holds ? GateResult.State.HOLDS : GateResult.State.BLOCKS, detail, figures);
    }

    static GateResult stackGate(GateSettings settings, Reading<HostFacts> facts) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("pattern", settings.stackPattern().pattern());
        if (facts instanceof Reading.Failed<HostFacts> failed) {
            return new GateResult("stack", GateResult.State.UNKNOWN, "cannot evaluate: " + failed.reason(), figures);
        }
        HostFacts host = ((Reading.Ok<HostFacts>) facts).value();
        Set<String> stacks = new TreeSet<>();
        List<String> matches = new ArrayList<>();
        for (HostFacts.Service s : host.services()) {
            stackOf(settings, s.name(), s.labels()).ifPresent(stack -> {
                stacks.add(stack);
                matches.add("service " + s.name());
            });
        }
        for (HostFacts.Container c : host.runningContainers()) {
            stackOf(settings, c.name(), c.labels()).ifPresent(stack -> {
                stacks.add(stack);
                matches.add("container " + c.name());
            });
        }
        figures.put("liveStacks", List.copyOf(stacks));
        figures.put("matchedObjects", matches);
        if (stacks.isEmpty()) {
            return new GateResult("stack", GateResult.State.HOLDS, "no live run-app stack ("
                    + host.services().size() + " services, " + host.runningContainers().size()
                    + " running containers checked)", figures);
        }
        return new GateResult("stack", GateResult.State.BLOCKS, "live run-app stack "
                + abbreviate(List.copyOf(stacks)) + " (" + abbreviate(matches) + ")", figures);
    }

    /** The stack an object belongs to when its stack label or its name matches the pattern. */
    static Optional<String> stackOf(GateSettings settings, String name, Map<String, String> labels) {
        String namespace = labels.get(HostFacts.STACK_LABEL);
        if (namespace != null && settings.stackPattern().matcher(namespace).find()) {
            return Optional.of(namespace);
        }
        Matcher m = settings.stackPattern().matcher(name);
        if (m.find()) {
            String matched = name.substring(0, m.end());
            return Optional.of(matched.endsWith("_") ? matched.substring(0, matched.length() - 1) : matched);
        }
        return Optional.empty();
    }

    static GateResult convergenceGate(Reading<HostFacts> facts) {
        Map<String, Object> figures = new LinkedHashMap<>();
        if (facts instanceof Reading.Failed<HostFacts> failed) {
            return new GateResult("convergence", GateResult.State.UNKNOWN, "cannot evaluate: " + failed.reason(), figures);
        }
        HostFacts host = ((Reading.Ok<HostFacts>) facts).value();
        figures.put("swarm", host.swarmRole().name().toLowerCase().replace('_', '-'));
        switch (host.swarmRole()) {
            case NOT_IN_SWARM:
                figures.put("converging", List.of());
                return new GateResult("convergence", GateResult.State.HOLDS,
                        "not a swarm node: no services to converge", figures);
            case WORKER:
                figures.put("converging", List.of());
                return new GateResult("convergence", GateResult.State.HOLDS,
                        "swarm worker, not a manager: no services are visible here", figures);
            default:
                break;
        }
        List<Map<String, Object>> converging = new ArrayList<>();
        List<String> described = new ArrayList<>();
        for (HostFacts.Service s : host.services()) {
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
        figures.put("services", host.services().size());
        figures.put("converging", converging);
        if (converging.isEmpty()) {
            return new GateResult("convergence", GateResult.State.HOLDS,
                    "all " + host.services().size() + " services converged", figures);
        }
        return new GateResult("convergence", GateResult.State.BLOCKS, converging.size()
                + (converging.size() == 1 ? " service converging: " : " services converging: ")
                + abbreviate(described), figures);
    }

    /** Jobs run to completion, so a job converges while it still has running tasks. */
    static boolean isConverging(HostFacts.Service s) {
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
