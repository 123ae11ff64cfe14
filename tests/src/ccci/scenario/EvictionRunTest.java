package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.EvictionPolicy;
import ccci.EvictionRun;
import ccci.GatePolicy;
import ccci.HostSnapshot;
import ccci.InUse;
import ccci.Json;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PruneMetrics;
import ccci.PruneRun;
import ccci.PruneShortfall;
import ccci.Threshold;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * prune --evict-to on the fake host, through PruneRun as the command runs it: the dry run lists
 * what the real run removes; the run stops below the low watermark by the measured disk (at the
 * watermark it goes on); an image goes whole or not at all (a user seen before its removal keeps
 * it untouched, a user the engine meets at the last delete keeps it with every tag put back); and
 * the data-loss defects of issue 18 on both image stores: a parent of a used image was "evicted"
 * (1), tags went one by one (2), an image pulled by digest and tagged elsewhere lost its tag and
 * kept its bytes (3).
 */
class EvictionRunTest {
    static final long MB = 1_000_000;
    static final String ROOT = "/var/lib/docker";

    @TempDir Path dir;

    /** An image of {@code mb} MB of its own, tagged (or not). */
    static FakeState.Image image(FakeState s, String tag, long mb) {
        FakeState.Image i = tag == null ? s.image() : s.image(tag);
        return mb > 1 ? i.layer(i.id.substring(7, 19) + "-data", (mb - 1) * MB) : i;
    }

    /** The data root's disk: {@code capacityMb} MB, {@code usedMb} of them in use now (the store's bytes and other files). */
    static void diskAt(FakeHost host, long usedMb, long capacityMb) throws Exception {
        FakeState s = host.state();
        s.disk(capacityMb * MB, 0);
        long store = host.measure(Path.of(ROOT)).usedBytes();
        s.disk(capacityMb * MB, usedMb * MB - store);
    }

    Optional<Path> record(LastUse record) throws Exception {
        Path file = dir.resolve("last-use.json");
        LastUse.save(file, record, Optional.empty());
        return Optional.of(file);
    }

    static PruneRun.Report prune(FakeHost host, int threshold, int evictTo, String minAge, InUse.Settings keep, Optional<Path> record,
                                 boolean dryRun, PruneRun.Listener listener) {
        host.clearRequests(); // the set-up's requests are not the run's
        var settings = new PruneRun.Settings(GatePolicy.Settings.parse(String.valueOf(threshold), GatePolicy.Settings.DEFAULT_STACK_PATTERN, null),
                Until.parse("24h"), Optional.of(EvictionPolicy.Settings.parse(String.valueOf(evictTo), minAge, Optional.of(new Threshold(threshold)))),
                keep, record, PruneShortfall.Settings.withoutState());
        return PruneRun.run(() -> host, host, settings, dryRun, listener, Clock.fixed(host.state().now(), ZoneOffset.UTC));
    }

    static PruneRun.Report prune(FakeHost host, int threshold, int evictTo, boolean dryRun, PruneRun.Listener listener) {
        return prune(host, threshold, evictTo, "24h", InUse.Settings.NONE, Optional.empty(), dryRun, listener);
    }

    static EvictionRun.Result eviction(PruneRun.Report report) {
        return report.eviction().orElseThrow(() -> new AssertionError("no eviction:\n" + PruneFormat.text(report)));
    }

    static List<String> removed(PruneRun.Report report) {
        return eviction(report).removed().stream().map(r -> r.decision().image().name()).toList();
    }

    static Map<String, EvictionRun.Removal> byName(PruneRun.Report report) {
        Map<String, EvictionRun.Removal> all = new java.util.LinkedHashMap<>();
        eviction(report).removals().forEach(r -> all.put(r.decision().image().name(), r));
        return all;
    }

    static boolean touched(FakeHost host, FakeState.Image image, List<String> names) {
        return host.changes().stream().anyMatch(c -> c.contains(image.id) || names.stream().anyMatch(n -> c.equals("DELETE /images/" + n)));
    }

    // ---------------------------------------------------------------- the run as a whole

    /** Four unused app images (least recently used: app:3, app:1, app:4, app:2) and one image for each reason to keep. */
    static void ballast(FakeHost host) {
        FakeState s = host.state();
        for (String tag : List.of("ccci/app:1", "ccci/app:2", "ccci/app:3", "ccci/app:4", "ccci/keep:1", "ccci/stopped:1", "ccci/young:1")) {
            image(s, tag, 60);
        }
        FakeState.Image bb = image(s, "ccci-bb:evict", 2);
        s.service("keeper", "ccci-bb:evict");
        s.advance(Duration.ofDays(30));
        s.container("holds-stopped", s.imageById(host.inspectImage("ccci/stopped:1").path("Id").asText()).orElseThrow(), "created");
        assertTrue(bb.tags().contains("ccci-bb:evict"));
    }

    LastUse ballastRecord(FakeHost host) {
        FakeState s = host.state();
        LastUse record = LastUse.empty();
        List<String> order = List.of("ccci/app:3", "ccci/app:1", "ccci/app:4", "ccci/app:2");
        for (int i = 0; i < order.size(); i++) {
            record.use(host.inspectImage(order.get(i)).path("Id").asText(), List.of(order.get(i)), s.now().minus(Duration.ofHours(40 - i)));
        }
        record.use(host.inspectImage("ccci/young:1").path("Id").asText(), List.of(), s.now().minus(Duration.ofHours(1)));
        return record;
    }

    @Test
    void theDryRunListsWhatTheRealRunRemovesInItsOrderUntilBelowTheWatermark() throws Exception {
        List<PruneRun.Report> reports = new ArrayList<>();
        List<FakeHost> hosts = new ArrayList<>();
        for (boolean dryRun : new boolean[] {true, false}) {
            FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
            ballast(host);
            diskAt(host, 900, 1000);
            Files.deleteIfExists(dir.resolve("last-use.json"));
            reports.add(prune(host, 85, 80, "24h", InUse.Settings.parse(List.of("^ccci/keep:"), List.of()), record(ballastRecord(host)),
                    dryRun, new PruneRun.Listener() {}));
            hosts.add(host);
        }
        PruneRun.Report dry = reports.get(0);
        PruneRun.Report real = reports.get(1);
        System.out.println("[dry run]\n" + PruneFormat.text(dry) + "\n[real run]\n" + PruneFormat.text(real));
        assertEquals(List.of(), hosts.get(0).changes(), "a dry run changes nothing");

        EvictionRun.Result predicted = eviction(dry);
        assertTrue(predicted.predicted());
        assertEquals(List.of("ccci/app:3", "ccci/app:1", "ccci/app:4", "ccci/app:2"),
                predicted.plan().order().stream().map(d -> d.image().name()).toList(), "every candidate, least recently used first");
        assertEquals(List.of("ccci/app:3", "ccci/app:1"), removed(dry), "900 MB to below 80% needs two images of 60 MB");
        assertEquals(removed(dry), removed(real), "the real run removes what the dry run listed, in its order");
        assertEquals(PruneRun.Outcome.PRUNED, real.outcome(), PruneFormat.text(real));
        assertEquals(78, eviction(real).diskAfter().orElseThrow());
        assertTrue(eviction(real).reachedWatermark());

        Map<String, String> kept = new java.util.LinkedHashMap<>();
        predicted.plan().kept().forEach(d -> kept.put(d.image().name(), d.reason()));
        assertEquals("keep pattern: ccci/keep:1 matches --keep ^ccci/keep:", kept.get("ccci/keep:1"));
        assertEquals("in use by container holds-stopped (created)", kept.get("ccci/stopped:1"));
        assertEquals("used 1h ago (record), within 24h", kept.get("ccci/young:1"));
        assertTrue(kept.get("ccci-bb:evict").startsWith("in use by container keeper.1."), kept.toString());

        FakeHost after = hosts.get(1);
        for (String gone : removed(real)) {
            assertFalse(after.imageTags().values().stream().anyMatch(t -> t.contains(gone)), gone + " is gone");
        }
        assertEquals(4, after.state().topLevelImages().size() - 2, "app:4, app:2, keep, stopped, young, bb stay");
    }

    @Test
    void atTheWatermarkEvictionGoesOnJustBelowItStops() throws Exception {
        // 53% of 1000 MB with 10 MB candidates: 52, 51, 50 (at the low watermark: go on), 49 (below: stop)
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        for (String tag : List.of("a:1", "b:1", "c:1", "d:1", "e:1")) {
            image(s, tag, 10);
            s.advance(Duration.ofHours(1));
        }
        s.advance(Duration.ofDays(30));
        diskAt(host, 530, 1000);
        PruneRun.Report report = prune(host, 51, 50, false, new PruneRun.Listener() {});
        System.out.println(PruneFormat.text(report));
        assertEquals(List.of("a:1", "b:1", "c:1", "d:1"), removed(report), "at 50% the disk is at the watermark: d:1 goes too");
        assertEquals(List.of(52, 51, 50, 49), eviction(report).removals().stream().map(r -> r.diskAfter().orElseThrow()).toList());
        assertEquals(List.of("e:1"), host.state().topLevelImages().stream().flatMap(i -> i.tags().stream()).toList(),
                "below the watermark (49%) it stops: e:1 stays");
        assertTrue(eviction(report).reachedWatermark());
        assertEquals(49, eviction(report).diskAfter().orElseThrow());
    }

    @Test
    void theOneThresholdDecisionIsAtOrAbove() {
        Threshold fifty = new Threshold(50);
        assertTrue(fifty.reachedAt(50));
        assertTrue(fifty.reachedAt(51));
        assertFalse(fifty.reachedAt(49));
    }

    @Test
    void theGatesAreCheckedBeforeEachRemovalAndAClosedOneStopsEviction() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        image(s, "a:1", 100);
        s.advance(Duration.ofHours(1));
        image(s, "b:1", 100);
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {
            @Override
            public void beforeRemoval(EvictionPolicy.Decision next) {
                if (next.image().tags().contains("b:1")) {
                    s.service("abcd-123456_ci_commoninternet_net_app", "a:1")
                            .label(HostSnapshot.STACK_LABEL, "abcd-123456_ci_commoninternet_net");
                }
            }
        });
        System.out.println(PruneFormat.text(report));
        assertEquals(PruneRun.Outcome.STOPPED, report.outcome());
        assertEquals(ExitCodes.STOPPED_GATES_CLOSED, report.exitCode());
        assertEquals(List.of("a:1"), removed(report));
        assertTrue(report.problem().orElseThrow().startsWith("gates closed before evicting b:1: stack: "), report.problem().orElseThrow());
        assertFalse(touched(host, s.imageById(host.inspectImage("b:1").path("Id").asText()).orElseThrow(), List.of("b:1")));
    }

    @Test
    void whenNothingMayBeEvictedTheRunIsInsufficient() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        image(host.state(), "app:1", 100);
        host.state().advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 80, "3650d", InUse.Settings.NONE, Optional.empty(), false, new PruneRun.Listener() {});
        String text = PruneFormat.text(report);
        assertEquals(PruneRun.Outcome.INSUFFICIENT, report.outcome(), text);
        assertEquals(ExitCodes.INSUFFICIENT, report.exitCode());
        assertTrue(text.contains("eviction to below 80%: removed 0 images; disk 90% -> 90% (watermark not reached)"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("WARN not enough: the disk is still at 90% ")), text);
        assertTrue(report.problem().orElseThrow().endsWith("after the phases and eviction"), text);
        assertEquals(List.of(), host.changes().stream().filter(c -> c.startsWith("DELETE")).toList());
    }

    @Test
    void anUntaggedRegistryImageTheImagePhaseKeepsAsTheCacheIsEvictedByItsId() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image cache = image(s, null, 100).digest("localhost:5000/acc/app@sha256:" + "c".repeat(64));
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 80, false, new PruneRun.Listener() {});
        assertEquals(List.of("localhost:5000/acc/app:<none>"), removed(report), PruneFormat.text(report));
        assertEquals(List.of("DELETE /images/" + cache.id), host.changes().stream().filter(c -> c.startsWith("DELETE")).toList(),
                "the image phase kept it (the newest of its repository), eviction removed it");
        assertTrue(s.imageById(cache.id).isEmpty());
    }

    // ---------------------------------------------------------------- whole or not at all (issue 18, defect 2)

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aUserSeenRightBeforeTheRemovalKeepsTheImageUntouched(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState s = host.state();
        FakeState.Image app = image(s, "app:1", 100);
        host.tagImage(app.id, "app", "latest");
        s.advance(Duration.ofHours(1));
        image(s, "other:1", 100);
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {
            @Override
            public void beforeRemoval(EvictionPolicy.Decision next) {
                if (next.image().id().equals(app.id)) {
                    s.container("late-user", app, "created");
                }
            }
        });
        EvictionRun.Removal kept = byName(report).get("app:1, app:latest");
        assertFalse(kept.removed());
        assertEquals("kept: a user appeared: container late-user (created)", kept.detail());
        assertFalse(touched(host, app, List.of("app:1", "app:latest")), "no request touched it: " + host.changes());
        assertEquals(List.of("app:1", "app:latest"), app.tags());
        assertTrue(byName(report).get("other:1").removed(), "the run goes on to the next");
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aUserTheEngineMeetsAtTheLastDeleteKeepsTheImageWithEveryTagPutBack(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState s = host.state();
        FakeState.Image app = image(s, "app:1", 100);
        host.tagImage(app.id, "app", "latest");
        host.tagImage(app.id, "mirror.example/app", "1");
        s.advance(Duration.ofHours(1));
        image(s, "other:1", 100);
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        // after the gates and users were checked again: a container created between the first delete and the last
        boolean[] created = {false};
        host.beforeRequest(line -> {
            if (line.equals("DELETE /images/app:1") && !created[0]) {
                created[0] = true;
                s.container("late-user", app, "created");
            }
        });
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {});
        System.out.println(PruneFormat.text(report) + "\n" + host.changes());
        EvictionRun.Removal kept = byName(report).get("app:1, app:latest, mirror.example/app:1");
        assertFalse(kept.removed());
        assertTrue(kept.detail().startsWith("kept: a user appeared (the engine: conflict: unable to "), kept.detail());
        assertTrue(kept.detail().endsWith("; its tags put back (app:1, app:latest)"), kept.detail());
        assertEquals(Set.of("app:1", "app:latest", "mirror.example/app:1"), Set.copyOf(app.tags()), "whole: every tag it had");
        assertTrue(s.imageById(app.id).isPresent());
        List<String> requests = host.changes().stream().filter(c -> c.contains("/images/app") || c.contains("/images/mirror")
                || c.contains(app.id)).toList();
        assertEquals(List.of("DELETE /images/app:1", "DELETE /images/app:latest", "DELETE /images/mirror.example/app:1",
                "POST /images/" + app.id + "/tag?repo=app&tag=1", "POST /images/" + app.id + "/tag?repo=app&tag=latest"), requests);
        assertTrue(byName(report).get("other:1").removed(), "the run goes on to the next");
    }

    @Test
    void aTagAddedSinceThePlanKeepsTheImageUntouched() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image app = image(s, "app:1", 100);
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {
            @Override
            public void beforeRemoval(EvictionPolicy.Decision next) {
                host.tagImage(app.id, "app", "hotfix");
            }
        });
        assertEquals("kept: a tag was added since the plan (app:hotfix)", byName(report).get("app:1").detail());
        assertEquals(List.of(), host.changes().stream().filter(c -> c.startsWith("DELETE")).toList());
    }

    // ---------------------------------------------------------------- parents (issue 18, defect 1)

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aBaseImageWhoseChildRunsIsNeverTouched(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState s = host.state();
        FakeState.Image base = image(s, "base:1", 100);
        FakeState.Image app = image(s, "app:1", 10);
        if (store == FakeHost.Store.CLASSIC) {
            app.parent(base);
        } else {
            app.basedOn(base);
        }
        s.container("web", app, "running");
        image(s, "junk:1", 100);
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 10, false, new PruneRun.Listener() {});
        System.out.println(PruneFormat.text(report));
        assertEquals(List.of("junk:1"), removed(report));
        assertFalse(touched(host, base, List.of("base:1")), "never a request for the base: " + host.changes());
        assertEquals(List.of("base:1"), base.tags());
        assertEquals("in use by its child image app:1 is used by container web (running)",
                eviction(report).plan().kept().stream().filter(d -> d.image().id().equals(base.id)).findFirst().orElseThrow().reason());
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aParentOfAnUnusedChildWaitsForTheChild(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState s = host.state();
        FakeState.Image base = image(s, "base:1", 100);
        s.advance(Duration.ofHours(1));
        FakeState.Image app = image(s, "app:1", 10);
        if (store == FakeHost.Store.CLASSIC) {
            app.parent(base);
        } else {
            app.basedOn(base);
        }
        s.advance(Duration.ofDays(30));
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 10, false, new PruneRun.Listener() {});
        assertEquals(List.of("app:1"), removed(report), "the child goes; the base, older, is no candidate while it exists");
        assertFalse(touched(host, base, List.of("base:1")), host.changes().toString());
        assertEquals(List.of("base:1"), base.tags());
    }

    // ---------------------------------------------------------------- pulled by digest, tagged elsewhere (issue 18, defect 3)

    static FakeState.Image pulledByDigestAndTagged(FakeHost host, FakeHost.Store store) {
        FakeState s = host.state();
        FakeState.RegistryImage reg = s.registryImage("localhost:5000/acc/app:7", s.now().minus(Duration.ofDays(40)),
                Map.of("l-app-7", 100 * MB));
        host.pull("localhost:5000/acc/app", reg.digest(), Optional.empty(), Duration.ofMinutes(1), m -> { });
        host.tagImage(reg.imageId(), "local/app", "7");
        FakeState.Image image = s.imageById(reg.imageId()).orElseThrow();
        String byDigest = "localhost:5000/acc/app@" + reg.digest();
        if (store == FakeHost.Store.CLASSIC) {
            assertEquals(List.of("local/app:7"), image.tags(), "the classic store: its tag, and the digest apart");
            assertEquals(List.of(byDigest), image.digests());
        } else {
            assertEquals(Set.of(byDigest, "local/app:7"), Set.copyOf(image.tags()), "the containerd store: a record by digest, and the tag");
        }
        s.advance(Duration.ofDays(30));
        return image;
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImagePulledByDigestAndTaggedUnderAnotherNameGoesWhole(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState.Image image = pulledByDigestAndTagged(host, store);
        diskAt(host, 900, 1000);
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {});
        EvictionRun.Removal r = eviction(report).removals().stream().filter(x -> x.decision().image().id().equals(image.id))
                .findFirst().orElseThrow();
        assertTrue(r.removed(), r.detail());
        assertEquals("freed 100.0 MB (unique bytes)", r.detail());
        assertTrue(host.state().imageById(image.id).isEmpty(), "the image and its bytes are gone, not left <none>");
        List<String> deletes = host.changes().stream().filter(c -> c.startsWith("DELETE")).toList();
        assertEquals("DELETE /images/local/app:7", deletes.get(0), "its tag first: " + deletes);
        assertEquals(2, deletes.size(), "then what names it still (its ID, or the containerd store's record by digest): " + deletes);
        assertEquals(80, eviction(report).diskAfter().orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anImagePulledByDigestAndTaggedUnderAnotherNameThatGetsAUserKeepsEveryName(FakeHost.Store store) throws Exception {
        FakeHost host = new FakeHost(store);
        FakeState.Image image = pulledByDigestAndTagged(host, store);
        List<String> names = image.tags();
        diskAt(host, 900, 1000);
        boolean[] created = {false};
        host.beforeRequest(line -> {
            if (line.startsWith("DELETE /images/") && !created[0]) {
                created[0] = true; // after the users were checked again, before the first of its names goes
                host.state().container("late-user", image, "created");
            }
        });
        PruneRun.Report report = prune(host, 85, 50, false, new PruneRun.Listener() {});
        System.out.println(PruneFormat.text(report) + "\n" + host.changes());
        EvictionRun.Removal r = eviction(report).removals().stream().filter(x -> x.decision().image().id().equals(image.id))
                .findFirst().orElseThrow();
        assertFalse(r.removed());
        assertTrue(r.detail().startsWith("kept: a user appeared (the engine: "), r.detail());
        assertTrue(r.detail().endsWith("; its tags put back (local/app:7)"), r.detail());
        assertEquals(Set.copyOf(names), Set.copyOf(image.tags()), "every name it had");
        assertEquals(1, image.digests().size(), "and its registry digest");
    }

    // ---------------------------------------------------------------- what prune reports (issue 19, item 11)

    @Test
    void evictedBytesAreInTheSummaryTheJsonAndTheMetrics() throws Exception {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        ballast(host);
        diskAt(host, 900, 1000);
        Optional<Path> record = record(ballastRecord(host));
        InUse.Settings keep = InUse.Settings.parse(List.of("^ccci/keep:"), List.of());
        PruneRun.Report dry = prune(host, 85, 80, "24h", keep, record, true, new PruneRun.Listener() {});
        assertTrue(PruneFormat.summary(dry).contains(" would_evict=2 would_evict_bytes=120000000 evict_to=80 "), PruneFormat.summary(dry));
        assertEquals(0, Json.mapper().readTree(PruneFormat.json(dry)).path("evictedBytes").asLong(), "a dry run evicts nothing");

        PruneRun.Report real = prune(host, 85, 80, "24h", keep, record, false, new PruneRun.Listener() {});
        assertTrue(PruneFormat.summary(real).contains(" evicted=2 evicted_bytes=120000000 evict_to=80 "), PruneFormat.summary(real));
        JsonNode json = Json.mapper().readTree(PruneFormat.json(real));
        assertEquals(120_000_000L, json.path("evictedBytes").asLong());
        assertEquals(0, json.path("reclaimedBytes").asLong(), "the phases reclaimed nothing: eviction's bytes are its own figure");
        Path metrics = dir.resolve("prune.prom");
        PruneMetrics.write(metrics, real, host.state().now());
        String text = Files.readString(metrics);
        assertTrue(text.contains("\nci_docker_prune_evicted_images 2\n"), text);
        assertTrue(text.contains("\n# TYPE ci_docker_prune_evicted_bytes gauge\nci_docker_prune_evicted_bytes 120000000\n"), text);
    }
}
