package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.HostSnapshot;
import ccci.InUse;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PrunePolicy;
import ccci.PruneRun;
import ccci.PruneShortfall;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of "in use" the image phase must honour, each alone, on both stores: an old untagged
 * image that only this user protects stays (the plan keeps it, saying why, and the run never asks
 * the engine to delete it: the engine's own 409 is not what saves it), while an unprotected old
 * untagged image beside it goes. The protected image is an old untagged image, or, where a service
 * or task names it by digest, an older pull of a registry repository superseded by a newer one (the
 * newest is kept as the cache anyway).
 */
class PruneInUseTest {
    static final Duration MONTH = Duration.ofDays(30);
    @TempDir static Path tmp;

    /** What the scenario built: the image only the case protects, the unprotected one, and the run's settings. */
    record Built(FakeHost host, String subject, String unprotected, PruneRun.Settings settings) {}

    /** One case: it protects the subject (or, for "nothing", does not). */
    interface Case {
        /** @return the subject's ID */
        String protect(FakeHost host, Registry registry, List<Object> settings);
    }

    /** Two pulls of localhost:5000/acc/app by digest, untagged on both stores: v1 superseded by v2, both long ago. */
    record Registry(FakeState.RegistryImage v1, FakeState.RegistryImage v2) {
        String v1Pin() {
            return "localhost:5000/acc/app:1@" + v1.digest();
        }

        String v2Pin() {
            return "localhost:5000/acc/app:2@" + v2.digest();
        }
    }

    static Built build(FakeHost.Store store, Case c) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        FakeState.RegistryImage v1 = s.registryImage("localhost:5000/acc/app:1", old, Map.of("l-app-1", 1_000_000L));
        FakeState.RegistryImage v2 = s.registryImage("localhost:5000/acc/app:2", old.plus(Duration.ofDays(1)), Map.of("l-app-2", 1_000_000L));
        host.pull("localhost:5000/acc/app", v1.digest(), Optional.empty(), Duration.ofSeconds(10), m -> { });
        host.pull("localhost:5000/acc/app", v2.digest(), Optional.empty(), Duration.ofSeconds(10), m -> { });
        s.advance(Duration.ofDays(2)); // the containerd store's record of the pulls is old too
        FakeState.Image unprotected = PruneSafetyTest.untagged(s, store, old);
        List<Object> settings = new ArrayList<>();
        String subject = c.protect(host, new Registry(v1, v2), settings);
        InUse.Settings keep = settings.stream().filter(o -> o instanceof InUse.Settings).map(o -> (InUse.Settings) o).findFirst()
                .orElse(InUse.Settings.NONE);
        Optional<Path> lastUse = settings.stream().filter(o -> o instanceof Path).map(o -> (Path) o).findFirst();
        host.clearRequests();
        return new Built(host, subject, unprotected.id, new PruneRun.Settings(OnFake.GATES, Until.parse("24h"), Optional.empty(), keep,
                lastUse, PruneShortfall.Settings.withoutState()));
    }

    static FakeState.Image v1(FakeHost host, Registry r) {
        return host.state().imageById(r.v1().imageId()).orElseThrow();
    }

    /** A plain untagged image built long ago (on the containerd store recorded then too). */
    static FakeState.Image oldUntagged(FakeHost host) {
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        return s.image().created(old).lastTagTime(old);
    }

    static Stream<Arguments> cases() {
        Map<String, Case> cases = new java.util.LinkedHashMap<>();
        for (String state : List.of("running", "paused", "restarting", "created", "exited", "dead")) {
            // created now: younger than --until, so phase 1 leaves a stopped one in place
            cases.put("container " + state, (host, r, settings) -> {
                FakeState.Image subject = oldUntagged(host);
                host.state().container("user", subject, state);
                return subject.id;
            });
        }
        cases.put("container on a child", (host, r, settings) -> {
            FakeState.Image base = oldUntagged(host);
            FakeState.Image child = host.state().image("ccci/child:1").basedOn(base).created(host.state().now().minus(MONTH));
            host.state().container("job", child, "exited");
            return base.id;
        });
        cases.put("service by digest", (host, r, settings) -> {
            host.state().service("web", r.v1Pin());
            return r.v1().imageId();
        });
        cases.put("service by digest, replicas 0", (host, r, settings) -> {
            host.state().service("web", r.v1Pin()).replicas(0);
            return r.v1().imageId();
        });
        cases.put("previous spec", (host, r, settings) -> {
            host.state().service("web", r.v2Pin()).previous(r.v1Pin());
            return r.v1().imageId();
        });
        cases.put("task", (host, r, settings) -> {
            FakeState.Service web = host.state().service("web", r.v2Pin());
            host.state().task(web, r.v1Pin(), "shutdown");
            return r.v1().imageId();
        });
        cases.put("--keep-label", (host, r, settings) -> {
            settings.add(InUse.Settings.parse(List.of(), List.of("ci.keep=true")));
            return oldUntagged(host).label("ci.keep", "true").id;
        });
        cases.put("recent use within until", (host, r, settings) -> {
            FakeState.Image subject = oldUntagged(host);
            Path record = tmp.resolve("last-use-" + System.nanoTime() + ".json");
            try {
                LastUse.save(record, LastUse.empty().use(subject.id, List.of(), host.state().now().minus(Duration.ofHours(3))),
                        Optional.empty());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            settings.add(record);
            return subject.id;
        });
        return cases.entrySet().stream().flatMap(e -> Stream.of(FakeHost.Store.values()).map(store -> Arguments.of(e.getKey(), store,
                e.getValue())));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void theImagePhaseKeepsAnImageItsUserProtects(String name, FakeHost.Store store, Case c) {
        Built dry = build(store, c);
        PruneRun.Report planned = OnFake.prune(dry.host(), dry.settings(), true, new PruneRun.Listener() {});
        PrunePolicy.Plan plan = planned.plan().orElseThrow();
        PrunePolicy.Item item = plan.images().stream().filter(i -> i.id().equals(dry.subject())).findFirst()
                .orElseThrow(() -> new AssertionError("the subject is in the plan\n" + PruneFormat.text(planned)));
        assertFalse(item.remove(), name + ": " + item + "\n" + PruneFormat.text(planned));
        // on the containerd store a registry case's image is tagged (its name@digest record), and said in use all the same
        PrunePolicy.Why why = name.equals("recent use within until") ? PrunePolicy.Why.YOUNG : PrunePolicy.Why.IN_USE;
        assertEquals(why, item.why(), item.toString());
        assertTrue(plan.removed().stream().anyMatch(i -> i.id().equals(dry.unprotected())), "the unprotected image goes\n"
                + PruneFormat.text(planned));

        Built real = build(store, c);
        PruneRun.Report ran = OnFake.prune(real.host(), real.settings(), false, new PruneRun.Listener() {});
        assertTrue(real.host().state().imageById(real.subject()).isPresent(), name + ": still there\n" + PruneFormat.text(ran));
        assertFalse(real.host().changes().contains("DELETE /images/" + real.subject()), name + ": never asked to delete it "
                + real.host().changes());
        assertTrue(real.host().state().imageById(real.unprotected()).isEmpty(), "the unprotected image went\n" + PruneFormat.text(ran));
    }

    /**
     * Without a user the superseded pull goes on the classic store: each registry case above is what
     * keeps it there. On the containerd store its name@digest record keeps it (tagged).
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(FakeHost.Store.class)
    void withoutAUserTheSupersededPullGoesOnTheClassicStore(FakeHost.Store store) {
        Built built = build(store, (host, r, settings) -> r.v1().imageId());
        PruneRun.Report ran = OnFake.prune(built.host(), built.settings(), false, new PruneRun.Listener() {});
        boolean classic = store == FakeHost.Store.CLASSIC;
        assertEquals(classic, built.host().changes().contains("DELETE /images/" + built.subject()), PruneFormat.text(ran));
        assertEquals(classic, built.host().state().imageById(built.subject()).isEmpty());
    }

    /**
     * A tag names only a tagged image, which the image phase keeps for being tagged: a service naming
     * an image by tag and a --keep pattern matter to eviction and cache. The one definition still
     * names them, read through the seam from the same host.
     */
    @Test
    void theOneDefinitionNamesAServiceByTagAndAKeepPatternToo() {
        FakeHost host = OnFake.fullHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image web = s.image("ccci/web:1").created(s.now().minus(MONTH));
        FakeState.Image base = s.image("ccci/base:stable").created(s.now().minus(MONTH));
        s.service("web", "ccci/web:1").replicas(0);
        s.advance(Duration.ofDays(1)); // tagged a day ago: no recent use
        HostSnapshot snapshot = HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now());
        Map<String, List<InUse.Reason>> users = InUse.of(snapshot, InUse.Settings.parse(List.of(":stable$"), List.of()),
                new InUse.Recency(LastUse.empty(), Until.parse("1s"), s.now()));
        assertEquals(List.of(InUse.Kind.SERVICE), users.get(web.id).stream().map(InUse.Reason::kind).toList(), users.toString());
        assertEquals(List.of(InUse.Kind.KEEP), users.get(base.id).stream().map(InUse.Reason::kind).toList(), users.toString());
        assertEquals("keep pattern: ccci/base:stable matches --keep :stable$", users.get(base.id).get(0).text());
    }
}
