package ccci;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import ccci.PrunePolicy.Until;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The imperative shell of prune: check the gates, read the host, plan, then run each phase through
 * the engine's own prune endpoint, re-checking the gates right before every phase. The engine checks
 * "in use" at the moment it deletes, so an image that gets used after we looked is never removed.
 * Never throws for a host problem: the outcome and exit code say what happened and which phases completed.
 */
public final class PruneRun {
    private PruneRun() {}

    /**
     * noop: the gates are closed, nothing to do; failed: it could not evaluate or the engine failed;
     * locked: another prune holds the lock.
     */
    public enum Outcome { NOOP, DRY_RUN, PRUNED, STOPPED, FAILED, LOCKED }

    /** Hooks for progress output (and for tests that change the host between phases). */
    public interface Listener {
        default void beforeGateCheck(Phase next) {}

        /** A real run: the gates hold and this is the plan; the phases come next. */
        default void planned(Verdict verdict, Plan plan) {}

        /** The gates held and this phase's engine call is next. */
        default void phaseStarting(Phase phase) {}

        default void phaseDone(PhaseResult result) {}
    }

    /** What the engine says one phase removed. */
    public record PhaseResult(Phase phase, List<String> removedIds, long reclaimedBytes, Duration elapsed) {}

    public record Report(
            Outcome outcome,
            int exitCode,
            Verdict verdict,                       // the gates as checked at the start: the decision to prune
            Optional<Plan> plan,                   // empty when the gates were closed from the start
            List<PhaseResult> phases,              // the phases that completed, in order
            Optional<Phase> stoppedBefore,
            Optional<String> problem,              // one line: why it stopped or failed
            Optional<Integer> diskBefore, Optional<Integer> diskAfter,
            Optional<Integer> imagesBefore, Optional<Integer> imagesAfter,
            Duration elapsed) {

        public long reclaimedBytes() {
            return phases.stream().mapToLong(PhaseResult::reclaimedBytes).sum();
        }

        public boolean ran() {
            return !phases.isEmpty();
        }

        /** A report is built by name: start from the verdict, set what is known, then end with the outcome. */
        public static Builder of(Verdict verdict, long startNanos) {
            return new Builder(verdict, startNanos);
        }

        /** Another prune holds the lock: nothing was looked at or removed. */
        public static Report locked(String reason, long startNanos) {
            return of(GatePolicy.notEvaluated("not evaluated: another prune holds the lock"), startNanos)
                    .problem(reason).end(Outcome.LOCKED, ExitCodes.LOCKED);
        }
    }

    public static final class Builder {
        private final Verdict verdict;
        private final long startNanos;
        private Optional<Plan> plan = Optional.empty();
        private List<PhaseResult> phases = List.of();
        private Optional<Phase> stoppedBefore = Optional.empty();
        private Optional<String> problem = Optional.empty();
        private final Optional<Integer> diskBefore;
        private Optional<Integer> diskAfter = Optional.empty();
        private Optional<Integer> imagesBefore = Optional.empty();
        private Optional<Integer> imagesAfter = Optional.empty();

        private Builder(Verdict verdict, long startNanos) {
            this.verdict = verdict;
            this.startNanos = startNanos;
            this.diskBefore = verdict.disk().map(Disk::usedPercent);
        }

        public Builder plan(Plan value) {
            plan = Optional.of(value);
            return this;
        }

        public Builder phases(List<PhaseResult> value) {
            phases = List.copyOf(value);
            return this;
        }

        public Builder stoppedBefore(Phase value) {
            stoppedBefore = Optional.of(value);
            return this;
        }

        public Builder problem(String value) {
            problem = Optional.ofNullable(value);
            return this;
        }

        /** Nothing was removed: the disk is as it was. */
        public Builder diskUnchanged() {
            diskAfter = diskBefore;
            return this;
        }

        public Builder diskAfter(Optional<Integer> value) {
            diskAfter = value;
            return this;
        }

        public Builder imagesBefore(int value) {
            imagesBefore = Optional.of(value);
            return this;
        }

        public Builder imagesAfter(Optional<Integer> value) {
            imagesAfter = value;
            return this;
        }

        public Report end(Outcome outcome, int exitCode) {
            return new Report(outcome, exitCode, verdict, plan, phases, stoppedBefore, problem,
                    diskBefore, diskAfter, imagesBefore, imagesAfter, Duration.ofNanos(System.nanoTime() - startNanos));
        }
    }

    /** @param engines the engine, connected on first use: a no-op decided by the disk alone never connects */
    public static Report run(Supplier<Engine> engines, GatePolicy.Settings gates, Until until, boolean dryRun,
                             Listener listener, Clock clock) {
        long start = System.nanoTime();
        listener.beforeGateCheck(Phase.CONTAINERS);
        Verdict verdict = GateCheck.runDiskFirst(engines, gates);
        Builder report = Report.of(verdict, start);
        boolean unknown = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE;
        int closedExit = unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK;
        if (!verdict.pruneAllowed() && !dryRun) {
            return report.problem(verdict.reason()).diskUnchanged().end(unknown ? Outcome.FAILED : Outcome.NOOP, closedExit);
        }

        Engine engine = engines.get();
        PruneFacts facts;
        try {
            facts = PruneFacts.read(engine);
        } catch (Engine.Unavailable e) {
            return report.problem(e.getMessage()).end(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE);
        }
        Plan plan = PrunePolicy.plan(facts, clock.instant(), until);
        report.plan(plan).imagesBefore(facts.images().size());
        if (dryRun) {
            return report.problem(verdict.pruneAllowed() ? null : verdict.reason())
                    .diskUnchanged().imagesAfter(Optional.of(facts.images().size()))
                    .end(Outcome.DRY_RUN, closedExit);
        }

        listener.planned(verdict, plan);
        List<PhaseResult> done = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            if (phase != Phase.CONTAINERS) {
                listener.beforeGateCheck(phase);
            }
            Verdict recheck = GateCheck.run(engine, gates);
            List<GateResult> closed = closedMidRun(recheck);
            if (!closed.isEmpty()) {
                boolean cannotEvaluate = closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
                return finish(engine, report.phases(done).stoppedBefore(phase).problem("gates closed before " + phase.key + ": "
                                + String.join("; ", closed.stream().map(g -> g.name() + ": " + g.detail()).toList())),
                        verdict, Outcome.STOPPED, cannotEvaluate ? ExitCodes.CANNOT_EVALUATE : ExitCodes.STOPPED_GATES_CLOSED);
            }
            listener.phaseStarting(phase);
            try {
                PhaseResult result = runPhase(engine, phase, until, facts.allImageIds());
                done.add(result);
                listener.phaseDone(result);
            } catch (Engine.Refused e) {
                boolean busy = e.status() == 409;
                String why = busy
                        ? "the engine is already running a prune (HTTP 409: " + e.engineMessage() + "; another tool?): "
                                + phase.key + " not pruned"
                        : e.getMessage();
                return finish(engine, report.phases(done).stoppedBefore(phase).problem(why),
                        verdict, Outcome.FAILED, busy ? ExitCodes.ENGINE_BUSY : ExitCodes.ENGINE_FAILED);
            } catch (Engine.Unavailable e) {
                return finish(engine, report.phases(done).stoppedBefore(phase).problem("during " + phase.key + ": " + e.getMessage()),
                        verdict, Outcome.FAILED, ExitCodes.ENGINE_FAILED);
            }
        }
        return finish(engine, report.phases(done), verdict, Outcome.PRUNED, ExitCodes.OK);
    }

    /**
     * One phase through the engine's own prune endpoint, with the request {@link PrunePolicy} states.
     *
     * @param imageIds every image ID in the store before the phase: the engine's ImagesDeleted also
     *                 lists the layers it removed, which are not images and must not be counted as such
     */
    static PhaseResult runPhase(Engine engine, Phase phase, Until until, Set<String> imageIds) {
        long start = System.nanoTime();
        JsonNode response = engine.postJson(PrunePolicy.request(phase, until));
        List<String> removed = new ArrayList<>();
        switch (phase) {
            case CONTAINERS -> response.path("ContainersDeleted").forEach(id -> removed.add(id.asText()));
            case IMAGES -> response.path("ImagesDeleted").forEach(entry -> {
                if (entry.hasNonNull("Deleted") && imageIds.contains(entry.get("Deleted").asText())) {
                    removed.add(entry.get("Deleted").asText());
                }
            });
            case BUILD_CACHE -> response.path("CachesDeleted").forEach(id -> removed.add(id.asText()));
        }
        return new PhaseResult(phase, removed, response.path("SpaceReclaimed").asLong(),
                Duration.ofNanos(System.nanoTime() - start));
    }

    private static Report finish(Engine engine, Builder report, Verdict verdict, Outcome outcome, int exit) {
        Optional<Integer> imagesAfter;
        try {
            imagesAfter = Optional.of(PruneFacts.imageCount(engine));
        } catch (Engine.Unavailable e) {
            imagesAfter = Optional.empty();
        }
        return report.diskAfter(usedPercentNow(verdict.disks())).imagesAfter(imagesAfter).end(outcome, exit);
    }

    /**
     * Between phases, a workload gate (stack, convergence) that stops holding, or any gate that can no
     * longer be evaluated, stops the run. The disk gate only starts a run: the phases themselves free
     * space, and the seed's commands run all three once the disk crossed the threshold.
     */
    static List<GateResult> closedMidRun(Verdict verdict) {
        return verdict.gates().stream().filter(g -> g.state() == GateResult.State.UNKNOWN
                || (g.state() == GateResult.State.BLOCKS && !g.name().equals("disk"))).toList();
    }

    /** The fullest of the file systems the gate measured, measured again; empty if one cannot be. */
    private static Optional<Integer> usedPercentNow(List<Disk> measured) {
        List<Disk> now = new ArrayList<>();
        for (Disk d : measured) {
            try {
                now.add(Disk.measure(d.path()));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        return Disk.fullest(now).map(Disk::usedPercent);
    }
}
