package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Info;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the gates need to know about the host, read once from the engine with a constant number of
 * requests, whatever the host's size (no policy here).
 */
public record GateFacts(
        String dockerRootDir,
        Engine.SwarmRole swarmRole,
        List<Service> services,
        List<Container> runningContainers,
        Engine.ImageStore imageStore) {

    /** Facts of an engine with the classic (graph driver) image store. */
    public GateFacts(String dockerRootDir, Engine.SwarmRole swarmRole, List<Service> services, List<Container> runningContainers) {
        this(dockerRootDir, swarmRole, services, runningContainers, Engine.ImageStore.GRAPH_DRIVER);
    }

    public static final String STACK_LABEL = "com.docker.stack.namespace";

    /**
     * A swarm service with the engine's own task counts (the numbers `docker service ls` shows).
     * updateState is the engine's UpdateStatus.State, or empty when no update ever ran.
     */
    public record Service(String name, Map<String, String> labels, String mode,
                          long runningTasks, long desiredTasks, Optional<String> updateState) {}

    /** A running container; imageId and image (the name it was created from) feed the last-use record. */
    public record Container(String name, Map<String, String> labels, String imageId, String image) {
        public Container(String name, Map<String, String> labels) {
            this(name, labels, "", "");
        }
    }

    /** A fact read from the host, or the one-line reason it could not be read (the policy fails closed on it). */
    public sealed interface Reading<T> {
        record Ok<T>(T value) implements Reading<T> {}

        record Failed<T>(String reason) implements Reading<T> {}

        static <T> Reading<T> ok(T value) {
            return new Ok<>(value);
        }

        static <T> Reading<T> failed(String reason) {
            return new Failed<>(reason);
        }
    }

    public static GateFacts read(Engine engine) {
        Info info = engine.info();
        Engine.SwarmRole role = Engine.SwarmRole.of(info.getSwarm());
        List<Service> services = role == Engine.SwarmRole.MANAGER
                ? services(engine.getJson("/services?status=true"))
                : List.of();
        List<Container> running = engine.call("GET /containers/json",
                () -> engine.api().listContainersCmd().exec()).stream()
                .map(c -> new Container(firstName(c.getNames()), c.getLabels() == null ? Map.of() : c.getLabels(),
                        String.valueOf(c.getImageId()), String.valueOf(c.getImage())))
                .toList();
        return new GateFacts(info.getDockerRootDir(), role, services, running, Engine.ImageStore.of(info));
    }

    /** The images of the running containers: in use right now. */
    public List<LastUse.InUse> inUseNow() {
        return runningContainers.stream().map(c -> new LastUse.InUse(c.imageId(), c.image())).toList();
    }

    /** Parses GET /services?status=true; ServiceStatus (API 1.41+) carries the engine's own task counts. */
    static List<Service> services(JsonNode array) {
        List<Service> result = new ArrayList<>();
        for (JsonNode service : array) {
            JsonNode spec = service.path("Spec");
            JsonNode status = service.path("ServiceStatus");
            String name = spec.path("Name").asText();
            if (status.isMissingNode()) {
                throw new Engine.Unavailable("the engine did not report task counts for service " + name
                        + " (ServiceStatus needs Docker API 1.41 or newer)", null);
            }
            JsonNode update = service.path("UpdateStatus").path("State");
            result.add(new Service(
                    name,
                    labels(spec.path("Labels")),
                    mode(spec.path("Mode")),
                    status.path("RunningTasks").asLong(),
                    status.path("DesiredTasks").asLong(),
                    update.isTextual() && !update.asText().isEmpty() ? Optional.of(update.asText()) : Optional.empty()));
        }
        return result;
    }

    private static String mode(JsonNode mode) {
        if (mode.has("Global")) return "global";
        if (mode.has("ReplicatedJob")) return "replicated-job";
        if (mode.has("GlobalJob")) return "global-job";
        return "replicated";
    }

    private static Map<String, String> labels(JsonNode node) {
        Map<String, String> labels = new LinkedHashMap<>();
        node.properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return labels;
    }

    private static String firstName(String[] names) {
        if (names == null || names.length == 0) {
            return "";
        }
        return names[0].startsWith("/") ? names[0].substring(1) : names[0];
    }
}
