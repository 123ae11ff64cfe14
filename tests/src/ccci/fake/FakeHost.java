package ccci.fake;

import ccci.Disk;
import ccci.Disks;
import ccci.EngineApi;
import ccci.ImageRef;
import ccci.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An in-memory Docker host behind the toolkit's engine seam ({@link EngineApi}) and its disks
 * ({@link Disks}), for scenarios that run in milliseconds. It applies the engine semantics the
 * toolkit relies on, for both image stores, and records every request. Each semantic it claims has
 * a contract test ({@code ccci.contract}) that runs the same operations on every real engine and
 * store of the matrix and compares. Kubelet's FakeRuntime beside image_gc_manager_test.go has the
 * same shape.
 *
 * <p>What it models: images with layers (a layer's bytes count once on the disk however many images
 * share it), tags and registry digests, parent chains; containers in every state; swarm services
 * with previous specs, tasks, nodes; build cache; volumes; a registry to pull from (by tag or by
 * digest, as a service deploy does); the disk, whose use follows what the store holds; events in
 * the engine's shapes (API 1.41 with status/id/from, 1.52 without).
 */
public final class FakeHost implements EngineApi, Disks {
    public enum Store { CLASSIC, CONTAINERD }

    private final FakeState state;
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    private Function<String, Optional<RuntimeException>> fault = request -> Optional.empty();
    private Consumer<String> beforeRequest = request -> {};

    public FakeHost(Store store, Clock clock) {
        this.state = new FakeState(store, clock);
    }

    public FakeHost(Store store) {
        this(store, Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC));
    }

    /** The state to set up and inspect: images, containers, services, registry, disk, clock. */
    public FakeState state() {
        return state;
    }

    /** Every request so far, as "METHOD /path" (a prune with its filters, a delete with its reference). */
    public List<String> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public void clearRequests() {
        requests.clear();
    }

    /** A failure for requests the function picks (e.g. HTTP 500 on POST /build/prune, an unreachable engine). */
    public FakeHost fault(Function<String, Optional<RuntimeException>> which) {
        this.fault = which;
        return this;
    }

    /** Runs before each request, with its line: a test changes the host between steps. */
    public FakeHost beforeRequest(Consumer<String> hook) {
        this.beforeRequest = hook;
        return this;
    }

    /** Every request fails as an unreachable engine does. */
    public FakeHost unreachable() {
        return fault(r -> Optional.of(new Unavailable("cannot reach the Docker engine at " + host() + ": Connection refused", null)));
    }

    private void request(String line) {
        beforeRequest.accept(line);
        requests.add(line);
        Optional<RuntimeException> failure = fault.apply(line);
        if (failure.isPresent()) {
            throw failure.get();
        }
    }

    private static Refused refused(int status, String what, String message) {
        return new Refused(status, "the Docker engine at fake answered HTTP " + status + " to " + what + ": " + message, message);
    }

    // ---------------------------------------------------------------- Disks

    @Override
    public Disk measure(Path path) throws IOException {
        synchronized (state) {
            return state.disk(path).orElseThrow(() -> new java.nio.file.NoSuchFileException(path.toString()));
        }
    }

    @Override
    public boolean isDirectory(Path path) {
        synchronized (state) {
            return state.disk(path).isPresent();
        }
    }

    // ---------------------------------------------------------------- EngineApi: reading

    @Override
    public String host() {
        return "unix:///fake/docker.sock";
    }

    @Override
    public JsonNode info() {
        request("GET /info");
        synchronized (state) {
            return state.infoJson();
        }
    }

    @Override
    public JsonNode version() {
        request("GET /version");
        ObjectNode v = Json.mapper().createObjectNode();
        v.put("Version", state.engineVersion);
        v.put("ApiVersion", state.apiVersion);
        v.put("MinAPIVersion", state.minApiVersion);
        return v;
    }

    @Override
    public JsonNode containers(boolean all) {
        request(all ? "GET /containers/json?all=1" : "GET /containers/json");
        synchronized (state) {
            ArrayNode out = Json.mapper().createArrayNode();
            state.containers.values().stream().filter(c -> all || c.state.equals("running")).forEach(c -> out.add(state.containerJson(c, false)));
            return out;
        }
    }

    @Override
    public JsonNode inspectContainer(String id) {
        request("GET /containers/" + id + "/json");
        synchronized (state) {
            FakeState.Container c = state.containers.values().stream().filter(x -> x.id.equals(id) || x.id.startsWith(id) || x.name.equals(id))
                    .findFirst().orElseThrow(() -> refused(404, "GET /containers/" + id + "/json", "No such container: " + id));
            ObjectNode node = Json.mapper().createObjectNode();
            node.put("Id", c.id);
            node.put("Name", "/" + c.name);
            node.put("Image", c.imageId);
            node.putObject("Config").put("Image", c.imageRef);
            node.putObject("State").put("Status", c.state);
            return node;
        }
    }

    @Override
    public JsonNode images() {
        request("GET /images/json?all=1");
        synchronized (state) {
            ArrayNode out = Json.mapper().createArrayNode();
            state.images.values().forEach(i -> out.add(state.imageSummary(i, false)));
            return out;
        }
    }

    @Override
    public JsonNode inspectImage(String reference) {
        request("GET /images/" + reference + "/json");
        synchronized (state) {
            FakeState.Image image = state.resolve(reference)
                    .orElseThrow(() -> refused(404, "GET /images/" + reference + "/json", "No such image: " + reference));
            return state.imageInspect(image);
        }
    }

    @Override
    public JsonNode systemDf(Set<String> types) {
        request("GET /system/df?verbose=1" + types.stream().sorted().map(t -> "&type=" + t).reduce("", String::concat));
        synchronized (state) {
            return state.df(types);
        }
    }

    @Override
    public JsonNode services() {
        request("GET /services?status=true");
        synchronized (state) {
            requireManager("GET /services");
            ArrayNode out = Json.mapper().createArrayNode();
            state.services.values().forEach(s -> out.add(state.serviceJson(s)));
            return out;
        }
    }

    @Override
    public JsonNode inspectService(String id) {
        request("GET /services/" + id);
        synchronized (state) {
            requireManager("GET /services/" + id);
            return state.serviceJson(state.service(id).orElseThrow(() -> refused(404, "GET /services/" + id, "service " + id + " not found")));
        }
    }

    @Override
    public JsonNode tasks(Optional<String> service) {
        request("GET /tasks" + service.map(s -> "?service=" + s).orElse(""));
        synchronized (state) {
            requireManager("GET /tasks");
            Optional<String> serviceId = service.map(s -> state.service(s).map(x -> x.id).orElse("none"));
            ArrayNode out = Json.mapper().createArrayNode();
            state.tasks.stream().filter(t -> serviceId.isEmpty() || t.serviceId.equals(serviceId.get()))
                    .forEach(t -> out.add(state.taskJson(t)));
            return out;
        }
    }

    @Override
    public JsonNode nodes() {
        request("GET /nodes");
        synchronized (state) {
            requireManager("GET /nodes");
            return state.nodesJson();
        }
    }

    @Override
    public JsonNode volumes() {
        request("GET /volumes");
        synchronized (state) {
            ObjectNode out = Json.mapper().createObjectNode();
            ArrayNode list = out.putArray("Volumes");
            state.volumes.forEach(v -> list.addObject().put("Name", v));
            return out;
        }
    }

    private void requireManager(String what) {
        if (state.swarm != FakeState.Swarm.MANAGER) {
            throw refused(503, what, "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.");
        }
    }

    // ---------------------------------------------------------------- EngineApi: changing

    @Override
    public JsonNode prune(PruneCall call) {
        request("POST " + java.net.URLDecoder.decode(call.pathAndQuery(), java.nio.charset.StandardCharsets.UTF_8));
        synchronized (state) {
            // the engine's prune lock is the daemon's (containers, networks, volumes): a build-cache prune is not held by it
            if (state.pruneRunning && call.endpoint().equals(PruneCall.CONTAINERS)) {
                throw refused(409, "POST " + call.endpoint(), "a prune operation is already running");
            }
            return call.endpoint().equals(PruneCall.CONTAINERS) ? state.pruneContainers(call.filters())
                    : state.pruneBuildCache(call.filters(), call.params());
        }
    }

    @Override
    public JsonNode deleteImage(String reference) {
        request("DELETE /images/" + reference);
        synchronized (state) {
            return state.delete(reference, (status, message) -> refused(status, "DELETE /images/" + reference, message));
        }
    }

    @Override
    public void tagImage(String image, String repository, String tag) {
        request("POST /images/" + image + "/tag?repo=" + repository + "&tag=" + tag);
        if (repository.contains("@") || !tag.matches("[\\w][\\w.-]{0,127}")) {
            // the engine parses repo (and tag) as a name: a digest reference is none (moby's RepoTagReference)
            throw refused(400, "POST /images/" + image + "/tag", "invalid reference format");
        }
        synchronized (state) {
            FakeState.Image target = state.resolve(image)
                    .orElseThrow(() -> refused(404, "POST /images/" + image + "/tag", "No such image: " + image));
            state.tag(target, repository + ":" + tag);
        }
    }

    @Override
    public JsonNode createService(JsonNode spec, Optional<String> registryAuth) {
        request("POST /services/create");
        synchronized (state) {
            requireManager("POST /services/create");
            return state.createService(spec, registryAuth.isPresent());
        }
    }

    @Override
    public void removeService(String id) {
        request("DELETE /services/" + id);
        synchronized (state) {
            requireManager("DELETE /services/" + id);
            if (!state.removeService(id)) {
                throw refused(404, "DELETE /services/" + id, "service " + id + " not found");
            }
        }
    }

    @Override
    public Logs taskLogs(String taskId, int maxBytes) {
        request("GET /tasks/" + taskId + "/logs");
        synchronized (state) {
            FakeState.Task t = state.tasks.stream().filter(x -> x.id.equals(taskId)).findFirst()
                    .orElseThrow(() -> refused(404, "GET /tasks/" + taskId + "/logs", "task " + taskId + " not found"));
            String out = t.stdout.length() > maxBytes ? t.stdout.substring(0, maxBytes) : t.stdout;
            String err = t.stderr.length() > maxBytes - out.length() ? t.stderr.substring(0, maxBytes - out.length()) : t.stderr;
            return new Logs(out, err);
        }
    }

    @Override
    public JsonNode login(JsonNode authConfig) {
        request("POST /auth");
        synchronized (state) {
            if (!state.registry.accepts(authConfig.path("username").asText(""), authConfig.path("password").asText(""))) {
                throw refused(401, "POST /auth", "Get \"http://" + state.registry.host + "/v2/\": unauthorized: authentication required");
            }
            ObjectNode ok = Json.mapper().createObjectNode();
            ok.put("Status", "Login Succeeded");
            return ok;
        }
    }

    @Override
    public JsonNode distribution(String reference, Optional<String> registryAuth) {
        request("GET /distribution/" + reference + "/json");
        synchronized (state) {
            FakeState.RegistryImage image = state.registry.find(reference)
                    .orElseThrow(() -> refused(404, "GET /distribution/" + reference + "/json", "manifest unknown"));
            ObjectNode out = Json.mapper().createObjectNode();
            out.putObject("Descriptor").put("digest", image.digest());
            return out;
        }
    }

    @Override
    public void pull(String repository, String tagOrDigest, Optional<String> registryAuth, Duration timeout, Consumer<JsonNode> message) {
        request("POST /images/create?fromImage=" + repository + "&tag=" + tagOrDigest);
        List<JsonNode> messages;
        synchronized (state) {
            String ref = repository + (tagOrDigest.contains(":") && tagOrDigest.startsWith("sha256") ? "@" : ":") + tagOrDigest;
            messages = state.pull(ref, (status, text) -> refused(status, "POST /images/create", text));
        }
        messages.forEach(message);
    }

    @Override
    public void events(Instant since, List<String> types, Consumer<JsonNode> event) {
        request("GET /events?since=" + since);
        List<JsonNode> past;
        synchronized (state) {
            past = state.events.stream().map(e -> (JsonNode) e).filter(e -> !Instant.ofEpochSecond(0, e.path("timeNano").asLong()).isBefore(since))
                    .filter(e -> types.contains(e.path("Type").asText())).toList();
        }
        past.forEach(event);
    }

    @Override
    public void events(Instant since, Instant until, List<String> types, Consumer<JsonNode> event) {
        request("GET /events?since=" + since + "&until=" + until);
        List<JsonNode> between;
        synchronized (state) {
            between = state.events.stream().map(e -> (JsonNode) e)
                    .filter(e -> {
                        Instant at = Instant.ofEpochSecond(0, e.path("timeNano").asLong());
                        return !at.isBefore(since) && !at.isAfter(until);
                    })
                    .filter(e -> types.contains(e.path("Type").asText())).toList();
        }
        between.forEach(event);
    }

    @Override
    public EngineApi reconnect() {
        return this;
    }

    @Override
    public void close() {
        // nothing to release: the host lives as long as the test
    }

    /** Every request line that changed something (no GET). */
    public List<String> changes() {
        return requests().stream().filter(r -> !r.startsWith("GET ")).toList();
    }

    /** A map view of what the store holds now: image ID to its tags, for assertions. */
    public Map<String, List<String>> imageTags() {
        synchronized (state) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            state.images.values().forEach(i -> out.put(i.id, List.copyOf(i.tags)));
            return out;
        }
    }

    static <K, V> Map<K, V> copy(Map<K, V> map) {
        return new HashMap<>(map);
    }

    static <T> Set<T> ordered(List<T> list) {
        return new LinkedHashSet<>(list);
    }

    /** A reference's repository in canonical form (docker.io/library/redis). */
    static String repositoryOf(String reference) {
        return ImageRef.tryParse(reference).map(ImageRef::canonicalName).orElse(reference);
    }
}
