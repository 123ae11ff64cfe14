package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The plan where no engine here can show it: on the containerd store an untagged image without a
 * record time (LastTagTime) is of unknown age there, and kept; the dry run and the real run say so.
 * Everything else about the plan: ccci.scenario.PrunePlanTest, on the fake host.
 */
class PrunePolicyTest {
    static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    static final Instant BUILT = Instant.parse("2019-01-01T00:00:00Z");

    static HostSnapshot.Image untagged(String hex, long size, Optional<Instant> recorded) {
        return new HostSnapshot.Image("sha256:" + hex.repeat(64 / hex.length()), Optional.empty(), List.of(), List.of(), BUILT, size, 0,
                Map.of(), true, List.of("layer-" + hex), recorded);
    }

    @Test
    void anUntaggedImageWithoutARecordTimeOnTheContainerdStoreIsKeptAsOfUnknownAge() {
        HostSnapshot.Image unknown = untagged("0c1d", 65_000, Optional.empty());
        HostSnapshot.Image old = untagged("9a8b", 1_000, Optional.of(NOW.minus(Duration.ofDays(2))));
        HostSnapshot host = new HostSnapshot(NOW, new EngineInfo("/var/lib/docker", EngineInfo.ImageStore.CONTAINERD,
                EngineInfo.SwarmRole.NOT_IN_SWARM, "inactive"), List.of(), List.of(), List.of(),
                Optional.of(new HostSnapshot.Store(List.of(unknown, old), List.of(), List.of(), 66_000)));
        PrunePolicy.Plan plan = PrunePolicy.plan(PrunePolicy.Inputs.of(host), NOW, Until.parse("24h"));
        PrunePolicy.Item kept = plan.images().get(0);
        assertFalse(kept.remove());
        assertEquals(PrunePolicy.Why.UNKNOWN_AGE, kept.why());
        assertEquals("dangling; its age on this store is unknown (no record time): kept", kept.reason());
        assertTrue(plan.images().get(1).remove(), plan.images().get(1).toString());
        assertEquals("dangling and older than 24h (by its local record, 2026-12-05T12:00:00Z)", plan.images().get(1).reason());
        assertEquals(1, PruneShortfall.kept(plan, Until.parse("24h"), java.util.Set.of()).youngDangling().images(),
                "counted with the young ones");

        GatePolicy.Verdict verdict = GatePolicy.evaluate(GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null),
                Reading.ok(host), Reading.ok(List.of(new Disk(Path.of("/var/lib/docker"), 90, 10))));
        String text = PruneFormat.text(PruneRun.Report.of(verdict, System.nanoTime()).plan(plan).imagesBefore(2).diskUnchanged()
                .end(PruneRun.Outcome.DRY_RUN, 0), true);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("  keep   image       0c1d0c1d0c1d <none>:<none>") && l.endsWith(kept.reason())),
                text);
    }
}
