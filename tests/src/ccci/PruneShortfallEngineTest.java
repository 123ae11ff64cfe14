package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the conservative prune is not enough, on a real engine whose data root is a small
 * loop-mounted ext4 filled past the threshold by tagged images that nothing uses (what a CI host
 * collects, one app:SHA per run): the default prune removes none of them, warns and exits 17; a
 * dry run predicts it; a stack that has blocked pruning for longer than the limit (a state file
 * written here) warns and exits 18; a corrupt state file is ignored in one line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class PruneShortfallEngineTest {
    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final String STACK = "abcd-1a2b3c_ci_commoninternet_net_app";
    static SandboxEngine engine;
    static List<String> ballast = new ArrayList<>();
    static Set<String> taggedBefore;
    @TempDir Path dir;

    @BeforeAll
    static void fillTheDiskWithTaggedImagesNothingUses() throws Exception {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(160));
        engine.importBusybox("ccci-bb:short");
        engine.loadImage(ImageSpec.dangling(OLD, 2L << 20, 501)); // the conservative prune removes this one
        for (int i = 0; GatesStandaloneEngineTest.dfPercent(engine.dataRoot()) < 86; i++) {
            assertTrue(i < 30, "precondition: 30 images did not fill the disk");
            ballast.add(engine.loadImage(ImageSpec.tagged("ccci/app:" + String.format("%07x", i * 7919), OLD, 12L << 20)));
        }
        taggedBefore = tagged();
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    @AfterEach
    void noStackLeftBehind() {
        engine.docker("rm", "-f", STACK);
    }

    static Set<String> tagged() {
        return Set.copyOf(engine.dockerOk("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines()
                .filter(l -> !l.startsWith("<none>")).toList());
    }

    CommandResult prune(String... args) {
        List<String> all = new ArrayList<>(List.of("--host", engine.host(),
                "--lock-file", engine.workDir().resolve("prune.lock").toString()));
        if (Arrays.stream(args).noneMatch(a -> a.equals("--state-file"))) {
            all.addAll(List.of("--state-file", dir.resolve("state.json").toString()));
        }
        all.addAll(List.of(args));
        return ScriptRun.of("Prune", all.toArray(String[]::new));
    }

    void startTheStack() {
        engine.dockerOk("run", "-d", "--network", "none", "--name", STACK, "ccci-bb:short", "sleep", "3600");
    }

    Path stateFile(Instant gatesLastAllowed, Instant blockedSince) throws Exception {
        return Files.writeString(dir.resolve("state.json"), "{\"version\": 1, \"gatesLastAllowed\": \"" + gatesLastAllowed
                + "\", \"blockedSince\": " + (blockedSince == null ? "null" : "\"" + blockedSince + "\"")
                + ", \"lastRun\": null, \"lastOutcome\": \"noop\"}\n");
    }

    @Test
    @Order(1)
    void aDryRunPredictsItAsAnEstimateAndStillExits0() {
        CommandResult run = prune("--dry-run");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        String warn = run.out().lines().filter(l -> l.startsWith("WARN ")).findFirst().orElseThrow(() -> new AssertionError(run));
        assertTrue(warn.startsWith("WARN estimate: a real run would leave the disk at or above the threshold"), warn);
        assertTrue(warn.contains("% of " + engine.dataRoot() + " below 80%"), warn);
        assertTrue(run.out().contains("outcome=dry-run exit=0"), run.out());
        JsonNode json = prune("--dry-run", "--json").json();
        assertEquals("insufficient-predicted", json.path("shortfall").path("kind").asText(), json.toString());
        assertTrue(json.path("shortfall").path("estimate").asBoolean());
        assertTrue(json.path("shortfall").path("wouldFreeBytes").asLong() < json.path("shortfall").path("bytesToFree").asLong());
        assertEquals(taggedBefore, tagged(), "a dry run removes nothing");
        assertTrue(Files.notExists(dir.resolve("state.json")), "a dry run remembers nothing");
    }

    @Test
    @Order(2)
    void theDefaultPruneRemovesNothingTaggedWarnsAndExits17() throws Exception {
        Path metrics = dir.resolve("ci-docker-prune.prom");
        int before = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        CommandResult run = prune("--json", "--metrics-file", metrics.toString());
        assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        assertEquals(taggedBefore, tagged(), "nothing tagged is removed");
        int after = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        assertTrue(after >= 80, "precondition: still full: " + before + "% -> " + after + "%");

        JsonNode json = run.json();
        assertEquals("insufficient", json.path("outcome").asText());
        assertEquals(17, json.path("exitCode").asInt());
        assertTrue(json.path("ran").asBoolean(), "the phases ran");
        JsonNode shortfall = json.path("shortfall");
        assertEquals("insufficient", shortfall.path("kind").asText());
        assertEquals(after, shortfall.path("usedPercent").asInt(), "measured again after the phases, as df shows it");
        assertEquals(after, json.path("diskAfter").asInt());
        assertEquals(80, shortfall.path("threshold").asInt());
        assertEquals(engine.dataRoot().toString(), shortfall.path("path").asText());
        assertEquals(json.path("reclaimedBytes").asLong(), shortfall.path("reclaimedBytes").asLong());
        assertEquals(ballast.size() + 1, shortfall.path("kept").path("taggedUnused").path("images").asInt(),
                "the ballast and the idle busybox image: " + shortfall);
        assertTrue(json.path("warning").asText().startsWith("WARN not enough: the disk is still at " + after + "% of "
                + engine.dataRoot() + " (threshold 80%) after pruning, which reclaimed "), json.path("warning").asText());
        assertTrue(json.path("warning").asText().contains((ballast.size() + 1) + " tagged images nothing uses"), json.path("warning").asText());

        Map<String, Double> m = PruneMetricsTest.parseWithPromtool(metrics);
        assertEquals(1.0, m.get("ci_docker_prune_insufficient"));
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"insufficient\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_outcome{outcome=\"pruned\"}"));
        assertEquals(17.0, m.get("ci_docker_prune_exit_code"));
        assertTrue(m.get("ci_docker_prune_gates_last_allowed_timestamp_seconds") > Instant.now().minusSeconds(600).getEpochSecond(),
                "the gates allowed this run: " + m);
        assertEquals(null, m.get("ci_docker_prune_blocked_since_timestamp_seconds"), "not blocked");

        CommandResult text = prune();
        assertEquals(ExitCodes.INSUFFICIENT, text.exit(), text.toString());
        List<String> warns = text.out().lines().filter(l -> l.startsWith("WARN ")).toList();
        assertEquals(1, warns.size(), text.out());
        assertTrue(text.out().contains("summary outcome=insufficient exit=17 "), text.out());
        assertTrue(PruneState.load(dir.resolve("state.json")).state().lastOutcome().orElseThrow().equals("insufficient"));
    }

    @Test
    @Order(3)
    void aStackBlockingPastTheLimitWarnsAndExits18() throws Exception {
        startTheStack();
        Instant since = Instant.now().minus(Duration.ofHours(73)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant allowed = since.minus(Duration.ofDays(2));
        stateFile(allowed, since);
        Path metrics = dir.resolve("ci-docker-prune.prom");

        CommandResult run = prune("--metrics-file", metrics.toString());
        assertEquals(ExitCodes.BLOCKED_TOO_LONG, run.exit(), run.toString());
        assertTrue(run.out().startsWith(PruneFormat.NOOP_LINE + ": stack: live run-app stack abcd-1a2b3c_ci_commoninternet_net"), run.out());
        String warn = run.out().lines().filter(l -> l.startsWith("WARN ")).findFirst().orElseThrow(() -> new AssertionError(run));
        assertTrue(warn.startsWith("WARN pruning blocked for 3d 1h (since " + since + ", longer than --blocked-limit 72h)"), warn);
        assertTrue(warn.contains("(threshold 80%): blocked by the stack gate: live run-app stack abcd-1a2b3c_ci_commoninternet_net"), warn);
        assertTrue(warn.endsWith("the gates last allowed a run " + allowed), warn);
        assertTrue(run.out().contains("summary outcome=blocked-too-long exit=18 "), run.out());
        assertEquals(taggedBefore, tagged(), "nothing removed");
        assertEquals("", run.err());

        Map<String, Double> m = PruneMetricsTest.parseWithPromtool(metrics);
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"blocked-too-long\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_insufficient"));
        assertEquals((double) since.getEpochSecond(), m.get("ci_docker_prune_blocked_since_timestamp_seconds"));
        assertEquals((double) allowed.getEpochSecond(), m.get("ci_docker_prune_gates_last_allowed_timestamp_seconds"));

        JsonNode json = prune("--json").json();
        assertEquals("blocked-too-long", json.path("outcome").asText());
        assertEquals(List.of("stack"), List.of(json.path("shortfall").path("blockingGates").get(0).asText()));
        assertEquals(since.toString(), json.path("shortfall").path("blockedSince").asText());
        assertEquals(since.toString(), json.path("state").path("blockedSince").asText(), "the clock keeps its start");
    }

    @Test
    @Order(4)
    void withinTheLimitOrBelowTheThresholdABlockedGateIsTheQuietNoOp() throws Exception {
        startTheStack();
        Instant since = Instant.now().minus(Duration.ofHours(73));
        stateFile(since.minus(Duration.ofDays(90)), since);
        CommandResult longer = prune("--blocked-limit", "4d");
        assertEquals(ExitCodes.OK, longer.exit(), longer.toString());
        assertTrue(longer.out().contains("outcome=noop"), longer.out());

        CommandResult below = prune("--threshold", "99");
        assertEquals(ExitCodes.OK, below.exit(), below.toString());
        assertTrue(below.out().lines().noneMatch(l -> l.startsWith("WARN")), below.out());
        assertEquals("", below.err());
        assertTrue(PruneState.load(dir.resolve("state.json")).state().blockedSince().isEmpty(),
                "below the threshold nothing is blocked: the stretch ended");
    }

    @Test
    @Order(5)
    void theFirstRunEverStartsTheClockAndSaysSoInOneLine() {
        startTheStack();
        CommandResult run = prune();
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertEquals("prune: state: no state yet in " + dir.resolve("state.json") + ": the blocked clock starts now", run.err().strip());
        Instant since = PruneState.load(dir.resolve("state.json")).state().blockedSince().orElseThrow();
        assertTrue(Duration.between(since, Instant.now()).abs().toMinutes() < 5, since.toString());
    }

    @Test
    @Order(6)
    void aCorruptStateFileIsIgnoredInOneLineAndReplaced() throws Exception {
        startTheStack();
        Path state = Files.writeString(dir.resolve("state.json"), "{\"version\": 1, \"blockedSince\": \"last tuesday\"}");
        CommandResult run = prune("--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertEquals("noop", run.json().path("outcome").asText());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("prune: state: " + state + " is corrupt (blockedSince is not a time: last tuesday): ignored"), run.err());
        assertTrue(PruneState.load(state) instanceof PruneState.Loaded.Found, "replaced by a good one");

        Path nowhere = dir.resolve("no/such/dir/state.json");
        CommandResult unwritable = prune("--state-file", nowhere.toString());
        assertEquals(ExitCodes.OK, unwritable.exit(), "never breaks the run: " + unwritable);
        assertEquals("prune: state: " + nowhere + " cannot be written: its directory " + nowhere.getParent()
                + " does not exist; not remembered: the blocked clock cannot run", unwritable.err().strip());
    }
}
