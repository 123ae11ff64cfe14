package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.Disk;
import ccci.EvictionPolicy;
import ccci.EvictionPolicy.Decision;
import ccci.EvictionPolicy.Plan;
import ccci.EvictionPolicy.Settings;
import ccci.HostSnapshot;
import ccci.InUse;
import ccci.LastUse;
import ccci.Threshold;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The eviction order and every reason to keep an image (lib/EvictionPolicy.java), on the fake
 * host's store: least recently used first, only as many as the low watermark needs, never what
 * the one definition of in use protects, never a parent, never a dangling image (the image
 * phase's); untagged registry images (the cache) are candidates.
 */
class EvictionPolicyTest {
    static final long MB = 1_000_000;
    static final Duration DAY = Duration.ofDays(1);

    FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
    FakeState s = host.state();

    /** A tagged image of {@code mb} MB of its own (the fake's own 1 MB layer and the rest). */
    FakeState.Image image(String tag, long mb) {
        FakeState.Image i = tag == null ? s.image() : s.image(tag);
        return mb > 1 ? i.layer(i.id.substring(7, 19) + "-data", (mb - 1) * MB) : i;
    }

    /** The fake's data-root disk of 1000 MB holding {@code usedMb} MB (the store's bytes, the rest other files). */
    Disk diskAt(long usedMb) throws Exception {
        return diskAt(usedMb, 1000);
    }

    Disk diskAt(long usedMb, long capacityMb) throws Exception {
        Path root = Path.of(s.dataRoot);
        s.disk(capacityMb * MB, 0);
        long store = host.measure(root).usedBytes();
        assertTrue(store <= usedMb * MB, "the store alone holds " + store + " bytes");
        s.disk(capacityMb * MB, usedMb * MB - store);
        return host.measure(root);
    }

    String id(String tag) {
        return host.inspectImage(tag).path("Id").asText();
    }

    static Settings settings(int evictTo) {
        return Settings.parse(String.valueOf(evictTo), "24h", Optional.of(new Threshold(85)));
    }

    Plan plan(LastUse record, InUse.Settings keep, int evictTo, Disk disk) {
        return EvictionPolicy.plan(HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now()), keep, record, settings(evictTo), disk, s.now());
    }

    static List<String> names(List<Decision> decisions) {
        return decisions.stream().map(d -> d.image().name()).toList();
    }

    static String reasonFor(Plan plan, String name) {
        List<Decision> all = new ArrayList<>(plan.order());
        all.addAll(plan.kept());
        return all.stream().filter(d -> d.image().name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in the plan: " + names(all))).reason();
    }

    @Test
    void leastRecentlyUsedFirstByTheRecordAndOnlyAsManyAsTheWatermarkNeeds() throws Exception {
        for (String tag : List.of("app:a", "app:b", "app:c", "app:d")) {
            image(tag, 60);
        }
        s.advance(Duration.ofDays(30));
        LastUse record = LastUse.empty()
                .use(id("app:a"), List.of("app:a"), s.now().minus(DAY.multipliedBy(2)))
                .use(id("app:b"), List.of("app:b"), s.now().minus(DAY.multipliedBy(9)))
                .use(id("app:c"), List.of("app:c"), s.now().minus(DAY.multipliedBy(5)))
                .use(id("app:d"), List.of("app:d"), s.now().minus(DAY.multipliedBy(3)));
        // 900 of 1000 MB used (90%); below 80% needs 110 MB gone (79% = 790 MB)
        Plan plan = plan(record, InUse.Settings.NONE, 80, diskAt(900));

        assertEquals(List.of("app:b", "app:c", "app:d", "app:a"), names(plan.order()), "oldest last use first");
        assertEquals(List.of("app:b", "app:c"), names(plan.evicted()), "two images (120 MB) bring 90% below 80%");
        assertEquals(110 * MB, plan.bytesNeeded());
        assertEquals(120 * MB, plan.bytesFreed());
        assertEquals(78, plan.predictedAfter().usedPercent());
        assertTrue(plan.reachesWatermark());
        assertEquals("unused, last use 9d ago (record)", reasonFor(plan, "app:b"));
        assertEquals("not needed: the disk is below 80% without it", reasonFor(plan, "app:a"));
    }

    @Test
    void tiesGoToTheImageThatFreesMoreThenToTheImageId() throws Exception {
        FakeState.Image e = image("x:e", 10);
        FakeState.Image f = image("x:f", 30);
        FakeState.Image d = image("x:d", 10);
        s.advance(Duration.ofDays(10));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 80, diskAt(990));
        List<String> small = e.id.compareTo(d.id) < 0 ? List.of("x:e", "x:d") : List.of("x:d", "x:e");
        assertEquals(List.of("x:f", small.get(0), small.get(1)), names(plan.order()));
        assertEquals(f.id, plan.order().get(0).image().id());
    }

    @Test
    void withoutARecordTheEnginesTagTimeThenTheCreationTimeCountsAndTheReasonSaysWhich() throws Exception {
        image("app:old", 50);
        FakeState.Image cache = image(null, 50).digest("localhost:5000/acc/app@sha256:" + "c".repeat(64))
                .created(s.now().minus(Duration.ofDays(45)));
        s.advance(Duration.ofDays(40));
        FakeState.Image young = image("app:new", 50);
        s.advance(Duration.ofHours(2));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 80, diskAt(900));
        assertEquals(List.of("localhost:5000/acc/app:<none>", "app:old"), names(plan.order()));
        assertEquals("unused, last use 40d 2h ago (the engine's pull or tag time)", reasonFor(plan, "app:old"));
        assertEquals("unused, last use 85d 2h ago (no record, its creation time)", reasonFor(plan, "localhost:5000/acc/app:<none>"));
        assertEquals(cache.id, plan.order().get(0).image().id());
        assertEquals(LastUse.Source.CREATED, plan.order().get(0).lastUse().source());
        assertEquals("pulled or tagged 2h ago (the engine's pull or tag time), within 24h", reasonFor(plan, young.tags().get(0)));
    }

    @Test
    void aTagRecordStandsInForAnImageWithoutOneOfItsOwn() throws Exception {
        image("app:latest", 50);
        s.advance(Duration.ofDays(40));
        LastUse record = LastUse.empty().use("sha256:" + "9".repeat(64), List.of("app:latest"), s.now().minus(Duration.ofHours(3)));
        Plan plan = plan(record, InUse.Settings.NONE, 80, diskAt(900));
        assertTrue(plan.order().isEmpty());
        assertEquals("used 3h ago (record of its tag app:latest), within 24h", reasonFor(plan, "app:latest"));
    }

    @Test
    void neverAnImageInUseOrProtectedNorAParentNorADanglingOne() throws Exception {
        FakeState.Image run = image("web:1", 100);
        FakeState.Image stop = image("job:1", 100);
        FakeState.Image byName = image("tool:1", 100);
        FakeState.RegistryImage pinned = s.registryImage("localhost:5000/acc/api:2", s.now().minus(Duration.ofDays(60)), Map.of("l-api", 100 * MB));
        image("localhost:5000/ci/app:7", 100);
        image("base:stable", 100);
        image("runner:1", 100).label("ci.managed-by", "runner");
        image(null, 100); // dangling, never pulled: the image phase's
        FakeState.Image parent = image("parent:1", 100);
        image("child:1", 10).parent(parent);
        image("free:1", 100);
        FakeState.Image cache = image(null, 100).digest("localhost:5000/acc/old@sha256:" + "b".repeat(64));
        s.container("web", run, "running");
        s.container("old-job", stop, "exited");
        FakeState.Image replaced = s.image("tool:0");
        s.container("made", replaced, "created").ref("tool:1");
        s.service("api", "localhost:5000/acc/api:2@" + pinned.digest()).replicas(0);
        s.service("ci_app", "localhost:5000/ci/app:7").label(HostSnapshot.STACK_LABEL, "ci").replicas(0);
        s.advance(Duration.ofDays(60));
        Plan plan = plan(LastUse.empty(), InUse.Settings.parse(List.of("^base:"), List.of("ci.managed-by")), 10, diskAt(1980, 2000));

        assertEquals(List.of("free:1", "child:1", "localhost:5000/acc/old:<none>").stream().sorted().toList(),
                names(plan.order()).stream().sorted().toList(), "only unused, unprotected images without children are candidates");
        assertEquals("in use by container web (running)", reasonFor(plan, "web:1"));
        assertEquals("in use by container old-job (exited)", reasonFor(plan, "job:1"));
        assertEquals("in use by container made (created, by its name tool:1)", reasonFor(plan, byName.tags().get(0)));
        assertEquals("in use by service api (0 desired, 0 running)", reasonFor(plan, "localhost:5000/acc/api:<none>"));
        assertEquals("in use by stack ci (service ci_app, 0 desired, 0 running)", reasonFor(plan, "localhost:5000/ci/app:7"));
        assertEquals("keep pattern: base:stable matches --keep ^base:", reasonFor(plan, "base:stable"));
        assertEquals("keep label ci.managed-by=runner (--keep-label ci.managed-by)", reasonFor(plan, "runner:1"));
        assertEquals("dangling: left to prune's image phase", reasonFor(plan, "<none>:<none>"));
        assertEquals("parent of child:1: removing it frees nothing while they exist", reasonFor(plan, "parent:1"));
        assertTrue(plan.order().stream().anyMatch(d -> d.image().id().equals(cache.id)), "an untagged registry image is a candidate");
        assertFalse(plan.reachesWatermark(), "210 MB cannot bring 99% below 10%");
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aBaseImageWhoseChildIsUsedIsKeptForItsChild(FakeHost.Store store) throws Exception {
        host = new FakeHost(store);
        s = host.state();
        FakeState.Image base = image("base:1", 100);
        FakeState.Image app = image("app:1", 10);
        if (store == FakeHost.Store.CLASSIC) {
            app.parent(base); // built FROM it here
        } else {
            app.basedOn(base); // the containerd store keeps no parent chain: the layers tell
        }
        s.container("web", app, "running");
        image("junk:1", 20);
        s.advance(Duration.ofDays(30));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 10, diskAt(990));
        assertEquals(List.of("junk:1"), names(plan.order()));
        assertEquals("in use by its child image app:1 is used by container web (running)", reasonFor(plan, "base:1"));
    }

    @Test
    void aServiceNamingTheImageByDigestOnlyProtectsIt() throws Exception {
        String digest = "sha256:" + "ab".repeat(32);
        image("reg.example:5000/app:3", 10).digest("reg.example:5000/app@" + digest);
        s.service("pinned", "reg.example:5000/app@" + digest).replicas(0);
        s.advance(Duration.ofDays(9));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 10, diskAt(990));
        assertEquals("in use by service pinned (0 desired, 0 running)", reasonFor(plan, "reg.example:5000/app:3"));
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImageJustPulledByTagIsAsOldAsItsArrivalWhereTheEngineKeepsThatTime(FakeHost.Store store) throws Exception {
        host = new FakeHost(store);
        s = host.state();
        image("app:used-2d-ago", 50);
        s.advance(Duration.ofDays(30));
        LastUse record = LastUse.empty().use(id("app:used-2d-ago"), List.of(), s.now().minus(DAY.multipliedBy(2)));
        FakeState.RegistryImage pulled = s.registryImage("localhost:5000/acc/app:9", s.now().minus(Duration.ofDays(60)),
                Map.of("l-app-9", 50 * MB));
        host.pull("localhost:5000/acc/app", "9", Optional.empty(), Duration.ofMinutes(1), m -> { });
        Plan plan = plan(record, InUse.Settings.NONE, 10, diskAt(990));
        if (store == FakeHost.Store.CLASSIC) {
            // the classic store keeps no time for a pull (LastTagTime stays zero): without watch's record
            // an image pulled now is as old as its build, and goes first (LastUseWatchTest: with the record it is kept)
            assertEquals(List.of("localhost:5000/acc/app:9", "app:used-2d-ago"), names(plan.order()));
            assertEquals("unused, last use 60d ago (no record, its creation time)", plan.order().get(0).reason());
            return;
        }
        assertEquals("pulled or tagged 0s ago (the engine's pull or tag time), within 24h", reasonFor(plan, "localhost:5000/acc/app:9"),
                "built 60 days ago, pulled now: --min-age protects it");
        s.advance(Duration.ofHours(1));
        Plan later = EvictionPolicy.plan(HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now()), InUse.Settings.NONE, record,
                Settings.parse("10", "1s", Optional.empty()), diskAt(990), s.now());
        assertEquals(List.of("app:used-2d-ago", "localhost:5000/acc/app:9"), names(later.order()),
                "past --min-age it goes after an image used two days ago, not first by its build time");
        assertEquals(pulled.imageId(), later.order().get(1).image().id());
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImagePulledByDigestIsACandidate(FakeHost.Store store) throws Exception {
        host = new FakeHost(store);
        s = host.state();
        FakeState.RegistryImage reg = s.registryImage("localhost:5000/acc/app:9", s.now().minus(Duration.ofDays(60)),
                Map.of("l-app-9", 50 * MB));
        host.pull("localhost:5000/acc/app", reg.digest(), Optional.empty(), Duration.ofMinutes(1), m -> { });
        s.advance(Duration.ofDays(2));
        // the classic store keeps no tag for it (a cached registry image); the containerd store a record named by the digest
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 10, diskAt(990));
        assertEquals(List.of(store == FakeHost.Store.CLASSIC ? "localhost:5000/acc/app:<none>" : "localhost:5000/acc/app@" + reg.digest()),
                names(plan.order()));
    }

    @Test
    void belowTheWatermarkNothingIsNeeded() throws Exception {
        image("app:a", 60);
        s.advance(Duration.ofDays(30));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 80, diskAt(790));
        assertEquals(0, plan.bytesNeeded());
        assertTrue(plan.evicted().isEmpty());
        assertEquals("not needed: the disk is below 80% without it", reasonFor(plan, "app:a"));
    }

    @Test
    void theFreedBytesAreTheUniqueBytesNotTheSharedOnes() throws Exception {
        FakeState.Image a = image("s:1", 30).layer("shared-base", 70 * MB);
        image("s:2", 5).layer("shared-base", 70 * MB);
        s.advance(Duration.ofDays(9));
        Plan plan = plan(LastUse.empty(), InUse.Settings.NONE, 80, diskAt(900));
        assertEquals(100 * MB, a.size());
        assertEquals(30 * MB, plan.order().stream().filter(d -> d.image().id().equals(a.id)).findFirst().orElseThrow().frees());
    }

    @ParameterizedTest
    @ValueSource(longs = {1_000_000_000L, 999_999_937L, 268_435_456L, 123_456_789_012L, 101L})
    void theBytesNeededAreTheFewestThatBringDfsUsePercentBelowTheWatermark(long total) {
        Path root = Path.of("/var/lib/docker");
        for (int evictTo = 1; evictTo <= 100; evictTo += 7) {
            Threshold watermark = new Threshold(evictTo);
            for (long used : new long[] {total, total - 1, total * 9 / 10, total / 2, total * 81 / 100}) {
                Disk disk = new Disk(root, used, total - used);
                long needed = watermark.bytesToGoBelow(disk);
                Disk after = new Disk(root, used - needed, total - used + needed);
                assertTrue(after.usedPercent() < evictTo, "freeing " + needed + " of " + disk + " reaches " + evictTo + "%");
                if (needed > 0) {
                    Disk less = new Disk(root, used - needed + 1, total - used + needed - 1);
                    assertTrue(less.usedPercent() >= evictTo, "one byte less would not: " + disk + " to " + evictTo + "%");
                }
            }
        }
    }

    @Test
    void settingsAreCheckedAtTheEdgeAndQuoteTheInput() {
        Optional<Threshold> t85 = Optional.of(new Threshold(85));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("85", "24h", t85))
                .getMessage().startsWith("--evict-to 85 must be below --threshold 85"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("0", "24h", t85)).getMessage().contains("outside 1-100"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("101", "24h", Optional.empty())).getMessage().contains("outside 1-100"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("eighty", "24h", Optional.empty()))
                .getMessage().startsWith("--evict-to 'eighty'"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("70", "a day", Optional.empty()))
                .getMessage().startsWith("--min-age 'a day'"));
        assertTrue(assertThrows(BadInput.class, () -> InUse.Settings.parse(List.of("(unclosed"), List.of()))
                .getMessage().startsWith("--keep '(unclosed' is not a valid regular expression"));
        assertTrue(assertThrows(BadInput.class, () -> InUse.Settings.parse(List.of(""), List.of()))
                .getMessage().startsWith("--keep is empty"));
        assertTrue(assertThrows(BadInput.class, () -> InUse.Settings.parse(List.of(), List.of("=v")))
                .getMessage().startsWith("--keep-label '=v' has no label key"));
        Settings ok = Settings.parse("80%", "36h", t85);
        assertEquals(80, ok.evictToPercent());
        assertEquals(Duration.ofHours(36), ok.minAge().duration());
    }
}
