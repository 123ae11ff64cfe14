package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Opt-in eviction on a real engine whose data root is a small loop-mounted ext4, with `watch`
 * running as its own process: the last use of each image comes from containers really run at
 * known times. Ballast of tagged images nothing uses sits over the threshold; `prune --evict-to`
 * removes them least recently used first until the disk is below the low watermark, keeping what
 * a container (stopped), a service, a keep pattern or the minimum age protects; the dry run lists
 * what the real run removes; watch killed with -9 and restarted loses nothing it had written.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class EvictionEngineTest {
    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final long IMAGE_BYTES = 12L << 20;
    static final String MIN_AGE = "25s";
    /** The order the test uses the app images in: so, least recently used first, the eviction order. */
    static final List<String> USED_IN_ORDER = List.of("ccci/app:3", "ccci/app:1", "ccci/app:4", "ccci/app:2");
    static SandboxEngine engine;
    static Path record;
    static Process watch;
    static Path watchLog;
    static final Map<String, String> ids = new LinkedHashMap<>();
    static int threshold;
    static int evictTo;
    static List<String> dryRunOrder;
    static List<String> dryRunEvicts;

    @BeforeAll
    static void ballastOverTheThresholdWithWatchRecording() throws Exception {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true).dataRootOnLoopFs(384));
        record = engine.workDir().resolve("state/last-use.json");
        Files.createDirectories(record.getParent());
        watchLog = engine.workDir().resolve("watch.log");
        watch = startWatch();

        engine.importBusybox("ccci-bb:evict");
        for (String ref : List.of("ccci/app:1", "ccci/app:2", "ccci/app:3", "ccci/app:4", "ccci/keep:1", "ccci/stopped:1", "ccci/young:1")) {
            ids.put(ref, engine.loadImage(ImageSpec.tagged(ref, OLD, IMAGE_BYTES)));
        }
        engine.dockerOk("service", "create", "--detach", "--name", "keeper", "ccci-bb:evict", "sleep", "3600");
        GatesEngineTest.waitUntil(() -> engine.dockerOk("service", "ls", "--filter", "name=keeper",
                "--format", "{{.Replicas}}").equals("1/1"), "keeper running");
        engine.dockerOk("create", "--network", "none", "--name", "holds-stopped", "ccci/stopped:1", "true");
        // the images of crafted archives hold no program: a container of each is created and
        // removed, which is a use to the engine's events (create) as much as a run
        for (String ref : USED_IN_ORDER) {
            engine.dockerOk("rm", engine.dockerOk("create", "--network", "none", ref, "true"));
            Thread.sleep(1200);
        }
        Instant lastAppUse = Instant.now();
        GatesEngineTest.waitUntil(() -> recorded().size() >= 4 && recordedOrder().equals(USED_IN_ORDER),
                "watch records the uses in order: " + recordedOrder());
        // everything used so far must be older than --min-age before prune looks
        long wait = java.time.Duration.parse("PT" + MIN_AGE.toUpperCase()).toMillis()
                - java.time.Duration.between(lastAppUse, Instant.now()).toMillis() + 1000;
        Thread.sleep(Math.max(0, wait));
        engine.dockerOk("rm", engine.dockerOk("create", "--network", "none", "ccci/young:1", "true"));
        // young:1 already has a record from its load: wait for this use, not for any record
        GatesEngineTest.waitUntil(() -> recorded().getOrDefault(ids.get("ccci/young:1"), Instant.EPOCH).isAfter(lastAppUse),
                "watch records young:1's use");

        // the thresholds from the disk as it is: at the threshold, and a low watermark one and a
        // half images below it, so that two of the four app images must go
        var disk = Disk.measure(engine.dataRoot());
        threshold = disk.usedPercent();
        long unique = uniqueBytes("ccci/app:3");
        evictTo = new Disk(disk.path(), disk.usedBytes() - unique * 3 / 2, disk.availableBytes() + unique * 3 / 2).usedPercent() + 1;
        assertTrue(evictTo < threshold && evictTo > 1, "thresholds " + threshold + "/" + evictTo + " on " + disk);
    }

    @AfterAll
    static void stop() {
        if (watch != null) {
            watch.destroyForcibly();
        }
        if (engine != null) {
            engine.close();
        }
    }

    static Process startWatch() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xmx32m", "-cp", System.getProperty("java.class.path"), "Watch",
                "--host", engine.host(), "--last-use", record.toString(), "--flush-interval", "1")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(watchLog.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    /** image ID -> last use, as the record file holds it now. */
    static Map<String, Instant> recorded() {
        Map<String, Instant> images = new LinkedHashMap<>();
        LastUse.Loaded loaded = LastUse.load(record);
        for (String id : ids.values()) {
            loaded.record().ofImage(id).ifPresent(t -> images.put(id, t));
        }
        return images;
    }

    /** The app images, ordered by their recorded last use. */
    static List<String> recordedOrder() {
        Map<String, Instant> images = recorded();
        return USED_IN_ORDER.stream().filter(r -> images.containsKey(ids.get(r)))
                .sorted(java.util.Comparator.comparing(r -> images.get(ids.get(r)))).toList();
    }

    static long uniqueBytes(String ref) {
        JsonNode json = ScriptRun.of("Cache", "--host", engine.host(), "--last-use", record.toString(), "--json").json();
        for (JsonNode image : json.path("images")) {
            if (image.path("id").asText().equals(ids.get(ref))) {
                return image.path("uniqueSize").asLong();
            }
        }
        throw new AssertionError(ref + " not in " + json);
    }

    static CommandResult prune(String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host(), "--lock-file", engine.workDir().resolve("prune.lock").toString(),
                "--path", engine.dataRoot().toString(), "--threshold", String.valueOf(threshold), "--evict-to", String.valueOf(evictTo),
                "--keep", "^ccci/keep:", "--min-age", MIN_AGE, "--last-use", record.toString(),
                "--state-file", engine.workDir().resolve("state.json").toString()));
        args.addAll(List.of(more));
        return ScriptRun.of("Prune", args.toArray(String[]::new));
    }

    static List<String> names(JsonNode decisions) {
        List<String> names = new ArrayList<>();
        decisions.forEach(d -> names.add(d.path("name").asText()));
        return names;
    }

    @Test
    @Order(1)
    void theDryRunListsTheLeastRecentlyUsedFirstAndKeepsWhatIsProtected() {
        CommandResult run = prune("--dry-run", "--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode eviction = run.json().path("eviction");
        assertTrue(eviction.path("predicted").asBoolean(), run.out());
        dryRunOrder = names(eviction.path("order"));
        dryRunEvicts = names(eviction.path("wouldEvict"));
        assertEquals(USED_IN_ORDER, dryRunOrder, "every unprotected image, least recently used first:\n" + run.out());
        assertEquals(USED_IN_ORDER.subList(0, 2), dryRunEvicts, "a low watermark 1.5 images down needs two:\n" + run.out());
        eviction.path("order").forEach(d -> assertEquals("record", d.path("lastUseSource").asText(), d.toString()));

        Map<String, String> kept = new LinkedHashMap<>();
        eviction.path("kept").forEach(d -> kept.put(d.path("name").asText(), d.path("reason").asText()));
        assertEquals("keep pattern: ccci/keep:1 matches --keep ^ccci/keep:", kept.get("ccci/keep:1"));
        assertEquals("in use by container holds-stopped (created)", kept.get("ccci/stopped:1"));
        assertTrue(kept.get("ccci/young:1").startsWith("used ") && kept.get("ccci/young:1").endsWith("(record), within --min-age " + MIN_AGE),
                kept.toString());
        assertTrue(kept.get("ccci-bb:evict").startsWith("in use by ") && kept.get("ccci-bb:evict").contains("service keeper"), kept.toString());
        assertEquals(8, ids.size() + 1, "every image is in the order or kept");
        assertEquals(8, eviction.path("order").size() + eviction.path("kept").size(), run.out());

        String text = prune("--dry-run").out();
        System.err.println("[dry run text]\n" + text);
        assertTrue(text.contains("eviction to below " + evictTo + "%"), text);
        assertEquals(2, text.lines().filter(l -> l.startsWith("  evict ")).count(), text);
    }

    @Test
    @Order(2)
    void watchKilledWithSigkillAndRestartedLosesNothingItHadWritten() throws Exception {
        Map<String, Instant> before = recorded();
        assertEquals(ids.size(), before.size(), "every loaded image has a record (load, tag, create): " + before);
        watch.destroyForcibly().waitFor();
        assertEquals(before, recorded(), "the file after kill -9 is complete and the same");
        watch = startWatch();
        GatesEngineTest.waitUntil(() -> {
            try {
                return Files.readString(watchLog).lines().filter(l -> l.startsWith("watch: following")).count() == 2;
            } catch (IOException e) {
                return false;
            }
        }, "the second watch follows the events");
        Thread.sleep(2500); // its first flush (catch-up) has merged with what was there
        Map<String, Instant> after = recorded();
        before.forEach((id, t) -> assertTrue(after.containsKey(id) && !after.get(id).isBefore(t), id + ": " + t + " -> " + after.get(id)));
    }

    @Test
    @Order(3)
    void theRealRunEvictsExactlyWhatTheDryRunListedUntilBelowTheWatermark() throws Exception {
        CommandResult run = prune("--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode json = run.json();
        // the measurement that decides comes after eviction: below the threshold now, so pruned, not insufficient
        assertEquals("pruned", json.path("outcome").asText(), run.out());
        assertTrue(json.path("shortfall").isNull(), run.out());
        assertTrue(json.path("warning").isNull(), run.out());
        JsonNode eviction = json.path("eviction");
        assertFalse(eviction.path("predicted").asBoolean());
        List<String> removed = new ArrayList<>();
        eviction.path("removals").forEach(r -> {
            assertTrue(r.path("removed").asBoolean(), r.toString());
            removed.add(r.path("name").asText());
        });
        assertEquals(dryRunEvicts, removed, "the real run removes what the dry run listed, in its order:\n" + run.out());
        int now = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        assertTrue(now < evictTo, "the disk is below the low watermark: " + now + "% < " + evictTo + "%");
        assertEquals(now, eviction.path("diskAfter").asInt());
        assertTrue(eviction.path("reachedWatermark").asBoolean());

        for (String ref : List.of("ccci/app:4", "ccci/app:2", "ccci/keep:1", "ccci/stopped:1", "ccci/young:1", "ccci-bb:evict")) {
            assertTrue(engine.docker("image", "inspect", ref).ok(), ref + " is kept");
        }
        for (String ref : dryRunEvicts) {
            assertFalse(engine.docker("image", "inspect", ref).ok(), ref + " is gone");
        }
        assertEquals("1/1", engine.dockerOk("service", "ls", "--filter", "name=keeper", "--format", "{{.Replicas}}"));
    }

    @Test
    @Order(4)
    void anImageThatGetsAUserBeforeItsRemovalIsKeptAndTheRunGoesOn() {
        // the disk back over the threshold: the remaining two app images are now the candidates
        String first = USED_IN_ORDER.get(2);
        String second = USED_IN_ORDER.get(3);
        PruneRun.Listener aUserAppears = new PruneRun.Listener() {
            @Override
            public void beforeRemoval(EvictionPolicy.Decision next) {
                if (next.image().tags().contains(first)) {
                    engine.dockerOk("create", "--network", "none", "--name", "late-user", first, "true");
                }
            }
        };
        var settings = EvictionPolicy.Settings.parse("1", List.of("^ccci/keep:"), "1s", Optional.of(100));
        PruneRun.Report report;
        try (Engine docker = Engine.connect(engine.host())) {
            var run = new PruneRun.Settings(GatePolicy.Settings.parse("1", GatePolicy.Settings.DEFAULT_STACK_PATTERN,
                    engine.dataRoot().toString()), Until.parse("24h"), Optional.of(settings), Optional.of(record),
                    PruneShortfall.Settings.withoutState());
            report = PruneRun.run(() -> docker, run, false, aUserAppears, Clock.systemUTC());
        }
        System.err.println("[real run text]\n" + PruneFormat.text(report));
        EvictionRun.Result result = report.eviction().orElseThrow(() -> new AssertionError(PruneFormat.text(report)));
        Map<String, EvictionRun.Removal> byName = new LinkedHashMap<>();
        result.removals().forEach(r -> byName.put(r.decision().image().name(), r));
        assertFalse(byName.get(first).removed(), PruneFormat.text(report));
        assertTrue(byName.get(first).detail().startsWith("kept: a user appeared (the engine: "), byName.get(first).detail());
        assertTrue(byName.get(second).removed(), "the run goes on: " + PruneFormat.text(report));
        assertTrue(engine.docker("image", "inspect", first).ok(), first + " kept for its new user");
        assertFalse(engine.docker("image", "inspect", second).ok(), second + " evicted");
        assertTrue(engine.docker("image", "inspect", "ccci/keep:1").ok(), "a keep match stays");
        assertTrue(engine.docker("image", "inspect", "ccci/stopped:1").ok(), "a stopped container's image stays");
        // a watermark of 1% cannot be reached: after eviction the disk is still over the threshold of 1%
        assertEquals(PruneRun.Outcome.INSUFFICIENT, report.outcome(), PruneFormat.text(report));
        assertEquals(Cli.ExitCodes.INSUFFICIENT, report.exitCode());
    }

    @Test
    @Order(5)
    void whenEvictionCannotBringTheDiskBelowTheThresholdTheRunIsInsufficient() throws Exception {
        // at the threshold, and nothing eviction may remove: every image was used or created within --min-age
        int now = GatesStandaloneEngineTest.dfPercent(engine.dataRoot());
        assertTrue(now > 1, "disk " + now + "%");
        CommandResult run = ScriptRun.of("Prune", "--host", engine.host(),
                "--lock-file", engine.workDir().resolve("prune.lock").toString(), "--path", engine.dataRoot().toString(),
                "--threshold", String.valueOf(now), "--evict-to", String.valueOf(now - 1), "--min-age", "3650d",
                "--last-use", record.toString(), "--state-file", engine.workDir().resolve("state.json").toString());
        System.err.println("[insufficient after eviction]\n" + run.out());
        assertEquals(Cli.ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        assertTrue(run.out().contains("eviction to below " + (now - 1) + "%: removed 0 images;"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("WARN not enough: the disk is still at ")), run.out());
        assertTrue(run.out().contains("outcome=insufficient exit=17"), run.out());
        assertTrue(run.out().contains("after the phases and eviction"), run.out());
        assertTrue(engine.docker("image", "inspect", "ccci/app:4").ok(), "nothing was evicted");
    }
}
