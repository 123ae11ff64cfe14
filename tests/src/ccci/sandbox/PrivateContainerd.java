package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The containerd behind a sandbox engine with the containerd image store: its socket, state and
 * config under the sandbox dir, its root where the test wants image content to live (the data
 * root's file system). Started and stopped by pid, like dockerd. Its shims still put their sockets
 * in containerd's fixed /run/containerd/s (they remove them when they exit).
 */
final class PrivateContainerd {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    /** CRI (Kubernetes), NRI (a socket in /var/run/nri) and opt (writes /opt/containerd) are not for us. */
    private static final String CONFIG = """
            version = 3
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]
            """;

    private final EngineKind.Binaries binaries;
    private final Path socket;
    private final Path root;
    private final Path state;
    private final Path config;
    private final Path log;
    private final Path pidFile;
    private Daemon daemon;

    PrivateContainerd(EngineKind.Binaries binaries, Path workDir, Path root) {
        this.binaries = binaries;
        this.socket = workDir.resolve("containerd.sock");
        this.root = root;
        this.state = workDir.resolve("containerd-state");
        this.config = workDir.resolve("containerd.toml");
        this.log = workDir.resolve("containerd.log");
        this.pidFile = workDir.resolve("containerd.pid");
    }

    Path socket() {
        return socket;
    }

    Path root() {
        return root;
    }

    Path pidFile() {
        return pidFile;
    }

    boolean isRunning() {
        return daemon != null && daemon.isAlive();
    }

    /** Starts containerd and waits until it serves its socket. */
    void start() {
        try {
            Files.createDirectories(root);
            Files.createDirectories(state);
            Files.writeString(config, CONFIG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long logOffset = LogTail.size(log);
        daemon = Daemon.start("containerd", List.of(binaries.containerd().toString(), "--config", config.toString(),
                "--address", socket.toString(), "--root", root.toString(), "--state", state.toString()),
                binaries.env(), log, pidFile);
        boolean up = Await.within(() -> !daemon.isAlive() || LogTail.since(log, logOffset).contains("containerd successfully booted"),
                START_TIMEOUT);
        if (!up || !daemon.isAlive()) {
            throw new IllegalStateException("containerd did not start within " + START_TIMEOUT + "\n" + LogTail.of(log, 30));
        }
    }

    void stop() {
        if (daemon != null) {
            daemon.stop(STOP_GRACE);
        }
    }
}
