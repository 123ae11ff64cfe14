package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import ccci.Until;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What prune prints for an image whose age the containerd store's API does not tell (no engine
 * here omits LastTagTime, so this is pure): the dry run says "unsure" and lists it apart, and the
 * real run reports what the engine did with it, either way.
 */
class PruneFormatTest {
    static final Instant NOW = Instant.parse("2026-11-30T10:00:00Z");
    static final String UNKNOWN = "sha256:0c1d2e3f4a5b" + "0".repeat(52);
    static final String OLD = "sha256:9a8b7c6d5e4f" + "1".repeat(52);

    static Plan plan() {
        Instant built = Instant.parse("2019-01-01T00:00:00Z");
        PruneFacts facts = new PruneFacts(List.of(), List.of(
                new PruneFacts.ImageRow(UNKNOWN, List.of(), built, 66_000, Optional.empty()),
                new PruneFacts.ImageRow(OLD, List.of(), built, 1_000, Optional.of(NOW.minus(Duration.ofDays(2))))),
                List.of(), List.of(), Set.of(UNKNOWN, OLD), EngineInfo.ImageStore.CONTAINERD);
        return PrunePolicy.plan(facts, NOW, Until.parse("24h"));
    }

    static PruneRun.Report report(PruneRun.Outcome outcome, List<PruneRun.PhaseResult> phases) {
        GateFacts host = new GateFacts("/var/lib/docker", EngineInfo.SwarmRole.NOT_IN_SWARM, List.of(), List.of(),
                EngineInfo.ImageStore.CONTAINERD);
        GatePolicy.Verdict verdict = GatePolicy.evaluate(GatePolicyTest.DEFAULTS, Reading.ok(host),
                Reading.ok(List.of(new Disk(Path.of("/var/lib/docker"), 90, 10))));
        return PruneRun.Report.of(verdict, System.nanoTime()).plan(plan()).phases(phases).imagesBefore(2)
                .diskUnchanged().end(outcome, 0);
    }

    static List<PruneRun.PhaseResult> engineRemoved(String... ids) {
        return List.of(new PruneRun.PhaseResult(Phase.CONTAINERS, List.of(), 0, Duration.ZERO),
                new PruneRun.PhaseResult(Phase.IMAGES, List.of(ids), 0, Duration.ZERO),
                new PruneRun.PhaseResult(Phase.BUILD_CACHE, List.of(), 0, Duration.ZERO));
    }

    @Test
    void theDryRunSaysUnsureAndListsItApart() throws Exception {
        PruneRun.Report dry = report(PruneRun.Outcome.DRY_RUN, List.of());
        String text = PruneFormat.text(dry);
        System.err.println("[dry run with an undecided image]\n" + text);
        assertTrue(text.contains("\n  unsure image       0c1d2e3f4a5b <none>:<none>"), text);
        assertTrue(text.contains("dangling; age on this store unknown: the engine decides"), text);
        assertTrue(text.contains("\n  remove image       9a8b7c6d5e4f"), text);
        assertTrue(text.contains("would remove 0 containers, 1 image, 0 build cache records (1.0 kB); "
                + "the engine decides on 1 more object (age on this store unknown)"), text);
        JsonNode json = new ObjectMapper().readTree(PruneFormat.json(dry));
        assertEquals(Set.of(OLD), PruneEngineTest.ids(json.path("wouldRemove")));
        assertEquals(Set.of(UNKNOWN), PruneEngineTest.ids(json.path("undecided")));
        assertEquals(Set.of(), PruneEngineTest.ids(json.path("kept")));
    }

    @Test
    void theRealRunReportsWhatTheEngineDidWithIt() throws Exception {
        String removed = PruneFormat.text(report(PruneRun.Outcome.PRUNED, engineRemoved(OLD, UNKNOWN)));
        System.err.println("[real run, the engine removed it]\n" + removed);
        assertTrue(removed.contains("removed image       0c1d2e3f4a5b <none>:<none>"), removed);
        assertTrue(removed.contains("removed by the engine (its age on this store was unknown to the plan)"), removed);

        PruneRun.Report keptReport = report(PruneRun.Outcome.PRUNED, engineRemoved(OLD));
        String kept = PruneFormat.text(keptReport);
        assertTrue(kept.contains("kept    image       0c1d2e3f4a5b <none>:<none>"), kept);
        assertTrue(kept.contains("kept by the engine (its age on this store was unknown to the plan)"), kept);
        JsonNode json = new ObjectMapper().readTree(PruneFormat.json(keptReport));
        assertEquals(Set.of(OLD), PruneEngineTest.ids(json.path("removed")));
        assertEquals("kept by the engine (its age on this store was unknown to the plan)",
                PruneEngineTest.reasonFor(json.path("kept"), UNKNOWN));
    }
}
