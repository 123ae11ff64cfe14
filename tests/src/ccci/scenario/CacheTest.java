package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.CacheFormat;
import ccci.CacheView;
import ccci.EvictionPolicy;
import ccci.HostSnapshot;
import ccci.InUse;
import ccci.Json;
import ccci.LastUse;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.CommandResult;
import ccci.sandbox.Provision;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * `cache` on the fake host: shared bytes counted once per layer (issue 19 item 8) in the text,
 * the JSON and the metrics; the record named only when it exists (issue 21 item 8); an untagged
 * image a service scaled to 0 names is in use, not "dangling" (issue 18 defect 4); every user
 * named; engine strings escaped; what it asks the engine.
 */
class CacheTest {
    static final long MB = 1_000_000;

    @TempDir Path dir;
    FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
    FakeState s = host.state();

    CacheView cache(Path record) {
        return CacheView.read(host, host, Optional.empty(), record, Until.parse("24h"), InUse.Settings.NONE,
                EvictionPolicy.Settings.parse("75", "24h", Optional.empty()), s.now());
    }

    CacheView cache() {
        return cache(dir.resolve("last-use.json"));
    }

    static JsonNode json(CacheView v) throws Exception {
        return Json.mapper().readTree(CacheFormat.json(v));
    }

    static Map<String, JsonNode> imagesById(JsonNode json) {
        Map<String, JsonNode> byId = new HashMap<>();
        json.path("images").forEach(i -> byId.put(i.path("id").asText(), i));
        return byId;
    }

    @Test
    void sharedBytesCountEachLayerOnceInTheTextTheJsonAndTheMetrics() throws Exception {
        // two images of 6 MB each: 1 MB of their own, and the same 5 MB layer
        FakeState.Image a = s.image("a:1").layer("shared-base", 5 * MB);
        FakeState.Image b = s.image("b:1").layer("shared-base", 5 * MB);
        CacheView v = cache();
        assertEquals(7 * MB, v.layersBytes(), "on disk: each layer once");
        assertEquals(2 * MB, v.uniqueBytes());
        assertEquals(5 * MB, v.sharedBytes(), "the shared layer once, not once per image (10 MB)");

        String text = CacheFormat.text(v);
        System.out.println(text);
        assertTrue(text.contains("\nimages    2 (2 tagged, 0 dangling), 0 in use; layers 7.0 MB on disk, 5.0 MB shared by several images\n"), text);
        JsonNode json = json(v);
        assertEquals(7 * MB, json.path("totals").path("layersBytes").asLong());
        assertEquals(5 * MB, json.path("totals").path("sharedBytes").asLong());
        assertEquals(2 * MB, json.path("totals").path("uniqueBytes").asLong());
        Map<String, JsonNode> images = imagesById(json);
        for (FakeState.Image i : List.of(a, b)) {
            assertEquals(6 * MB, images.get(i.id).path("size").asLong());
            assertEquals(5 * MB, images.get(i.id).path("sharedSize").asLong(), "per image, the bytes it shares (docker system df -v)");
            assertEquals(1 * MB, images.get(i.id).path("uniqueSize").asLong());
        }
        Path metrics = dir.resolve("cache.prom");
        CacheFormat.writeMetrics(metrics, v, s.now());
        String m = Files.readString(metrics);
        assertTrue(m.contains("\nci_docker_cache_layers_bytes 7000000\n"), m);
        assertTrue(m.contains("\nci_docker_cache_image_bytes{kind=\"shared\"} 5000000\n"), m);
        assertTrue(m.contains("\nci_docker_cache_image_bytes{kind=\"unique\"} 2000000\n"), m);
        ProcessResult check = new ProcessExecutor(Provision.ensureBinary("promtool", "prometheus").toString(), "check", "metrics")
                .redirectInput(Files.newInputStream(metrics)).readOutput(true).redirectErrorStream(true)
                .timeout(30, TimeUnit.SECONDS).execute();
        assertEquals(0, check.getExitValue(), "promtool check metrics:\n" + check.outputUTF8() + "\n" + m);
    }

    @Test
    void withoutARecordItSaysSoAndNamesTheFileItLookedFor() throws Exception {
        s.image("app:1");
        Path missingDir = dir.resolve("no-such-dir").resolve("last-use.json");
        String text = CacheFormat.text(cache(missingDir));
        assertTrue(text.contains("\nlast use  no record at " + missingDir + " (start watch to keep one: the ci-docker-watch unit, or watch@cc-ci); "
                + "1 of 1 images by the engine's pull/tag time, the others by their creation time\n"), text);
        assertFalse(Files.exists(missingDir), "no directory: nothing written");

        Path record = dir.resolve("last-use.json");
        LastUse.save(record, LastUse.empty().use(host.inspectImage("app:1").path("Id").asText(), List.of("app:1"), s.now()), Optional.empty());
        String withRecord = CacheFormat.text(cache(record));
        assertTrue(withRecord.contains("\nlast use  1 of 1 images from the record " + record + " or the engine's pull/tag time; "
                + "the others by their creation time\n"), withRecord);
    }

    @Test
    void anUntaggedImageOfAServiceScaledToZeroIsInUseNotDangling() throws Exception {
        FakeState.RegistryImage app = s.registryImage("localhost:5000/acc/app:1", s.now().minus(Duration.ofDays(30)), Map.of("l-app", 50 * MB));
        s.service("abcd-123456_ci_commoninternet_net_app", "localhost:5000/acc/app:1@" + app.digest())
                .label(HostSnapshot.STACK_LABEL, "abcd-123456_ci_commoninternet_net").replicas(0);
        s.advance(Duration.ofDays(3));
        CacheView v = cache();
        FakeState.Image image = s.imageById(app.imageId()).orElseThrow();
        assertEquals(List.of(), image.tags(), "the classic store keeps no tag for a digest pull");
        JsonNode row = imagesById(json(v)).get(image.id);
        assertTrue(row.path("dangling").asBoolean(), "untagged, as docker images shows it");
        String user = "stack abcd-123456_ci_commoninternet_net (service abcd-123456_ci_commoninternet_net_app, 0 desired, 0 running)";
        assertEquals(List.of(user), Json.mapper().convertValue(row.path("inUseBy"), List.class));
        assertEquals("in use by " + user, row.path("evictionReason").asText());
        assertEquals(0, json(v).path("prune").path("wouldRemove").size(), "prune would not remove it either");
        String text = CacheFormat.text(v);
        assertTrue(text.lines().anyMatch(l -> l.startsWith(image.id.substring(7, 19) + "  localhost:5000/acc/app:<none>")
                && l.endsWith("kept      in use by " + user)), text);
        assertTrue(text.contains("images    1 (0 tagged, 1 dangling), 1 in use;"), text);
    }

    @Test
    void itNamesEveryUserAndOnlyUnusedImagesAreEvictionCandidates() throws Exception {
        FakeState.Image busybox = s.image("ccci-bb:cache");
        FakeState.Image stopped = s.image("ccci/stopped:1");
        FakeState.Image unused = s.image("ccci/unused:1");
        FakeState.Image dangling = s.image();
        s.container("runner", busybox, "running");
        s.container("stopped", stopped, "created");
        s.service("svc", "ccci-bb:cache");
        s.advance(Duration.ofDays(2));
        JsonNode json = json(cache());
        Map<String, JsonNode> byId = imagesById(json);
        List<String> users = new ArrayList<>();
        byId.get(busybox.id).path("inUseBy").forEach(u -> users.add(u.asText()));
        assertTrue(users.contains("container runner (running)"), users.toString());
        assertTrue(users.contains("service svc (1 desired, 1 running)"), users.toString());
        assertEquals("[\"container stopped (created)\"]", byId.get(stopped.id).path("inUseBy").toString());
        assertEquals(0, byId.get(unused.id).path("inUseBy").size());
        List<String> candidates = new ArrayList<>();
        json.path("eviction").path("order").forEach(d -> candidates.add(d.path("id").asText()));
        assertEquals(List.of(unused.id), candidates);
        assertEquals("dangling: left to prune's image phase", byId.get(dangling.id).path("evictionReason").asText());
        assertEquals("record", byId.get(busybox.id).path("lastUseSource").asText(), "refreshed: a running container uses it now");
        assertEquals("tagged", byId.get(unused.id).path("lastUseSource").asText());
        assertEquals("created", byId.get(dangling.id).path("lastUseSource").asText());
    }

    @Test
    void textNeverPassesEngineControlCharacters() {
        FakeState.Image image = s.image("ccci/built:cache");
        s.container("labelled", image, "created").label(HostSnapshot.STACK_LABEL, "evil\u001b[2J\nverdict: prune allowed");
        String text = CacheFormat.text(cache());
        assertFalse(text.contains("\u001b"), text);
        assertFalse(text.lines().anyMatch(l -> l.startsWith("verdict")), text);
        assertTrue(text.contains("evil\\x1b[2J\\nverdict: prune allowed"), text);
    }

    @Test
    void itReadsTheStoreOnceSixRequestsAndOneInspectionPerImage() {
        for (int i = 0; i < 5; i++) {
            s.image("app:" + i);
        }
        host.clearRequests();
        cache();
        List<String> requests = host.requests();
        assertEquals(6 + 5, requests.size(), requests.toString());
        assertEquals(5, requests.stream().filter(r -> r.matches("GET /images/sha256:[0-9a-f]{64}/json")).count(), requests.toString());
        assertEquals(List.of(), host.changes(), "cache changes nothing on the engine");
    }

    @Test
    void badInputIsOneLineAndExitTwelveBeforeTheEngineIsAsked() {
        CommandResult run = command("--host", "unix:///nonexistent.sock", "--evict-to", "0");
        assertEquals(12, run.exit(), run.toString());
        assertEquals(1, run.err().lines().count(), run.err());
        assertEquals(12, command("--host", "unix:///nonexistent.sock", "--keep", "(").exit());
        assertEquals(12, command("--host", "unix:///nonexistent.sock", "--keep-label", "=x").exit());
        assertEquals(12, command("--host", "unix:///nonexistent.sock", "--metrics-file", "/dev/null").exit());
    }

    /** The cache command as its main() runs it (the script's class is in the default package). */
    static CommandResult command(String... args) {
        try {
            var constructor = Class.forName("Cache").getDeclaredConstructor();
            constructor.setAccessible(true);
            java.io.StringWriter out = new java.io.StringWriter();
            java.io.StringWriter err = new java.io.StringWriter();
            int exit = ccci.Cli.run(constructor.newInstance(), new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), args);
            return new CommandResult(exit, out.toString(), err.toString());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
