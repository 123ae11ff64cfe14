//SOURCES EngineApi.java Json.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The proof's own swarm service: one replica of the image running its own command (or the one given), named
 * ccci-reuse-proof-&lt;random&gt; and labelled {@value #LABEL}, so a leftover is easy to find
 * (`docker service ls --filter label=ccci.reuse-proof`).
 *
 * <p>It is removed on every path: by {@link #close()} (try-with-resources) and, when the JVM is
 * stopped by SIGTERM or Ctrl-C, by a shutdown hook. Creating and removing hold one lock, so a
 * signal that arrives while the service is being created removes it right after.
 */
public final class ProofService implements AutoCloseable {
    public static final String LABEL = "ccci.reuse-proof";
    public static final String NAME_PREFIX = "ccci-reuse-proof-";
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration HOOK_WAIT = Duration.ofSeconds(15);
    /** With restart condition none, a task in one of these states will never run. */
    private static final Set<String> GAVE_UP = Set.of("failed", "rejected", "complete", "orphaned");

    private final EngineApi engine;
    private final String name;
    private final Optional<String> nodeId;
    private final Consumer<String> onSignal;
    private final Thread hook;
    private final Object lock = new Object();
    private String id;          // set once created
    private boolean removed;    // removed by us (or never created)
    private boolean stopping;   // the JVM is shutting down: create nothing more

    /** The problem with the deployment, in one line. */
    public static final class Failed extends RuntimeException {
        public Failed(String message) {
            super(message);
        }
    }

    private ProofService(EngineApi engine, Optional<String> nodeId, Consumer<String> onSignal) {
        this.engine = engine;
        this.nodeId = nodeId.filter(id -> !id.isBlank());
        this.name = NAME_PREFIX + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
        this.onSignal = onSignal;
        this.hook = new Thread(this::onShutdown, "ccci-reuse-proof-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Names the service and arms the shutdown hook; nothing is created yet.
     *
     * @param nodeId the node its task must run on (node.id==ID: this host, so the image cache proven is this
     *               host's), or empty for anywhere
     */
    public static ProofService prepare(EngineApi engine, Optional<String> nodeId, Consumer<String> onSignal) {
        return new ProofService(engine, nodeId, onSignal);
    }

    public String name() {
        return name;
    }

    /**
     * Creates the service the way a stack deploy does: its image pinned to a digest (name:tag@digest),
     * so the node brings it by digest when it is not here; registryAuth, when given, goes with the
     * request (docker service create --with-registry-auth) for that pull.
     *
     * @param image        what to run, e.g. name:tag@sha256:... as `docker service create` pins it
     * @param command      what to run instead of the image's ENTRYPOINT and CMD, or empty for those
     * @param stopGrace    SIGKILL this long after SIGTERM at teardown (a sleep as PID 1 ignores SIGTERM)
     */
    public void create(String image, Optional<List<String>> command, Duration stopGrace, Optional<String> registryAuth) {
        ObjectNode spec = Json.mapper().createObjectNode();
        spec.put("Name", name);
        spec.putObject("Labels").put(LABEL, "1");
        spec.putObject("Mode").putObject("Replicated").put("Replicas", 1);
        ObjectNode task = spec.putObject("TaskTemplate");
        ObjectNode container = task.putObject("ContainerSpec");
        container.put("Image", image);
        container.putObject("Labels").put(LABEL, "1");
        container.put("StopGracePeriod", stopGrace.toNanos());
        command.ifPresent(c -> {
            ArrayNode args = container.putArray("Command");
            c.forEach(args::add);
        });
        task.putObject("RestartPolicy").put("Condition", "none");
        nodeId.ifPresent(id -> task.putObject("Placement").putArray("Constraints").add("node.id==" + id));
        synchronized (lock) {
            if (stopping) {
                throw new Failed("stopping: service " + name + " not created");
            }
            id = engine.createService(spec, registryAuth).path("ID").asText();
        }
    }

    /** Waits until a task of the service runs; fails fast when its task gave up (e.g. its command is not in the image). */
    public Duration awaitRunning(Duration timeout) {
        return awaitRunning(timeout, Duration.ZERO, state -> {});
    }

    /**
     * Waits until a task of the service runs, saying every {@code every} (zero: never) how far its
     * task is (e.g. "task preparing": the node is pulling the image); fails fast when its task gave up.
     */
    public Duration awaitRunning(Duration timeout, Duration every, Consumer<String> progress) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long nextReport = start + every.toNanos();
        String last = "no task yet";
        while (true) {
            JsonNode tasks = unlessStopping(() -> engine.tasks(Optional.of(name)));
            for (JsonNode task : tasks) {
                String state = task.path("Status").path("State").asText("");
                if (state.equals("running")) {
                    return Duration.ofNanos(System.nanoTime() - start);
                }
                if (!state.isEmpty()) {
                    String err = task.path("Status").path("Err").asText("");
                    last = "task " + state + (err.isBlank() ? "" : ": " + err);
                    if (GAVE_UP.contains(state)) {
                        throw new Failed("service " + name + " did not start: " + last + hint(state, err));
                    }
                }
            }
            long now = System.nanoTime();
            if (now > deadline) {
                throw new Failed("service " + name + " not running after " + timeout.toSeconds() + " s (" + last + ")");
            }
            if (!every.isZero() && now >= nextReport) {
                nextReport = now + every.toNanos();
                progress.accept(last);
            }
            sleep(POLL);
        }
    }

    /** What to do about a task that gave up, when the proof's settings can help. */
    static String hint(String state, String err) {
        if (state.equals("complete")) {
            return " (its command exited: give one that keeps running with --command, e.g. --command 'sleep 3600')";
        }
        if (err.toLowerCase(java.util.Locale.ROOT).contains("no command specified")) {
            return " (the image has no entrypoint or command: give one with --command, e.g. --command 'sleep 3600')";
        }
        return "";
    }

    /** Removes the service and waits until the engine has no container of it left. */
    public Duration removeAndAwaitGone(Duration timeout) {
        long start = System.nanoTime();
        unlessStopping(() -> {
            remove(engine);
            awaitNoContainers(engine, timeout);
            return null;
        });
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /**
     * Runs a step of the proof; once a signal stopped the JVM, the shutdown hook owns the service
     * (it may be gone already, so the step's own error would mislead): say that instead.
     */
    private <T> T unlessStopping(java.util.function.Supplier<T> step) {
        try {
            if (stopping()) {
                throw new Failed("stopped by a signal (SIGTERM or Ctrl-C): the shutdown hook removes service " + name);
            }
            return step.get();
        } catch (RuntimeException e) {
            if (stopping() && !(e instanceof Failed)) {
                throw new Failed("stopped by a signal (SIGTERM or Ctrl-C): the shutdown hook removes service " + name);
            }
            throw e;
        }
    }

    private boolean stopping() {
        synchronized (lock) {
            return stopping;
        }
    }

    /** Whether the service was created and not yet removed. */
    public boolean exists() {
        synchronized (lock) {
            return id != null && !removed;
        }
    }

    private void remove(EngineApi engine) {
        synchronized (lock) {
            if (id == null || removed) {
                return;
            }
            try {
                engine.removeService(id);
            } catch (EngineApi.Refused e) {
                if (e.status() != 404) {
                    throw e; // 404: removed by someone else, the goal is reached
                }
            }
            removed = true;
        }
    }

    private void awaitNoContainers(EngineApi engine, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String serviceId;
        synchronized (lock) {
            serviceId = id;
        }
        if (serviceId == null) {
            return;
        }
        while (true) {
            int left = 0;
            for (JsonNode c : engine.containers(true)) {
                if (serviceId.equals(c.path("Labels").path("com.docker.swarm.service.id").asText())) {
                    left++;
                }
            }
            if (left == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new Failed("service " + name + " removed, but " + left + " of its containers still exist after "
                        + timeout.toSeconds() + " s");
            }
            sleep(POLL);
        }
    }

    /** Removes the service if it still exists (every path ends here) and disarms the shutdown hook. */
    @Override
    public void close() {
        try {
            remove(engine);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it finds the service removed
            }
        }
    }

    private final Object shutdown = new Object();
    private boolean cleanedUp;

    /**
     * After a signal: removes the service if it is there and waits for its container, once; a second
     * caller (the proof's own hook, which reports after this) waits until the first is done.
     */
    public void cleanUpAfterSignal() {
        synchronized (shutdown) {
            if (!cleanedUp) {
                cleanedUp = true;
                removeOnShutdown();
            }
        }
    }

    private void onShutdown() {
        cleanUpAfterSignal();
    }

    private void removeOnShutdown() {
        boolean wasThere;
        synchronized (lock) {
            stopping = true;
            wasThere = id != null && !removed;
        }
        if (!wasThere) {
            return;
        }
        // its own connection: the main thread may close its own while this runs
        try (EngineApi own = engine.reconnect()) {
            try {
                remove(own);
            } catch (RuntimeException e) {
                onSignal.accept("stopped by a signal: could not remove service " + name + " (run: docker service rm " + name
                        + "): " + e.getMessage());
                return;
            }
            try {
                awaitNoContainers(own, HOOK_WAIT);
                onSignal.accept("stopped by a signal: removed service " + name + " and its container");
            } catch (RuntimeException e) {
                onSignal.accept("stopped by a signal: removed service " + name + "; its container is still stopping: "
                        + e.getMessage());
            }
        } catch (RuntimeException e) {
            onSignal.accept("stopped by a signal: could not reach the engine to remove service " + name
                    + " (run: docker service rm " + name + "): " + e.getMessage());
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted");
        }
    }
}
