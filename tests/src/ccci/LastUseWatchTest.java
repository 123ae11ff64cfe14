package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * watch (LastUseWatch) fed the fake host's events as they happen, in API 1.41's shape (status, id,
 * from) and 1.52's (Type, Action, Actor only): it records pulls by tag, by digest and by
 * name:tag@digest (a swarm node's pull), resolving the pulled reference (Actor.ID), not the
 * repository the event names (issue 18, defect 5); container create and start; service create and
 * update; tags. In package ccci: the watch's event handler and flush are package-private.
 */
class LastUseWatchTest {
    static final String REPO = "localhost:5000/acc/app";

    @TempDir Path dir;

    static Stream<Arguments> shapes() {
        List<Arguments> all = new ArrayList<>();
        for (String api : List.of("1.41", "1.52")) {
            for (FakeHost.Store store : FakeHost.Store.values()) {
                all.add(Arguments.of(api, store));
            }
        }
        return all.stream();
    }

    /** A watch following the host: {@link #drain} hands it the events that happened since the last drain. */
    final class Watched {
        final FakeHost host;
        final LastUseWatch watch;
        final StringWriter log = new StringWriter();
        final List<String> types;
        int seen;

        Watched(FakeHost host, List<String> types) {
            this.host = host;
            this.types = types;
            this.watch = new LastUseWatch(host.host(), dir.resolve("last-use.json"), Duration.ofSeconds(1), Duration.ofSeconds(1),
                    new PrintWriter(log, true));
            seen = events().size(); // what happened before it started is not its business
        }

        List<JsonNode> events() {
            List<JsonNode> all = new ArrayList<>();
            host.events(Instant.EPOCH, List.of("container", "service", "image"), all::add);
            return all;
        }

        /** Hands the watch every new event of its types, then writes its record. */
        LastUse drain() {
            List<JsonNode> all = events();
            for (JsonNode e : all.subList(seen, all.size())) {
                if (types.contains(e.path("Type").asText())) {
                    watch.handle(host, e);
                }
            }
            seen = all.size();
            watch.flush(Optional.empty());
            return LastUse.load(dir.resolve("last-use.json")).record();
        }
    }

    static FakeHost host(String api, FakeHost.Store store) {
        FakeHost host = new FakeHost(store);
        host.state().api(api, api.equals("1.52") ? "1.44" : "1.24");
        return host;
    }

    static String id(FakeHost host, String ref) {
        return host.inspectImage(ref).path("Id").asText();
    }

    static void pull(FakeHost host, String tagOrDigest) {
        host.pull(REPO, tagOrDigest, Optional.empty(), Duration.ofMinutes(1), m -> { });
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void eventsComeInTheApisShape(String api, FakeHost.Store store) {
        FakeHost host = host(api, store);
        host.state().image("app:1");
        List<JsonNode> events = new ArrayList<>();
        host.events(Instant.EPOCH, List.of("image"), events::add);
        JsonNode tag = events.get(0);
        assertEquals("tag", tag.path("Action").asText());
        assertEquals(api.equals("1.41"), tag.has("status"), tag.toString());
        assertEquals(api.equals("1.41"), tag.has("id"), tag.toString());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aPullByTagIsRecordedUnderThePulledImageNotTheRepositorysLatest(String api, FakeHost.Store store) {
        FakeHost host = host(api, store);
        FakeState s = host.state();
        Instant built = s.now().minus(Duration.ofDays(60));
        s.registryImage(REPO + ":latest", built, Map.of("l-latest", 1_000_000L));
        s.registryImage(REPO + ":1", built, Map.of("l-1", 1_000_000L));
        pull(host, "latest"); // the repository's :latest is here too: resolving the event's name would find it
        s.advance(Duration.ofDays(3));
        Watched w = new Watched(host, List.of("container", "service", "image"));
        pull(host, "1");
        Instant pulledAt = s.now();
        LastUse record = w.drain();
        assertEquals(Optional.of(pulledAt), record.ofImage(id(host, REPO + ":1")), "the pulled image: " + record.toJson());
        assertEquals(Optional.of(pulledAt), record.ofRef(REPO + ":1"));
        assertEquals(Optional.empty(), record.ofImage(id(host, REPO + ":latest")), "not the repository's latest: " + record.toJson());
        assertEquals("", w.log.toString());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aPullByTagOfARepositoryWithoutLatestIsRecorded(String api, FakeHost.Store store) {
        FakeHost host = host(api, store);
        FakeState s = host.state();
        s.registryImage(REPO + ":7", s.now().minus(Duration.ofDays(60)), Map.of("l-7", 1_000_000L));
        Watched w = new Watched(host, List.of("image"));
        pull(host, "7");
        List<JsonNode> pulls = w.events().stream().filter(e -> e.path("Action").asText().equals("pull")).toList();
        assertEquals(REPO, pulls.get(0).path("Actor").path("Attributes").path("name").asText(), "the event names the repository alone");
        assertEquals(Optional.of(s.now()), w.drain().ofImage(id(host, REPO + ":7")));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aPullByDigestIsRecordedUnderTheImageThatArrived(String api, FakeHost.Store store) {
        FakeHost host = host(api, store);
        FakeState s = host.state();
        FakeState.RegistryImage reg = s.registryImage(REPO + ":7", s.now().minus(Duration.ofDays(60)), Map.of("l-7", 1_000_000L));
        Watched w = new Watched(host, List.of("image"));
        pull(host, reg.digest());
        assertEquals(store == FakeHost.Store.CLASSIC ? List.of() : List.of(REPO + "@" + reg.digest()),
                s.imageById(reg.imageId()).orElseThrow().tags(), "pulled by digest: no tag (the containerd store: a record by digest)");
        assertEquals(Optional.of(s.now()), w.drain().ofImage(reg.imageId()));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aSwarmNodesPullByNameTagAndDigestIsRecorded(String api, FakeHost.Store store) {
        FakeHost host = host(api, store);
        FakeState s = host.state();
        FakeState.RegistryImage reg = s.registryImage(REPO + ":7", s.now().minus(Duration.ofDays(60)), Map.of("l-7", 1_000_000L));
        Watched w = new Watched(host, List.of("image")); // the pull alone: the service's and its task's events are other tests'
        s.service("web", REPO + ":7@" + reg.digest());
        List<JsonNode> pulls = w.events().stream().filter(e -> e.path("Action").asText().equals("pull")).toList();
        assertEquals(REPO + ":7@" + reg.digest(), pulls.get(0).path("Actor").path("ID").asText());
        assertEquals(Optional.of(s.now()), w.drain().ofImage(reg.imageId()));
        assertEquals(Optional.of(reg.imageId()), LastUseWatch.resolve(host, REPO + ":7@" + reg.digest(), REPO));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.41", "1.52"})
    void containerCreateAndStartAreUsesAtTheirOwnTime(String api) {
        FakeHost host = host(api, FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image app = s.image("app:1");
        FakeState.Image job = s.image("job:1");
        s.advance(Duration.ofDays(2));
        Watched w = new Watched(host, List.of("container"));
        s.container("web", app, "running");
        Instant started = s.now();
        s.advance(Duration.ofHours(1));
        s.container("later", job, "created");
        LastUse record = w.drain();
        assertEquals(Optional.of(started), record.ofImage(app.id));
        assertEquals(Optional.of(started), record.ofRef("app:1"));
        assertEquals(Optional.of(s.now()), record.ofImage(job.id), "created, never started: a use too");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.41", "1.52"})
    void serviceCreateAndUpdateAreUsesOfTheImageTheSpecNames(String api) {
        FakeHost host = host(api, FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image v1 = s.image("app:1");
        FakeState.Image v2 = s.image("app:2");
        s.advance(Duration.ofDays(2));
        Watched w = new Watched(host, List.of("service")); // the service's own events, without its tasks' containers
        FakeState.Service web = s.service("web", "app:1").replicas(0);
        Instant created = s.now();
        assertEquals(Optional.of(created), w.drain().ofImage(v1.id));
        s.advance(Duration.ofHours(1));
        web.update("app:2");
        LastUse record = w.drain();
        assertEquals(Optional.of(s.now()), record.ofImage(v2.id));
        assertEquals(Optional.of(created), record.ofImage(v1.id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.41", "1.52"})
    void aTagIsAUseOfTheImageAndItsNewName(String api) {
        FakeHost host = host(api, FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        FakeState.Image app = s.image("app:1");
        s.advance(Duration.ofDays(2));
        Watched w = new Watched(host, List.of("image"));
        host.tagImage(app.id, "app", "hotfix");
        LastUse record = w.drain();
        assertEquals(Optional.of(s.now()), record.ofImage(app.id));
        assertEquals(Optional.of(s.now()), record.ofRef("app:hotfix"));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void anImageThatJustArrivedIsNotOlderThanItsArrival(String api, FakeHost.Store store) {
        // built 60 days ago, pulled by digest now (a swarm deploy): on the classic store no tag, so no
        // engine tag time either; the watch's record is what makes it as young as its arrival
        FakeHost host = host(api, store);
        FakeState s = host.state();
        s.image("app:used-2d-ago").layer("l-old", 50_000_000L);
        s.advance(Duration.ofDays(30));
        FakeState.RegistryImage reg = s.registryImage(REPO + ":7", s.now().minus(Duration.ofDays(60)), Map.of("l-7", 50_000_000L));
        Watched w = new Watched(host, List.of("container", "service", "image"));
        pull(host, reg.digest());
        LastUse record = w.drain().use(id(host, "app:used-2d-ago"), List.of(), s.now().minus(Duration.ofDays(2)));
        HostSnapshot snapshot = HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now());
        Disk full = new Disk(Path.of("/var/lib/docker"), 990_000_000L, 10_000_000L);
        EvictionPolicy.Plan plan = EvictionPolicy.plan(snapshot, InUse.Settings.NONE, record,
                EvictionPolicy.Settings.parse("10", "24h", Optional.empty()), full, s.now());
        EvictionPolicy.Decision pulled = plan.kept().stream().filter(d -> d.image().id().equals(reg.imageId())).findFirst()
                .orElseThrow(() -> new AssertionError("not kept: " + plan.order()));
        assertEquals("used 0s ago (record), within 24h", pulled.reason(), "--min-age protects it");

        s.advance(Duration.ofHours(1));
        EvictionPolicy.Plan later = EvictionPolicy.plan(HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now()), InUse.Settings.NONE,
                record, EvictionPolicy.Settings.parse("10", "1s", Optional.empty()), full, s.now());
        assertEquals(List.of(id(host, "app:used-2d-ago"), reg.imageId()), later.order().stream().map(d -> d.image().id()).toList(),
                "past --min-age it goes after an image used two days ago, not first by its build date");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.41", "1.52"})
    void anEventWhoseObjectIsGoneIsOneLogLineAndTheStreamGoesOn(String api) {
        FakeHost host = host(api, FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.image("app:1");
        FakeState.Image job = s.image("job:1");
        Watched w = new Watched(host, List.of("service", "container"));
        FakeState.Service gone = s.service("gone", "app:1").replicas(0);
        host.removeService(gone.id);
        s.container("job", job, "created");
        LastUse record = w.drain();
        assertTrue(w.log.toString().startsWith("watch: could not record service create: "), w.log.toString());
        assertEquals(1, w.log.toString().lines().count(), w.log.toString());
        assertEquals(Optional.of(s.now()), record.ofImage(job.id), "the next event is recorded");
    }
}
