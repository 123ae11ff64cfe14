package ccci;

import ccci.Cli.ExitCodes;
import ccci.EvictionPolicy.Decision;
import ccci.EvictionPolicy.Plan;
import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Eviction's imperative shell: removes the images of an {@link EvictionPolicy} plan in its order,
 * one at a time, and only while the disk is at or above the low watermark (measured before each
 * removal). Before each removal the gates are checked again. Never forced: each of the image's
 * tags is removed with a plain DELETE /images/{tag}, so the engine itself refuses (409) an image a
 * container started using since the plan was made; that image is kept and the run goes on.
 */
public final class EvictionRun {
    private EvictionRun() {}

    /** What happened to one image of the order. removed: the engine deleted it; else why not. */
    public record Removal(Decision decision, boolean removed, String detail, Optional<Integer> diskAfter) {}

    /**
     * The eviction step of a prune. predicted: a dry run (removals are what the plan predicts).
     * stopped: why it stopped before reaching the watermark (gates closed, engine error), with the
     * exit code to use; else empty.
     */
    public record Result(Plan plan, boolean predicted, List<Removal> removals, Optional<Integer> diskBefore,
                         Optional<Integer> diskAfter, Optional<String> stopped, int exitCode) {
        public List<Removal> removed() {
            return removals.stream().filter(Removal::removed).toList();
        }

        public boolean reachedWatermark() {
            return diskAfter.map(d -> d < plan.evictToPercent()).orElse(false);
        }
    }

    /** Hooks for progress output (and for tests that change the host between removals). */
    public interface Listener {
        default void beforeRemoval(Decision next) {}

        default void removalDone(Removal removal) {}
    }

    /** What a real run would do on the same state: the plan's predicted removals. */
    public static Result predict(Plan plan) {
        List<Removal> removals = plan.evicted().stream()
                .map(d -> new Removal(d, true, "would free " + Text.bytes(d.frees()), Optional.empty())).toList();
        return new Result(plan, true, removals, Optional.of(plan.disk().usedPercent()),
                Optional.of(plan.predictedAfter().usedPercent()), Optional.empty(), ExitCodes.OK);
    }

    public static Result run(Engine engine, GatePolicy.Settings gates, Plan plan, Path diskPath, Listener listener) {
        List<Removal> removals = new ArrayList<>();
        Optional<Integer> before = percent(diskPath);
        Optional<Integer> now = before;
        for (Decision d : plan.order()) {
            if (now.isEmpty()) {
                return new Result(plan, false, removals, before, now,
                        Optional.of("cannot measure the disk at " + diskPath + ": eviction stopped"), ExitCodes.CANNOT_EVALUATE);
            }
            if (now.get() < plan.evictToPercent()) {
                break;
            }
            listener.beforeRemoval(d);
            Verdict recheck = GateCheck.run(engine, gates);
            List<GateResult> closed = recheck.closedMidRun();
            if (!closed.isEmpty()) {
                boolean unknown = closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
                return new Result(plan, false, removals, before, now, Optional.of("gates closed before evicting "
                        + Text.safe(d.image().name()) + ": " + String.join("; ",
                        closed.stream().map(g -> g.name() + ": " + g.detail()).toList())),
                        unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.STOPPED_GATES_CLOSED);
            }
            Removal removal;
            try {
                removal = remove(engine, d, diskPath);
            } catch (Engine.Unavailable e) {
                return new Result(plan, false, removals, before, percent(diskPath),
                        Optional.of("while evicting " + Text.safe(d.image().name()) + ": " + e.getMessage()), ExitCodes.ENGINE_FAILED);
            }
            removals.add(removal);
            listener.removalDone(removal);
            now = removal.diskAfter();
        }
        return new Result(plan, false, removals, before, now, Optional.empty(), ExitCodes.OK);
    }

    /**
     * Removes each tag without force: the last one deletes the image (and its untagged parents,
     * noprune=false). 409 means a user appeared (a container now uses it, or the engine refuses for
     * another reason it names): the image is kept. 404: that tag is gone already.
     */
    static Removal remove(Engine engine, Decision d, Path diskPath) {
        List<String> untagged = new ArrayList<>();
        boolean deleted = false;
        for (String tag : d.image().tags()) {
            try {
                var response = engine.deleteJson("/images/" + URLEncoder.encode(tag, StandardCharsets.UTF_8)
                        .replace("%2F", "/").replace("%3A", ":") + "?noprune=false");
                untagged.add(tag);
                for (var entry : response) {
                    deleted |= entry.path("Deleted").asText().equals(d.image().id());
                }
            } catch (Engine.Refused e) {
                if (e.status() == 404) {
                    continue;
                }
                String why = e.status() == 409 ? "kept: a user appeared (the engine: " + Text.safe(e.engineMessage()) + ")"
                        : "kept: the engine refused (HTTP " + e.status() + ": " + Text.safe(e.engineMessage()) + ")";
                return new Removal(d, false, why + (untagged.isEmpty() ? "" : "; untagged " + String.join(", ", untagged)),
                        percent(diskPath));
            }
        }
        if (!deleted) {
            return new Removal(d, false, untagged.isEmpty() ? "gone already (removed by someone else)"
                    : "kept: still tagged after removing " + String.join(", ", untagged) + " (a tag was added since)", percent(diskPath));
        }
        return new Removal(d, true, "freed " + Text.bytes(d.frees()) + " (unique bytes)", percent(diskPath));
    }

    private static Optional<Integer> percent(Path path) {
        try {
            return Optional.of(Disk.measure(path).usedPercent());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
