package ccci;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What GET /info says about the engine that the toolkit decides by: its data root, where it keeps
 * images, and its place in a swarm.
 */
public record EngineInfo(String dockerRootDir, ImageStore imageStore, SwarmRole swarmRole, String swarmState) {

    public static EngineInfo of(JsonNode info) {
        JsonNode swarm = info.path("Swarm");
        return new EngineInfo(info.path("DockerRootDir").asText(""), ImageStore.of(info), SwarmRole.of(swarm),
                swarm.path("LocalNodeState").asText("unknown"));
    }

    /** A node's place in a swarm: the one swarm-manager check. */
    public enum SwarmRole {
        NOT_IN_SWARM, WORKER, MANAGER;

        static SwarmRole of(JsonNode swarm) {
            if (!"active".equals(swarm.path("LocalNodeState").asText())) {
                return NOT_IN_SWARM;
            }
            return swarm.path("ControlAvailable").asBoolean(false) ? MANAGER : WORKER;
        }

        /** As --json and the figures spell it: not-in-swarm, worker, manager. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * Where the engine keeps images: its graph driver (overlay2, the classic store) or containerd's
     * content store and snapshotter (the "containerd image store", default on new Docker 29
     * installs), which reports driver-type io.containerd.snapshotter.v1 in DriverStatus.
     */
    public enum ImageStore {
        GRAPH_DRIVER, CONTAINERD;

        static ImageStore of(JsonNode info) {
            for (JsonNode pair : info.path("DriverStatus")) {
                if (pair.size() == 2 && "driver-type".equals(pair.get(0).asText())
                        && "io.containerd.snapshotter.v1".equals(pair.get(1).asText())) {
                    return CONTAINERD;
                }
            }
            return GRAPH_DRIVER;
        }
    }
}
