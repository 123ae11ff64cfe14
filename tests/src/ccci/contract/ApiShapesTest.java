package ccci.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.EngineApi;
import ccci.HostSnapshot;
import ccci.LastUse;
import ccci.LastUseWatch;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * API 1.52 (Docker 29) changed shapes the core reads: events carry no status, id and from, and
 * /system/df with verbose=1 gives its lists as ImagesUsage/ContainersUsage/BuildCacheUsage items.
 * No engine of the matrix speaks 1.52, so this runs on the fake alone, which serves both shapes
 * (its 1.41-era shapes are the ones the engine contracts compare): the same host at API 1.51 and
 * 1.52 must read as the same {@link HostSnapshot}, and {@link LastUseWatch} must record the same
 * last uses from either's events.
 */
class ApiShapesTest {
    @TempDir
    Path tmp;

    /** The same host twice: every ID is the same, since the fake numbers its objects in order. */
    private static FakeHost host(String api, String minApi) {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state().api(api, minApi);
        FakeState.Image base = s.image("ci/base:1");
        FakeState.Image app = s.image("ci/app:1").parent(base).label("team", "ci");
        s.image().created(s.now().minus(Duration.ofDays(3)));
        s.container("web", app, "running").sizeRw(1234);
        s.container("job", base, "exited");
        s.registryImage("localhost:5000/ci/pulled:7", s.now().minus(Duration.ofDays(1)), Map.of("pulled-layer", 5_000_000L));
        s.buildCache("regular", 42_000, Optional.of(s.now().minus(Duration.ofHours(2))));
        s.service("svc", "ci/app:1");
        return host;
    }

    @Test
    void theSnapshotReadsTheSameFromBothShapes() {
        FakeHost legacy = host("1.51", "1.24");
        FakeHost current = host("1.52", "1.44");
        JsonNode df = current.systemDf(Set.of("image", "container", "build-cache"));
        assertFalse(df.has("Images") || df.has("LayersSize"), "1.52 lists in its usage fields: " + df);
        assertTrue(df.path("ImagesUsage").path("Items").isArray(), df.toString());
        assertTrue(legacy.systemDf(Set.of("image")).has("LayersSize"));

        Instant now = legacy.state().now();
        HostSnapshot a = HostSnapshot.read(legacy, HostSnapshot.Depth.STORE, now);
        HostSnapshot b = HostSnapshot.read(current, HostSnapshot.Depth.STORE, now);
        assertEquals(a, b);
        assertEquals(3, a.requireStore().topLevel().size(), a.requireStore().toString());
        assertEquals(1234, a.containers().stream().filter(c -> c.name().equals("web")).findFirst().orElseThrow().sizeRw());
        assertEquals(1, a.requireStore().buildCache().size());
        assertTrue(a.requireStore().layersSize() > 0);
    }

    @Test
    void theWatchRecordsTheSameUsesFromBothShapesOfEvents() throws Exception {
        LastUse fromLegacy = watched(host("1.51", "1.24"), tmp.resolve("legacy.json"), true);
        LastUse fromCurrent = watched(host("1.52", "1.44"), tmp.resolve("current.json"), false);
        FakeState s = host("1.51", "1.24").state();
        String app = s.topLevelImages().stream().filter(i -> i.tags().contains("ci/app:1")).findFirst().orElseThrow().id;
        for (LastUse record : List.of(fromLegacy, fromCurrent)) {
            assertTrue(record.ofImage(app).isPresent(), "the running container's image is recorded");
            assertTrue(record.ofRef("ci/app:1").isPresent(), "under the name it ran by");
            assertTrue(record.ofRef("localhost:5000/ci/pulled:7").isPresent(), "a pull under its reference");
            assertTrue(record.ofRef("ci/tagged:1").isPresent(), "a tag under the new name");
        }
        assertEquals(fromLegacy.size(), fromCurrent.size());
    }

    /** Feeds the host's events (a pull and a tag made now) to the watch's handler, writes its record, reads it back. */
    private static LastUse watched(FakeHost host, Path file, boolean legacyShape) throws Exception {
        Instant since = host.state().now();
        host.pull("localhost:5000/ci/pulled", "7", Optional.empty(), Duration.ofSeconds(5), m -> {});
        String app = host.state().topLevelImages().stream().filter(i -> i.tags().contains("ci/app:1")).findFirst().orElseThrow().id;
        host.tagImage(app, "ci/tagged", "1");
        host.state().container("later", host.state().imageById(app).orElseThrow(), "running");
        List<JsonNode> events = new ArrayList<>();
        host.events(since.minusSeconds(3600), List.of("container", "image", "service"), events::add);
        assertFalse(events.isEmpty());
        for (JsonNode e : events) {
            assertEquals(legacyShape, e.has("status") && e.has("id"), "API " + (legacyShape ? "1.51" : "1.52") + " event shape: " + e);
        }
        LastUseWatch watch = new LastUseWatch(host.host(), file, Duration.ofSeconds(1), Duration.ofSeconds(1), new PrintWriter(new StringWriter()));
        Method handle = LastUseWatch.class.getDeclaredMethod("handle", EngineApi.class, JsonNode.class);
        Method flush = LastUseWatch.class.getDeclaredMethod("flush", Optional.class);
        handle.setAccessible(true); // package-private: the watch's handler, driven here without a real stream
        flush.setAccessible(true);
        for (JsonNode e : events) {
            handle.invoke(watch, host, e);
        }
        flush.invoke(watch, Optional.empty());
        LastUse.Loaded loaded = LastUse.load(file);
        assertTrue(loaded.problem().isEmpty(), loaded.problem().toString());
        return loaded.record();
    }
}
