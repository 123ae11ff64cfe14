package ccci;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import ccci.PrunePolicy.Until;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
     * locked: another prune holds the lock; insufficient: the phases ran and the disk is still at or
     * above the threshold; blocked-too-long: the disk is at or above the threshold and a gate has
     * blocked pruning for longer than the limit.
     */
    public enum Outcome {
        NOOP, DRY_RUN, PRUNED, STOPPED, FAILED, LOCKED, INSUFFICIENT, BLOCKED_TOO_LONG;

        /** The outcome as the summary, JSON, metrics and state file spell it: noop, dry-run, blocked-too-long... */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** Hooks for progress output (and for tests that change the host between phases). */
    public interface Listener {
        default void beforeGateCheck(Phase next) {}

        /** The gates as checked at the start: the decision to prune. */
        default void gatesChecked(Verdict verdict) {}

        /** A real run: the gates hold and this is the plan; the phases come next. */
        default void planned(Verdict verdict, Plan plan) {}

        /** The gates held and this phase's engine call is next. */
        default void phaseStarting(Phase phase) {}

        default void phaseDone(PhaseResult result) {}
    }

    /** The state file as this run left it (a dry run: as it read it), and one-line notes about it. */
    public record StateReport(Path file, PruneState state, List<String> notes) {}

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
            Duration elapsed,
            Optional<PruneShortfall.Shortfall> shortfall, // not enough: insufficient, blocked too long, or a dry run's estimate
            Optional<StateReport> state,                 // empty when no state file is kept (in-process runs)
            Optional<Metrics> metrics) {                 // empty when no --metrics-file was asked for

        /** Whether --metrics-file was written, and why not. */
        public record Metrics(boolean written, Optional<String> problem) {}

        /**
         * This report once the metrics file was written or not: a run that succeeded but could not
         * write its metrics exits {@link ExitCodes#METRICS_NOT_WRITTEN}; any other outcome keeps its code.
         */
        public Report withMetrics(boolean written, String problem) {
            int exit = !written && exitCode == ExitCodes.OK ? ExitCodes.METRICS_NOT_WRITTEN : exitCode;
            return new Report(outcome, exit, verdict, plan, phases, stoppedBefore, this.problem, diskBefore, diskAfter,
                    imagesBefore, imagesAfter, elapsed, shortfall, state, Optional.of(new Metrics(written, Optional.ofNullable(problem))));
        }

        public long reclaimedBytes() {
            return phases.stream().mapToLong(PhaseResult::reclaimedBytes).sum();
        }

        public boolean ran() {
            return !phases.isEmpty();
        }

        Report withState(StateReport value) {
            return new Report(outcome, exitCode, verdict, plan, phases, stoppedBefore, problem, diskBefore, diskAfter,
                    imagesBefore, imagesAfter, elapsed, shortfall, Optional.of(value), metrics);
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
        private Optional<PruneShortfall.Shortfall> shortfall = Optional.empty();
        private Optional<StateReport> state = Optional.empty();

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

        public Builder shortfall(PruneShortfall.Shortfall value) {
            shortfall = Optional.of(value);
            return this;
        }

        public Builder state(StateReport value) {
            state = Optional.of(value);
            return this;
        }

        public Report end(Outcome outcome, int exitCode) {
            return new Report(outcome, exitCode, verdict, plan, phases, stoppedBefore, problem,
                    diskBefore, diskAfter, imagesBefore, imagesAfter, Duration.ofNanos(System.nanoTime() - startNanos),
                    shortfall, state, Optional.empty());
        }
    }

    /** A run that keeps no state file (no blocked clock). */
    public static Report run(Supplier<Engine> engines, GatePolicy.Settings gates, Until until, boolean dryRun,
                             Listener listener, Clock clock) {
        return run(engines, gates, PruneShortfall.Settings.withoutState(), until, dryRun, listener, clock);
    }

    /**
     * @param engines the engine, connected on first use: a no-op decided by the disk alone never connects
     * @param shortfall the state file and the blocked limit; a real run reads and replaces the state, a dry run only reads it
     */
    public static Report run(Supplier<Engine> engines, GatePolicy.Settings gates, PruneShortfall.Settings shortfall,
                             Until until, boolean dryRun, Listener listener, Clock clock) {
        long start = System.nanoTime();
        listener.beforeGateCheck(Phase.CONTAINERS);
        Verdict verdict = GateCheck.runDiskFirst(engines, gates);
        listener.gatesChecked(verdict);
        Instant now = clock.instant();
        PruneState.Loaded loaded = shortfall.load();
        PruneShortfall.Blocked blocked = PruneShortfall.blocked(loaded, verdict, gates.thresholdPercent(), now,
                shortfall.blockedLimit());
        Builder report = Report.of(verdict, start);
        if (dryRun) {
            shortfall.stateFile().ifPresent(file -> report.state(new StateReport(file, loaded.state(),
                    loaded instanceof PruneState.Loaded.Unusable u ? List.of("state: " + u.reason() + ": ignored") : List.of())));
            return plan(engines, gates, until, verdict, report, clock);
        }
        Report done = prune(engines, gates, until, verdict, blocked, report, listener, clock);
        return shortfall.stateFile().map(file -> remember(done, file, blocked, now)).orElse(done);
    }

    /** A dry run: read the host, plan, and estimate whether a real run would be enough. Nothing is changed. */
    private static Report plan(Supplier<Engine> engines, GatePolicy.Settings gates, Until until, Verdict verdict,
                               Builder report, Clock clock) {
        int closedExit = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK;
        PruneFacts facts;
        try {
            facts = PruneFacts.read(engines.get());
        } catch (Engine.Unavailable e) {
            return report.problem(e.getMessage()).end(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE);
        }
        Plan plan = PrunePolicy.plan(facts, clock.instant(), until);
        PruneShortfall.predict(verdict.disk(), gates.thresholdPercent(), plan, PruneShortfall.kept(facts, plan, until))
                .ifPresent(report::shortfall);
        return report.plan(plan).imagesBefore(facts.images().size())
                .problem(verdict.pruneAllowed() ? null : verdict.reason())
                .diskUnchanged().imagesAfter(Optional.of(facts.images().size()))
                .end(Outcome.DRY_RUN, closedExit);
    }

    private static Report prune(Supplier<Engine> engines, GatePolicy.Settings gates, Until until, Verdict verdict,
                                PruneShortfall.Blocked blocked, Builder report, Listener listener, Clock clock) {
        boolean unknown = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE;
        if (!verdict.pruneAllowed()) {
            report.problem(verdict.reason()).diskUnchanged();
            if (blocked.tooLong().isPresent()) {
                return report.shortfall(blocked.tooLong().get()).end(Outcome.BLOCKED_TOO_LONG, ExitCodes.BLOCKED_TOO_LONG);
            }
            return report.end(unknown ? Outcome.FAILED : Outcome.NOOP, unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK);
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
        return afterPhases(engine, report.phases(done), verdict, gates, until, facts, plan);
    }

    /**
     * After the three phases: measure the disk again and say whether the conservative policy was
     * enough. Work that follows the phases (opt-in eviction, issue 12) slots in here, before the
     * measurement that decides.
     */
    static Report afterPhases(Engine engine, Builder report, Verdict verdict, GatePolicy.Settings gates, Until until,
                              PruneFacts facts, Plan plan) {
        Optional<Disk> after = verdict.disk().map(Disk::path).flatMap(PruneRun::measure);
        long reclaimed = report.phases.stream().mapToLong(PhaseResult::reclaimedBytes).sum();
        Optional<PruneShortfall.Shortfall> insufficient = after.flatMap(disk -> PruneShortfall.afterPhases(
                disk, gates.thresholdPercent(), reclaimed, PruneShortfall.kept(facts, plan, until)));
        if (insufficient.isPresent()) {
            Disk disk = after.get();
            report.shortfall(insufficient.get()).problem("disk still " + disk.usedPercent() + "% of " + disk.path()
                    + " \u2265 " + gates.thresholdPercent() + "% after the phases");
            return finish(engine, report, after, Outcome.INSUFFICIENT, ExitCodes.INSUFFICIENT);
        }
        return finish(engine, report, after, Outcome.PRUNED, ExitCodes.OK);
    }

    /**
     * Replaces the state file with what this run learnt. Without a state directory there is nothing
     * to say unless a blocked clock runs (it cannot, then: one note says so instead of "starts now");
     * any other failure to write is one note.
     */
    static Report remember(Report report, Path file, PruneShortfall.Blocked blocked, Instant now) {
        PruneState next = blocked.next().ended(now, report.outcome().word());
        List<String> notes = new ArrayList<>(blocked.notes());
        Path dir = file.toAbsolutePath().getParent();
        boolean noDirectory = dir == null || !Files.isDirectory(dir);
        if (!noDirectory || next.blockedSince().isPresent()) {
            try {
                next.save(file);
            } catch (SmallFile.Unusable e) {
                notes.removeIf(n -> n.startsWith(PruneShortfall.CLOCK_STARTS_NOTE));
                notes.add("state: " + file + " " + e.getMessage() + "; not remembered"
                        + (next.blockedSince().isPresent() ? ": the blocked clock cannot run" : ""));
            }
        }
        return report.withState(new StateReport(file, next, notes));
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
        return finish(engine, report, verdict.disk().map(Disk::path).flatMap(PruneRun::measure), outcome, exit);
    }

    private static Report finish(Engine engine, Builder report, Optional<Disk> diskAfter, Outcome outcome, int exit) {
        Optional<Integer> imagesAfter;
        try {
            imagesAfter = Optional.of(PruneFacts.imageCount(engine));
        } catch (Engine.Unavailable e) {
            imagesAfter = Optional.empty();
        }
        return report.diskAfter(diskAfter.map(Disk::usedPercent)).imagesAfter(imagesAfter).end(outcome, exit);
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

    private static Optional<Disk> measure(Path path) {
        try {
            return Optional.of(Disk.measure(path));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * What a run has done so far, for the report a shutdown hook prints when a signal stops it; and
     * the run's side of the deal: once a signal arrived, it starts no further gate check or phase.
     * Forwards every event to the listener it wraps.
     */
    public static final class Progress implements Listener {
        private final Listener next;
        private final long startNanos = System.nanoTime();
        private Verdict verdict;
        private Plan plan;
        private final List<PhaseResult> done = new ArrayList<>();
        private Phase running;

        public Progress(Listener next) {
            this.next = next;
        }

        @Override
        public void beforeGateCheck(Phase phase) {
            Signals.stopHereIfSignalled();
            next.beforeGateCheck(phase);
        }

        @Override
        public synchronized void gatesChecked(Verdict v) {
            verdict = v;
            next.gatesChecked(v);
        }

        @Override
        public void planned(Verdict v, Plan p) {
            synchronized (this) {
                plan = p;
            }
            next.planned(v, p);
        }

        @Override
        public void phaseStarting(Phase phase) {
            Signals.stopHereIfSignalled();
            synchronized (this) {
                running = phase;
            }
            next.phaseStarting(phase);
        }

        @Override
        public void phaseDone(PhaseResult result) {
            synchronized (this) {
                done.add(result);
                running = null;
            }
            next.phaseDone(result);
        }

        /** The report of a run stopped by a signal: the phases it completed, and the one the engine was running. */
        public synchronized Report stoppedBy(Signals.Stop stop) {
            Verdict gates = verdict != null ? verdict : GatePolicy.notEvaluated("not evaluated: stopped by " + stop.name());
            Builder report = Report.of(gates, startNanos).phases(done);
            if (plan != null) {
                report.plan(plan);
            }
            String where = running != null ? "during " + running.key + " (the engine finishes that phase by itself)"
                    : verdict == null ? "while checking the gates" : "between phases";
            if (running != null) {
                report.stoppedBefore(running);
            }
            return report.problem("stopped by " + stop.name() + " " + where + ": nothing more was started")
                    .end(Outcome.STOPPED, stop.exitCode());
        }
    }
}
