package ccci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A script's command in a JVM of its own (from this test's classpath), for what needs a process:
 * its own environment, real signals, a lower privilege. Output goes to files, read at any time.
 */
final class ChildScript {
    private final Process process;
    private final Path out;
    private final Path err;

    private ChildScript(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /**
     * @param prefix  a command the JVM runs under (e.g. setpriv ...), or empty
     * @param env     changes to the inherited environment (DOCKER_HOST is always removed); a null value removes
     */
    static ChildScript start(Path dir, List<String> prefix, Map<String, String> env, String className, String... args) {
        try {
            Path out = Files.createTempFile(dir, "child", ".out");
            Path err = Files.createTempFile(dir, "child", ".err");
            // a test run under nohup or `&` ignores SIGINT, and a child would inherit that: Ctrl-C tests
            // would hang; env (coreutils 8.31+) gives the child SIGINT's default back
            List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
            command.addAll(prefix);
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), className));
            command.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            builder.environment().remove("DOCKER_HOST");
            env.forEach((k, v) -> {
                if (v == null) {
                    builder.environment().remove(k);
                } else {
                    builder.environment().put(k, v);
                }
            });
            return new ChildScript(builder.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ChildScript start(Path dir, Map<String, String> env, String className, String... args) {
        return start(dir, List.of(), env, className, args);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the exit (the process is killed and the test fails after {@code seconds}). */
    ChildScript finish(int seconds) {
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("did not finish within " + seconds + " s:\n" + this);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return this;
    }

    int exit() {
        return process.exitValue();
    }

    String out() {
        return read(out);
    }

    String err() {
        return read(err);
    }

    /** Sends a signal by pid (TERM, INT, STOP, CONT...). */
    static void signal(long pid, String name) {
        Cmd.run("kill", "-" + name, String.valueOf(pid)).requireOk();
    }

    void signal(String name) {
        signal(process.pid(), name);
    }

    void kill() {
        process.destroyForcibly();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return (process.isAlive() ? "running" : "exit " + process.exitValue()) + "\n--- stdout\n" + out() + "--- stderr\n" + err();
    }
}
