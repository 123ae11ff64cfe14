package ccci.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A swarm global job (`--mode global-job`: one task on every eligible node) on a
 * {@link SwarmCluster}, seen from the manager as a fleet command would see it: its tasks (node,
 * state, exit code) and each task's output through `docker service logs`. Closing removes the
 * service.
 */
public final class GlobalJob implements AutoCloseable {
    /** Every job the sandbox creates carries this label. */
    public static final String LABEL = "ccci.sandbox.job";
    private static final Set<String> TERMINAL = Set.of("complete", "failed", "rejected", "shutdown", "orphaned", "remove");
    private static final Duration LOGS_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One task as the manager reports it; {@code exitCode} is null until its container exited;
     * {@code createdAt} as the engine writes it (RFC 3339, so it sorts as text within a job).
     */
    public record Task(String id, String nodeId, String state, String desiredState, String error, Integer exitCode,
            String createdAt) {
        public boolean terminal() {
            return TERMINAL.contains(state);
        }

        public boolean complete() {
            return state.equals("complete");
        }
    }

    private final SwarmCluster cluster;
    private final String name;
    private final DockerCli manager;

    private GlobalJob(SwarmCluster cluster, String name) {
        this.cluster = cluster;
        this.name = name;
        SandboxEngine engine = cluster.manager().engine();
        this.manager = new DockerCli(engine.kind().binaries().docker(), engine.host(), engine.dockerConfigDir(), engine.logFile());
    }

    static GlobalJob create(SwarmCluster cluster, String name, List<String> options, String image, String... args) {
        List<String> create = new ArrayList<>(List.of("service", "create", "--detach", "--name", name,
                "--mode", "global-job", "--with-registry-auth", "--label", LABEL + "=1"));
        create.addAll(options);
        create.add(image);
        create.addAll(List.of(args));
        cluster.manager().dockerOk(create.toArray(String[]::new));
        return new GlobalJob(cluster, name);
    }

    public String name() {
        return name;
    }

    /** The job's tasks now (none yet right after creation, possibly). */
    public List<Task> tasks() {
        String ids = cluster.manager().dockerOk("service", "ps", "-q", "--no-trunc", name);
        List<String> args = new ArrayList<>(List.of("inspect", "--type", "task"));
        ids.lines().filter(l -> !l.isBlank()).distinct().forEach(args::add);
        if (args.size() == 3) {
            return List.of();
        }
        List<Task> tasks = new ArrayList<>();
        try {
            for (JsonNode t : JSON.readTree(cluster.manager().dockerOk(args.toArray(String[]::new)))) {
                JsonNode status = t.path("Status");
                JsonNode exit = status.path("ContainerStatus").path("ExitCode");
                tasks.add(new Task(t.path("ID").asText(), t.path("NodeID").asText(), status.path("State").asText(),
                        t.path("DesiredState").asText(), status.path("Err").asText(""),
                        exit.isNumber() && TERMINAL.contains(status.path("State").asText()) ? exit.asInt() : null,
                        t.path("CreatedAt").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(tasks);
    }

    /** The node's newest task in {@code tasks}, if it has one (a re-run task leaves the old ones listed). */
    public static Optional<Task> latestOn(SwarmNode node, List<Task> tasks) {
        return tasks.stream().filter(t -> t.nodeId().equals(node.nodeId())).max(Comparator.comparing(Task::createdAt));
    }

    /**
     * Waits until every node in {@code nodes} has a task and all the job's tasks are terminal, or
     * until {@code timeout}; returns the tasks as they are then, and never throws on a timeout: a
     * node that never reports is the caller's finding.
     */
    public List<Task> await(Collection<SwarmNode> nodes, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Task> tasks = tasks();
            boolean everyNode = nodes.stream().allMatch(n -> tasks.stream().anyMatch(t -> t.nodeId().equals(n.nodeId())));
            if ((everyNode && tasks.stream().allMatch(Task::terminal)) || System.nanoTime() > deadline) {
                return tasks;
            }
            SwarmCluster.sleep(250);
        }
    }

    /** The task's standard output, read through the manager (`docker service logs --raw TASK`). */
    public String stdout(Task task) {
        return logs(task).out();
    }

    public CommandResult logs(Task task) {
        String[] args = {"service", "logs", "--raw", task.id()};
        return manager.requireOk(manager.run(Map.of(), null, LOGS_TIMEOUT, args), args);
    }

    /** `docker service rm`; a service already gone is fine. */
    @Override
    public void close() {
        CommandResult r = cluster.manager().docker("service", "rm", name);
        if (!r.ok() && !r.err().contains("not found")) {
            throw new AssertionError("docker service rm " + name + " exited " + r.exit() + ": " + r.err());
        }
    }

    @Override
    public String toString() {
        return "GlobalJob[" + name + "]";
    }
}
