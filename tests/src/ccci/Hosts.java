package ccci;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Small host snapshots for the pure policy tests: workloads only, as the gates read them. */
final class Hosts {
    private Hosts() {}

    static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    static HostSnapshot of(EngineInfo.SwarmRole role, List<HostSnapshot.Service> services, List<HostSnapshot.Container> containers) {
        return of(role, EngineInfo.ImageStore.GRAPH_DRIVER, services, containers);
    }

    static HostSnapshot of(EngineInfo.SwarmRole role, EngineInfo.ImageStore store, List<HostSnapshot.Service> services,
                           List<HostSnapshot.Container> containers) {
        return new HostSnapshot(NOW, new EngineInfo("/var/lib/docker", store, role, role == EngineInfo.SwarmRole.NOT_IN_SWARM ? "inactive" : "active"),
                services, List.of(), containers, Optional.empty());
    }

    static HostSnapshot manager(List<HostSnapshot.Service> services, List<HostSnapshot.Container> containers) {
        return of(EngineInfo.SwarmRole.MANAGER, services, containers);
    }

    static HostSnapshot worker(List<HostSnapshot.Container> containers) {
        return of(EngineInfo.SwarmRole.WORKER, List.of(), containers);
    }

    static HostSnapshot.Service service(String name, Map<String, String> labels, String mode, long running, long desired,
                                        Optional<String> updateState) {
        return new HostSnapshot.Service("id-" + name, name, labels, mode, running, desired, updateState, "busybox:latest", Optional.empty());
    }

    static HostSnapshot.Service service(String name, long running, long desired) {
        return service(name, Map.of(), "replicated", running, desired, Optional.empty());
    }

    /** A running container. */
    static HostSnapshot.Container container(String name, Map<String, String> labels) {
        return new HostSnapshot.Container("id-" + name, name, "sha256:" + "0".repeat(64), "busybox:latest", "running", NOW, labels, 0);
    }
}
