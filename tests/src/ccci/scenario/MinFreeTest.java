package ccci.scenario;

import static ccci.scenario.Peers.MB;
import static ccci.scenario.Peers.eviction;
import static ccci.scenario.Peers.evicted;
import static ccci.scenario.Peers.options;
import static ccci.scenario.Peers.prune;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Disk;
import ccci.Json;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * prune --min-free on the fake host: a second disk trigger and eviction target, decided in one
 * place (Threshold; its pure cases in ThresholdTest). The gate holds when fewer bytes than the
 * floor are available even below the percent, and says so; eviction goes on until the disk is
 * below --evict-to and the floor is free; the dry run lists what the real run removes.
 */
class MinFreeTest {
    static final Path ROOT = Path.of(Peers.ROOT);

    /** Five unused images of 40 MB built 30 days ago; the disk is 1000 MB, 600 MB used: 60%, 400 MB free. */
    static FakeHost host() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        for (int i = 1; i <= 5; i++) {
            Peers.image(s, "ccci/app:" + i, 40, s.now());
            s.advance(Duration.ofHours(1));
        }
        s.advance(Duration.ofDays(30));
        Peers.diskAt(host, 600, 1000);
        return host;
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void theFloorOpensTheGateAndEvictionGoesOnUntilItIsFree(boolean explicitPath) throws Exception {
        // below 80% and below --evict-to 70 already; 400 MB free < 500 MB: 100 MB must go (three images of 40 MB)
        Peers.Options opts = options().evictTo(70).minFree(500 * MB).minAge("1d");
        if (explicitPath) {
            opts.explicitPath();
        }
        FakeHost dry = host();
        PruneRun.Report predicted = prune(dry, opts, true);
        String text = PruneFormat.text(predicted);
        System.out.println("[--min-free 500M --evict-to 70, dry run]\n" + text);
        assertTrue(text.startsWith("gates hold: 400.0 MB available on /var/lib/docker < --min-free 500.0 MB (60% of /var/lib/docker < 80%);"), text);
        assertTrue(text.contains("eviction to below 70% with at least 500.0 MB free (disk 60% after the phases, 100.0 MB needed): would remove 3 images"), text);
        assertEquals(List.of("ccci/app:1", "ccci/app:2", "ccci/app:3"), evicted(predicted), text);
        JsonNode json = Json.mapper().readTree(PruneFormat.json(predicted));
        assertEquals("min-free", json.path("gates").get(0).path("trigger").asText(), json.toPrettyString());
        assertEquals(500 * MB, json.path("eviction").path("minFreeBytes").asLong());

        FakeHost real = host();
        PruneRun.Report done = prune(real, opts, false);
        assertEquals(evicted(predicted), evicted(done), PruneFormat.text(done));
        assertEquals(PruneRun.Outcome.PRUNED, done.outcome(), PruneFormat.text(done));
        Disk after = real.measure(ROOT);
        assertTrue(after.availableBytes() >= 500 * MB, "at least the floor free: " + after);
        assertTrue(eviction(done).reachedWatermark());
    }

    @Test
    void withoutTheFloorTheSameDiskIsANoOp() throws Exception {
        FakeHost host = host();
        PruneRun.Report report = prune(host, options().evictTo(70).minAge("1d").explicitPath(), false);
        assertEquals(PruneRun.Outcome.NOOP, report.outcome());
        assertEquals(List.of(), host.requests(), "the disk-first no-op: the engine is not asked");
    }

    @Test
    void notEnoughSaysWhatMustGoForTheFloor() throws Exception {
        // nothing may go (a --keep on every image): the run is insufficient, and says how much is missing
        FakeHost host = host();
        PruneRun.Report report = prune(host, options().minFree(500 * MB).keep(ccci.InUse.Settings.parse(List.of("^ccci/"), List.of())), false);
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.INSUFFICIENT, report.outcome(), text);
        assertTrue(text.contains("\nWARN not enough: still 400.0 MB available on /var/lib/docker < --min-free 500.0 MB "
                + "(60% of /var/lib/docker < 80%) after pruning, which reclaimed 0 B; 100.0 MB more must go to get below 80% "
                + "with at least 500.0 MB free;"), text);
        assertTrue(text.startsWith("nothing removable: the disk is at or above the threshold and the policy keeps every image (5 keep)\n"), text);
    }
}
