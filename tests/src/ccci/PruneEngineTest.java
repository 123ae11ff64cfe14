package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * prune on a really full disk: a swarm engine whose data root is a small loop-mounted ext4, filled
 * past 80% with images. First every gate blocks in turn (nothing may go), then a dry run, then the
 * real run, which must remove exactly what the dry run listed: the old dangling images, nothing else.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class PruneEngineTest {
    static SandboxEngine engine;
    static PruneScenario scenario;
    static Set<String> before;
    static Set<String> dryRunWouldRemove;

    @BeforeAll
    static void fillTheDisk() throws Exception {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true).dataRootOnLoopFs(256));
        // the containerd store keeps each layer's blob beside its unpacked snapshot: twice the bytes
        int danglingMb = engine.kind().containerdImageStore() ? 11 : 22;
        scenario = PruneScenario.build(engine, Instant.now(), danglingMb, true);
        int used = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        assertTrue(used >= 80, "precondition: the data root must be at least 80% full, is " + used + "%");
        before = PruneScenario.imageIds(engine);
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    CommandResult prune(String... args) {
        List<String> all = new ArrayList<>(List.of("--host", engine.host(),
                "--lock-file", engine.workDir().resolve("prune.lock").toString()));
        // the sandbox's containerd root (in the data root's file system), not the host's /var/lib/containerd
        engine.containerdRoot().ifPresent(root -> all.addAll(List.of("--containerd-root", root.toString())));
        all.addAll(List.of(args));
        return ScriptRun.of("Prune", all.toArray(String[]::new));
    }

    void assertNoOpAndNothingRemoved(CommandResult run, String expectedReason) {
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertTrue(run.out().startsWith(PruneFormat.NOOP_LINE + ": "), run.toString());
        assertTrue(run.out().contains(expectedReason), run.toString());
        assertTrue(run.out().contains("outcome=noop"), run.toString());
        String summary = run.out().lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow();
        assertTrue(summary.matches(".* reason=\".*" + java.util.regex.Pattern.quote(expectedReason) + ".*\""),
                "the summary says why it did nothing: " + summary);
        assertEquals(before, PruneScenario.imageIds(engine), "nothing may be removed");
    }

    @Test
    @Order(1)
    void diskBelowTheThresholdKeepsEverything() {
        assertNoOpAndNothingRemoved(prune("--threshold", "99"), "disk: ");
    }

    @Test
    @Order(2)
    void aLiveRunAppStackKeepsEverything() {
        engine.dockerOk("service", "create", "--detach", "--name", "cd34-abcdef_ci_commoninternet_net_app",
                scenario.busybox(), "sleep", "3600");
        try {
            engine.awaitServiceContainer("cd34-abcdef_ci_commoninternet_net_app");
            assertNoOpAndNothingRemoved(prune(), "stack: live run-app stack cd34-abcdef_ci_commoninternet_net");
        } finally {
            engine.removeService("cd34-abcdef_ci_commoninternet_net_app");
        }
    }

    @Test
    @Order(3)
    void aConvergingServiceKeepsEverything() {
        engine.dockerOk("service", "create", "--detach", "--name", "ccci-unplaceable",
                "--constraint", "node.labels.nowhere==1", scenario.busybox(), "sleep", "3600");
        try {
            assertNoOpAndNothingRemoved(prune(), "convergence: 1 service converging: ccci-unplaceable 0/1");
        } finally {
            engine.dockerOk("service", "rm", "ccci-unplaceable");
            GatesEngineTest.waitUntil(() -> engine.dockerOk("ps", "--format", "{{.Names}}").lines()
                    .allMatch(n -> n.startsWith(PruneScenario.SERVICE + ".")), "only the keeper service left");
        }
    }

    @Test
    @Order(4)
    void dryRunListsTheOldDanglingImagesAndRemovesNothing() {
        CommandResult run = prune("--dry-run", "--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode json = run.json();
        assertTrue(json.path("dryRun").asBoolean());
        assertFalse(json.path("ran").asBoolean());
        dryRunWouldRemove = ids(json.path("wouldRemove"));
        assertEquals(new TreeSet<>(scenario.oldDangling()), dryRunWouldRemove, run.out());
        assertEquals(before, PruneScenario.imageIds(engine), "a dry run removes nothing");
        JsonNode kept = json.path("kept");
        assertEquals("in use by container ccci-holds-dangling", reasonFor(kept, scenario.usedDangling()));
        assertEquals("tagged", reasonFor(kept, scenario.oldTagged()));
        assertReason(engine, "dangling, younger than 24h", reasonFor(kept, scenario.youngDangling()));
        assertEquals("volume: never pruned", reasonFor(kept, PruneScenario.VOLUME));

        String text = prune("--dry-run").out();
        assertTrue(text.contains("dry run: nothing removed"), text);
        for (String id : scenario.oldDangling()) {
            assertTrue(text.contains("remove image       " + id.substring(7, 19)), text);
        }
    }

    @Test
    @Order(5)
    void theRealRunRemovesExactlyWhatTheDryRunListedAndReportsTrueFigures() throws Exception {
        int diskBefore = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        long listedBytes = 0;
        for (String id : scenario.oldDangling()) {
            listedBytes += Long.parseLong(engine.dockerOk("image", "inspect", "-f", "{{.Size}}", id));
        }

        CommandResult run = prune("--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode json = run.json();
        assertTrue(json.path("ran").asBoolean(), run.out());

        Set<String> gone = new TreeSet<>(before);
        gone.removeAll(PruneScenario.imageIds(engine));
        assertEquals(dryRunWouldRemove, gone, "the real run removes what the dry run listed");
        assertEquals(dryRunWouldRemove, ids(json.path("removed")), "and reports it");

        // everything else is still there
        for (String name : PruneScenario.CONTAINERS) {
            assertEquals(name, engine.dockerOk("ps", "-a", "--filter", "name=^" + name + "$", "--format", "{{.Names}}"));
        }
        assertEquals("1/1", engine.dockerOk("service", "ls", "--filter", "name=" + PruneScenario.SERVICE, "--format", "{{.Replicas}}"));
        assertEquals(PruneScenario.VOLUME_PROOF, scenario.volumeProof(engine));

        // the report agrees with df and the engine
        int diskAfter = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        assertTrue(diskAfter < diskBefore, "disk use dropped: " + diskBefore + "% -> " + diskAfter + "%");
        assertEquals(diskBefore, json.path("diskBefore").asInt());
        assertEquals(diskAfter, json.path("diskAfter").asInt());
        int imagesNow = engine.dockerOk("images", "-q").lines().toList().size();
        assertEquals(imagesNow, json.path("imagesAfter").asInt());
        assertEquals(imagesNow + 3, json.path("imagesBefore").asInt());
        assertEquals(listedBytes, json.path("reclaimedBytes").asLong(), "SpaceReclaimed = the removed images' sizes");
        JsonNode phases = json.path("phases");
        assertEquals(3, phases.size());
        assertEquals("containers", phases.get(0).path("name").asText());
        assertEquals("images", phases.get(1).path("name").asText());
        assertEquals(3, phases.get(1).path("removed").asInt());
        assertEquals("build-cache", phases.get(2).path("name").asText());
    }

    @Test
    @Order(6)
    void theSummaryLineIsOneJournaldFriendlyLine() {
        CommandResult run = prune("--threshold", "99");
        String summary = run.out().lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow();
        assertTrue(summary.matches("summary( [a-z_]+=(\"[^\"]*\"|[^\\s\"]+))+"), summary);
    }

    static Set<String> ids(JsonNode items) {
        Set<String> ids = new TreeSet<>();
        items.forEach(i -> ids.add(i.path("id").asText()));
        return ids;
    }

    /** An image's age reason: on the containerd store it also names the record it was aged by. */
    static void assertReason(SandboxEngine engine, String expected, String actual) {
        if (engine.kind().containerdImageStore()) {
            assertTrue(actual.startsWith(expected + " (by its local record, "), actual);
        } else {
            assertEquals(expected, actual);
        }
    }

    static String reasonFor(JsonNode items, String id) {
        Set<String> seen = new HashSet<>();
        for (JsonNode i : items) {
            seen.add(i.path("id").asText());
            if (i.path("id").asText().equals(id)) {
                return i.path("reason").asText();
            }
        }
        throw new AssertionError(id + " not among " + seen);
    }
}
