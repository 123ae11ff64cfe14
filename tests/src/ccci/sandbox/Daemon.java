package ccci.sandbox;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A long-running background process: log to a file, pid recorded in a file, stopped by its pid. */
final class Daemon {
    private final String name;
    private final Process process;
    private final Path log;

    private Daemon(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** env: overrides of the inherited environment; a null value removes the variable. */
    static Daemon start(String name, List<String> command, Map<String, String> env, Path log, Path pidFile) {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        try {
            Process process = pb.start();
            Files.writeString(pidFile, process.pid() + "\n");
            return new Daemon(name, process, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + command, e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM by pid, wait up to {@code grace}, then SIGKILL and wait for the exit. */
    void stop(Duration grace) {
        stop(grace, null);
    }

    /**
     * Like {@link #stop(Duration)}, but once the log shows {@code doneLine} (after the SIGTERM) the
     * process has nothing left to do and gets SIGKILL right away: dockerd idles ~1 s in a containerd
     * reconnect loop after "Daemon shutdown complete".
     */
    void stop(Duration grace, String doneLine) {
        if (!process.isAlive()) {
            return;
        }
        long logOffset = LogTail.size(log);
        process.destroy();
        boolean done = Await.within(() -> !process.isAlive()
                || doneLine != null && LogTail.since(log, logOffset).contains(doneLine), grace);
        if (process.isAlive()) {
            if (!done) {
                System.err.println("[sandbox] " + this + " ignored SIGTERM for " + grace + ": SIGKILL");
            }
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ")";
    }
}
