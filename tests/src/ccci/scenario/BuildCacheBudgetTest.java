package ccci.scenario;

import static ccci.scenario.Peers.MB;
import static ccci.scenario.Peers.options;
import static ccci.scenario.Peers.prune;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.CacheFormat;
import ccci.CacheView;
import ccci.EngineApi;
import ccci.EvictionPolicy;
import ccci.InUse;
import ccci.PruneFormat;
import ccci.PrunePolicy;
import ccci.PruneRun;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * prune --build-cache-max on the fake host: after phase 3's until prune, the engine's own
 * build-cache prune with the budget, in the parameter the engine's API version takes
 * (reserved-space from 1.48, keep-storage before; 1.52 has no keep-storage), the least recently
 * used records first until the cache is below the budget; the dry run lists what it removes;
 * cache shows it. The real engines take it so: PeersEngineTest.
 */
class BuildCacheBudgetTest {
    static final Duration HOUR = Duration.ofHours(1);

    @TempDir Path dir;

    /**
     * Build cache: one record unused for 10 days (the until prune's), four of 100 MB used 2 to 5
     * hours ago, an internal one (never pruned), one shared with an image (not counted); the disk at 90%.
     */
    static FakeHost host(String api) throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.api(api, "1.24");
        s.buildCache("regular", 100 * MB, Optional.of(s.now().minus(Duration.ofDays(10))));
        for (int h = 2; h <= 5; h++) {
            s.buildCache("regular", 100 * MB, Optional.of(s.now().minus(HOUR.multipliedBy(h))));
        }
        s.buildCache("internal", 50 * MB, Optional.of(s.now().minus(Duration.ofDays(30))));
        Peers.diskAt(host, 900, 1000);
        return host;
    }

    static List<String> buildCacheRemoved(PruneRun.Report report) {
        return report.phases().stream().filter(p -> p.phase() == PrunePolicy.Phase.BUILD_CACHE).findFirst().orElseThrow().removedIds();
    }

    @ParameterizedTest
    @CsvSource({"1.41, keep-storage", "1.45, keep-storage", "1.47, keep-storage", "1.48, reserved-space", "1.51, reserved-space",
        "1.52, reserved-space"})
    void theBudgetGoesInTheParameterTheEnginesApiTakes(String api, String parameter) throws Exception {
        FakeHost host = host(api);
        PruneRun.Report report = prune(host, options().buildCacheMax(250 * MB), false);
        String text = PruneFormat.text(report);
        List<String> prunes = host.changes().stream().filter(c -> c.startsWith("POST /build/prune")).toList();
        assertEquals(List.of("POST /build/prune?filters={\"until\":[\"86400s\"]}", "POST /build/prune?" + parameter + "=250000000"), prunes,
                text);
        assertTrue(host.requests().contains("GET /version"), "the API version is asked: " + host.requests());
        // the until prune: the 10-day record; the budget: 450 MB counted (internal 50 MB too), so the three oldest (5h, 4h, 3h)
        assertEquals(4, buildCacheRemoved(report).size(), text);
        assertEquals(4 * 100 * MB, report.phases().get(2).reclaimedBytes());
    }

    @Test
    void theDryRunListsWhatTheBudgetRemoves() throws Exception {
        FakeHost dry = host("1.51");
        PruneRun.Report predicted = prune(dry, options().buildCacheMax(250 * MB), true);
        String text = PruneFormat.text(predicted);
        System.out.println("[--build-cache-max 250M, dry run]\n" + text);
        List<String> planned = predicted.plan().orElseThrow().buildCache().stream().filter(PrunePolicy.Item::remove)
                .map(PrunePolicy.Item::id).toList();
        assertEquals(4, planned.size(), text);
        assertEquals(3, predicted.plan().orElseThrow().buildCache().stream()
                .filter(i -> i.reason().startsWith("beyond --build-cache-max 250.0 MB: the least recently used goes first (used within 24h)")).count(),
                text);
        assertFalse(dry.requests().contains("GET /version"), "a dry run needs no version: it sends no prune");

        FakeHost real = host("1.51");
        PruneRun.Report done = prune(real, options().buildCacheMax(250 * MB), false);
        assertEquals(new java.util.TreeSet<>(planned), new java.util.TreeSet<>(buildCacheRemoved(done)), "dry run = real run");
    }

    @Test
    void withoutTheOptionNoBudgetAndNoVersionRequest() throws Exception {
        FakeHost host = host("1.51");
        PruneRun.Report report = prune(host, options(), false);
        assertEquals(List.of("POST /build/prune?filters={\"until\":[\"86400s\"]}"),
                host.changes().stream().filter(c -> c.startsWith("POST /build/prune")).toList());
        assertFalse(host.requests().contains("GET /version"));
        assertEquals(1, buildCacheRemoved(report).size());
    }

    /** The fake, as the engines: a parameter its API does not take is ignored, and the prune then removes every unused record. */
    @ParameterizedTest
    @CsvSource({"1.41, reserved-space", "1.52, keep-storage"})
    void anEngineIgnoresTheParameterItsApiDoesNotTake(String api, String parameter) throws Exception {
        FakeHost host = host(api);
        JsonNode answer = host.prune(new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of(), Map.of(parameter, "250000000")));
        assertEquals(5, answer.path("CachesDeleted").size(), "every unused regular record: " + answer);
    }

    @Test
    void thePruneCallTakesOnlyTheBudgetAndOnlyForTheBuildCache() {
        assertThrows(IllegalArgumentException.class, () -> new EngineApi.PruneCall(EngineApi.PruneCall.CONTAINERS, Map.of(),
                Map.of("reserved-space", "1")));
        assertThrows(IllegalArgumentException.class, () -> new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of(),
                Map.of("all", "1")));
        assertThrows(IllegalArgumentException.class, () -> new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of(),
                Map.of("reserved-space", "0")));
        assertEquals("/build/prune?filters=%7B%22until%22%3A%5B%2260s%22%5D%7D&keep-storage=5",
                new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of("until", List.of("60s")), Map.of("keep-storage", "5"))
                        .pathAndQuery());
        assertEquals("reserved-space", EngineApi.PruneCall.budgetParameter("1.48"));
        assertEquals("reserved-space", EngineApi.PruneCall.budgetParameter("2.0"));
        assertEquals("keep-storage", EngineApi.PruneCall.budgetParameter("1.47"));
        assertThrows(EngineApi.Unavailable.class, () -> EngineApi.PruneCall.budgetParameter("unknown"));
    }

    @Test
    void cacheShowsWhatTheBudgetWouldRemove() throws Exception {
        FakeHost host = host("1.51");
        CacheView view = CacheView.read(host, host, Optional.empty(), dir.resolve("none/last-use.json"), Until.parse("24h"),
                InUse.Settings.NONE, EvictionPolicy.Settings.parse("75", "24h", Optional.empty()), host.state().now(),
                OptionalLong.of(250 * MB));
        String text = CacheFormat.text(view);
        assertTrue(text.contains("\nbuild cache 550.0 MB not shared with images; --build-cache-max 250.0 MB: after the until prune, "
                + "the engine's prune to the budget would remove 3 records\n"), text);
        assertTrue(text.contains("prune now (--until 24h): would remove 0 containers, 0 dangling images, 4 build cache records: 400.0 MB"), text);
        assertEquals(250 * MB, com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(CacheFormat.json(view))
                .path("prune").path("buildCacheMax").asLong());
        assertEquals(new ArrayList<>(), host.changes());
    }
}
