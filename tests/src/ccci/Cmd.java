package ccci;

import ccci.sandbox.CommandResult;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion: exit code, stdout and stderr apart (for tools whose warnings go to stderr). */
final class Cmd {
    private Cmd() {}

    static CommandResult run(String... command) {
        return run(List.of(command), null, null);
    }

    /**
     * env null: the inherited environment; otherwise exactly env (as systemd gives a service only
     * what its unit sets, plus PATH). dir null: the current directory.
     */
    static CommandResult run(List<String> command, Map<String, String> env, Path dir) {
        try {
            File out = File.createTempFile("ccci-cmd", ".out");
            File err = File.createTempFile("ccci-cmd", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out).redirectError(err)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                if (env != null) {
                    builder.environment().clear();
                    builder.environment().putAll(env);
                }
                if (dir != null) {
                    builder.directory(dir.toFile());
                }
                Process process = builder.start();
                if (!process.waitFor(5, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new AssertionError("timed out after 5 minutes: " + command);
                }
                return new CommandResult(process.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
            } finally {
                out.delete();
                err.delete();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
