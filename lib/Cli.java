//DEPS info.picocli:picocli:4.7.7
package ccci;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * Runs a picocli command the toolkit's way: UTF-8 output, and every error as one line on stderr
 * with a documented exit code, never a stack trace.
 */
public final class Cli {
    private Cli() {}

    public static int run(Object command, String... args) {
        return run(command, utf8(FileDescriptor.out), utf8(FileDescriptor.err), args);
    }

    public static int run(Object command, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(command);
        String name = cli.getCommandName();
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, ignored) -> {
            err.println(name + ": " + e.getMessage() + " (see " + name + " --help)");
            return ExitCodes.BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, ignoredCli, ignoredResult) -> {
            if (e instanceof BadInput) {
                err.println(name + ": " + e.getMessage());
                return ExitCodes.BAD_INPUT;
            }
            if (e instanceof EngineUnavailable) {
                err.println(name + ": " + e.getMessage());
                return ExitCodes.CANNOT_EVALUATE;
            }
            err.println(name + ": internal error: " + e.getClass().getSimpleName() + ": " + DockerEngine.rootMessage(e));
            return ExitCodes.INTERNAL_ERROR;
        });
        try {
            return cli.execute(args);
        } catch (RuntimeException | Error e) {
            // picocli's handlers see Exceptions only: a StackOverflowError would otherwise end in a trace
            err.println(name + ": internal error: " + e.getClass().getSimpleName() + ": " + DockerEngine.rootMessage(e));
            return ExitCodes.INTERNAL_ERROR;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static PrintWriter utf8(FileDescriptor fd) {
        return new PrintWriter(new OutputStreamWriter(new FileOutputStream(fd), StandardCharsets.UTF_8), true);
    }

    /** --version for every script. */
    public static final class Version implements CommandLine.IVersionProvider {
        public static final String TOOLKIT_VERSION = "0.1.0";

        @Override
        public String[] getVersion() {
            return new String[] {"cc-ci docker cache toolkit " + TOOLKIT_VERSION,
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ")"};
        }
    }
}
