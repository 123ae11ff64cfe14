package ccci;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the gates need to know about the host, read once from the engine (no policy here). */
public record HostFacts(
        String dockerRootDir,
        SwarmRole swarmRole,
        List<Service> services,
        List<Container> runningContainers) {

    public enum SwarmRole { NOT_IN_SWARM, WORKER, MANAGER }

    /**
     * A swarm service with the engine's own task counts (the numbers `docker service ls` shows).
     * updateState is the engine's UpdateStatus.State, or empty when no update ever ran.
     */
    public record Service(String name, Map<String, String> labels, String mode,
                          long runningTasks, long desiredTasks, Optional<String> updateState) {}

    public record Container(String name, Map<String, String> labels) {}

    public static final String STACK_LABEL = "com.docker.stack.namespace";
}
