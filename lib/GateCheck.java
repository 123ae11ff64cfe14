//SOURCES Disk.java Disks.java EngineApi.java GatePolicy.java HostSnapshot.java Json.java LastUse.java
//SOURCES Reading.java Text.java
package ccci;

import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Reads the host once and evaluates the gates, never throwing for a host problem (fail closed
 * instead); and renders the verdict for a terminal or journald (text) and for machines (--json).
 */
public final class GateCheck {
    private GateCheck() {}

    /** The verdict, and the picture of the host's workloads it was made from (empty when the engine could not be read). */
    public record Checked(Verdict verdict, Optional<HostSnapshot> host) {}

    public static Verdict run(EngineApi engine, GatePolicy.Settings settings) {
        return check(engine, settings, Optional.empty(), Disks.REAL).verdict();
    }

    /**
     * Reads the host's workloads once and evaluates the gates; notes the images of the running
     * containers in the last-use record (cheap; a record that cannot be written never changes the verdict).
     */
    public static Checked check(EngineApi engine, GatePolicy.Settings settings, Optional<Path> lastUseFile, Disks disks) {
        Reading<HostSnapshot> facts = readWorkloads(engine);
        if (facts instanceof Reading.Ok<HostSnapshot> ok && lastUseFile.isPresent()) {
            LastUse.refresh(lastUseFile.get(), ok.value().inUseNow(), Instant.now(), Optional.empty());
        }
        Reading<List<Path>> targets = GatePolicy.diskTargets(settings, facts, disks::isDirectory);
        Verdict verdict = GatePolicy.evaluate(settings, facts, measure(targets, disks));
        return new Checked(verdict, facts instanceof Reading.Ok<HostSnapshot> ok ? Optional.of(ok.value()) : Optional.empty());
    }

    /**
     * Disk first: with explicit --paths all below the threshold, the answer is "no" without connecting
     * to the engine (the cheap daily no-op). Otherwise every gate is evaluated as in {@link #check}.
     */
    public static Verdict runDiskFirst(Supplier<? extends EngineApi> engine, GatePolicy.Settings settings) {
        return runDiskFirst(engine, settings, Optional.empty(), Disks.REAL);
    }

    public static Verdict runDiskFirst(Supplier<? extends EngineApi> engine, GatePolicy.Settings settings, Optional<Path> lastUseFile,
                                       Disks disks) {
        return runDiskFirst(engine, settings, lastUseFile, disks, false);
    }

    /**
     * @param evenBelow ask the engine even when the disk gate blocks (prune --max-unused-age, which
     *                  evicts whatever the disk once the workload gates hold)
     */
    public static Verdict runDiskFirst(Supplier<? extends EngineApi> engine, GatePolicy.Settings settings, Optional<Path> lastUseFile,
                                       Disks disks, boolean evenBelow) {
        if (!settings.diskPaths().isEmpty() && !evenBelow) {
            Reading<List<Disk>> disk = measure(Reading.ok(settings.diskPaths()), disks);
            GateResult gate = GatePolicy.diskGate(settings.threshold(), disk);
            if (gate.state() == GateResult.State.BLOCKS) {
                return GatePolicy.diskAlreadyBlocks(gate, disk);
            }
        }
        return check(engine.get(), settings, lastUseFile, disks).verdict();
    }

    static Reading<HostSnapshot> readWorkloads(EngineApi engine) {
        try {
            return Reading.ok(HostSnapshot.read(engine, HostSnapshot.Depth.WORKLOADS, Instant.now()));
        } catch (EngineApi.Unavailable e) {
            return Reading.failed(e.getMessage());
        }
    }

    /** Every target, or the first reason one cannot be measured (then the gate is unknown: fail closed). */
    static Reading<List<Disk>> measure(Reading<List<Path>> targets, Disks disks) {
        if (targets instanceof Reading.Failed<List<Path>> failed) {
            return Reading.failed(failed.reason());
        }
        List<Disk> measured = new ArrayList<>();
        for (Path path : ((Reading.Ok<List<Path>>) targets).value()) {
            try {
                measured.add(disks.measure(path));
            } catch (IOException | SecurityException e) {
                return Reading.failed(path + ": " + Text.rootMessage(e));
            }
        }
        return Reading.ok(List.copyOf(measured));
    }

    public static String text(Verdict verdict) {
        StringBuilder out = new StringBuilder();
        for (GateResult gate : verdict.gates()) {
            out.append(String.format("%-12s %-7s %s%n", gate.name(), textWord(gate), Text.safe(gate.detail())));
        }
        out.append(verdictLine(verdict));
        out.append(System.lineSeparator());
        return out.append(summary(verdict)).append(System.lineSeparator()).toString();
    }

    /** One journald-friendly line: each gate's state, the disk figure, and the reason when pruning is not allowed. */
    public static String summary(Verdict verdict) {
        Text.Summary s = new Text.Summary();
        s.put("prune_allowed", verdict.pruneAllowed());
        s.put("exit", verdict.exitCode());
        verdict.gates().forEach(g -> s.put(g.name(), word(g.state())));
        verdict.disk().ifPresent(d -> s.put("disk_used", d.usedPercent()));
        if (!verdict.pruneAllowed()) {
            s.put("reason", verdict.reason());
        }
        return s.toString();
    }

    public static ObjectNode json(Verdict verdict, String host) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("pruneAllowed", verdict.pruneAllowed());
        root.put("exitCode", verdict.exitCode());
        root.put("host", host);
        if (verdict.pruneAllowed()) {
            root.putNull("reason");
        } else {
            root.put("reason", verdict.reason());
        }
        root.set("problems", Json.mapper().valueToTree(verdict.problems()));
        ArrayNode gates = root.putArray("gates");
        for (GateResult gate : verdict.gates()) {
            ObjectNode node = gates.addObject();
            node.put("name", gate.name());
            node.put("holds", gate.holds());
            node.put("state", word(gate.state()));
            node.put("detail", gate.detail());
            gate.figures().forEach((key, value) -> node.set(key, Json.mapper().valueToTree(value)));
        }
        return root;
    }

    public static String jsonText(Verdict verdict, String host) {
        return json(verdict, host).toPrettyString() + System.lineSeparator();
    }

    /**
     * The verdict in words. A disk below the threshold is a healthy host, not a refusal: "no prune
     * needed"; a workload gate that blocks is "not now"; a gate that cannot be evaluated needs a human.
     */
    static String verdictLine(Verdict verdict) {
        if (verdict.pruneAllowed()) {
            return "verdict: prune allowed (all gates hold)";
        }
        List<GateResult> closed = verdict.notHolding().stream().filter(g -> g.state() != GateResult.State.SKIPPED).toList();
        if (closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN)) {
            return "verdict: cannot decide, prune not allowed (" + String.join(", ", closed.stream()
                    .filter(g -> g.state() == GateResult.State.UNKNOWN).map(GateResult::name).toList()) + " cannot be evaluated)";
        }
        if (closed.size() == 1 && closed.get(0).name().equals("disk")) {
            return "verdict: no prune needed (the disk is below the threshold)";
        }
        return "verdict: prune not allowed now (" + String.join(", ", closed.stream()
                .map(g -> g.name() + " " + textWord(g)).toList()) + ")";
    }

    /** A gate's state in the text table: the disk gate that blocks is "below" (the threshold), not a problem. */
    static String textWord(GateResult gate) {
        return gate.name().equals("disk") && gate.state() == GateResult.State.BLOCKS ? "below" : word(gate.state());
    }

    static String word(GateResult.State state) {
        return switch (state) {
            case HOLDS -> "holds";
            case BLOCKS -> "blocks";
            case UNKNOWN -> "unknown";
            case SKIPPED -> "skipped";
        };
    }
}
