package ccci;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.ContainerSpec;
import com.github.dockerjava.api.model.ServiceModeConfig;
import com.github.dockerjava.api.model.ServiceReplicatedModeOptions;
import com.github.dockerjava.api.model.ServiceRestartCondition;
import com.github.dockerjava.api.model.ServiceRestartPolicy;
import com.github.dockerjava.api.model.ServiceSpec;
import com.github.dockerjava.api.model.Task;
import com.github.dockerjava.api.model.TaskSpec;
import com.github.dockerjava.api.model.TaskState;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
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
    private static final Set<TaskState> GAVE_UP = EnumSet.of(TaskState.FAILED, TaskState.REJECTED,
            TaskState.COMPLETE, TaskState.ORPHANED);

    private final Engine engine;
    private final String name;
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

    private ProofService(Engine engine, Consumer<String> onSignal) {
        this.engine = engine;
        this.name = NAME_PREFIX + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
        this.onSignal = onSignal;
        this.hook = new Thread(this::onShutdown, "ccci-reuse-proof-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Names the service and arms the shutdown hook; nothing is created yet. */
    public static ProofService prepare(Engine engine, Consumer<String> onSignal) {
        return new ProofService(engine, onSignal);
    }

    public String name() {
        return name;
    }

    /**
     * Creates the service (no registry credentials are stored in it: the image is pinned to its
     * digest and present locally, so the node does not pull).
     *
     * @param image        what to run, e.g. name:tag@sha256:... as `docker service create` pins it
     * @param command      what to run instead of the image's ENTRYPOINT and CMD, or empty for those
     * @param stopGrace    SIGKILL this long after SIGTERM at teardown (a sleep as PID 1 ignores SIGTERM)
     */
    public void create(String image, Optional<List<String>> command, Duration stopGrace) {
        ContainerSpec container = new ContainerSpec()
                .withImage(image)
                .withLabels(Map.of(LABEL, "1"))
                .withStopGracePeriod(stopGrace.toNanos());
        command.ifPresent(container::withCommand);
        ServiceSpec spec = new ServiceSpec()
                .withName(name)
                .withLabels(Map.of(LABEL, "1"))
                .withMode(new ServiceModeConfig().withReplicated(new ServiceReplicatedModeOptions().withReplicas(1)))
                .withTaskTemplate(new TaskSpec()
                        .withContainerSpec(container)
                        .withRestartPolicy(new ServiceRestartPolicy().withCondition(ServiceRestartCondition.NONE)));
        synchronized (lock) {
            if (stopping) {
                throw new Failed("stopping: service " + name + " not created");
            }
            id = engine.call("POST /services/create", () -> engine.api().createServiceCmd(spec).exec().getId());
        }
    }

    /** Waits until a task of the service runs; fails fast when its task gave up (e.g. its command is not in the image). */
    public Duration awaitRunning(Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        String last = "no task yet";
        while (true) {
            List<Task> tasks = unlessStopping(() -> engine.call("GET /tasks",
                    () -> engine.api().listTasksCmd().withServiceFilter(name).exec()));
            for (Task task : tasks) {
                TaskState state = task.getStatus() == null ? null : task.getStatus().getState();
                if (state == TaskState.RUNNING) {
                    return Duration.ofNanos(System.nanoTime() - start);
                }
                if (state != null) {
                    last = "task " + state.getValue()
                            + Optional.ofNullable(task.getStatus().getErr()).filter(e -> !e.isBlank()).map(e -> ": " + e).orElse("");
                    if (GAVE_UP.contains(state)) {
                        throw new Failed("service " + name + " did not start: " + last);
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new Failed("service " + name + " not running after " + timeout.toSeconds() + " s (" + last + ")");
            }
            sleep(POLL);
        }
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

    private void remove(Engine engine) {
        synchronized (lock) {
            if (id == null || removed) {
                return;
            }
            engine.call("DELETE /services/" + name, () -> {
                try {
                    engine.api().removeServiceCmd(id).exec();
                } catch (NotFoundException alreadyGone) {
                    // removed by someone else: the goal is reached
                }
                return null;
            });
            removed = true;
        }
    }

    private void awaitNoContainers(Engine engine, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String serviceId;
        synchronized (lock) {
            serviceId = id;
        }
        if (serviceId == null) {
            return;
        }
        while (true) {
            int left = engine.call("GET /containers/json", () -> engine.api().listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("com.docker.swarm.service.id", serviceId)).exec()).size();
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
        try (Engine own = engine.reconnect()) {
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
