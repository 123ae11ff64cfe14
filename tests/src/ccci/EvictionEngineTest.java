package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Eviction on a real engine of each store, one engine for the class (a 256 MB loop-mounted data
 * root, no swarm) and one registry: what only a real engine can show. Issue 18's data-loss
 * defects on the engine's own delete semantics — a base image whose committed child runs is never
 * touched (1); a user the engine meets at the last delete of a three-tag image keeps it with
 * every tag put back (2); an image pulled by digest and tagged under another name goes whole (3).
 * Then the low watermark reached by the real disk, with the dry run listing what the real run
 * removes; the watch command (a JVM of its own) recording real pull events, by tag and by digest,
 * and writing its record on SIGTERM; and cache's figures against
 * `docker system df -v`. The rest of eviction, cache and watch runs on the fake host
 * (ccci.scenario, LastUseWatchTest), in milliseconds.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class EvictionEngineTest {
    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final long IMAGE_BYTES = 6L << 20;
    static SandboxEngine engine;
    static SandboxRegistry registry;
    static String reg;
    static final Map<String, String> ids = new HashMap<>();

    @BeforeAll
    static void aStoreWithABaseAChildAMultiTagImageAndADigestPull() throws Exception {
        registry = SandboxRegistry.start("ci", "secret");
        reg = registry.address();
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(256));
        engine.login(reg, "ci", "secret");

        // (1) a base and a child committed from it, the child running
        engine.importBusybox("ccci/base:1");
        engine.dockerOk("run", "--name", "mk", "--network", "none", "ccci/base:1", "sh", "-c", "head -c 3000000 /dev/urandom > /blob");
        engine.dockerOk("commit", "mk", "ccci/child:1");
        engine.dockerOk("rm", "mk");
        engine.dockerOk("run", "-d", "--name", "child-runs", "--network", "none", "ccci/child:1", "sleep", "3600");
        // (2) one image, three tags in two repositories
        ids.put("app", engine.loadImage(ImageSpec.tagged("ccci/app:1", OLD, IMAGE_BYTES)));
        engine.dockerOk("tag", "ccci/app:1", "ccci/app:latest");
        engine.dockerOk("tag", "ccci/app:1", "mirror.example/app:1");
        // (3) pulled by digest (no tag), then tagged under another name: one to go, one that gets a user
        ids.put("digest", pulledByDigestAndTagged("app", "local/app:7"));
        ids.put("digestUsed", pulledByDigestAndTagged("keep", "local/keep:7"));
        // ballast for the watermark, loaded (tagged) in this order: the least recently used first
        for (int i = 1; i <= 4; i++) {
            engine.loadImage(ImageSpec.tagged("ccci/ballast:" + i, OLD, IMAGE_BYTES));
        }
        Thread.sleep(1100); // every tag older than --min-age 1s
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    /** The engine seen through the seam, each delete and tag noted; {@code beforeDelete} runs before the named delete goes out. */
    static final class Recorded implements InvocationHandler {
        final EngineApi real;
        final List<String> changes = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Runnable> beforeDelete = new HashMap<>();

        Recorded(EngineApi real) {
            this.real = real;
        }

        EngineApi api() {
            return (EngineApi) Proxy.newProxyInstance(EngineApi.class.getClassLoader(), new Class<?>[] {EngineApi.class}, this);
        }

        @Override
        public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) throws Throwable {
            if (method.getName().equals("deleteImage")) {
                changes.add("DELETE " + args[0]);
                Optional.ofNullable(beforeDelete.remove((String) args[0])).ifPresent(Runnable::run);
            } else if (method.getName().equals("tagImage")) {
                changes.add("TAG " + args[0] + " " + args[1] + ":" + args[2]);
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    /** An image pushed to the registry as acc/NAME:7, removed, pulled back by digest alone and tagged {@code tag}; its ID. */
    static String pulledByDigestAndTagged(String name, String tag) {
        engine.loadImage(ImageSpec.tagged("ccci/digest-" + name + ":7", OLD, IMAGE_BYTES));
        engine.dockerOk("tag", "ccci/digest-" + name + ":7", reg + "/acc/" + name + ":7");
        engine.dockerOk("push", reg + "/acc/" + name + ":7");
        String digestRef = repoDigest(reg + "/acc/" + name + ":7");
        engine.dockerOk("rmi", reg + "/acc/" + name + ":7", "ccci/digest-" + name + ":7");
        engine.dockerOk("pull", digestRef);
        engine.dockerOk("tag", digestRef, tag);
        return engine.dockerOk("image", "inspect", "-f", "{{.Id}}", tag);
    }

    /** The image's digest in the registry repository of {@code ref} (the containerd store lists one for each of its names). */
    static String repoDigest(String ref) {
        String repository = ref.substring(0, ref.lastIndexOf(':'));
        for (JsonNode d : engine.dockerJson("image", "inspect", ref).path(0).path("RepoDigests")) {
            if (d.asText().startsWith(repository + "@")) {
                return d.asText();
            }
        }
        throw new AssertionError("no digest in " + repository + ": " + engine.dockerOk("image", "inspect", "-f", "{{json .RepoDigests}}", ref));
    }

    static int diskPercent() throws Exception {
        return Disk.measure(engine.dataRoot()).usedPercent();
    }

    static PruneRun.Report prune(EngineApi api, int threshold, int evictTo, List<String> keep, boolean dryRun) {
        var settings = new PruneRun.Settings(GatePolicy.Settings.parse(String.valueOf(threshold), GatePolicy.Settings.DEFAULT_STACK_PATTERN,
                engine.dataRoot().toString()), Until.parse("24h"),
                Optional.of(EvictionPolicy.Settings.parse(String.valueOf(evictTo), "1s", Optional.of(new Threshold(threshold)))),
                InUse.Settings.parse(keep, List.of()), Optional.empty(), PruneShortfall.Settings.withoutState());
        return PruneRun.run(() -> api, Disks.REAL, settings, dryRun, new PruneRun.Listener() {}, Clock.systemUTC());
    }

    static Map<String, EvictionRun.Removal> removals(PruneRun.Report report) {
        Map<String, EvictionRun.Removal> byName = new HashMap<>();
        report.eviction().orElseThrow(() -> new AssertionError(PruneFormat.text(report)))
                .removals().forEach(r -> byName.put(r.decision().image().name(), r));
        return byName;
    }

    static EvictionRun.Removal removalOf(Map<String, EvictionRun.Removal> byName, String id) {
        return byName.values().stream().filter(r -> r.decision().image().id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not tried: " + byName.keySet()));
    }

    static Set<String> tagsOf(String id) {
        Set<String> tags = new TreeSet<>();
        engine.dockerJson("image", "inspect", id).path(0).path("RepoTags").forEach(t -> tags.add(t.asText()));
        return tags;
    }

    @Test
    @Order(1)
    void theDataLossDefectsOfIssue18AreFixedOnTheEnginesOwnDeletes() throws Exception {
        String baseId = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", "ccci/base:1");
        try (Engine real = Engine.connect(engine.host())) {
            Recorded recorded = new Recorded(real);
            // (2) a user the engine meets only at the last delete: created after the gates and users were checked again
            recorded.beforeDelete.put("ccci/app:1", () -> engine.dockerOk("create", "--network", "none", "--name", "late-user", "ccci/app:1", "true"));
            recorded.beforeDelete.put("local/keep:7", () -> engine.dockerOk("create", "--network", "none", "--name", "late-user-2", "local/keep:7", "true"));
            Set<String> usedNames = tagsOf(ids.get("digestUsed"));
            String usedDigests = engine.dockerOk("image", "inspect", "-f", "{{json .RepoDigests}}", ids.get("digestUsed"));
            PruneRun.Report report = prune(recorded.api(), diskPercent(), 1, List.of("^ccci/ballast:"), false);
            System.err.println("[issue 18 defects, real run]\n" + PruneFormat.text(report) + "\n" + recorded.changes);
            Map<String, EvictionRun.Removal> byName = removals(report);

            // (1) the base of a running child: kept, never asked to delete
            assertTrue(engine.docker("image", "inspect", "ccci/base:1").ok(), "the base keeps its name");
            assertFalse(recorded.changes.stream().anyMatch(c -> c.contains("ccci/base:1") || c.contains(baseId)), recorded.changes.toString());
            String baseReason = report.eviction().orElseThrow().plan().kept().stream().filter(d -> d.image().id().equals(baseId))
                    .findFirst().orElseThrow().reason();
            assertTrue(baseReason.startsWith("in use by its child image ccci/child:1 is used by container child-runs (running)"), baseReason);
            assertEquals("running", engine.dockerOk("inspect", "-f", "{{.State.Status}}", "child-runs"));

            // (2) whole or not at all: every tag put back
            EvictionRun.Removal app = byName.get("ccci/app:1, ccci/app:latest, mirror.example/app:1");
            assertFalse(app.removed(), app.detail());
            assertTrue(app.detail().startsWith("kept: a user appeared (the engine: "), app.detail());
            assertEquals(Set.of("ccci/app:1", "ccci/app:latest", "mirror.example/app:1"), tagsOf(ids.get("app")), app.detail());

            // (3) pulled by digest, tagged elsewhere: gone whole, not left <none>
            EvictionRun.Removal digest = removalOf(byName, ids.get("digest"));
            assertTrue(digest.removed(), digest.detail());
            assertFalse(engine.docker("image", "inspect", ids.get("digest")).ok(), "the image is gone, bytes and all");
            List<String> deletes = recorded.changes.stream().filter(c -> c.contains("local/app") || c.contains(ids.get("digest"))).toList();
            assertEquals(List.of("DELETE local/app:7", "DELETE " + (engine.kind().containerdImageStore()
                    ? reg + "/acc/app@" + ids.get("digest") : ids.get("digest"))), deletes,
                    "its tag, then what names it still: the ID (classic), the record by digest (containerd)");
            // ... and one that got a user between its first delete and its last: every name back, its digest too
            EvictionRun.Removal used = removalOf(byName, ids.get("digestUsed"));
            assertFalse(used.removed(), used.detail());
            assertTrue(used.detail().endsWith("; its tags put back (local/keep:7)"), used.detail());
            assertEquals(usedNames, tagsOf(ids.get("digestUsed")));
            assertEquals(usedDigests, engine.dockerOk("image", "inspect", "-f", "{{json .RepoDigests}}", ids.get("digestUsed")));
        }
    }

    @Test
    @Order(2)
    void evictionStopsBelowTheLowWatermarkByTheRealDiskAndTheDryRunListsWhatTheRealRunRemoves() throws Exception {
        Disk disk = Disk.measure(engine.dataRoot());
        int threshold = disk.usedPercent();
        long unique;
        try (Engine real = Engine.connect(engine.host())) {
            HostSnapshot host = HostSnapshot.read(real, HostSnapshot.Depth.STORE, Instant.now());
            unique = host.requireStore().topLevel().stream().filter(i -> i.tags().contains("ccci/ballast:1")).findFirst().orElseThrow().uniqueBytes();
        }
        // a low watermark one and a half images down: two of the four ballast images must go
        int evictTo = new Disk(disk.path(), disk.usedBytes() - unique * 3 / 2, disk.availableBytes() + unique * 3 / 2).usedPercent() + 1;
        assertTrue(evictTo < threshold, "thresholds " + threshold + "/" + evictTo + " on " + disk + ", " + unique + " bytes an image");
        PruneRun.Report dry;
        PruneRun.Report real;
        try (Engine api = Engine.connect(engine.host())) {
            dry = prune(api, threshold, evictTo, List.of(), true);
            real = prune(api, threshold, evictTo, List.of(), false);
        }
        System.err.println("[watermark, dry run]\n" + PruneFormat.text(dry) + "\n[watermark, real run]\n" + PruneFormat.text(real));
        List<String> predicted = dry.eviction().orElseThrow().removed().stream().map(r -> r.decision().image().name()).toList();
        List<String> removed = real.eviction().orElseThrow().removed().stream().map(r -> r.decision().image().name()).toList();
        assertEquals(2, predicted.size(), PruneFormat.text(dry));
        assertEquals(predicted, removed, "the real run removes what the dry run listed, in its order");
        assertTrue(predicted.stream().allMatch(n -> n.startsWith("ccci/ballast:")), predicted.toString());
        int after = diskPercent();
        assertTrue(after < evictTo, "below the low watermark: " + after + "% < " + evictTo + "%");
        assertEquals(after, real.eviction().orElseThrow().diskAfter().orElseThrow());
        assertEquals(PruneRun.Outcome.PRUNED, real.outcome(), PruneFormat.text(real));
        for (int i = 1; i <= 4; i++) {
            String ref = "ccci/ballast:" + i;
            assertEquals(!removed.contains(ref), engine.docker("image", "inspect", ref).ok(), ref);
        }
    }

    @Test
    @Order(3)
    void watchRecordsRealPullsByTagAndByDigestUnderTheImagesThatArrived() throws Exception {
        for (String n : List.of("1", "2")) {
            engine.loadImage(ImageSpec.tagged("ccci/pulled:" + n, OLD, 1L << 20));
            engine.dockerOk("tag", "ccci/pulled:" + n, reg + "/acc/pulled:" + n);
            engine.dockerOk("push", reg + "/acc/pulled:" + n);
        }
        String byDigest = repoDigest(reg + "/acc/pulled:2");
        engine.dockerOk("rmi", "ccci/pulled:1", "ccci/pulled:2", reg + "/acc/pulled:1", reg + "/acc/pulled:2");
        Path file = engine.workDir().resolve("state/last-use.json");
        Files.createDirectories(file.getParent());
        Path log = engine.workDir().resolve("watch.log");
        // the watch command itself, in a JVM of its own: connect, follow, flush every second, stop on SIGTERM
        Process watch = JavaProcess.java(List.of("Watch", "--host", engine.host(), "--last-use", file.toString(), "--flush-interval", "1"),
                ProcessBuilder.Redirect.appendTo(log.toFile()), ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            Await.await(() -> read(log).contains("watch: following the events of "), Duration.ofSeconds(30), "watch follows the events");
            Instant start = Instant.now().minusSeconds(1);
            engine.dockerOk("pull", reg + "/acc/pulled:1");
            engine.dockerOk("pull", byDigest);
            String byTagId = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", reg + "/acc/pulled:1");
            String byDigestId = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", byDigest);
            Await.await(() -> {
                LastUse r = LastUse.load(file).record();
                return r.ofImage(byTagId).isPresent() && r.ofImage(byDigestId).isPresent();
            }, Duration.ofSeconds(20), "watch records both pulls:\n" + read(log));
            LastUse record = LastUse.load(file).record();
            System.err.println("[watch's record after the pulls]\n" + record.toJson());
            assertFalse(record.ofImage(byTagId).orElseThrow().isBefore(start), record.toJson());
            assertFalse(record.ofImage(byDigestId).orElseThrow().isBefore(start), record.toJson());
            assertTrue(record.ofRef(reg + "/acc/pulled:1").isPresent(), record.toJson());
        } finally {
            watch.destroy(); // SIGTERM: what is pending is written
            watch.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
        }
        String lines = read(log);
        System.err.println("[watch's log]\n" + lines);
        assertTrue(lines.contains("watch: stopped; record " + file + " written"), lines);
        assertFalse(lines.contains("could not record"), lines);
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    @Order(4)
    void cachesFiguresEqualDockerSystemDfVerboseWhereTheyOverlap() {
        CommandResult run = ScriptRun.of("Cache", "--host", engine.host(), "--last-use", engine.workDir().resolve("cache-last-use.json").toString(),
                "--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode json = run.json();
        System.err.println("[cache]\n" + ScriptRun.of("Cache", "--host", engine.host(), "--last-use",
                engine.workDir().resolve("state/last-use.json").toString(), "--min-age", "1s").out());
        // one line per image: ID|SIZE|SHARED SIZE|UNIQUE SIZE|CONTAINERS, as the engine's own CLI formats them
        Map<String, String> df = new HashMap<>();
        for (String row : engine.dockerOk("system", "df", "-v", "--format",
                "{{range .Images}}{{.ID}}|{{.Size}}|{{.SharedSize}}|{{.UniqueSize}}|{{.Containers}};{{end}}").split(";")) {
            if (!row.isBlank()) {
                df.put(row.substring(0, row.indexOf('|')), row.substring(row.indexOf('|') + 1));
            }
        }
        Map<String, String> ours = new HashMap<>();
        for (JsonNode image : json.path("images")) {
            ours.put(image.path("id").asText(), humanSize(image.path("size").asLong(), 3) + "|"
                    + humanSize(image.path("sharedSize").asLong(), 4) + "|" + humanSize(image.path("uniqueSize").asLong(), 4)
                    + "|" + image.path("containers").asLong());
        }
        assertEquals(new TreeSet<>(df.keySet()), new TreeSet<>(ours.keySet()), "the same images");
        assertEquals(df, ours, "size, shared size, unique size and containers of every image");
        JsonNode totals = json.path("totals");
        assertTrue(totals.path("sharedBytes").asLong() > 0, "the base and its child share a layer:\n" + json);
        assertEquals(totals.path("layersBytes").asLong() - totals.path("uniqueBytes").asLong(), totals.path("sharedBytes").asLong(),
                "shared: each layer once");
        String dfTotals = engine.dockerOk("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Size}}")
                .lines().filter(l -> l.startsWith("Images|")).findFirst().orElseThrow();
        assertEquals("Images|" + totals.path("images").asLong() + "|" + humanSize(totals.path("layersBytes").asLong(), 4), dfTotals);
    }

    /** docker/go-units' HumanSizeWithPrecision: decimal units, Go's %.*g (significant digits, no trailing zeros). */
    static String humanSize(long bytes, int precision) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        double size = bytes;
        int i = 0;
        while (size >= 1000 && i < units.length - 1) {
            size /= 1000;
            i++;
        }
        java.math.BigDecimal rounded = new java.math.BigDecimal(size).round(new java.math.MathContext(precision, java.math.RoundingMode.HALF_EVEN));
        return (rounded.signum() == 0 ? "0" : rounded.stripTrailingZeros().toPlainString()) + units[i];
    }
}
