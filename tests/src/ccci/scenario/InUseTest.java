package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.EngineApi;
import ccci.HostSnapshot;
import ccci.InUse;
import ccci.LastUse;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one definition of in use (lib/InUse.java), case by case, on snapshots read from the fake
 * host. Each test names the reasons exactly, so dropping any case of the definition (or changing
 * what a reason says) fails the test of that case; where one workload alone protects the image,
 * the test also shows the image would otherwise be unprotected.
 */
class InUseTest {
    static final Duration MONTH = Duration.ofDays(30);
    static final String DAY = "24h";

    FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
    FakeState s = host.state();

    HostSnapshot snapshot() {
        return HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now());
    }

    /** Every protected image's reasons, with no recent age (only workloads, --keep and --keep-label count). */
    static Map<String, List<InUse.Reason>> workloads(HostSnapshot snapshot, InUse.Settings settings) {
        return InUse.of(snapshot, settings, new InUse.Recency(LastUse.empty(), Until.NONE, snapshot.readAt()));
    }

    List<String> reasons(FakeState.Image image) {
        return texts(workloads(snapshot(), InUse.Settings.NONE), image);
    }

    static List<String> texts(Map<String, List<InUse.Reason>> protectedBy, FakeState.Image image) {
        return protectedBy.getOrDefault(image.id, List.of()).stream().map(InUse.Reason::text).toList();
    }

    static List<InUse.Kind> kinds(Map<String, List<InUse.Reason>> protectedBy, FakeState.Image image) {
        return protectedBy.getOrDefault(image.id, List.of()).stream().map(InUse.Reason::kind).toList();
    }

    /** The snapshot without some workloads (e.g. swarm's task history trimmed, or exited containers pruned). */
    static HostSnapshot without(HostSnapshot h, boolean tasks, boolean containers) {
        return new HostSnapshot(h.readAt(), h.engine(), h.services(), tasks ? List.of() : h.tasks(),
                containers ? List.of() : h.containers(), h.store());
    }

    // ---------------------------------------------------------------- containers

    @ParameterizedTest
    @ValueSource(strings = {"running", "paused", "created", "exited", "restarting", "dead"})
    void aContainerInAnyStateProtectsItsImage(String state) {
        FakeState.Image image = s.image("app:1");
        FakeState.Image other = s.image("other:1");
        s.container("job", image, state);
        assertEquals(List.of("container job (" + state + ")"), reasons(image));
        assertEquals(List.of(), reasons(other), "an image no one uses is not in use");
    }

    @Test
    void aContainerNamingATagProtectsTheImageThatHasTheTagNowAndTheOneItRunsOn() {
        FakeState.Image before = s.image("app:1");
        s.container("job", before, "exited");
        FakeState.Image now = s.image("app:1"); // the tag moves: the container's image is left dangling
        assertTrue(before.tags().isEmpty());
        assertEquals(List.of("container job (exited, by its name app:1)"), reasons(now),
                "docker start job would not need it, but docker run app:1 would: kept like the image itself");
        assertEquals(List.of("container job (exited)"), reasons(before));
    }

    @Test
    void aStacksContainerSaysItsStack() {
        FakeState.Image image = s.image("app:1");
        s.container("ci_web.1.x", image, "exited").label(HostSnapshot.STACK_LABEL, "ci");
        assertEquals(List.of("stack ci (container ci_web.1.x, exited)"), reasons(image));
    }

    // ---------------------------------------------------------------- parents

    @Test
    void aUserOfAChildProtectsEveryImageUpItsParentChain() {
        FakeState.Image base = s.image("base:1");
        FakeState.Image mid = s.image().parent(base); // an intermediate image a classic build leaves
        FakeState.Image app = s.image("app:1").parent(mid);
        s.container("web", app, "running");
        HostSnapshot snapshot = snapshot();
        assertFalse(snapshot.requireStore().image(mid.id).orElseThrow().topLevel(), "an intermediate image, not listed by docker images");
        assertTrue(snapshot.requireStore().image(mid.id).orElseThrow().layers().isEmpty(),
                "not inspected: only the parent chain links it to its child");
        Map<String, List<InUse.Reason>> p = workloads(snapshot, InUse.Settings.NONE);
        assertEquals(List.of("its child image app:1 is used by container web (running)"), texts(p, mid));
        assertEquals(List.of("its child image app:1 is used by container web (running)"), texts(p, base));
        assertEquals(List.of(InUse.Kind.CHILD), kinds(p, base));
        assertEquals(List.of("container web (running)"), texts(p, app));
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aUserOfAChildProtectsABaseWhoseLayersTheChildStartsWith(FakeHost.Store store) {
        host = new FakeHost(store);
        s = host.state();
        FakeState.Image base = s.image("base:1");
        FakeState.Image app = s.image("app:1").basedOn(base); // pulled or loaded apart: no parent chain
        FakeState.Image unrelated = s.image("tool:1");
        s.container("web", app, "exited");
        HostSnapshot snapshot = snapshot();
        assertTrue(snapshot.requireStore().image(app.id).orElseThrow().parentId().isEmpty());
        Map<String, List<InUse.Reason>> p = workloads(snapshot, InUse.Settings.NONE);
        assertEquals(List.of("its child image app:1 is used by container web (exited)"), texts(p, base));
        assertEquals(List.of(), texts(p, unrelated), "sharing no prefix, it is no parent");
    }

    @Test
    void aChildNobodyUsesProtectsNoParent() {
        FakeState.Image base = s.image("base:1");
        s.image("app:1").parent(base);
        assertEquals(List.of(), reasons(base), "in use means a workload; a parent of an unused child is eviction's concern");
    }

    // ---------------------------------------------------------------- swarm

    @Test
    void aServiceProtectsTheImageItsSpecNamesByTag() {
        FakeState.Image image = s.image("app:1");
        FakeState.Service web = s.service("web", "app:1");
        List<String> reasons = reasons(image);
        assertTrue(reasons.contains("service web (1 desired, 1 running)"), reasons.toString());
        assertTrue(reasons.contains("task " + s.taskOf(web).id.substring(0, 12) + " of service web (running)"), reasons.toString());
        assertEquals(List.of(InUse.Kind.CONTAINER, InUse.Kind.SERVICE, InUse.Kind.TASK), kinds(workloads(snapshot(), InUse.Settings.NONE), image));
    }

    @Test
    void aServiceScaledToZeroStillProtectsItsImage() {
        FakeState.Image image = s.image("app:1");
        s.service("web", "app:1").replicas(0);
        assertEquals(List.of("service web (0 desired, 0 running)"), reasons(image), "no task, no container: the spec alone");
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aServiceProtectsTheImageItsSpecNamesByDigestAlone(FakeHost.Store store) {
        host = new FakeHost(store);
        s = host.state();
        FakeState.RegistryImage app = s.registryImage("localhost:5000/acc/app:1", s.now().minus(MONTH), Map.of("l-app", 5_000_000L));
        s.service("pinned", "localhost:5000/acc/app@" + app.digest()).replicas(0);
        s.service("stacked", "localhost:5000/acc/app:1@" + app.digest()).replicas(0);
        FakeState.Image image = s.imageById(app.imageId()).orElseThrow();
        assertEquals(List.of("localhost:5000/acc/app@" + app.digest()), image.digests());
        assertEquals(List.of("service pinned (0 desired, 0 running)", "service stacked (0 desired, 0 running)"), reasons(image));
    }

    @Test
    void aSwarmDeployByDigestLeavesAnUntaggedImageItsServiceStillProtects() {
        // the classic store keeps no tag for a digest pull: the cache image is <none>, and only the digest names it
        FakeState.RegistryImage app = s.registryImage("localhost:5000/acc/app:1", s.now().minus(MONTH), Map.of("l-app", 5_000_000L));
        s.service("ci_app", "localhost:5000/acc/app:1@" + app.digest()).label(HostSnapshot.STACK_LABEL, "ci").replicas(0);
        FakeState.Image image = s.imageById(app.imageId()).orElseThrow();
        assertEquals(List.of(), image.tags());
        assertEquals(List.of("stack ci (service ci_app, 0 desired, 0 running)"), reasons(image));
    }

    @Test
    void thePreviousSpecProtectsTheRollbackTarget() {
        FakeState.Image v1 = s.image("app:1");
        FakeState.Image v2 = s.image("app:2");
        s.service("web", "app:1").update("app:2");
        HostSnapshot snapshot = snapshot();
        // the task history trimmed and the old containers pruned: the previous spec alone names v1
        Map<String, List<InUse.Reason>> p = workloads(without(snapshot, true, true), InUse.Settings.NONE);
        assertEquals(List.of("service web (its previous spec: the rollback target)"), texts(p, v1));
        assertEquals(List.of("service web (1 desired, 1 running)"), texts(p, v2));
    }

    @Test
    void aTaskInTheHistoryProtectsTheImageItNames() {
        FakeState.Image v1 = s.image("app:1");
        s.image("app:2");
        s.image("app:3");
        s.service("web", "app:1").update("app:2").update("app:3");
        host.prune(new EngineApi.PruneCall(EngineApi.PruneCall.CONTAINERS, Map.of())); // the old tasks' exited containers go
        HostSnapshot snapshot = snapshot();
        HostSnapshot.Task old = snapshot.tasks().stream().filter(t -> t.image().equals("app:1")).findFirst().orElseThrow();
        assertEquals("shutdown", old.state());
        assertEquals(List.of("task " + old.id().substring(0, 12) + " of service web (shutdown)"), reasons(v1),
                "neither the spec (app:3) nor the previous spec (app:2) names it: the task does");
    }

    @Test
    void aStacksServiceSaysItsStack() {
        FakeState.Image image = s.image("app:1");
        s.service("ci_web", "app:1").label(HostSnapshot.STACK_LABEL, "ci").replicas(1);
        List<String> reasons = reasons(image);
        assertTrue(reasons.contains("stack ci (service ci_web, 1 desired, 1 running)"), reasons.toString());
        assertTrue(reasons.stream().anyMatch(r -> r.startsWith("stack ci (container ci_web.1.") && r.endsWith(", running)")), reasons.toString());
    }

    // ---------------------------------------------------------------- what the operator protects

    @Test
    void aKeepPatternProtectsTheImagesWithATagItFinds() {
        FakeState.Image base = s.image("registry.example:5000/base/runtime:stable");
        FakeState.Image other = s.image("mybase/runtime:stable-ish");
        FakeState.Image untagged = s.image().digest("registry.example:5000/base/runtime@sha256:" + "a".repeat(64));
        Map<String, List<InUse.Reason>> p = workloads(snapshot(), InUse.Settings.parse(List.of("^registry\\.example:5000/base/"), List.of()));
        assertEquals(List.of("keep pattern: registry.example:5000/base/runtime:stable matches --keep ^registry\\.example:5000/base/"),
                texts(p, base));
        assertEquals(List.of(), texts(p, other), "anchored: found at the start only");
        assertEquals(List.of(), texts(p, untagged), "a pattern is about repository:tag: an untagged image has none");
        Map<String, List<InUse.Reason>> anywhere = workloads(snapshot(), InUse.Settings.parse(List.of("stable"), List.of()));
        assertEquals(List.of(InUse.Kind.KEEP), kinds(anywhere, other), "unanchored: found anywhere");
    }

    @Test
    void aKeepLabelProtectsTheImagesCarryingItByKeyOrByKeyAndValue() {
        FakeState.Image runner = s.image("gitlab/runner-helper:x").label("ci.managed-by", "runner");
        FakeState.Image other = s.image("tool:1").label("ci.managed-by", "someone-else");
        FakeState.Image plain = s.image("plain:1");
        Map<String, List<InUse.Reason>> byKey = workloads(snapshot(), InUse.Settings.parse(List.of(), List.of("ci.managed-by")));
        assertEquals(List.of("keep label ci.managed-by=runner (--keep-label ci.managed-by)"), texts(byKey, runner));
        assertEquals(List.of("keep label ci.managed-by=someone-else (--keep-label ci.managed-by)"), texts(byKey, other));
        assertEquals(List.of(), texts(byKey, plain));
        Map<String, List<InUse.Reason>> byValue = workloads(snapshot(), InUse.Settings.parse(List.of(), List.of("ci.managed-by=runner")));
        assertEquals(List.of("keep label ci.managed-by=runner (--keep-label ci.managed-by=runner)"), texts(byValue, runner));
        assertEquals(List.of(), texts(byValue, other), "another value is not a match");
    }

    // ---------------------------------------------------------------- recent use

    Map<String, List<InUse.Reason>> recent(LastUse record, String within) {
        HostSnapshot snapshot = snapshot();
        return InUse.of(snapshot, InUse.Settings.NONE, new InUse.Recency(record, Until.parse(within), s.now()));
    }

    @Test
    void aUseInTheRecordWithinTheAgeProtects() {
        FakeState.Image app = s.image("app:1");
        FakeState.Image byTag = s.image("app:2");
        FakeState.Image idle = s.image("app:3");
        s.advance(MONTH);
        LastUse record = LastUse.empty()
                .use(app.id, List.of(), s.now().minus(Duration.ofHours(1)))
                .use("sha256:" + "0".repeat(64), List.of("app:2"), s.now().minus(Duration.ofHours(3)))
                .use(idle.id, List.of("app:3"), s.now().minus(Duration.ofHours(25)));
        Map<String, List<InUse.Reason>> p = recent(record, DAY);
        assertEquals(List.of("used 1h ago (record), within 24h"), texts(p, app));
        assertEquals(List.of("used 3h ago (record of its tag app:2), within 24h"), texts(p, byTag),
                "an image without a record of its own: its tag's record stands in");
        assertEquals(List.of(), texts(p, idle));
    }

    @Test
    void theEnginesTagTimeOfATaggedImageProtectsButNotADanglingOnes() {
        FakeState.Image old = s.image("app:1");
        FakeState.Image dangling = s.image();
        s.advance(MONTH);
        host.tagImage(old.id, "app", "again"); // a pull or a tag now: the engine's LastTagTime
        dangling.lastTagTime(s.now()); // the containerd store's time it became dangling: no use of it
        s.advance(Duration.ofHours(2));
        Map<String, List<InUse.Reason>> p = recent(LastUse.empty(), DAY);
        assertEquals(List.of("pulled or tagged 2h ago (the engine's pull or tag time), within 24h"), texts(p, old));
        assertEquals(List.of(), texts(p, dangling));
    }

    @Test
    void withoutAnyRecordTheCreationTimeCounts() {
        FakeState.Image young = s.image().created(s.now().minus(Duration.ofHours(2)));
        FakeState.Image old = s.image().created(s.now().minus(MONTH));
        Map<String, List<InUse.Reason>> p = recent(LastUse.empty(), DAY);
        assertEquals(List.of("created 2h ago (no record, its creation time), within 24h"), texts(p, young));
        assertEquals(List.of(), texts(p, old));
    }

    @Test
    void aUseExactlyAsOldAsTheAgeNoLongerProtectsOneSecondYoungerDoes() {
        FakeState.Image atTheAge = s.image("app:1");
        FakeState.Image justInside = s.image("app:2");
        s.advance(MONTH);
        Instant now = s.now();
        LastUse record = LastUse.empty()
                .use(atTheAge.id, List.of(), now.minus(Duration.ofHours(24)))
                .use(justInside.id, List.of(), now.minus(Duration.ofHours(24)).plusSeconds(1));
        Map<String, List<InUse.Reason>> p = recent(record, DAY);
        assertEquals(List.of(), texts(p, atTheAge), "used exactly 24h ago: older than 'within 24h' allows");
        assertEquals(List.of("used 23h ago (record), within 24h"), texts(p, justInside));
    }

    @Test
    void everyReasonIsListedInOrderWorkloadsFirst() {
        FakeState.Image app = s.image("registry.example/app:1").label("keep", "yes");
        s.container("web", app, "running");
        Map<String, List<InUse.Reason>> p = InUse.of(snapshot(), InUse.Settings.parse(List.of("app"), List.of("keep")),
                new InUse.Recency(LastUse.empty(), Until.parse(DAY), s.now()));
        assertEquals(List.of(InUse.Kind.CONTAINER, InUse.Kind.KEEP, InUse.Kind.KEEP_LABEL, InUse.Kind.RECENT), kinds(p, app));
        assertEquals("container web (running), keep pattern: registry.example/app:1 matches --keep app, "
                + "keep label keep=yes (--keep-label keep) and 1 more", InUse.describe(p.get(app.id)));
        assertEquals(Optional.empty(), Optional.ofNullable(p.get("sha256:none")));
    }
}
