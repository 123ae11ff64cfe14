package ccci.sandbox;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.zeroturnaround.exec.ProcessExecutor;

/** Runs a short-lived command to completion (zt-exec) and captures its exit code and output. */
final class Exec {
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    /** Writes a (possibly large) stdin stream, so callers need not hold it in memory. */
    interface StdinWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    private Exec() {}

    static CommandResult run(List<String> command) {
        return run(command, Map.of(), null, DEFAULT_TIMEOUT);
    }

    /** Like {@link #run(List)} but throws an AssertionError (with output) when the exit code is not 0. */
    static CommandResult ok(List<String> command) {
        CommandResult r = run(command);
        if (r.exit() != 0) {
            throw new AssertionError(describeFailure(command, r));
        }
        return r;
    }

    /** env: overrides of the inherited environment; a null value removes the variable. */
    static CommandResult run(List<String> command, Map<String, String> env, String stdin,
            Duration timeout) {
        return run(command, env, stdin, timeout, null);
    }

    /** Like the above, in {@code workingDir} (null: the current directory). */
    static CommandResult run(List<String> command, Map<String, String> env, String stdin,
            Duration timeout, Path workingDir) {
        InputStream in = stdin == null ? null
                : new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        return execute(command, env, in, timeout, workingDir);
    }

    /** Streams stdin from {@code writer} through a pipe while the command runs. */
    static CommandResult runStreaming(List<String> command, Map<String, String> env,
            StdinWriter writer, Duration timeout) {
        try {
            PipedInputStream in = new PipedInputStream(1 << 20);
            PipedOutputStream out = new PipedOutputStream(in);
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try (out) {
                    writer.writeTo(out);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            CommandResult result = execute(command, env, in, timeout, null);
            try {
                writing.join();
            } catch (RuntimeException e) {
                // the command usually stopped reading because it failed: its stderr says why
                if (result.exit() == 0) {
                    throw new IllegalStateException("writing stdin of " + command + " failed", e);
                }
            }
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String describeFailure(List<String> command, CommandResult r) {
        return String.join(" ", command) + " exited " + r.exit()
                + "\n--- stderr ---\n" + r.err().strip()
                + "\n--- stdout ---\n" + r.out().strip();
    }

    private static CommandResult execute(List<String> command, Map<String, String> env,
            InputStream stdin, Duration timeout, Path workingDir) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // no destroyOnExit(): it adds a shutdown hook per call, which throws while the JVM exits,
        // the very moment Reaper runs its cleanup commands
        ProcessExecutor executor = new ProcessExecutor()
                .command(command)
                .environment(env)
                .redirectOutput(out)
                .redirectError(err)
                .exitValueAny()
                .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (stdin != null) {
            executor.redirectInput(stdin);
        }
        if (workingDir != null) {
            executor.directory(workingDir.toFile());
        }
        try {
            int exit = executor.execute().getExitValue();
            return new CommandResult(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } catch (TimeoutException e) {
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                    + "\n--- stderr so far ---\n" + err.toString(StandardCharsets.UTF_8), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }
}
