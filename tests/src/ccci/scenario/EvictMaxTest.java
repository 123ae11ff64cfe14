package ccci.scenario;

import static ccci.scenario.Peers.eviction;
import static ccci.scenario.Peers.evicted;
import static ccci.scenario.Peers.options;
import static ccci.scenario.Peers.prune;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.EvictionPolicy;
import ccci.EvictionRun;
import ccci.Json;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.Threshold;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * prune --evict-max on the fake host: at most N images removed by eviction in one run, the low
 * watermark and --max-unused-age counted together; the dry run names the ones left for the next
 * run, and the real run leaves exactly those; a removal the engine refuses does not count.
 */
class EvictMaxTest {
    static final Duration DAY = Duration.ofDays(1);

    /** Five unused images of 50 MB, built a day apart (app:1 the oldest), then 60 days pass; the disk 1000 MB at 90%. */
    static FakeHost host() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        for (int i = 1; i <= 5; i++) {
            Peers.image(s, "ccci/app:" + i, 50, s.now());
            s.advance(DAY);
        }
        s.advance(DAY.multipliedBy(60));
        Peers.diskAt(host, 900, 1000);
        return host;
    }

    @Test
    void theDryRunNamesWhatIsLeftForTheNextRunAndTheRealRunLeavesIt() throws Exception {
        // below 70% needs 201 MB: five images; --evict-max 2 removes two
        FakeHost dry = host();
        PruneRun.Report predicted = prune(dry, options().evictTo(70).evictMax(2), true);
        String text = PruneFormat.text(predicted);
        System.out.println("[--evict-max 2, dry run]\n" + text);
        assertEquals(List.of("ccci/app:1", "ccci/app:2"), evicted(predicted), text);
        EvictionPolicy.Plan plan = eviction(predicted).plan();
        assertEquals(List.of("ccci/app:3", "ccci/app:4", "ccci/app:5"), plan.deferred().stream().map(d -> d.image().name()).toList(), text);
        assertTrue(plan.deferred().get(0).reason().startsWith("left for the next run (--evict-max 2): unused, last use "), text);
        assertTrue(text.contains("\n  next  "), text);
        assertTrue(text.contains("\nleft for the next run by --evict-max 2: ccci/app:3; ccci/app:4; ccci/app:5\n"), text);
        assertTrue(text.contains("eviction cannot reach 70%: about 80% after removing what --evict-max allows"), text);
        JsonNode json = Json.mapper().readTree(PruneFormat.json(predicted));
        assertEquals(3, json.path("eviction").path("leftForNextRun").size());
        assertEquals(2, json.path("eviction").path("evictMax").asInt());
        assertTrue(json.path("eviction").path("order").get(2).path("leftForNextRun").asBoolean());

        FakeHost real = host();
        PruneRun.Report done = prune(real, options().evictTo(70).evictMax(2), false);
        String doneText = PruneFormat.text(done);
        System.out.println("[--evict-max 2, real run]\n" + doneText);
        assertEquals(evicted(predicted), evicted(done), doneText);
        assertEquals(List.of("ccci/app:3", "ccci/app:4", "ccci/app:5"),
                eviction(done).leftForNextRun().stream().map(d -> d.image().name()).toList(), doneText);
        assertTrue(doneText.contains("\n--evict-max 2 reached: left for the next run: ccci/app:3; ccci/app:4; ccci/app:5\n"), doneText);
        assertTrue(PruneFormat.summary(done).contains(" evict_left=3 "), PruneFormat.summary(done));
        assertEquals(3, real.state().topLevelImages().size());
    }

    @Test
    void ageAndSpaceCountTogether() throws Exception {
        // all five unused for over 30 days; below the threshold only age evicts, and only three
        FakeHost host = host();
        Peers.diskAt(host, 500, 1000);
        PruneRun.Report report = prune(host, options().maxUnusedAge("30d").evictMax(3), false);
        assertEquals(List.of("ccci/app:1", "ccci/app:2", "ccci/app:3"), evicted(report), PruneFormat.text(report));
        assertEquals(2, eviction(report).leftForNextRun().size());

        // over the threshold: the phases, then age and space together, still three at most
        FakeHost over = host();
        PruneRun.Report both = prune(over, options().evictTo(70).maxUnusedAge("63d").evictMax(3), false);
        List<EvictionRun.Removal> removed = eviction(both).removed();
        assertEquals(3, removed.size(), PruneFormat.text(both));
        assertEquals(List.of(Optional.of(EvictionPolicy.Cause.AGE), Optional.of(EvictionPolicy.Cause.AGE), Optional.of(EvictionPolicy.Cause.SPACE)),
                removed.stream().map(r -> r.decision().cause()).toList(), "app:1 and app:2 are 65 and 64 days unused, app:3 63 days\n"
                        + PruneFormat.text(both));
    }

    @Test
    void aRemovalTheEngineRefusesDoesNotCount() throws Exception {
        FakeHost host = host();
        FakeState s = host.state();
        String first = host.inspectImage("ccci/app:1").path("Id").asText();
        host.beforeRequest(line -> {
            if (line.equals("DELETE /images/ccci/app:1")) {
                s.container("late", s.imageById(first).orElseThrow(), "created");
            }
        });
        PruneRun.Report report = prune(host, options().evictTo(70).evictMax(2), false);
        assertEquals(List.of("ccci/app:2", "ccci/app:3"), evicted(report), PruneFormat.text(report));
        assertFalse(eviction(report).removals().get(0).removed());
    }

    @Test
    void itNeedsSomethingToLimit() {
        Optional<Threshold> t80 = Optional.of(new Threshold(80));
        assertEquals("--evict-max limits eviction: give --evict-to or --max-unused-age with it",
                assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse(null, "24h", null, "3", t80, 0)).getMessage());
        assertEquals("--evict-max 0 is below 1 (leave it out for no limit)",
                assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse("70", "24h", null, "0", t80, 0)).getMessage());
        assertTrue(assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse("70", "24h", null, "lots", t80, 0)).getMessage()
                .startsWith("--evict-max 'lots' is not a whole number"));
        assertEquals(5, EvictionPolicy.Settings.parse("70", "24h", null, "5", t80, 0).evictMax().getAsInt());
    }
}
