package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The policy's request and its prediction, against a real engine, for a dangling image in the band
 * between an hour and a week (three days old): --until 7d keeps it, in the dry run and in the real
 * run alike, and --until 24h then removes it, again exactly as its dry run said. Images older and
 * younger than the band, and a tagged one, show that each run removes no more and no less.
 */
@OnEveryEngine
class PrunePolicyEngineTest {

    @Test
    void aThreeDayOldDanglingImageIsPredictedAndRemovedAlikeUnder7dAnd24h() {
        Instant now = Instant.now();
        try (SandboxEngine engine = SandboxEngine.start(SandboxEngine.options().swarm(false))) {
            List<ImageSpec> specs = List.of(
                    ImageSpec.dangling(now.minus(Duration.ofMinutes(30)), 1L << 16, 401),
                    ImageSpec.dangling(now.minus(Duration.ofDays(3)), 1L << 16, 402),
                    ImageSpec.dangling(now.minus(Duration.ofDays(10)), 1L << 16, 403),
                    ImageSpec.tagged("ccci/band-tagged:1", now.minus(Duration.ofDays(3)), 1L << 16));
            List<String> ids = specs.stream().map(engine::loadImage).toList();
            engine.backdateImageRecords(specs);
            String young = ids.get(0);
            String band = ids.get(1);
            String old = ids.get(2);
            String tagged = ids.get(3);

            JsonNode week = dryRunThenRun(engine, "7d", Set.of(old));
            PruneEngineTest.assertReason(engine, "dangling, younger than 7d", PruneEngineTest.reasonFor(week.path("kept"), band));
            assertTrue(PruneScenario.imageIds(engine).containsAll(Set.of(young, band, tagged)));
            assertFalse(PruneScenario.imageIds(engine).contains(old));

            JsonNode day = dryRunThenRun(engine, "24h", Set.of(band));
            PruneEngineTest.assertReason(engine, "dangling and older than 24h", PruneEngineTest.reasonFor(day.path("removed"), band));
            assertEquals(Set.of(young, tagged), PruneScenario.imageIds(engine));

            // in text, a real run says what it is about to do before the first phase
            ImageSpec anotherSpec = ImageSpec.dangling(now.minus(Duration.ofDays(3)), 1L << 16, 404);
            String another = engine.loadImage(anotherSpec);
            engine.backdateImageRecords(List.of(anotherSpec));
            CommandResult text = ScriptRun.of("Prune", "--host", engine.host(), "--threshold", "1",
                    "--lock-file", engine.workDir().resolve("prune.lock").toString());
            // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
            assertEquals(ExitCodes.INSUFFICIENT, text.exit(), text.toString());
            List<String> lines = text.out().lines().toList();
            assertTrue(lines.get(0).matches("gates hold: .*; will remove 0 containers, 1 image, 0 build cache records "
                    + "\\(\\d+\\.\\d kB\\)"), text.toString());
            assertTrue(lines.get(1).startsWith("containers   removed 0, "), text.toString());
            assertTrue(lines.get(2).startsWith("images       removed 1, "), text.toString());
            String summary = lines.get(lines.size() - 1);
            assertTrue(summary.startsWith("summary outcome=insufficient exit=17 ") && summary.contains(" reason=\"disk still "), summary);
            assertTrue(lines.get(lines.size() - 2).startsWith("WARN not enough: "), text.toString());
            assertFalse(PruneScenario.imageIds(engine).contains(another));
        }
    }

    /**
     * The case: images built days ago that arrived (or became dangling) a moment ago. The
     * classic store ages them by their build time and removes them under 24h; the containerd store by
     * its own record and keeps them. Either way the dry run says what the real run then does.
     */
    @Test
    void anImageBuiltLongAgoThatArrivedJustNowIsAgedAsItsStoreAgesIt() {
        Instant now = Instant.now();
        try (SandboxEngine engine = SandboxEngine.start(SandboxEngine.options().swarm(false))) {
            String loaded = engine.loadImage(ImageSpec.dangling(now.minus(Duration.ofDays(3)), 1L << 16, 501));
            engine.loadImage(ImageSpec.tagged("ccci/retagged:1", now.minus(Duration.ofDays(4)), 1L << 16));
            // the tag moves to another image: the old one becomes dangling now
            String retagged = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", "ccci/retagged:1");
            engine.loadImage(ImageSpec.tagged("ccci/retagged:1", now.minus(Duration.ofDays(2)), 1L << 17));
            boolean containerd = engine.kind().containerdImageStore();

            JsonNode day = dryRunThenRun(engine, "24h", containerd ? Set.of() : Set.of(loaded, retagged));
            if (containerd) {
                String reason = PruneEngineTest.reasonFor(day.path("kept"), retagged);
                assertTrue(reason.startsWith("dangling, younger than 24h (by its local record, "), reason);
            }
            assertEquals(containerd, PruneScenario.imageIds(engine).containsAll(Set.of(loaded, retagged)));
        }
    }

    /** A dry run, then the real run with the same options: both must name exactly {@code expected}. */
    static JsonNode dryRunThenRun(SandboxEngine engine, String until, Set<String> expected) {
        String[] args = {"--host", engine.host(), "--threshold", "1", "--until", until,
            "--lock-file", engine.workDir().resolve("prune.lock").toString(), "--json"};
        CommandResult dryRun = ScriptRun.of("Prune", PruneSeedEquivalenceTest.concat(args, "--dry-run"));
        assertEquals(ExitCodes.OK, dryRun.exit(), dryRun.toString());
        assertEquals(expected, PruneEngineTest.ids(dryRun.json().path("wouldRemove")), "--until " + until + " dry run\n" + dryRun.out());
        CommandResult run = ScriptRun.of("Prune", args);
        // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
        assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        assertEquals(expected, PruneEngineTest.ids(run.json().path("removed")), "--until " + until + " real run\n" + run.out());
        return run.json();
    }
}
