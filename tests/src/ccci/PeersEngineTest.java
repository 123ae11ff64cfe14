package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.Await;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 20's "what peers have" on a real engine of each store, one engine for the class (a 256 MB
 * loop-mounted data root, no swarm): what only a real engine shows, each setting once; the rest is
 * on the fake host (ccci.scenario: MaxUnusedAgeTest, EvictMaxTest, MinFreeTest,
 * BuildCacheBudgetTest, PruneReasonsTest; LastUseGapTest).
 * <ol>
 * <li>--build-cache-max: the engine's build-cache prune takes the budget in the parameter its API
 *     version takes (both names where it takes both), and removes what the dry run predicts (the
 *     fake's model): the least recently used records until the cache is below the budget;</li>
 * <li>--max-unused-age with --evict-max: below the threshold, an old unused image goes (one, the
 *     other left for the next run, as the dry run said), no phase runs, what is in use stays;</li>
 * <li>--min-free: the real disk's free bytes open the gate, and eviction goes on until they are free;</li>
 * <li>a gap in the last-use record: the watch command (its own JVM) across an engine restart, which
 *     keeps none of its events: the gap from its last heartbeat to its reconnect, and the images
 *     present then count as used then.</li>
 * </ol>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class PeersEngineTest {
    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final long MB = 1_000_000;
    static SandboxEngine engine;

    @BeforeAll
    static void oneEngine() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(256));
        engine.importBusybox("ccci/busybox:1");
        engine.loadImages(List.of(ImageSpec.tagged("ccci/age:1", OLD, 3 * MB), ImageSpec.tagged("ccci/age:2", OLD.plusSeconds(60), 3 * MB),
                ImageSpec.tagged("ccci/age:3", OLD, 3 * MB), ImageSpec.tagged("ccci/space:1", OLD, 8 * MB),
                ImageSpec.dangling(OLD, 500_000, 7)));
        engine.dockerOk("create", "--network", "none", "--name", "age3-user", "ccci/age:3", "true");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    /** The engine through the seam, with the name of every method called (to show which requests a run made). */
    static final class Recorded {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final EngineApi api;

        Recorded(EngineApi real) {
            api = (EngineApi) Proxy.newProxyInstance(EngineApi.class.getClassLoader(), new Class<?>[] {EngineApi.class}, (p, m, args) -> {
                calls.add(m.getName() + (args != null && args.length > 0 && args[0] instanceof EngineApi.PruneCall c ? " " + c.pathAndQuery()
                        : args != null && args.length > 0 && args[0] instanceof String s ? " " + s : ""));
                try {
                    return m.invoke(real, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
        }
    }

    static PruneRun.Report prune(EngineApi api, PruneRun.Settings settings, boolean dryRun) {
        return PruneRun.run(() -> api, Disks.REAL, settings, dryRun, new PruneRun.Listener() {}, Clock.systemUTC());
    }

    static GatePolicy.Settings gates(int threshold, long minFree) {
        return new GatePolicy.Settings(threshold, Pattern.compile(GatePolicy.Settings.DEFAULT_STACK_PATTERN), List.of(engine.dataRoot()),
                Optional.empty(), Optional.empty(), minFree);
    }

    /** Protects every image but those whose tag starts with this, so that each test evicts only its own. */
    static InUse.Settings onlyEvictable(String prefix) {
        return InUse.Settings.parse(List.of("^(?!" + Pattern.quote(prefix) + ")"), List.of());
    }

    static Set<String> tags() {
        return new TreeSet<>(engine.dockerOk("images", "--format", "{{.Repository}}:{{.Tag}}").lines().toList());
    }

    // ---------------------------------------------------------------- --build-cache-max

    /** Three BuildKit builds a second apart, each image removed after (its cache stays, shared with no image). */
    static void buildCache(String tag) throws Exception {
        for (int i = 1; i <= 3; i++) {
            String ref = "ccci/" + tag + ":" + i;
            engine.buildWithBuildKit("FROM ccci/busybox:1\nRUN head -c " + i + "000000 /dev/urandom > /blob-" + tag + "-" + i + "\n", ref);
            engine.dockerOk("rmi", ref);
            Thread.sleep(1100);
        }
    }

    @Test
    @Order(1)
    void theBuildCacheBudgetGoesInTheParameterTheEngineTakesAndRemovesWhatTheDryRunSays() throws Exception {
        try (Engine real = Engine.connect(engine.host())) {
            String api = real.version().path("ApiVersion").asText();
            String[] v = api.split("\\.");
            int minor = Integer.parseInt(v[1]);
            List<String> parameters = new ArrayList<>();
            if (minor >= 48) {
                parameters.add(EngineApi.PruneCall.RESERVED_SPACE);
            }
            if (minor < 52) {
                parameters.add(EngineApi.PruneCall.KEEP_STORAGE);
            }
            assertEquals(EngineApi.PruneCall.budgetParameter(api), parameters.get(0), "the one prune sends is one the engine takes");
            for (String parameter : parameters) {
                buildCache(parameter.replace("-", ""));
                Instant now = Instant.now();
                HostSnapshot host = HostSnapshot.read(real, HostSnapshot.Depth.STORE, now);
                List<HostSnapshot.BuildCacheRecord> records = host.requireStore().buildCache();
                List<HostSnapshot.BuildCacheRecord> candidates = records.stream().filter(r -> !r.inUse() && !r.shared()
                        && !PrunePolicy.INTERNAL_CACHE_TYPES.contains(r.type())).sorted(java.util.Comparator.comparing(
                                (HostSnapshot.BuildCacheRecord r) -> r.lastUsed().orElse(Instant.MIN)).thenComparing(HostSnapshot.BuildCacheRecord::id))
                        .toList();
                long total = records.stream().filter(r -> !r.shared()).mapToLong(HostSnapshot.BuildCacheRecord::size).sum();
                System.err.println("[build cache before the budget, " + parameter + ", API " + api + "] total " + total);
                records.forEach(r -> System.err.println("  " + r));
                assertTrue(candidates.size() >= 3, "three builds leave records to prune: " + records);
                // a budget that takes exactly the least recently used candidates up to the second RUN's cache (1 MB and 2 MB)
                long prefix = 0;
                int runs = 0;
                for (HostSnapshot.BuildCacheRecord r : candidates) {
                    prefix += r.size();
                    if (r.description().contains("/dev/urandom") && ++runs == 2) {
                        break;
                    }
                }
                long budget = total - prefix + 1;
                Set<String> predicted = new TreeSet<>();
                PrunePolicy.plan(PrunePolicy.Inputs.of(host), now, Until.parse("24h"), OptionalLong.of(budget)).buildCache().stream()
                        .filter(i -> i.remove() && i.reason().startsWith("beyond --build-cache-max")).forEach(i -> predicted.add(i.id()));
                JsonNode answer = real.prune(new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of(), Map.of(parameter, Long.toString(budget))));
                Set<String> deleted = new TreeSet<>();
                answer.path("CachesDeleted").forEach(id -> deleted.add(id.asText()));
                System.err.println("  budget " + budget + ": deleted " + deleted + ", predicted " + predicted);
                assertEquals(predicted, deleted, parameter + ": the engine removes what the dry run predicts");
                assertTrue(predicted.size() >= 2, "the two first builds' RUN caches at least: " + predicted);
                long left = HostSnapshot.read(real, HostSnapshot.Depth.STORE, Instant.now()).requireStore().buildCache().stream()
                        .filter(r -> !r.shared()).mapToLong(HostSnapshot.BuildCacheRecord::size).sum();
                assertTrue(left < budget, "below the budget: " + left + " < " + budget);
                engine.dockerOk("builder", "prune", "-af");
            }
        }
    }

    // ---------------------------------------------------------------- --max-unused-age and --evict-max

    @Test
    @Order(2)
    void belowTheThresholdTheImagesUnusedForLongerGoAtMostEvictMaxOfThem() throws Exception {
        Thread.sleep(2100); // the containerd store ages a loaded image by its load: older than --max-unused-age 2s
        var settings = new PruneRun.Settings(gates(99, 0), Until.parse("24h"),
                Optional.of(EvictionPolicy.Settings.parse(null, "1s", "2s", "1", Optional.empty(), 0)), onlyEvictable("ccci/age:"),
                Optional.empty(), PruneShortfall.Settings.withoutState());
        try (Engine real = Engine.connect(engine.host())) {
            PruneRun.Report dry = prune(real, settings, true);
            String dryText = PruneFormat.text(dry);
            System.err.println("[--max-unused-age 2s --evict-max 1, dry run]\n" + dryText);
            EvictionPolicy.Plan plan = dry.eviction().orElseThrow().plan();
            List<String> first = plan.evicted().stream().map(d -> d.image().name()).toList();
            List<String> next = plan.deferred().stream().map(d -> d.image().name()).toList();
            assertEquals(Set.of("ccci/age:1", "ccci/age:2"), new TreeSet<>(List.of(first.get(0), next.get(0))), dryText);
            assertEquals(1, first.size(), dryText);
            assertEquals(1, next.size(), dryText);

            Recorded recorded = new Recorded(real);
            Set<String> before = tags();
            PruneRun.Report report = prune(recorded.api, settings, false);
            String text = PruneFormat.text(report);
            System.err.println("[--max-unused-age 2s --evict-max 1, real run]\n" + text + "\n" + recorded.calls);
            assertEquals(PruneRun.Outcome.PRUNED, report.outcome(), text);
            assertEquals(first, report.eviction().orElseThrow().removed().stream().map(r -> r.decision().image().name()).toList(),
                    "the dry run said which goes");
            assertEquals(next, report.eviction().orElseThrow().leftForNextRun().stream().map(d -> d.image().name()).toList(),
                    "and which is left for the next run");
            assertFalse(recorded.calls.stream().anyMatch(c -> c.startsWith("prune")), "no phase runs below the threshold: " + recorded.calls);
            Set<String> gone = new TreeSet<>(before);
            gone.removeAll(tags());
            assertEquals(Set.copyOf(first), gone);
            assertTrue(engine.dockerOk("images", "-q", "--filter", "dangling=true").lines().count() >= 1, "the debris stays");
            assertTrue(tags().contains("ccci/age:3"), "in use by a created container");
        }
    }

    // ---------------------------------------------------------------- --min-free

    @Test
    @Order(3)
    void theRealDisksFreeBytesOpenTheGateAndEvictionGoesOnUntilTheyAreFree() throws Exception {
        Disk disk = Disk.measure(engine.dataRoot());
        long minFree = disk.availableBytes() + 4 * MB; // 4 MB more than there is: the 8 MB image must go
        assertTrue(disk.usedPercent() < 90, disk.describe());
        var settings = new PruneRun.Settings(gates(99, minFree), Until.parse("24h"),
                Optional.of(EvictionPolicy.Settings.parse("98", "1s", null, null, Optional.of(new Threshold(99, minFree)), minFree)),
                onlyEvictable("ccci/space:"), Optional.empty(), PruneShortfall.Settings.withoutState());
        try (Engine real = Engine.connect(engine.host())) {
            PruneRun.Report report = prune(real, settings, false);
            String text = PruneFormat.text(report);
            System.err.println("[--min-free " + minFree + ", real run]\n" + text);
            GatePolicy.GateResult gate = report.verdict().gates().get(0);
            assertEquals("min-free", gate.figures().get("trigger"), gate.detail());
            assertTrue(gate.detail().contains(" < --min-free "), gate.detail());
            assertEquals(List.of("ccci/space:1"), report.eviction().orElseThrow().removed().stream().map(r -> r.decision().image().name()).toList(),
                    text);
            Disk after = Disk.measure(engine.dataRoot());
            assertTrue(after.availableBytes() >= minFree, "at least --min-free available: " + after + " >= " + minFree);
            assertEquals(PruneRun.Outcome.PRUNED, report.outcome(), text);
        }
    }

    // ---------------------------------------------------------------- a gap in the last-use record

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    @Order(4)
    void watchMarksTheGapAcrossAnEngineRestartWhichKeepsNoneOfItsEvents() throws Exception {
        Path file = engine.workDir().resolve("state/last-use.json");
        Files.createDirectories(file.getParent());
        Path log = engine.workDir().resolve("watch.log");
        String busybox = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", "ccci/busybox:1");
        Process watch = JavaProcess.java(List.of("Watch", "--host", engine.host(), "--last-use", file.toString(), "--flush-interval", "1",
                "--max-backoff", "1"), ProcessBuilder.Redirect.appendTo(log.toFile()), ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            Await.await(() -> read(log).contains("watch: following the events of "), Duration.ofSeconds(30), "watch follows the events");
            Await.await(() -> LastUse.load(file).record().gaps().size() == 1, Duration.ofSeconds(10), "the first start's gap:\n" + read(log));
            engine.dockerOk("tag", "ccci/busybox:1", "ccci/busybox:before-restart"); // an event the engine will not keep
            Instant stopping = Instant.now();
            engine.stopEngine();
            Instant down = Instant.now(); // the engine answers nothing until restartEngine starts it
            engine.restartEngine();
            Instant back = Instant.now();
            Await.await(() -> LastUse.load(file).record().gaps().size() == 2, Duration.ofSeconds(30), "watch reconnects:\n" + read(log));
            LastUse record = LastUse.load(file).record();
            System.err.println("[watch's record across the restart]\n" + record.toJson() + "\n[log]\n" + read(log));
            LastUse.Gap gap = record.gaps().get(1);
            assertTrue(gap.from().orElseThrow().isBefore(stopping.plusSeconds(1)), gap + " begins by the stop at " + stopping);
            // it ends once watch is back on the engine: after the engine was down, by the time the restart was seen
            assertTrue(gap.to().isAfter(down) && gap.to().isBefore(back.plusSeconds(30)),
                    gap + " ends once the engine is back: after " + down + ", by " + back + " + watch's backoff");
            assertEquals(Optional.of(gap.to()), record.seenAfterGap(busybox), "present at the gap's end: used then");
            assertEquals(LastUse.Source.GAP_END, record.lastUse(busybox, List.of(), OLD).source());

            // the engine kept none of its events across the restart: a look back from before it finds nothing before it
            List<JsonNode> replayed = new ArrayList<>();
            try (Engine real = Engine.connect(engine.host())) {
                real.events(stopping.minusSeconds(30), Instant.now(), List.of("image", "container"), replayed::add);
            }
            assertTrue(replayed.stream().noneMatch(e -> e.path("time").asLong() < stopping.getEpochSecond()),
                    "events from before the restart: " + replayed);
        } finally {
            watch.destroy();
            watch.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
