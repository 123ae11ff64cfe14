//SOURCES Cli.java EngineApi.java GatePolicy.java Json.java Text.java
package ccci;

import ccci.Cli.ExitCodes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A fleet run's swarm job service: its spec (one global job of the toolkit's image), created once and
 * removed on every path (close, or a shutdown hook for SIGTERM and Ctrl-C), its tasks, and their
 * logs, read through the manager. A second fleet run refuses while one exists.
 */
final class FleetJob implements AutoCloseable {
    /** Each node's own engine, at the usual path on the node and in its job. */
    static final String SOCKET = "/var/run/docker.sock";
    /** Where a node's lock directory appears in its job: the job and the node's own timer share one lock. */
    static final String HOST_LOCK_DIR = "/run/ccci-host";
    static final Duration POLL = Duration.ofMillis(500);
    private static final Duration HOOK_WAIT = Duration.ofSeconds(15);
    private final EngineApi engine;
    private final String name;
    private final Consumer<String> warn;
    private final Thread hook;
    private final Object lock = new Object();
    private final Map<String, String> lastState = new LinkedHashMap<>();
    /** Why the manager did not answer the last poll, if it did not (the wait goes on until the deadline). */
    String managerProblem;
    private String id;
    private boolean removed;
    private boolean stopping;

    private FleetJob(EngineApi engine, String name, Consumer<String> warn) {
        this.engine = engine;
        this.name = name;
        this.warn = warn;
        this.hook = new Thread(this::onShutdown, "ccci-fleet-cleanup");
    }

    static FleetJob create(EngineApi engine, String name, ObjectNode spec, Optional<String> registryAuth, Consumer<String> warn) {
        FleetJob job = new FleetJob(engine, name, warn);
        Runtime.getRuntime().addShutdownHook(job.hook);
        try {
            synchronized (job.lock) {
                if (job.stopping) {
                    throw new Cli.Failure(ExitCodes.INTERNAL_ERROR, "stopping: service " + name + " not created", null);
                }
                job.id = engine.createService(spec, registryAuth).path("ID").asText();
            }
        } catch (RuntimeException e) {
            job.close();
            throw e;
        }
        return job;
    }

    JsonNode tasks(EngineApi engine) {
        JsonNode tasks = engine.tasks(Optional.of(id));
        latestTaskPerNode(tasks).forEach((node, t) -> lastState.put(node, t.path("Status").path("State").asText()));
        return tasks;
    }

    String lastState(String nodeId) {
        return lastState.getOrDefault(nodeId, "none placed");
    }

    /** The most of a node's output read: a node job prints one JSON object of a few KB. */
    static final int LOGS_MAX_BYTES = 1 << 20;

    /** Starts reading the task's stdout and stderr through the manager (bounded); {@link LogsCall#await} collects them. */
    LogsCall startLogs(EngineApi engine, String taskId) {
        return new LogsCall(java.util.concurrent.CompletableFuture.supplyAsync(() -> engine.taskLogs(taskId, LOGS_MAX_BYTES),
                java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "fleet-logs");
                    t.setDaemon(true);
                    return t;
                })));
    }

    private void remove(EngineApi via) {
        synchronized (lock) {
            if (id == null || removed) {
                return;
            }
            try {
                via.removeService(id);
            } catch (EngineApi.Refused e) {
                if (e.status() != 404) {
                    throw e;
                }
            }
            removed = true;
        }
    }

    @Override
    public void close() {
        try {
            remove(engine);
        } catch (RuntimeException e) {
            warn.accept("could not remove the fleet job service " + name + " (run: docker service rm " + name + "): "
                    + Text.rootMessage(e));
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it finds the service removed
            }
        }
    }

    private void onShutdown() {
        boolean there;
        synchronized (lock) {
            stopping = true;
            there = id != null && !removed;
        }
        if (!there) {
            return;
        }
        // its own connection: the main thread may be using (or closing) its own
        long deadline = System.nanoTime() + HOOK_WAIT.toNanos();
        while (true) {
            try (EngineApi own = engine.reconnect()) {
                remove(own);
                warn.accept("stopped by a signal: removed the fleet job service " + name);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    warn.accept("stopped by a signal: could not remove the fleet job service " + name
                            + " (run: docker service rm " + name + "): " + Text.rootMessage(e));
                    return;
                }
                sleep(POLL);
            }
        }
    }

    /**
     * POST /services/create's body: a global job (one task per eligible node, API 1.41+), never
     * restarted, the node's socket and data root (read-only) mounted at the same paths, the lock
     * directory at {@value #HOST_LOCK_DIR}; nodes that are not eligible excluded by constraint, so
     * a node that comes back during the run gets no task that nobody waits for.
     */
    static ObjectNode spec(String name, String image, List<String> args, List<Path> diskPaths, Optional<Path> lockDir, List<String> excludedNodeIds) {
        ObjectNode spec = Json.mapper().createObjectNode();
        spec.put("Name", name);
        spec.putObject("Labels").put(GatePolicy.FLEET_JOB_LABEL, "1");
        ObjectNode task = spec.putObject("TaskTemplate");
        ObjectNode container = task.putObject("ContainerSpec");
        container.put("Image", image);
        ArrayNode argArray = container.putArray("Args");
        args.forEach(argArray::add);
        container.putObject("Labels").put(GatePolicy.FLEET_JOB_LABEL, "1");
        ArrayNode mounts = container.putArray("Mounts");
        bind(mounts, SOCKET, SOCKET, false);
        diskPaths.forEach(path -> bind(mounts, path.toString(), path.toString(), true));
        lockDir.ifPresent(dir -> bind(mounts, dir.toString(), HOST_LOCK_DIR, false));
        task.putObject("RestartPolicy").put("Condition", "none");
        ArrayNode constraints = task.putObject("Placement").putArray("Constraints");
        excludedNodeIds.forEach(id -> constraints.add("node.id!=" + id));
        spec.putObject("Mode").putObject("GlobalJob");
        return spec;
    }

    private static void bind(ArrayNode mounts, String source, String target, boolean readOnly) {
        ObjectNode m = mounts.addObject();
        m.put("Type", "bind");
        m.put("Source", source);
        m.put("Target", target);
        m.put("ReadOnly", readOnly);
    }

    /** Another fleet run's job exists (the oldest one wins when two runs started together): exit 14. */
    static void refuseWhileOneExists(EngineApi engine, Optional<FleetJob> ours) {
        List<JsonNode> jobs = new ArrayList<>();
        engine.services().forEach(s -> {
            if (s.path("Spec").path("Labels").has(GatePolicy.FLEET_JOB_LABEL)) {
                jobs.add(s);
            }
        });
        jobs.sort(Comparator.comparing((JsonNode s) -> Instant.parse(s.path("CreatedAt").asText())).thenComparing(s -> s.path("ID").asText()));
        Optional<JsonNode> other = jobs.stream().filter(s -> ours.isEmpty() || !s.path("ID").asText().equals(ours.get().id)).findFirst();
        boolean ourIsOldest = ours.isPresent() && !jobs.isEmpty() && jobs.get(0).path("ID").asText().equals(ours.get().id);
        if (other.isPresent() && !ourIsOldest) {
            String otherName = other.get().path("Spec").path("Name").asText();
            ours.ifPresent(FleetJob::close);
            throw new Cli.Failure(ExitCodes.LOCKED, "another fleet run's job exists: service " + Text.safe(otherName)
                    + " (created " + Text.safe(other.get().path("CreatedAt").asText()) + "); nothing started. If no fleet run is active,"
                    + " remove it: docker service rm " + Text.safe(otherName), null);
        }
    }

    /** A re-run task leaves the old ones listed: a node's newest task is the one that counts. */
    static Map<String, JsonNode> latestTaskPerNode(JsonNode tasks) {
        Map<String, JsonNode> latest = new LinkedHashMap<>();
        for (JsonNode t : tasks) {
            String node = t.path("NodeID").asText();
            if (node.isEmpty()) {
                continue;
            }
            JsonNode seen = latest.get(node);
            if (seen == null || Instant.parse(t.path("CreatedAt").asText()).isAfter(Instant.parse(seen.path("CreatedAt").asText()))) {
                latest.put(node, t);
            }
        }
        return latest;
    }

    /** Swarm's task states. */
    static final class TaskStates {
        private TaskStates() {}

        static boolean terminal(String state) {
            return List.of("complete", "failed", "rejected", "shutdown", "orphaned", "remove").contains(state);
        }
    }

    /** A task's output, or why it could not be read. */
    public record Logs(String out, String err, Optional<String> problem) {}

    /** One task's logs on their way: every node's are read at once, so a node whose logs hang delays no other. */
    record LogsCall(java.util.concurrent.CompletableFuture<EngineApi.Logs> logs) {
        Logs await(Duration timeout) {
            try {
                EngineApi.Logs got = logs.get(Math.max(1, timeout.toMillis()), java.util.concurrent.TimeUnit.MILLISECONDS);
                return new Logs(got.out(), got.err(), Optional.empty());
            } catch (java.util.concurrent.TimeoutException e) {
                return new Logs("", "", Optional.of("its logs did not arrive in time"));
            } catch (java.util.concurrent.ExecutionException e) {
                return new Logs("", "", Optional.of(Text.rootMessage(e.getCause())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Logs("", "", Optional.of("interrupted"));
            }
        }
    }

    static String urlEncode(String text) {
        return java.net.URLEncoder.encode(text, java.nio.charset.StandardCharsets.UTF_8);
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Cli.Failure(ExitCodes.INTERNAL_ERROR, "interrupted", e);
        }
    }
}
