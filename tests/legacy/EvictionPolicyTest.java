package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import ccci.EvictionPolicy.Decision;
import ccci.EvictionPolicy.Plan;
import ccci.EvictionPolicy.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The eviction order and every reason to keep an image, on snapshots built by hand (no engine). */
class EvictionPolicyTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final long MB = 1L << 20;
    static final Path ROOT = Path.of("/var/lib/docker");

    static CacheFacts.Image image(String id, String tag, long sizeMb, Duration createdAgo) {
        return new CacheFacts.Image("sha256:" + id, tag == null ? List.of() : List.of(tag), List.of(),
                NOW.minus(createdAgo), sizeMb * MB, 0, 0);
    }

    static CacheFacts facts(List<CacheFacts.Image> images, List<CacheFacts.Container> containers, List<CacheFacts.Service> services) {
        return new CacheFacts(ROOT.toString(), EngineInfo.SwarmRole.MANAGER, 0, images, containers, services, List.of());
    }

    static CacheFacts.Container container(String name, String imageId, String ref, String state) {
        return new CacheFacts.Container("c-" + name, name, "sha256:" + imageId, ref, state, NOW, 0, Optional.empty());
    }

    /** A disk of 1000 MB with {@code usedMb} in use. */
    static Disk disk(long usedMb) {
        return new Disk(ROOT, usedMb * MB, (1000 - usedMb) * MB);
    }

    static Settings settings(int evictTo, String... keep) {
        return Settings.parse(String.valueOf(evictTo), List.of(keep), "24h", Optional.of(85));
    }

    static List<String> ids(List<Decision> decisions) {
        return decisions.stream().map(d -> d.image().id().substring(7)).toList();
    }

    static String reasonFor(Plan plan, String id) {
        List<Decision> all = new ArrayList<>(plan.order());
        all.addAll(plan.kept());
        return all.stream().filter(d -> d.image().id().equals("sha256:" + id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not in the plan")).reason();
    }

    @Test
    void leastRecentlyUsedFirstByTheRecordAndOnlyAsManyAsTheWatermarkNeeds() {
        // 900 of 1000 MB used (90%); below 80% needs at least 101 MB gone (79% = 790 MB)
        List<CacheFacts.Image> images = List.of(
                image("a", "app:a", 60, Duration.ofDays(30)),
                image("b", "app:b", 60, Duration.ofDays(30)),
                image("c", "app:c", 60, Duration.ofDays(30)),
                image("d", "app:d", 60, Duration.ofDays(30)));
        LastUse record = LastUse.empty()
                .use("sha256:a", List.of("app:a"), NOW.minus(Duration.ofDays(2)))
                .use("sha256:b", List.of("app:b"), NOW.minus(Duration.ofDays(9)))
                .use("sha256:c", List.of("app:c"), NOW.minus(Duration.ofDays(5)))
                .use("sha256:d", List.of("app:d"), NOW.minus(Duration.ofDays(3)));
        Plan plan = EvictionPolicy.plan(facts(images, List.of(), List.of()), record, settings(80), disk(900), NOW);

        assertEquals(List.of("b", "c", "d", "a"), ids(plan.order()), "oldest last use first");
        assertEquals(List.of("b", "c"), ids(plan.evicted()), "two images (120 MB) bring 90% below 80%");
        assertEquals(110 * MB, plan.bytesNeeded(), "79% of 1000 MB is 790 MB");
        assertEquals(120 * MB, plan.bytesFreed());
        assertEquals(78, plan.predictedAfter().usedPercent());
        assertTrue(plan.reachesWatermark());
        assertEquals("unused, last use 9d ago (record)", reasonFor(plan, "b"));
        assertEquals("not needed: the disk is below 80% without it", reasonFor(plan, "a"));
    }

    @Test
    void tiesGoToTheImageThatFreesMoreThenToTheImageId() {
        Duration ago = Duration.ofDays(10);
        List<CacheFacts.Image> images = List.of(
                image("e", "x:e", 10, ago), image("f", "x:f", 30, ago), image("d", "x:d", 10, ago));
        Plan plan = EvictionPolicy.plan(facts(images, List.of(), List.of()), LastUse.empty(), settings(80), disk(990), NOW);
        assertEquals(List.of("f", "d", "e"), ids(plan.order()));
    }

    @Test
    void withoutARecordTheCreationTimeCountsAndTheReasonSaysSo() {
        List<CacheFacts.Image> images = List.of(
                image("old", "app:old", 50, Duration.ofDays(40)),
                image("new", "app:new", 50, Duration.ofHours(2)));
        Plan plan = EvictionPolicy.plan(facts(images, List.of(), List.of()), LastUse.empty(), settings(80), disk(900), NOW);
        assertEquals(List.of("old"), ids(plan.order()));
        assertEquals("unused, last use 40d ago (no record, its creation time)", reasonFor(plan, "old"));
        assertEquals("created 2h ago (no record, its creation time), within --min-age 24h", reasonFor(plan, "new"));
        assertEquals(LastUse.Source.CREATED, plan.order().get(0).lastUse().source());
    }

    @Test
    void aTagRecordStandsInForAnImageWithoutOneOfItsOwn() {
        List<CacheFacts.Image> images = List.of(image("n", "app:latest", 50, Duration.ofDays(40)));
        LastUse record = LastUse.empty().use("sha256:gone", List.of("app:latest"), NOW.minus(Duration.ofHours(3)));
        Plan plan = EvictionPolicy.plan(facts(images, List.of(), List.of()), record, settings(80), disk(900), NOW);
        assertTrue(plan.order().isEmpty());
        assertEquals("used 3h ago (record of its tag app:latest), within --min-age 24h", reasonFor(plan, "n"));
    }

    @Test
    void neverAnImageInUseByAnyContainerServiceOrStackNorAKeepMatchNorADanglingOne() {
        Duration old = Duration.ofDays(60);
        List<CacheFacts.Image> images = List.of(
                image("run", "web:1", 100, old),
                image("stop", "job:1", 100, old),
                image("byname", "tool:1", 100, old),
                image("svc", "api:2", 100, old),
                image("stk", "localhost:5000/ci/app:7", 100, old),
                image("kept", "base:stable", 100, old),
                image("dng", null, 100, old),
                image("free", "junk:1", 100, old));
        List<CacheFacts.Container> containers = List.of(
                container("web", "run", "web:1", "running"),
                container("old-job", "stop", "job:1", "exited"),
                container("made", "previous", "tool:1", "created"),
                new CacheFacts.Container("c-t", "ci_app.1.x", "sha256:other", "x:1", "running", NOW, 0, Optional.of("ci")));
        List<CacheFacts.Service> services = List.of(
                new CacheFacts.Service("api", "api:2@sha256:" + "0".repeat(64), Optional.empty()),
                new CacheFacts.Service("ci_app", "localhost:5000/ci/app:7", Optional.of("ci")));
        Plan plan = EvictionPolicy.plan(facts(images, containers, services), LastUse.empty(), settings(10, "^base:"),
                disk(990), NOW);

        assertEquals(List.of("free"), ids(plan.order()), "only the unused, unprotected image is a candidate");
        assertEquals("in use by container web (running)", reasonFor(plan, "run"));
        assertEquals("in use by container old-job (exited)", reasonFor(plan, "stop"));
        assertEquals("in use by container made (created, by its tag tool:1)", reasonFor(plan, "byname"));
        assertEquals("in use by service api", reasonFor(plan, "svc"));
        assertEquals("in use by stack ci (service ci_app)", reasonFor(plan, "stk"));
        assertEquals("keep pattern: base:stable matches --keep ^base:", reasonFor(plan, "kept"));
        assertEquals("dangling: left to prune's image phase", reasonFor(plan, "dng"));
        assertFalse(plan.reachesWatermark(), "100 MB cannot bring 99% below 10%");
    }

    @Test
    void aServiceNamingTheImageByDigestOnlyProtectsIt() {
        String digest = "sha256:" + "ab".repeat(32);
        CacheFacts.Image pinned = new CacheFacts.Image("sha256:p", List.of("reg.example:5000/app:3"),
                List.of("reg.example:5000/app@" + digest), NOW.minus(Duration.ofDays(9)), 10 * MB, 0, 0);
        Plan plan = EvictionPolicy.plan(facts(List.of(pinned), List.of(),
                        List.of(new CacheFacts.Service("pinned", "reg.example:5000/app@" + digest, Optional.empty()))),
                LastUse.empty(), settings(10), disk(990), NOW);
        assertEquals("in use by service pinned", reasonFor(plan, "p"));
    }

    @Test
    void belowTheWatermarkNothingIsNeeded() {
        List<CacheFacts.Image> images = List.of(image("a", "app:a", 60, Duration.ofDays(30)));
        Plan plan = EvictionPolicy.plan(facts(images, List.of(), List.of()), LastUse.empty(), settings(80), disk(790), NOW);
        assertEquals(0, plan.bytesNeeded());
        assertTrue(plan.evicted().isEmpty());
        assertEquals("not needed: the disk is below 80% without it", reasonFor(plan, "a"));
    }

    @Test
    void theFreedBytesAreTheUniqueBytesNotTheSharedOnes() {
        CacheFacts.Image shared = new CacheFacts.Image("sha256:s", List.of("s:1"), List.of(), NOW.minus(Duration.ofDays(9)),
                100 * MB, 70 * MB, 0);
        Plan plan = EvictionPolicy.plan(facts(List.of(shared), List.of(), List.of()), LastUse.empty(), settings(80), disk(900), NOW);
        assertEquals(30 * MB, plan.order().get(0).frees());
    }

    @ParameterizedTest
    @ValueSource(longs = {1_000_000_000L, 999_999_937L, 268_435_456L, 123_456_789_012L, 101L})
    void theBytesNeededAreTheFewestThatBringDfsUsePercentBelowTheWatermark(long total) {
        for (int evictTo = 1; evictTo <= 100; evictTo += 7) {
            for (long used : new long[] {total, total - 1, total * 9 / 10, total / 2, total * 81 / 100}) {
                Disk disk = new Disk(ROOT, used, total - used);
                long needed = EvictionPolicy.bytesNeeded(disk, evictTo);
                Disk after = new Disk(ROOT, used - needed, total - used + needed);
                assertTrue(after.usedPercent() < evictTo, "freeing " + needed + " of " + disk + " reaches " + evictTo + "%");
                if (needed > 0) {
                    Disk less = new Disk(ROOT, used - needed + 1, total - used + needed - 1);
                    assertTrue(less.usedPercent() >= evictTo, "one byte less would not: " + disk + " to " + evictTo + "%");
                }
            }
        }
    }

    @Test
    void settingsAreCheckedAtTheEdgeAndQuoteTheInput() {
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("85", List.of(), "24h", Optional.of(85)))
                .getMessage().startsWith("--evict-to 85 must be below --threshold 85"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("0", List.of(), "24h", Optional.of(85)))
                .getMessage().contains("outside 1-100"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("101", List.of(), "24h", Optional.empty()))
                .getMessage().contains("outside 1-100"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("eighty", List.of(), "24h", Optional.empty()))
                .getMessage().startsWith("--evict-to 'eighty'"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("70", List.of("(unclosed"), "24h", Optional.empty()))
                .getMessage().startsWith("--keep '(unclosed' is not a valid regular expression"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("70", List.of(""), "24h", Optional.empty()))
                .getMessage().startsWith("--keep is empty"));
        assertTrue(assertThrows(BadInput.class, () -> Settings.parse("70", List.of(), "a day", Optional.empty()))
                .getMessage().startsWith("--min-age 'a day'"));
        Settings ok = Settings.parse("80%", List.of("^base:", "keep"), "36h", Optional.of(85));
        assertEquals(80, ok.evictToPercent());
        assertEquals(Duration.ofHours(36), ok.minAge().duration());
    }
}
