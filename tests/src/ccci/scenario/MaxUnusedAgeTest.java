package ccci.scenario;

import static ccci.scenario.Peers.MB;
import static ccci.scenario.Peers.eviction;
import static ccci.scenario.Peers.evicted;
import static ccci.scenario.Peers.options;
import static ccci.scenario.Peers.prune;
import static ccci.scenario.Peers.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import ccci.EvictionPolicy;
import ccci.EvictionRun;
import ccci.InUse;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.Threshold;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * prune --max-unused-age on the fake host (kubelet's imageMaximumGCAge): eviction's candidates
 * unused for longer than AGE go even when the disk is below the threshold (the one case the disk
 * gate does not decide), while the stack and convergence gates must still hold; nothing that
 * eviction protects goes (in use, --keep, a parent, recent use, dangling debris); the dry run
 * lists what the real run removes; the daily disk-first no-op asks the engine only with this
 * option; over the threshold it runs beside the watermark, each removal saying why.
 */
class MaxUnusedAgeTest {
    static final Duration DAY = Duration.ofDays(1);

    @TempDir Path dir;

    /**
     * At T-60d: old:1 (20 MB) and old:2 (10 MB) nobody uses, recent:1 used 5 days ago (by the
     * record), used:1 with a stopped container, keep:1 matched by --keep, base:1 with a child
     * child:1 (used by a container), a cached registry image pulled by digest, debris (untagged, no
     * digest). Then 60 days pass. The disk: 1000 MB, 50% in use (below 80%).
     */
    FakeHost host(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState s = host.state();
        Instant built = s.now();
        Peers.image(s, "ccci/old:1", 20, built.minus(DAY.multipliedBy(3)));
        Peers.image(s, "ccci/old:2", 10, built.minus(DAY.multipliedBy(2)));
        Peers.image(s, "ccci/recent:1", 10, built);
        FakeState.Image used = Peers.image(s, "ccci/used:1", 10, built);
        s.container("stopped-user", used, "exited");
        Peers.image(s, "ccci/keep:1", 10, built);
        FakeState.Image base = Peers.image(s, "ccci/base:1", 10, built);
        FakeState.Image child = Peers.image(s, "ccci/child:1", 5, built).basedOn(base);
        s.container("child-user", child, "running");
        FakeState.RegistryImage cached = s.registryImage("localhost:5000/acc/cached:1", built.minus(DAY), Map.of("l-cached", 10 * MB));
        host.pull("localhost:5000/acc/cached", cached.digest(), Optional.empty(), Duration.ofSeconds(5), m -> {});
        Peers.image(s, null, 5, built.minus(DAY.multipliedBy(90))); // debris: the image phase's, and it does not run below the threshold
        s.advance(DAY.multipliedBy(60));
        Peers.diskAt(host, 500, 1000);
        return host;
    }

    /** The record: recent:1 used 5 days ago. */
    Peers.Options ageOnly(FakeHost host) throws Exception {
        Path file = dir.resolve("last-use.json");
        LastUse.save(file, Peers.used(host, host.state().now().minus(DAY.multipliedBy(5)), "ccci/recent:1"), Optional.empty());
        return options().maxUnusedAge("30d").keep(InUse.Settings.parse(List.of("^ccci/keep:"), List.of())).lastUse(file);
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void belowTheThresholdOnlyTheImagesUnusedForLongerGoAndNoPhaseRuns(FakeHost.Store store) throws Exception {
        FakeHost host = host(store);
        PruneRun.Report report = prune(host, ageOnly(host), false);
        String text = PruneFormat.text(report);
        System.out.println("[--max-unused-age 30d, " + store + ", real run]\n" + text);

        assertEquals(PruneRun.Outcome.PRUNED, report.outcome(), text);
        assertEquals(ExitCodes.OK, report.exitCode(), text);
        assertEquals(List.of(), report.phases(), "no phase runs below the threshold:\n" + text);
        // least recently used first: on the classic store the cache image's last use is its creation (61 days ago), on the
        // containerd store its pull (60 days ago, as old:1 and old:2, which go first then: they free more or sort first by ID)
        assertEquals(store == FakeHost.Store.CLASSIC ? List.of("cached", "ccci/old:1", "ccci/old:2") : List.of("ccci/old:1", "ccci/old:2", "cached"),
                evicted(report).stream().map(n -> n.startsWith("localhost:5000/acc/cached") ? "cached" : n).toList(), text);
        assertTrue(host.changes().stream().allMatch(c -> c.startsWith("DELETE /images/")), host.changes().toString());
        assertFalse(host.changes().stream().anyMatch(c -> c.contains("/prune")), "no engine prune: " + host.changes());
        assertEquals("unused for 60d, longer than --max-unused-age 30d", reason(report, "ccci/old:1"));
        assertTrue(text.contains("evicted "), text);
        assertTrue(text.contains("(unused for 60d, longer than --max-unused-age 30d; last use "), text);
        assertTrue(text.contains("eviction by --max-unused-age 30d: removed 3 images"), text);
        assertTrue(report.evictionNote().orElseThrow().startsWith("the disk is below the threshold (50% of /var/lib/docker < 80%): "
                + "only --max-unused-age 30d evicts"), report.evictionNote().orElseThrow());
        assertTrue(PruneFormat.summary(report).contains(" evicted=3 ") && PruneFormat.summary(report).contains(" evicted_age=3 "),
                PruneFormat.summary(report));
        for (String kept : List.of("ccci/recent:1", "ccci/used:1", "ccci/keep:1", "ccci/base:1", "ccci/child:1")) {
            assertTrue(host.imageTags().values().stream().anyMatch(t -> t.contains(kept)), kept + " stays\n" + text);
        }
        assertTrue(reason(report, "ccci/recent:1").startsWith("used within --max-unused-age 30d (last use 5d ago)"), reason(report, "ccci/recent:1"));
        assertTrue(reason(report, "ccci/used:1").startsWith("in use by container stopped-user"), reason(report, "ccci/used:1"));
        assertTrue(reason(report, "ccci/keep:1").startsWith("keep pattern"), reason(report, "ccci/keep:1"));
        assertTrue(reason(report, "ccci/base:1").startsWith("in use by its child image ccci/child:1"), reason(report, "ccci/base:1"));
        assertEquals("dangling: left to prune's image phase", reason(report, "<none>:<none>"));
        assertEquals(1, host.state().topLevelImages().stream().filter(i -> i.tags().isEmpty() && i.digests().isEmpty()).count(),
                "the debris stays: the image phase does not run below the threshold");
    }

    @Test
    void theDryRunListsWhatTheRealRunRemoves() throws Exception {
        FakeHost dry = host(FakeHost.Store.CLASSIC);
        PruneRun.Report predicted = prune(dry, ageOnly(dry), true);
        assertEquals(PruneRun.Outcome.DRY_RUN, predicted.outcome());
        assertEquals(List.of(), dry.changes(), "a dry run changes nothing");
        String text = PruneFormat.text(predicted);
        System.out.println("[--max-unused-age 30d, dry run]\n" + text);
        assertTrue(text.contains("eviction by --max-unused-age 30d (disk 50%): would remove 3 images"), text);
        assertTrue(text.contains("\n  age   "), text);
        assertTrue(text.contains("a real run only evicts by --max-unused-age 30d (no phase runs)"), text);

        FakeHost real = host(FakeHost.Store.CLASSIC);
        PruneRun.Report done = prune(real, ageOnly(real), false);
        assertEquals(evicted(predicted), evicted(done));
    }

    @Test
    void theWorkloadGatesStillHold() throws Exception {
        FakeHost stack = host(FakeHost.Store.CLASSIC);
        stack.state().service("abcd-123456_ci_commoninternet_net_app", "ccci/used:1");
        PruneRun.Report blocked = prune(stack, ageOnly(stack), false);
        assertEquals(PruneRun.Outcome.NOOP, blocked.outcome(), PruneFormat.text(blocked));
        assertEquals(List.of(), stack.changes(), "a live stack: nothing evicted, whatever its age");
        assertTrue(blocked.eviction().isEmpty());

        FakeHost converging = host(FakeHost.Store.CLASSIC);
        converging.state().service("web", "ccci/used:1").converging();
        PruneRun.Report waits = prune(converging, ageOnly(converging), false);
        assertEquals(PruneRun.Outcome.NOOP, waits.outcome(), PruneFormat.text(waits));
        assertEquals(List.of(), converging.changes());
        assertTrue(PruneFormat.text(waits).contains("convergence: 1 service converging: web 0/1"), PruneFormat.text(waits));
    }

    @Test
    void theDailyNoOpAsksTheEngineOnlyWithTheOption() throws Exception {
        FakeHost host = host(FakeHost.Store.CLASSIC);
        PruneRun.Report without = prune(host, options().explicitPath(), false);
        assertEquals(PruneRun.Outcome.NOOP, without.outcome());
        assertEquals(List.of(), host.requests(), "the disk alone decides: the engine is not asked");

        PruneRun.Report with = prune(host, ageOnly(host).explicitPath(), false);
        assertFalse(host.requests().isEmpty(), "with --max-unused-age the workload gates are asked");
        assertEquals(3, evicted(with).size(), PruneFormat.text(with));

        // nothing unused for long enough: a no-op that says so
        PruneRun.Report again = prune(host, ageOnly(host).explicitPath(), false);
        String text = PruneFormat.text(again);
        assertEquals(PruneRun.Outcome.NOOP, again.outcome(), text);
        assertTrue(text.startsWith("keeping local image cache, nothing to do: disk: 46% of /var/lib/docker < 80%"), text);
        assertTrue(text.contains("eviction by --max-unused-age 30d: removed 0 images"), text);
        assertTrue(host.changes().isEmpty(), host.changes().toString());
    }

    @Test
    void overTheThresholdAgeAndSpaceEvictTogetherEachSayingWhy() throws Exception {
        FakeHost host = host(FakeHost.Store.CLASSIC);
        Peers.diskAt(host, 900, 1000);
        // recent:1, used 5 days ago, is not old enough for its age; the watermark (75%) needs it too
        PruneRun.Report report = prune(host, ageOnly(host).evictTo(75).minAge("1d"), false);
        String text = PruneFormat.text(report);
        Map<String, EvictionRun.Removal> removals = new java.util.LinkedHashMap<>();
        eviction(report).removals().forEach(r -> removals.put(r.decision().image().name().replaceFirst("^localhost:5000/acc/cached.*", "cached"), r));
        assertEquals(Optional.of(EvictionPolicy.Cause.AGE), removals.get("ccci/old:1").decision().cause(), text);
        assertEquals(Optional.of(EvictionPolicy.Cause.AGE), removals.get("cached").decision().cause(), text);
        assertEquals(Optional.of(EvictionPolicy.Cause.SPACE), removals.get("ccci/recent:1").decision().cause(), text);
        assertTrue(removals.get("ccci/recent:1").decision().reason().startsWith("unused, last use 5d ago (record)"), text);
        assertTrue(text.contains("eviction to below 75% and by --max-unused-age 30d: removed"), text);
        assertTrue(report.phases().size() == 3, "over the threshold the phases run first");
    }

    @Test
    void aUserTheEngineMeetsAtTheLastDeleteKeepsTheImageWhole() throws Exception {
        FakeHost host = host(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        String oldId = host.inspectImage("ccci/old:1").path("Id").asText();
        host.tagImage(oldId, "mirror/old", "1");
        s.advance(DAY.multipliedBy(40)); // the new tag too is old
        host.beforeRequest(line -> {
            if (line.equals("DELETE /images/mirror/old:1")) { // the last name: the engine's own check of its containers
                s.container("late", s.imageById(oldId).orElseThrow(), "created");
            }
        });
        PruneRun.Report report = prune(host, ageOnly(host), false);
        EvictionRun.Removal old = eviction(report).removals().stream().filter(r -> r.decision().image().id().equals(oldId)).findFirst()
                .orElseThrow();
        assertFalse(old.removed(), old.detail());
        assertTrue(old.detail().startsWith("kept: a user appeared (the engine: "), old.detail());
        assertEquals(List.of("ccci/old:1", "mirror/old:1"), host.imageTags().get(oldId).stream().sorted().toList(), "every tag put back");
    }

    @Test
    void itsSettingsAreCheckedAtTheEdge() {
        Optional<Threshold> t80 = Optional.of(new Threshold(80));
        BadInput shorter = assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse(null, "24h", "12h", null, t80, 0));
        assertEquals("--max-unused-age 12h must be longer than --min-age 24h (an image used within --min-age is never evicted)",
                shorter.getMessage());
        assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse(null, "24h", "24h", null, t80, 0));
        assertTrue(assertThrows(BadInput.class, () -> EvictionPolicy.Settings.parse(null, "24h", "a month", null, t80, 0))
                .getMessage().startsWith("--max-unused-age 'a month' is not an age"));
        EvictionPolicy.Settings alone = EvictionPolicy.Settings.parse(null, "24h", "30d", null, t80, 0);
        assertEquals(Optional.empty(), alone.watermark());
        assertEquals(Duration.ofDays(30), alone.maxUnusedAge().orElseThrow().duration());
    }
}
