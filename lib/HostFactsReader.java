package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.LocalNodeState;
import com.github.dockerjava.api.model.SwarmInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads {@link HostFacts} with a constant number of engine requests, whatever the host's size. */
public final class HostFactsReader {
    private HostFactsReader() {}

    public static HostFacts read(DockerEngine engine) {
        Info info = engine.call("GET /info", () -> engine.api().infoCmd().exec());
        HostFacts.SwarmRole role = swarmRole(info.getSwarm());
        List<HostFacts.Service> services = role == HostFacts.SwarmRole.MANAGER
                ? services(engine.getJson("/services?status=true"))
                : List.of();
        List<HostFacts.Container> running = engine.call("GET /containers/json",
                () -> engine.api().listContainersCmd().exec()).stream()
                .map(c -> new HostFacts.Container(firstName(c.getNames()), nonNull(c.getLabels())))
                .toList();
        return new HostFacts(info.getDockerRootDir(), role, services, running);
    }

    static HostFacts.SwarmRole swarmRole(SwarmInfo swarm) {
        if (swarm == null || swarm.getLocalNodeState() != LocalNodeState.ACTIVE) {
            return HostFacts.SwarmRole.NOT_IN_SWARM;
        }
        return Boolean.TRUE.equals(swarm.getControlAvailable())
                ? HostFacts.SwarmRole.MANAGER
                : HostFacts.SwarmRole.WORKER;
    }

    /** Parses GET /services?status=true; ServiceStatus (API 1.41+) carries the engine's own task counts. */
    static List<HostFacts.Service> services(JsonNode array) {
        List<HostFacts.Service> result = new ArrayList<>();
        for (JsonNode service : array) {
            JsonNode spec = service.path("Spec");
            JsonNode status = service.path("ServiceStatus");
            String name = spec.path("Name").asText();
            if (status.isMissingNode()) {
                throw new EngineUnavailable("the engine did not report task counts for service " + name
                        + " (ServiceStatus needs Docker API 1.41 or newer)", null);
            }
            JsonNode update = service.path("UpdateStatus").path("State");
            result.add(new HostFacts.Service(
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

    private static Map<String, String> nonNull(Map<String, String> labels) {
        return labels == null ? Map.of() : labels;
    }
}
