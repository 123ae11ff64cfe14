package ccci.sandbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The docker CLI of the engine's own release aimed at that engine only: `-H` its socket, a private
 * DOCKER_CONFIG, and none of the caller's DOCKER_HOST / DOCKER_CONTEXT / TLS settings.
 */
final class DockerCli {
    private final Path docker;
    private final String host;
    private final Path configDir;
    private final Path daemonLog;

    DockerCli(Path docker, String host, Path configDir, Path daemonLog) {
        this.docker = docker;
        this.host = host;
        this.configDir = configDir;
        this.daemonLog = daemonLog;
    }

    /** env overrides the defaults; a null value removes a variable. stdin may be null. */
    CommandResult run(Map<String, String> env, String stdin, Duration timeout, String... args) {
        return Exec.run(command(args), env(env), stdin, timeout);
    }

    CommandResult runStreaming(Exec.StdinWriter stdin, Duration timeout, String... args) {
        return Exec.runStreaming(command(args), env(Map.of()), stdin, timeout);
    }

    /** Returns {@code r} when it exited 0, else throws with its output and the engine's log tail. */
    CommandResult requireOk(CommandResult r, String... args) {
        if (!r.ok()) {
            throw new AssertionError("docker " + String.join(" ", args) + " against " + host
                    + " exited " + r.exit() + "\n--- stderr ---\n" + r.err().strip()
                    + "\n--- stdout ---\n" + r.out().strip() + "\n" + LogTail.of(daemonLog, 15));
        }
        return r;
    }

    List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(docker.toString(), "-H", host));
        command.addAll(Arrays.asList(args));
        return command;
    }

    private Map<String, String> env(Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("DOCKER_HOST", null);
        env.put("DOCKER_CONTEXT", null);
        env.put("DOCKER_TLS_VERIFY", null);
        env.put("DOCKER_CERT_PATH", null);
        env.put("DOCKER_CONFIG", configDir.toString());
        env.putAll(overrides);
        return env;
    }
}
