package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gaps in the last-use record (issue 20): while watch is down, or after the engine lost its events
 * (it keeps few, and none across its own restart), uses go unrecorded. The record marks the gap,
 * from watch's last heartbeat to when it follows the events again, and every image present then
 * counts as used then, never older: kubelet read images as long unused after a restart and
 * collected them. cache shows the gaps; eviction's reasons say when a last use is a gap's end.
 */
class LastUseGapTest {
    static final Duration DAY = Duration.ofDays(1);
    static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

    @TempDir Path dir;

    @Test
    void theRecordKeepsItsGapsHeartbeatAndSightingsThroughEveryWriter() throws Exception {
        Path file = dir.resolve("last-use.json");
        LastUse watch = LastUse.empty().markAlive(T0).gap(Optional.empty(), T0, List.of("sha256:a", "sha256:b"));
        LastUse.save(file, watch, Optional.empty());
        // another writer (a gates, prune or cache run) merges its uses: the gaps and the heartbeat stay
        LastUse.save(file, LastUse.empty().use("sha256:c", List.of("c:1"), T0.plus(DAY)), Optional.empty());
        LastUse.save(file, LastUse.empty().markAlive(T0.plus(DAY)).gap(Optional.of(T0.plus(DAY)), T0.plus(DAY.multipliedBy(3)),
                List.of("sha256:a")), Optional.empty());
        LastUse read = LastUse.load(file).record();
        assertEquals(Optional.of(T0.plus(DAY)), read.alive());
        assertEquals(List.of(new LastUse.Gap(Optional.empty(), T0), new LastUse.Gap(Optional.of(T0.plus(DAY)), T0.plus(DAY.multipliedBy(3)))),
                read.gaps());
        assertEquals(Optional.of(T0.plus(DAY.multipliedBy(3))), read.seenAfterGap("sha256:a"), "the later sighting wins");
        assertEquals(Optional.of(T0), read.seenAfterGap("sha256:b"));
        assertEquals(Optional.of(T0.plus(DAY)), read.ofImage("sha256:c"));
        JsonNode json = Json.mapper().readTree(Files.readString(file));
        assertEquals("2026-11-02T00:00:00Z", json.path("watchAlive").asText());
        assertTrue(json.path("gaps").get(0).path("from").isNull(), json.toPrettyString());

        // an image no longer in the store loses its sighting; the gaps stay
        LastUse.save(file, LastUse.empty(), Optional.of(new LastUse.Presence(Set.of("sha256:a"), Set.of())));
        LastUse pruned = LastUse.load(file).record();
        assertEquals(Optional.empty(), pruned.seenAfterGap("sha256:b"));
        assertEquals(2, pruned.gaps().size());
    }

    @Test
    void anImagePresentAtAGapsEndWasUsedThenNeverEarlier() {
        Instant end = T0.plus(DAY.multipliedBy(10));
        LastUse record = LastUse.empty().use("sha256:a", List.of("a:1"), T0).gap(Optional.of(T0.plus(DAY)), end, List.of("sha256:a"));
        LastUse.Seen seen = record.lastUse("sha256:a", List.of("a:1"), T0.minus(DAY.multipliedBy(100)));
        assertEquals(end, seen.at());
        assertEquals(LastUse.Source.GAP_END, seen.source());
        assertEquals("present when watch started again after a gap in the record (the gap from 2026-11-02T00:00:00Z to 2026-11-11T00:00:00Z)",
                seen.describe());
        // a use recorded after the gap is later: the record wins
        record.use("sha256:a", List.of("a:1"), end.plus(DAY));
        assertEquals(LastUse.Source.RECORD, record.lastUse("sha256:a", List.of("a:1"), T0).source());
        // an image not present at the gap's end keeps its own record
        assertEquals(LastUse.Source.CREATED, record.lastUse("sha256:z", List.of(), T0).source());
    }

    /** watch on the fake host, as it runs: its start, heartbeats, the engine lost, and back. */
    @Test
    void watchMarksTheGapFromItsLastHeartbeatToWhenItFollowsTheEventsAgain() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        String app = s.image("ccci/app:1").id;
        String base = s.image("ccci/base:1").id;
        Path file = dir.resolve("last-use.json");
        // watch ran before: its heartbeat 10 days ago; then it was down
        LastUse.save(file, LastUse.empty().markAlive(T0).use(base, List.of("ccci/base:1"), T0.minus(DAY.multipliedBy(30))), Optional.empty());
        StringWriter log = new StringWriter();
        LastUseWatch watch = new LastUseWatch(host.host(), file, Duration.ofSeconds(5), Duration.ofSeconds(5), new PrintWriter(log));

        Instant start = T0.plus(DAY.multipliedBy(10));
        watch.following(host, start);
        LastUse record = LastUse.load(file).record();
        assertEquals(List.of(new LastUse.Gap(Optional.of(T0), start)), record.gaps());
        assertEquals(Optional.of(start), record.seenAfterGap(app));
        assertEquals(start, record.lastUse(base, List.of("ccci/base:1"), T0).at(), "present at the gap's end: used then, not 40 days ago");
        assertEquals(Optional.of(start), record.alive());

        // heartbeats while following: at most one a minute
        watch.heartbeat(start.plusSeconds(30));
        watch.flush(Optional.empty());
        assertEquals(Optional.of(start), LastUse.load(file).record().alive(), "30 s: no heartbeat written yet");
        watch.heartbeat(start.plusSeconds(61));
        watch.flush(Optional.empty());
        assertEquals(Optional.of(start.plusSeconds(61)), LastUse.load(file).record().alive());

        // the engine went away after a later heartbeat (the stream ended): the next start has a gap from there
        watch.heartbeat(start.plusSeconds(125));
        Instant back = start.plus(Duration.ofHours(2));
        watch.following(host, back);
        LastUse after = LastUse.load(file).record();
        assertEquals(new LastUse.Gap(Optional.of(start.plusSeconds(125)), back), after.gaps().get(1), after.gaps().toString());
        assertEquals(Optional.of(back), after.seenAfterGap(app));
    }

    @Test
    void aFirstStartHasAGapWithNoBeginning() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        String app = host.state().image("ccci/app:1").id;
        Path file = dir.resolve("last-use.json");
        LastUseWatch watch = new LastUseWatch(host.host(), file, Duration.ofSeconds(5), Duration.ofSeconds(5), new PrintWriter(new StringWriter()));
        watch.following(host, T0);
        LastUse record = LastUse.load(file).record();
        assertEquals(List.of(new LastUse.Gap(Optional.empty(), T0)), record.gaps());
        assertEquals("until 2026-11-01T00:00:00Z (no record before)", record.gaps().get(0).describe());
        assertEquals(Optional.of(T0), record.seenAfterGap(app));
    }

    /**
     * Kubelet's restart bug, the other way round: watch was down 10 days; an image the record last
     * saw 40 days ago was used in the gap, unrecorded. --max-unused-age 30d keeps it: its last use
     * is the gap's end; cache shows the gap and why.
     */
    @Test
    void evictionAndCacheGoByTheGapsEnd() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        String app = s.image("ccci/app:1").created(s.now().minus(DAY.multipliedBy(60))).id;
        String old = s.image("ccci/old:1").created(s.now().minus(DAY.multipliedBy(60))).id;
        s.advance(DAY.multipliedBy(60));
        Instant now = s.now();
        Path file = dir.resolve("last-use.json");
        LastUse.save(file, LastUse.empty().use(app, List.of("ccci/app:1"), now.minus(DAY.multipliedBy(40)))
                .use(old, List.of("ccci/old:1"), now.minus(DAY.multipliedBy(40)))
                .markAlive(now.minus(DAY.multipliedBy(12))), Optional.empty());
        // watch came back 2 days ago; ccci/old:1 was removed and pulled again since (a new ID): only app:1 was present
        LastUse.save(file, LastUse.empty().gap(Optional.of(now.minus(DAY.multipliedBy(12))), now.minus(DAY.multipliedBy(2)), List.of(app)),
                Optional.empty());

        var settings = new PruneRun.Settings(new GatePolicy.Settings(80, java.util.regex.Pattern.compile(GatePolicy.Settings.DEFAULT_STACK_PATTERN),
                List.of(), Optional.empty(), Optional.empty()), Until.parse("24h"),
                Optional.of(EvictionPolicy.Settings.parse(null, "24h", "30d", null, Optional.empty(), 0)), InUse.Settings.NONE,
                Optional.of(file), PruneShortfall.Settings.withoutState());
        PruneRun.Report report = PruneRun.run(() -> host, host, settings, true, new PruneRun.Listener() {}, Clock.fixed(now, ZoneOffset.UTC));
        String text = PruneFormat.text(report);
        System.out.println("[a gap in the record, --max-unused-age 30d, dry run]\n" + text);
        List<EvictionPolicy.Decision> order = report.eviction().orElseThrow().plan().order();
        assertEquals(List.of("ccci/old:1"), order.stream().filter(EvictionPolicy.Decision::evict).map(d -> d.image().name()).toList(), text);
        EvictionPolicy.Decision kept = order.stream().filter(d -> d.image().id().equals(app)).findFirst().orElseThrow();
        assertEquals(LastUse.Source.GAP_END, kept.lastUse().source());
        assertTrue(kept.reason().startsWith("used within --max-unused-age 30d (last use 2d ago: present when watch started again after a gap"), kept.reason());
        assertTrue(text.contains("present when watch started again after a gap in the record"), text);

        // without --max-unused-age, eviction for space says where the last use comes from
        EvictionPolicy.Plan space = EvictionPolicy.plan(HostSnapshot.read(host, HostSnapshot.Depth.STORE, now), InUse.Settings.NONE,
                LastUse.load(file).record(), EvictionPolicy.Settings.parse("1", "1d", Optional.empty()),
                new Disk(Path.of("/var/lib/docker"), 900_000_000L, 100_000_000L), now);
        String reason = space.order().stream().filter(d -> d.image().id().equals(app)).findFirst().orElseThrow().reason();
        assertTrue(reason.startsWith("unused, last use 2d ago (present when watch started again after a gap in the record (the gap from "), reason);

        CacheView view = CacheView.read(host, host, Optional.empty(), file, Until.parse("24h"), InUse.Settings.NONE,
                EvictionPolicy.Settings.parse("75", "24h", Optional.empty()), now);
        String cache = CacheFormat.text(view);
        System.out.println("[a gap in the record, cache]\n" + cache);
        assertTrue(cache.contains("\ngaps      1 in the record (watch down, or the engine's events lost), the latest from "), cache);
        assertTrue(cache.contains("; 1 images count as used at a gap's end (present then, never older)\n"), cache);
        assertTrue(cache.contains("\nwatch     its last heartbeat in the record at "), cache);
        JsonNode json = Json.mapper().readTree(CacheFormat.json(view));
        assertEquals(1, json.path("lastUseRecord").path("gaps").size());
        assertEquals("gap-end", json.path("images").get(0).path("lastUseSource").asText());
    }
}
