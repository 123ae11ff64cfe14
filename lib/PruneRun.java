package ccci;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The imperative shell of prune: check the gates, read the host, plan, then run each phase through
 * the engine, re-checking the gates right before every phase. Never throws for a host problem: the
 * outcome and exit code say what happened and which phases completed.
 */
public final class PruneRun {
    private PruneRun() {}

    public enum Outcome { NOOP, DRY_RUN, PRUNED, STOPPED, FAILED }

    /** Hooks for progress output (and for tests that change the host between phases). */
    public interface Listener {
        default void beforeGateCheck(PrunePlan.Phase next) {}

        /** The gates held and this phase's engine call is next. */
        default void phaseStarting(PrunePlan.Phase phase) {}

        default void phaseDone(EnginePrune.PhaseResult result) {}
    }

    public record Report(
            Outcome outcome,
            int exitCode,
            Verdict verdict,                       // the gates as checked at the start: the decision to prune
            Optional<PrunePlan> plan,              // empty when the gates were closed from the start
            List<EnginePrune.PhaseResult> phases,  // the phases that completed, in order
            Optional<PrunePlan.Phase> stoppedBefore,
            Optional<String> problem,              // one line: why it stopped or failed
            Optional<Integer> diskBefore, Optional<Integer> diskAfter,
            Optional<Integer> imagesBefore, Optional<Integer> imagesAfter,
            Duration elapsed) {

        public long reclaimedBytes() {
            return phases.stream().mapToLong(EnginePrune.PhaseResult::reclaimedBytes).sum();
        }

        public boolean ran() {
            return !phases.isEmpty();
        }
    }

    /** @param engines the engine, connected on first use: a no-op decided by the disk alone never connects */
    public static Report run(Supplier<DockerEngine> engines, GateSettings gates, Until until, boolean dryRun,
                             Listener listener, Clock clock) {
        long start = System.nanoTime();
        listener.beforeGateCheck(PrunePlan.Phase.CONTAINERS);
        Verdict verdict = GateCheck.runDiskFirst(engines, gates);
        Optional<Integer> diskBefore = usedPercent(verdict);
        if (!verdict.pruneAllowed() && !dryRun) {
            return new Report(Outcome.NOOP, verdict.exitCode() == ExitCodes.CANNOT_EVALUATE ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK,
                    verdict, Optional.empty(), List.of(), Optional.empty(), Optional.of(verdict.reason()),
                    diskBefore, diskBefore, Optional.empty(), Optional.empty(), since(start));
        }

        DockerEngine engine = engines.get();
        PruneFacts facts;
        try {
            facts = PruneFactsReader.read(engine);
        } catch (EngineUnavailable e) {
            return new Report(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE, verdict, Optional.empty(), List.of(),
                    Optional.empty(), Optional.of(e.getMessage()), diskBefore, Optional.empty(),
                    Optional.empty(), Optional.empty(), since(start));
        }
        PrunePlan plan = PrunePlan.compute(facts, clock.instant(), until);
        Optional<Integer> imagesBefore = Optional.of(facts.images().size());
        if (dryRun) {
            int exit = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK;
            return new Report(Outcome.DRY_RUN, exit, verdict, Optional.of(plan), List.of(), Optional.empty(),
                    verdict.pruneAllowed() ? Optional.empty() : Optional.of(verdict.reason()),
                    diskBefore, diskBefore, imagesBefore, imagesBefore, since(start));
        }

        List<EnginePrune.PhaseResult> done = new ArrayList<>();
        for (PrunePlan.Phase phase : PrunePlan.Phase.values()) {
            if (phase != PrunePlan.Phase.CONTAINERS) {
                listener.beforeGateCheck(phase);
            }
            Verdict recheck = GateCheck.run(engine, gates);
            List<GateResult> closed = closedMidRun(recheck);
            if (!closed.isEmpty()) {
                boolean unknown = closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
                return finish(engine, Outcome.STOPPED, unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.STOPPED_GATES_CLOSED,
                        verdict, plan, done, Optional.of(phase), "gates closed before " + phase.key + ": "
                                + String.join("; ", closed.stream().map(g -> g.name() + ": " + g.detail()).toList()),
                        diskBefore, imagesBefore, start);
            }
            listener.phaseStarting(phase);
            try {
                EnginePrune.PhaseResult result = EnginePrune.run(engine, phase, until, facts.allImageIds());
                done.add(result);
                listener.phaseDone(result);
            } catch (EngineRefused e) {
                int code = e.status() == 409 ? ExitCodes.ENGINE_BUSY : ExitCodes.ENGINE_FAILED;
                String why = e.status() == 409
                        ? "the engine is already running a prune (HTTP 409: " + engineWords(e) + "; another tool?): "
                                + phase.key + " not pruned"
                        : e.getMessage();
                return finish(engine, Outcome.FAILED, code, verdict, plan, done, Optional.of(phase), why,
                        diskBefore, imagesBefore, start);
            } catch (EngineUnavailable e) {
                return finish(engine, Outcome.FAILED, ExitCodes.ENGINE_FAILED, verdict, plan, done, Optional.of(phase),
                        "during " + phase.key + ": " + e.getMessage(), diskBefore, imagesBefore, start);
            }
        }
        return finish(engine, Outcome.PRUNED, ExitCodes.OK, verdict, plan, done, Optional.empty(), null,
                diskBefore, imagesBefore, start);
    }

    private static Report finish(DockerEngine engine, Outcome outcome, int exit, Verdict verdict, PrunePlan plan,
                                 List<EnginePrune.PhaseResult> done, Optional<PrunePlan.Phase> stoppedBefore, String problem,
                                 Optional<Integer> diskBefore, Optional<Integer> imagesBefore, long start) {
        Optional<Integer> diskAfter = measuredPath(verdict).flatMap(PruneRun::usedPercentNow);
        Optional<Integer> imagesAfter;
        try {
            imagesAfter = Optional.of(PruneFactsReader.imageCount(engine));
        } catch (EngineUnavailable e) {
            imagesAfter = Optional.empty();
        }
        return new Report(outcome, exit, verdict, Optional.of(plan), List.copyOf(done), stoppedBefore,
                Optional.ofNullable(problem), diskBefore, diskAfter, imagesBefore, imagesAfter, since(start));
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

    /** The engine's own words from "... answered HTTP 409 to POST /x: <words>". */
    private static String engineWords(EngineRefused e) {
        String message = e.getMessage();
        int colon = message.lastIndexOf(": ");
        return colon < 0 ? message : message.substring(colon + 2);
    }

    static Optional<Integer> usedPercent(Verdict verdict) {
        return verdict.gates().stream()
                .filter(g -> g.name().equals("disk"))
                .map(g -> g.figures().get("usedPercent"))
                .filter(Integer.class::isInstance)
                .map(Integer.class::cast)
                .findFirst();
    }

    private static Optional<java.nio.file.Path> measuredPath(Verdict verdict) {
        return verdict.gates().stream()
                .filter(g -> g.name().equals("disk"))
                .map(g -> g.figures().get("path"))
                .filter(String.class::isInstance)
                .map(p -> java.nio.file.Path.of((String) p))
                .findFirst();
    }

    private static Optional<Integer> usedPercentNow(java.nio.file.Path path) {
        try {
            return Optional.of(DiskUsage.measure(path).usedPercent());
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
