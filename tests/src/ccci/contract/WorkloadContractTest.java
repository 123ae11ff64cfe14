package ccci.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Engine;
import ccci.EngineApi;
import ccci.Json;
import ccci.contract.Contract.Real;
import ccci.contract.Contract.Roles;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.HostConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The fake host's workloads against the real engine's, on every engine and store of the matrix
 * (one swarm-mode sandbox engine and one registry for the class): the same operations through
 * {@link EngineApi} on the engine and on a {@link FakeHost} configured like it, compared with IDs as
 * roles. The claims:
 * <ol>
 * <li>A service created with name:tag@digest of an image the host lacks brings it by digest: on
 *     the classic store untagged with only the RepoDigest, on the containerd store under a record
 *     named name:tag@digest (listed among RepoTags). After the service is removed the image stays.</li>
 * <li>Container prune with until and label!: removes created and exited containers older than
 *     until, keeps running and paused ones, young ones and excluded labels; answers
 *     ContainersDeleted (null when none) and SpaceReclaimed.</li>
 * <li>A container prune while another runs meets 409 "a prune operation is already running"; a
 *     build-cache prune meanwhile does not (the fake's pruneRunning).</li>
 * <li>Events: container create and start carry Actor.Attributes.image (the reference as given)
 *     and name; a pull names the reference pulled in Actor.ID and the repository in
 *     Attributes.name, with no tag event of its own; a tag names the image ID and the new tag; below
 *     API 1.52 they also carry status, id (and from, for containers). ({@link ApiShapesTest} reads
 *     the 1.52 shapes from the fake.)</li>
 * <li>Services with status=true: ServiceStatus RunningTasks/DesiredTasks; after `service update
 *     --image` the previous spec names the old image; a scale is a spec update too (the previous
 *     spec then names the current image), and a service scaled to 0 keeps its spec; tasks name
 *     Spec.ContainerSpec.Image, and the shut-down ones stay listed.</li>
 * </ol>
 */
@OnEveryEngine
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkloadContractTest {
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private SandboxEngine engine;
    private SandboxRegistry registry;
    private Engine api;
    private boolean containerd;
    private final List<Real> reals = new ArrayList<>();
    private final List<String> services = new ArrayList<>();

    @BeforeAll
    void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true));
        registry = SandboxRegistry.start("ci", "contract");
        engine.login(registry.address(), registry.user(), registry.password());
        api = Engine.connect(engine.host());
        containerd = engine.kind().containerdImageStore();
    }

    @AfterEach
    void cleanUp() {
        services.forEach(s -> engine.docker("service", "rm", s));
        services.clear();
        reals.forEach(Real::removeContainers);
        reals.clear();
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    private Real real() {
        Real real = new Real(engine);
        reals.add(real);
        return real;
    }

    private String auth() {
        return Contract.registryAuth(registry);
    }

    /** Pushes a busybox image to the registry as repository:1 and removes it here: only the registry has it. */
    private String pushOnly(Real real, String role, String repository) {
        String local = repository + ":1";
        real.busybox(role, local);
        String remote = registry.address() + "/" + repository + ":1";
        real.tag(local, remote);
        engine.dockerOk("push", "-q", remote);
        String digest = api.distribution(remote, Optional.of(auth())).path("Descriptor").path("digest").asText();
        real.roles.put(role + "@digest", digest);
        engine.dockerOk("rmi", local, remote);
        assertTrue(!engine.docker("image", "inspect", real.roles.id(role)).ok(), "the image is only in the registry now");
        return digest;
    }

    // ---------------------------------------------------------------- 1. a service brings its image by digest

    @Test
    void aServiceByDigestBringsItsImageAndItStaysAfterTheServiceGoes() {
        Real real = real();
        String digest = pushOnly(real, "P", "w5/app");
        String repo = registry.address() + "/w5/app";

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState.RegistryImage r = fake.state().registryImage(repo + ":1", Contract.CREATED, Map.of("w5-layer", 2_000_000L));
        f.put("P", r.imageId());
        f.put("P@digest", r.digest());

        List<String> onEngine = serviceByDigest(api, real.roles, repo + ":1@" + digest, true);
        List<String> onFake = serviceByDigest(fake, f, repo + ":1@" + r.digest(), false);
        assertEquals(onEngine, onFake, "the fake's deploy brings the image as the engine's does");
        assertEquals(containerd ? "P tags=[" + repo + ":1@<P>] digests=[" + repo + "@<P>] parent="
                : "P tags=[] digests=[" + repo + "@<P@digest>] parent=", onEngine.get(1));
        assertEquals(onEngine.get(1), onEngine.get(3), "the image stays after the service goes");
    }

    private List<String> serviceByDigest(EngineApi api, Roles roles, String image, boolean real) {
        List<String> out = new ArrayList<>();
        ObjectNode spec = serviceSpec("w5svc", image, 1);
        out.add("create " + Contract.outcome(roles, () -> api.createService(spec, Optional.of(auth()))).replaceAll("\\{.*}", "{ID}"));
        if (real) {
            services.add("w5svc");
            Contract.await(() -> running(api, "w5svc") == 1, CONVERGE, "w5svc runs its task");
        }
        out.addAll(Contract.images(api, roles, "P"));
        out.add("remove " + Contract.outcome(roles, () -> api.removeService("w5svc")));
        if (real) {
            services.remove("w5svc");
            Contract.await(() -> serviceContainers(api, "w5svc") == 0, CONVERGE, "w5svc's container is gone");
        }
        out.addAll(Contract.images(api, roles, "P"));
        return out;
    }

    private static ObjectNode serviceSpec(String name, String image, long replicas) {
        ObjectNode spec = Json.mapper().createObjectNode();
        spec.put("Name", name);
        ObjectNode container = spec.putObject("TaskTemplate").putObject("ContainerSpec");
        container.put("Image", image);
        container.putArray("Args").add("sleep").add("600");
        spec.putObject("Mode").putObject("Replicated").put("Replicas", replicas);
        return spec;
    }

    private static long running(EngineApi api, String service) {
        for (JsonNode s : api.services()) {
            if (s.path("Spec").path("Name").asText().equals(service)) {
                return s.path("ServiceStatus").path("RunningTasks").asLong();
            }
        }
        return -1;
    }

    private static long serviceContainers(EngineApi api, String service) {
        long n = 0;
        for (JsonNode c : api.containers(true)) {
            if (service.equals(c.path("Labels").path("com.docker.swarm.service.name").asText())) {
                n++;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- 2. container prune

    @Test
    void containerPruneRemovesStoppedContainersOlderThanUntilAndKeepsTheRest() throws InterruptedException {
        Real real = real();
        real.busybox("W", "w6/run:1");
        for (String state : List.of("created", "exited", "running", "paused")) {
            real.container("w6-old-" + state, "w6/run:1", state);
        }
        real.container("w6-old-kept-by-label", "w6/run:1", "exited", "w6.keep=1");
        Thread.sleep(2500);
        real.container("w6-young-created", "w6/run:1", "created");
        real.container("w6-young-exited", "w6/run:1", "exited");

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image w = s.image("w6/run:1");
        Instant old = s.now().minusSeconds(10);
        for (String state : List.of("created", "exited", "running", "paused")) {
            f.put("w6-old-" + state, s.container("w6-old-" + state, w, state).created(old).id);
        }
        f.put("w6-old-kept-by-label", s.container("w6-old-kept-by-label", w, "exited").label("w6.keep", "1").created(old).id);
        f.put("w6-young-created", s.container("w6-young-created", w, "created").id);
        f.put("w6-young-exited", s.container("w6-young-exited", w, "exited").id);

        EngineApi.PruneCall call = new EngineApi.PruneCall(EngineApi.PruneCall.CONTAINERS,
                Map.of("until", List.of("2s"), "label!", List.of("w6.keep")));
        List<String> onEngine = prune(api, real.roles, call);
        List<String> onFake = prune(fake, f, call);
        assertEquals(onEngine, onFake, "the fake prunes containers as the engine does");
        assertEquals("deleted [w6-old-created, w6-old-exited]", onEngine.get(0));
        assertEquals("left [w6-old-kept-by-label exited, w6-old-paused paused, w6-old-running running, w6-young-created created, "
                + "w6-young-exited exited]", onEngine.get(1));
        assertEquals("again: ContainersDeleted empty, SpaceReclaimed 0", onEngine.get(2));
    }

    private static List<String> prune(EngineApi api, Roles roles, EngineApi.PruneCall call) {
        List<String> out = new ArrayList<>();
        JsonNode answer = api.prune(call);
        TreeSet<String> deleted = new TreeSet<>();
        answer.path("ContainersDeleted").forEach(id -> roles.roleOf(id.asText()).ifPresent(deleted::add));
        assertTrue(answer.path("SpaceReclaimed").isIntegralNumber(), answer.toString());
        out.add("deleted " + deleted);
        TreeSet<String> left = new TreeSet<>();
        api.containers(true).forEach(c -> roles.roleOf(c.path("Id").asText()).ifPresent(r -> left.add(r + " " + c.path("State").asText())));
        out.add("left " + left);
        JsonNode again = api.prune(call);
        out.add("again: ContainersDeleted " + Contract.kind(again.path("ContainersDeleted")) + ", SpaceReclaimed "
                + again.path("SpaceReclaimed").asLong());
        return out;
    }

    // ---------------------------------------------------------------- 3. one prune at a time

    @Test
    void aContainerPruneWhileAnotherRunsMeets409AndABuildCachePruneDoesNot() throws Exception {
        engine.importBusybox("w7/run:1");
        EngineApi.PruneCall ours = new EngineApi.PruneCall(EngineApi.PruneCall.CONTAINERS, Map.of("label", List.of("w7.prune=1")));
        EngineApi.PruneCall buildCache = new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of());
        List<String> onEngine = null;
        for (int round = 1; round <= 3 && onEngine == null; round++) {
            createStopped(25 * round);
            try (Engine first = Engine.connect(engine.host())) {
                CompletableFuture<JsonNode> running = CompletableFuture.supplyAsync(() -> first.prune(ours));
                Thread.sleep(50);
                String second = Contract.outcome(new Roles(), () -> api.prune(ours));
                String cache = Contract.outcome(new Roles(), () -> api.prune(buildCache)).replaceAll("\\{.*}", "{...}");
                boolean overlapped = !running.isDone();
                running.get();
                if (overlapped && second.startsWith("409")) {
                    onEngine = List.of("container prune: " + second, "build-cache prune: " + cache);
                }
                System.out.println("[contract] " + engine.kind() + " concurrent prune, round " + round + ": second " + second
                        + ", build cache " + cache + ", first still running then: " + overlapped);
            }
        }
        assertTrue(onEngine != null, "no round provoked the engine's 409 (the first prune ended before the second began)");

        FakeHost fake = Contract.fakeLike(engine, api);
        fake.state().pruneRunning(true);
        List<String> onFake = List.of("container prune: " + Contract.outcome(new Roles(), () -> fake.prune(ours)),
                "build-cache prune: " + Contract.outcome(new Roles(), () -> fake.prune(buildCache)).replaceAll("\\{.*}", "{...}"));
        assertEquals(onEngine, onFake, "the fake's pruneRunning answers as the engine does");
        assertEquals("container prune: 409 a prune operation is already running", onEngine.get(0));
    }

    private void createStopped(int n) {
        try (DockerClient docker = engine.dockerJava()) {
            for (int i = 0; i < n; i++) {
                docker.createContainerCmd("w7/run:1").withCmd("true").withLabels(Map.of("w7.prune", "1"))
                        .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none")).exec();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- 4. events

    @Test
    void eventsNameTheImageOfAContainerThePulledReferenceAndANewTag() {
        Real real = real();
        real.busybox("Q", "w9/run:1");
        pushOnly(real, "PL", "w9/pulled");
        String repo = registry.address() + "/w9/pulled";

        Instant since = Instant.now();
        real.container("w9-ctr", "w9/run:1", "running");
        api.pull(repo, "1", Optional.of(auth()), Duration.ofSeconds(60), m -> {});
        real.roles.put("PL", real.id(repo + ":1"));
        api.tagImage(real.roles.id("Q"), "w9/tagged", "1");
        List<JsonNode> events = realEvents(since);

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image q = s.image("w9/run:1");
        f.put("Q", q.id);
        FakeState.RegistryImage r = s.registryImage(repo + ":1", Contract.CREATED, Map.of("w9-layer", 2_000_000L));
        f.put("PL", r.imageId());
        s.advance(Duration.ofSeconds(1));
        Instant fakeSince = s.now();
        f.put("w9-ctr", s.container("w9-ctr", q, "running").id);
        fake.pull(repo, "1", Optional.empty(), Duration.ofSeconds(60), m -> {});
        fake.tagImage(q.id, "w9/tagged", "1");
        List<JsonNode> fakeEvents = new ArrayList<>();
        fake.events(fakeSince, s.now(), List.of("container", "image"), fakeEvents::add);

        List<String> onEngine = ours(events, real.roles, repo);
        List<String> onFake = ours(fakeEvents, f, repo);
        assertEquals(onEngine, onFake, "the fake's events have the engine's shapes");
        assertEquals(List.of("container create image=w9/run:1 name=w9-ctr legacy=[from, id, status]",
                "container start image=w9/run:1 name=w9-ctr legacy=[from, id, status]",
                "image pull " + repo + ":1 name=" + repo + " legacy=[id, status]",
                "image tag <Q> name=w9/tagged:1 legacy=[id, status]"), onEngine);
    }

    /** The engine's events since then, up to a moment from now, read through the seam (GET /events with since and until). */
    private List<JsonNode> realEvents(Instant since) {
        List<JsonNode> events = new ArrayList<>();
        api.events(since, Instant.now().plusMillis(300), List.of("container", "image"), events::add);
        return events;
    }

    /** This test's events, in order: container events of w9-ctr, image events of its images and its pull. */
    private static List<String> ours(List<JsonNode> events, Roles roles, String repo) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            String type = e.path("Type").asText();
            String action = e.path("Action").asText();
            JsonNode actor = e.path("Actor");
            String id = actor.path("ID").asText();
            JsonNode attributes = actor.path("Attributes");
            TreeSet<String> legacy = new TreeSet<>();
            for (String field : List.of("status", "id", "from")) {
                if (e.has(field)) {
                    legacy.add(field);
                }
            }
            if (type.equals("container") && attributes.path("name").asText().equals("w9-ctr") && List.of("create", "start").contains(action)) {
                out.add("container " + action + " image=" + attributes.path("image").asText() + " name=w9-ctr legacy=" + legacy);
            } else if (type.equals("image") && List.of("pull", "tag").contains(action)
                    && (id.startsWith(repo) || roles.roleOf(id).filter(r -> r.equals("Q") || r.equals("PL")).isPresent())) {
                out.add(roles.norm("image " + action + " " + id + " name=" + attributes.path("name").asText() + " legacy=" + legacy));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- 5. services

    @Test
    void servicesReportTheirTasksTheirPreviousSpecAndKeepTheirSpecAtZeroReplicas() {
        Real real = real();
        real.busybox("S1", "w10/svc:1");
        real.tag("w10/svc:1", "w10/svc:2"); // another name is enough: the spec changes, the task is replaced

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        f.put("S1", s.image("w10/svc:1", "w10/svc:2").id);

        List<String> onEngine = new ArrayList<>();
        api.createService(serviceSpec("w10svc", "w10/svc:1", 1), Optional.empty());
        services.add("w10svc");
        awaitService(1, "w10/svc:1");
        onEngine.add(service(api));
        engine.dockerOk("service", "update", "--detach", "--no-resolve-image", "--image", "w10/svc:2", "w10svc");
        awaitService(1, "w10/svc:2");
        onEngine.add(service(api));
        engine.dockerOk("service", "scale", "--detach", "w10svc=0");
        awaitService(0, "w10/svc:2");
        onEngine.add(service(api));

        List<String> onFake = new ArrayList<>();
        fake.createService(serviceSpec("w10svc", "w10/svc:1", 1), Optional.empty());
        onFake.add(service(fake));
        FakeState.Service svc = s.serviceNamed("w10svc").orElseThrow();
        svc.update("w10/svc:2");
        onFake.add(service(fake));
        svc.scale(0);
        onFake.add(service(fake));

        assertEquals(onEngine, onFake, "the fake's services report as the engine's do");
        assertEquals("w10svc image=w10/svc:2 previous=w10/svc:1 replicas=1 running=1 desired=1 tasks running=[w10/svc:2] "
                + "all=[w10/svc:1, w10/svc:2]", onEngine.get(1).replaceAll(" update=\\S+", ""));
        assertTrue(onEngine.get(2).startsWith("w10svc image=w10/svc:2 previous=w10/svc:2 replicas=0 running=0 desired=0 tasks running=[] "),
                onEngine.get(2));
    }

    /** Waits until the service runs as many tasks as wanted, all of the image, and no other task is still running. */
    private void awaitService(long replicas, String image) {
        Contract.await(() -> {
            JsonNode svc = serviceJson(api);
            if (svc == null || svc.path("ServiceStatus").path("RunningTasks").asLong(-1) != replicas
                    || svc.path("ServiceStatus").path("DesiredTasks").asLong(-1) != replicas) {
                return false;
            }
            for (JsonNode t : api.tasks(Optional.of("w10svc"))) {
                if (t.path("DesiredState").asText().equals("remove")) {
                    return false; // scaled down: swarm deletes the task once it stopped
                }
                boolean runs = t.path("Status").path("State").asText().equals("running");
                boolean wanted = t.path("DesiredState").asText().equals("running");
                if (runs != wanted || (wanted && !t.path("Spec").path("ContainerSpec").path("Image").asText().equals(image))) {
                    return false;
                }
            }
            String update = svc.path("UpdateStatus").path("State").asText("");
            return update.isEmpty() || update.equals("completed");
        }, CONVERGE, "w10svc runs " + replicas + " task(s) of " + image);
    }

    private static JsonNode serviceJson(EngineApi api) {
        for (JsonNode s : api.services()) {
            if (s.path("Spec").path("Name").asText().equals("w10svc")) {
                return s;
            }
        }
        return null;
    }

    private static String service(EngineApi api) {
        JsonNode s = serviceJson(api);
        TreeSet<String> running = new TreeSet<>();
        TreeSet<String> all = new TreeSet<>();
        for (JsonNode t : api.tasks(Optional.of("w10svc"))) {
            String image = t.path("Spec").path("ContainerSpec").path("Image").asText();
            all.add(image);
            if (t.path("DesiredState").asText().equals("running")) {
                running.add(image);
            }
        }
        JsonNode spec = s.path("Spec");
        return "w10svc image=" + spec.path("TaskTemplate").path("ContainerSpec").path("Image").asText()
                + " previous=" + s.path("PreviousSpec").path("TaskTemplate").path("ContainerSpec").path("Image").asText("")
                + " replicas=" + spec.path("Mode").path("Replicated").path("Replicas").asLong(-1)
                + " running=" + s.path("ServiceStatus").path("RunningTasks").asLong(-1)
                + " desired=" + s.path("ServiceStatus").path("DesiredTasks").asLong(-1)
                + " tasks running=" + running + " all=" + all
                + " update=" + s.path("UpdateStatus").path("State").asText("none");
    }
}
