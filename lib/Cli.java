// Inline string concatenation: invokedynamic's costs a short run ~0.03 s of start-up.
// tests/pom.xml and nix/package.nix compile with the same option (VersionsAgreeTest).
//COMPILE_OPTIONS -XDstringConcat=inline
//DEPS info.picocli:picocli:4.7.7
//SOURCES Text.java
package ccci;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * Runs a picocli command the toolkit's way: UTF-8 output, and every error as one line on stderr
 * with a documented exit code, never a stack trace. The exit codes of every script live here.
 */
public final class Cli {
    private Cli() {}

    /**
     * Exit codes shared by every script. 0 is success; JBang owns 1-4 for its own failures and picocli
     * uses 2 for usage, so the toolkit's own outcomes start at 10.
     */
    public static final class ExitCodes {
        private ExitCodes() {}

        public static final int OK = 0;
        /** gates: at least one gate blocks, so pruning is not allowed (a normal, healthy answer). */
        public static final int GATE_BLOCKS = 10;
        /** A gate could not be evaluated (engine unreachable, permission denied, path vanished): fail closed. */
        public static final int CANNOT_EVALUATE = 11;
        /** Bad input: an option value that is out of range, malformed, or names a missing path. */
        public static final int BAD_INPUT = 12;
        /** prune: the gates closed between phases (a CI run started); it stopped before the next phase. */
        public static final int STOPPED_GATES_CLOSED = 13;
        /** prune: another prune holds the lock file; nothing was removed. */
        public static final int LOCKED = 14;
        /** prune: the engine answered 409, a prune is already running (started by another tool). */
        public static final int ENGINE_BUSY = 15;
        /** prune: the engine failed or went away during a phase; the report says which phases completed. */
        public static final int ENGINE_FAILED = 16;
        /** prune: the phases ran, yet the disk is still at or above the threshold (the conservative policy was not enough). */
        public static final int INSUFFICIENT = 17;
        /** prune: the disk is at or above the threshold and a gate has blocked pruning for longer than --blocked-limit. */
        public static final int BLOCKED_TOO_LONG = 18;
        /** A bug: something unexpected went wrong; the one-line message says what. */
        public static final int INTERNAL_ERROR = 19;
        /** reuse-proof: the proof ran (or could not finish) and the cache was not shown to work; the reason says why. */
        public static final int PROOF_FAILED = 20;
        /** reuse-proof: the image is used by a container or service, so it was left alone (nothing changed). */
        public static final int IMAGE_IN_USE = 21;
        /** auth-check: no usable credentials for the registry, or the registry rejected them. */
        public static final int AUTH_FAILED = 22;
        /** auth-check: the registry accepts the credentials, but the config file is readable by group or others. */
        public static final int AUTH_CONFIG_EXPOSED = 23;
        /** prune, cache: the run finished (its outcome stands) but the --metrics-file could not be written; the output says so. */
        public static final int METRICS_NOT_WRITTEN = 24;
        /** --fleet: a node did not report in time, was down or drained, or its job failed (the per-node lines say which). */
        public static final int FLEET_NODE_MISSING = 25;
        /** Stopped by Ctrl-C (SIGINT): 128 + 2, as a shell reports it. */
        public static final int SIGINT = 130;
        /** Stopped by SIGTERM: 128 + 15. */
        public static final int SIGTERM = 143;

        /** Whether a code is one of the toolkit's own (a fleet node's report that says otherwise is a failure). */
        public static boolean known(int code) {
            return code == OK || (code >= GATE_BLOCKS && code <= FLEET_NODE_MISSING) || code == SIGINT || code == SIGTERM;
        }
    }

    /** A problem the operator can act on: its message is the one line shown, its exit code says which kind. */
    public static class Failure extends RuntimeException {
        private final int exitCode;

        public Failure(int exitCode, String message, Throwable cause) {
            super(message, cause);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /** An option value that cannot be used; the message is the one line the operator sees. */
    public static final class BadInput extends Failure {
        public BadInput(String message) {
            super(ExitCodes.BAD_INPUT, message, null);
        }
    }

    /**
     * A whole number written in ASCII digits only (Integer.parseInt also takes other scripts' digits,
     * e.g. Arabic-Indic or full-width ones).
     *
     * @throws NumberFormatException when it is not one
     */
    public static int wholeNumber(String text) {
        if (text == null || !text.matches("[+-]?[0-9]{1,10}")) {
            throw new NumberFormatException(text);
        }
        return Integer.parseInt(text);
    }

    /**
     * A command that may run without picocli: it prints through the writers Cli gives it, and may set
     * its options itself (e.g. with FastArgs) when the command line is one it knows to parse exactly
     * as picocli does. picocli's model costs the daily no-op more than the rest of the run.
     */
    public interface Fast extends Callable<Integer> {
        void printTo(PrintWriter out, PrintWriter err);

        /** @return false, with nothing set, to leave args to picocli */
        boolean setWithoutPicocli(String[] args);

        /** The command's name, as its @Command says (for the error lines). */
        String name();
    }

    public static int run(Object command, String... args) {
        return run(command, utf8(FileDescriptor.out), utf8(FileDescriptor.err), args);
    }

    public static int run(Object command, PrintWriter out, PrintWriter err, String... args) {
        if (command instanceof Fast fast) {
            fast.printTo(out, err);
            if (fast.setWithoutPicocli(args)) {
                return runWithoutPicocli(fast.name(), fast, out, err);
            }
        }
        CommandLine cli = new CommandLine(command);
        cli.setExpandAtFiles(false); // "@FILE" is an argument, never a file to read options from
        String name = cli.getCommandName();
        helpWidth(System.getenv("COLUMNS")).ifPresentOrElse(cli::setUsageHelpWidth, () -> cli.setUsageHelpAutoWidth(true));
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, ignored) -> {
            err.println(name + ": " + Text.safe(e.getMessage()) + " (see " + name + " --help)");
            return ExitCodes.BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, ignoredCli, ignoredResult) -> failed(name, e, err));
        try {
            return cli.execute(args);
        } catch (RuntimeException | Error e) {
            // picocli's handlers see Exceptions only: a StackOverflowError would otherwise end in a trace
            return failed(name, e, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The options are set (see {@link Fast}): run the command as picocli's execute would. */
    private static int runWithoutPicocli(String name, Callable<Integer> command, PrintWriter out, PrintWriter err) {
        try {
            Integer exit = command.call();
            return exit == null ? ExitCodes.OK : exit;
        } catch (Exception | Error e) {
            return failed(name, e, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** One line for a failure: a {@link Failure}'s own, or "internal error" with its class and root message. */
    private static int failed(String name, Throwable e, PrintWriter err) {
        if (e instanceof Failure failure) {
            err.println(name + ": " + Text.safe(failure.getMessage()));
            return failure.exitCode();
        }
        err.println(name + ": internal error: " + e.getClass().getSimpleName() + ": " + Text.safe(Text.rootMessage(e)));
        return ExitCodes.INTERNAL_ERROR;
    }

    /**
     * --help is laid out for the terminal: COLUMNS when it is set (picocli needs at least 55), else
     * the width of the terminal, else 80. Values are never cut: each command prints a long default
     * on a line of its own, or under "Defaults" at the full width.
     */
    static Optional<Integer> helpWidth(String columns) {
        try {
            return columns == null ? Optional.empty() : Optional.of(Math.max(55, Integer.parseInt(columns.strip())));
        } catch (NumberFormatException e) {
            return Optional.empty();
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
