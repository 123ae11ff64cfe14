package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.PrunePolicy;
import ccci.PrunePolicy.Item;
import ccci.PrunePolicy.Phase;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Dry run = real run, on the fake host: for objects on both sides of each phase's age (every kind
 * prune looks at, at five ages from 30 minutes to 10 days), several --until values and both image
 * stores, the plan a dry run shows is what a real run on the same state removes, and both are what
 * the age alone says: older than --until and nothing keeps it. The containers and build-cache phases
 * are the engine's own prunes (the fake applies the until filter they send), so their request and
 * their prediction must agree; the image phase deletes, by ID, exactly what the plan lists.
 */
class PrunePlanTest {
    static final List<Duration> AGES = List.of(Duration.ofMinutes(30), Duration.ofHours(3), Duration.ofDays(3),
            Duration.ofDays(6), Duration.ofDays(10));
    static final List<String> UNTILS = List.of("90m", "24h", "1d12h", "4d", "7d");

    /** The host, and what the age alone says of each object it holds: removed (true) or kept. */
    record Fixture(FakeHost host, Map<String, Boolean> expected) {
        Set<String> expectedRemoved() {
            Set<String> ids = new TreeSet<>();
            expected.forEach((id, removed) -> {
                if (removed) {
                    ids.add(id);
                }
            });
            return ids;
        }
    }

    /**
     * At each age: a stopped container; a running one on an untagged image of that age (kept); an
     * untagged image; a tagged one (kept); an untagged image held only by a stopped container of
     * that age (freed by phase 1); a registry repository with its newest image (the cache, kept)
     * and an older pull a day older (superseded; on the containerd store both keep the name@digest
     * record the pull left, so they are tagged); a build cache record last used then, and an
     * internal one never used (kept). Untagged images get the engine's record time on the
     * containerd store, which ages them by it.
     */
    static Fixture fixture(FakeHost.Store store, Until until) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        s.advance(Duration.ofMillis(500)); // a clock between whole seconds, as the engine's is
        Instant now = s.now();
        Map<String, Boolean> expected = new java.util.LinkedHashMap<>();
        FakeState.Image base = s.image("ccci/base:1").created(now.minus(Duration.ofDays(30)));
        expected.put(base.id, false);
        for (Duration age : AGES) {
            Instant then = now.minus(age);
            boolean old = age.compareTo(until.duration()) > 0;
            long seconds = age.toSeconds();

            expected.put(s.container("aged-" + seconds, base, "exited").created(then).id, old);

            FakeState.Image used = untagged(s, store, then);
            expected.put(used.id, false);
            expected.put(s.container("running-" + seconds, used, "running").created(then).id, false);

            expected.put(untagged(s, store, then).id, old);
            expected.put(s.image("ccci/tagged:" + seconds).created(then).id, false);

            FakeState.Image held = untagged(s, store, then);
            expected.put(held.id, old);
            expected.put(s.container("holder-" + seconds, held, "exited").created(then).id, old);

            String repository = "localhost:5000/acc/app" + seconds;
            FakeState.Image newest = untagged(s, store, then).digest(repository + "@" + OnFake.digest("new" + seconds));
            expected.put(newest.id, false);
            Instant earlier = then.minus(Duration.ofDays(1));
            FakeState.Image superseded = untagged(s, store, earlier).digest(repository + "@" + OnFake.digest("old" + seconds));
            // on the containerd store a pull by digest leaves a record of that name (listed among RepoTags): tagged, kept
            expected.put(superseded.id, store == FakeHost.Store.CLASSIC && age.plusDays(1).compareTo(until.duration()) > 0);

            expected.put(s.buildCache("regular", 1000, Optional.of(then)).id, old);
            expected.put(s.buildCache("internal", 1000, Optional.empty()).id, false);
        }
        s.volume("data");
        host.clearRequests();
        return new Fixture(host, expected);
    }

    static FakeState.Image untagged(FakeState s, FakeHost.Store store, Instant then) {
        FakeState.Image image = s.image().created(then);
        return store == FakeHost.Store.CONTAINERD ? image.lastTagTime(then) : image;
    }

    static Stream<Arguments> storesAndUntils() {
        return Stream.of(FakeHost.Store.values()).flatMap(store -> UNTILS.stream().map(until -> Arguments.of(store, until)));
    }

    @ParameterizedTest(name = "{0} --until {1}")
    @MethodSource("storesAndUntils")
    void theDryRunsPlanIsWhatTheRealRunRemovesAndWhatTheAgeSays(FakeHost.Store store, String text) {
        Until until = Until.parse(text);
        Fixture dry = fixture(store, until);
        PruneRun.Report planned = OnFake.prune(dry.host(), text, true);
        assertEquals(PruneRun.Outcome.DRY_RUN, planned.outcome(), PruneFormat.text(planned));
        assertEquals(List.of(), dry.host().changes(), "a dry run changes nothing");
        PrunePolicy.Plan plan = planned.plan().orElseThrow();
        Set<String> wouldRemove = ids(plan.removed());
        assertEquals(dry.expectedRemoved(), wouldRemove, "the plan removes what is older than " + text + " and unprotected; it differs on\n"
                + differences(plan, dry.expectedRemoved()));
        for (Phase phase : Phase.values()) {
            assertTrue(plan.phase(phase).stream().anyMatch(i -> !i.remove()), phase.key + ": something is kept");
        }
        assertTrue(plan.kept().stream().anyMatch(i -> i.kind().equals("volume")), "volumes are listed as kept");

        Fixture real = fixture(store, until);
        Set<String> before = OnFake.inventory(real.host());
        real.host().clearRequests();
        PruneRun.Report ran = OnFake.prune(real.host(), text, false);
        assertTrue(ran.ran(), PruneFormat.text(ran));
        List<String> changes = real.host().changes();
        Set<String> gone = new TreeSet<>(before);
        gone.removeAll(OnFake.inventory(real.host()));
        Set<String> goneIds = new TreeSet<>(gone.stream().map(g -> g.substring(g.indexOf(' ') + 1)).toList());
        assertEquals(wouldRemove, goneIds, "the real run removes exactly what the dry run listed\n" + changes);
        Set<String> reported = new TreeSet<>();
        ran.phases().forEach(p -> reported.addAll(p.removedIds()));
        assertEquals(wouldRemove, reported, "and reports it");

        String age = until.engineFilter();
        List<String> expectedChanges = new ArrayList<>();
        expectedChanges.add("POST /containers/prune?filters={\"until\":[\"" + age + "\"]}");
        plan.images().stream().filter(Item::remove).forEach(i -> expectedChanges.add("DELETE /images/" + i.id()));
        expectedChanges.add("POST /build/prune?filters={\"until\":[\"" + age + "\"]}");
        assertEquals(expectedChanges, changes, "each phase asks the engine for its own age, and the image phase deletes by ID what the plan lists");
    }

    /** The items whose fate differs from the expectation, with the plan's reason: what a policy edit changed. */
    static String differences(PrunePolicy.Plan plan, Set<String> expectedRemoved) {
        StringBuilder out = new StringBuilder();
        for (Phase phase : Phase.values()) {
            for (Item i : plan.phase(phase)) {
                if (i.remove() != expectedRemoved.contains(i.id())) {
                    out.append(i.remove() ? "  removes " : "  keeps   ").append(i.kind()).append(' ')
                            .append(i.id().replaceFirst("^sha256:", "").substring(0, 12)).append(' ').append(i.name())
                            .append(": ").append(i.reason()).append('\n');
                }
            }
        }
        return out.toString();
    }

    static Set<String> ids(List<Item> items) {
        return new TreeSet<>(items.stream().map(Item::id).toList());
    }

    /**
     * A three-day-old untagged image: removed under --until 24h, kept under 7d, saying why. On the
     * classic store three days old by its build time (within 7d its creation is a recent use); on
     * the containerd store built ten days ago but recorded three days ago, which that store ages by.
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImageThreeDaysOldGoesUnder24hAndStaysUnder7d(FakeHost.Store store) {
        for (String until : List.of("24h", "7d")) {
            Fixture f = fixture(store, Until.parse(until));
            FakeState s = f.host().state();
            Instant threeDays = s.now().minus(Duration.ofDays(3));
            FakeState.Image band = store == FakeHost.Store.CONTAINERD
                    ? s.image().created(s.now().minus(Duration.ofDays(10))).lastTagTime(threeDays)
                    : s.image().created(threeDays);
            Item item = planned(OnFake.prune(f.host(), until, true), band.id);
            String record = " (by its local record, " + threeDays.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ")";
            if (until.equals("24h")) {
                assertTrue(item.remove(), item.toString());
                assertEquals("dangling and older than 24h" + (store == FakeHost.Store.CONTAINERD ? record : ""), item.reason());
            } else {
                assertEquals(PrunePolicy.Why.YOUNG, item.why(), item.toString());
                assertEquals(store == FakeHost.Store.CONTAINERD ? "dangling, younger than 7d" + record
                        : "created 3d ago (no record, its creation time), within 7d", item.reason());
            }
        }
    }

    static Item planned(PruneRun.Report report, String id) {
        return report.plan().orElseThrow().images().stream().filter(i -> i.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not in the plan\n" + PruneFormat.text(report)));
    }

    /**
     * Container prune keeps what was created after now - until; the listing gives whole seconds.
     * A container a second older than the cutoff's second goes, one a second younger stays, in the
     * plan and in the run alike; one from the cutoff's own second the plan keeps (its fraction of a
     * second decides for the engine, and the listing does not show it).
     */
    @Test
    void theEnginesCutoffIsPredictedToTheSecond() {
        FakeHost host = OnFake.fullHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.advance(Duration.ofMillis(500));
        FakeState.Image base = s.image("ccci/base:1");
        Instant cutoffSecond = s.now().minus(Duration.ofDays(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        FakeState.Container older = s.container("a-second-older", base, "exited").created(cutoffSecond.minusSeconds(1));
        FakeState.Container younger = s.container("a-second-younger", base, "exited").created(cutoffSecond.plusSeconds(1));
        FakeState.Container same = s.container("the-same-second", base, "exited").created(cutoffSecond.plusMillis(700));
        PruneRun.Report dry = OnFake.prune(host, "24h", true);
        assertEquals(Set.of(older.id), ids(dry.plan().orElseThrow().removed()), PruneFormat.text(dry));
        PruneRun.Report real = OnFake.prune(host, "24h", false);
        assertEquals(List.of(older.id), real.phases().get(0).removedIds());
        assertTrue(s.containerNamed(younger.name).isPresent() && s.containerNamed(same.name).isPresent());
    }

    /**
     * The classic store ages an untagged image by its build time, the containerd store by its own
     * record of it (when it arrived untagged or lost its tag), to the nanosecond: an image built days
     * ago that arrived a moment ago goes under 24h on the first and stays on the second. (An image
     * without a record time, which no engine here shows: the pure PrunePolicyTest.)
     */
    @Test
    void theContainerdStoreAgesAnUntaggedImageByItsRecord() {
        FakeHost host = OnFake.fullHost(FakeHost.Store.CONTAINERD);
        FakeState s = host.state();
        Instant built = Instant.parse("2019-01-01T00:00:00Z");
        Instant cutoff = s.now().minus(Duration.ofDays(1));
        FakeState.Image arrivedNow = s.image().created(built).lastTagTime(s.now().minus(Duration.ofMinutes(30)));
        FakeState.Image arrivedDaysAgo = s.image().created(built).lastTagTime(s.now().minus(Duration.ofDays(3)));
        FakeState.Image justBefore = s.image().created(built).lastTagTime(cutoff.minusNanos(1));
        FakeState.Image atCutoff = s.image().created(built).lastTagTime(cutoff);
        PruneRun.Report dry = OnFake.prune(host, "24h", true);
        assertEquals(Set.of(arrivedDaysAgo.id, justBefore.id), ids(dry.plan().orElseThrow().removed()), PruneFormat.text(dry));
        assertEquals("dangling, younger than 24h (by its local record, 2026-12-07T11:30:00Z)", planned(dry, arrivedNow.id).reason());
        assertEquals("dangling and older than 24h (by its local record, 2026-12-04T12:00:00Z)", planned(dry, arrivedDaysAgo.id).reason());
        assertEquals(PrunePolicy.Why.YOUNG, planned(dry, atCutoff.id).why());

        PruneRun.Report real = OnFake.prune(host, "24h", false);
        assertEquals(new TreeSet<>(Set.of(arrivedDaysAgo.id, justBefore.id)), new TreeSet<>(real.phases().get(1).removedIds()));
        assertTrue(s.imageById(arrivedNow.id).isPresent() && s.imageById(atCutoff.id).isPresent());

        // the same images on the classic store: aged by their build time, all old
        FakeHost classic = OnFake.fullHost(FakeHost.Store.CLASSIC);
        FakeState c = classic.state();
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(c.image().created(built).lastTagTime(c.now()).id);
        }
        assertEquals(new TreeSet<>(all), ids(OnFake.prune(classic, "24h", true).plan().orElseThrow().removed()));
    }

    /** BuildKit removes a record that was never used, whatever its age; one used within until stays. */
    @Test
    void aBuildCacheRecordNeverUsedIsRemovedWhateverItsAge() {
        FakeHost host = OnFake.fullHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.BuildCache fresh = s.buildCache("regular", 1000, Optional.empty());
        FakeState.BuildCache usedNow = s.buildCache("regular", 1000, Optional.of(s.now().minusSeconds(5)));
        PruneRun.Report dry = OnFake.prune(host, "24h", true);
        Item item = dry.plan().orElseThrow().buildCache().stream().filter(i -> i.id().equals(fresh.id)).findFirst().orElseThrow();
        assertTrue(item.remove(), item.toString());
        assertEquals("never used (BuildKit removes it whatever its age)", item.reason());
        PruneRun.Report real = OnFake.prune(host, "24h", false);
        assertEquals(List.of(fresh.id), real.phases().get(2).removedIds());
        assertTrue(OnFake.inventory(host).contains("build-cache " + usedNow.id));
    }
}
