package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.CommandResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prune command's edges that need no engine: bad input is one line and exit 12 before anything
 * is looked at (an engine is never asked: the one named does not exist, and reaching it would be
 * exit 11); an unreachable engine is one line and exit 11; an --until as long as a command-line
 * argument can be is read, not a crash. What prune does on a host: ccci.scenario.
 */
class PruneCommandTest {
    static final String NO_ENGINE = "unix:///nonexistent.sock";
    @TempDir static Path tmp;

    static Stream<List<String>> badInput() {
        return Stream.of(
                List.of("--until", "yesterday"),
                List.of("--until", "-1h"),
                List.of("--until", "0"),
                List.of("--until", "0h"),
                List.of("--threshold", "0"),
                List.of("--threshold", "abc"),
                List.of("--stack-pattern", "("),
                List.of("--path", "/nonexistent"),
                List.of("--keep", "("),
                List.of("--keep-label", "=x"),
                List.of("--blocked-limit", "soon"),
                List.of("--host", "bogus://x"));
    }

    @ParameterizedTest
    @MethodSource("badInput")
    void badInputIsOneLineAndExit12BeforeAnythingIsAsked(List<String> bad) {
        List<String> args = new ArrayList<>(bad);
        for (String[] fallback : new String[][] {{"--host", NO_ENGINE}, {"--threshold", "1"}, {"--until", "1s"},
                {"--lock-file", tmp.resolve("bad-input.lock").toString()}}) {
            if (!bad.contains(fallback[0])) {
                args.addAll(List.of(fallback));
            }
        }
        CommandResult run = ScriptRun.of("Prune", args.toArray(String[]::new));
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().startsWith("prune: "), run.toString());
        assertTrue(run.err().contains(bad.get(1)), "quotes the offending value: " + run.err());
        assertFalse((run.out() + run.err()).contains("\tat "), run.toString());
    }

    @Test
    void anUntilAsLongAsACommandLineArgumentCanBeIsReadNotACrash() {
        String longest = "1s".repeat(60_000); // 120 KB: one argument may be up to 128 KiB on Linux
        assertEquals(60_000, Until.parse(longest).duration().toSeconds());
        CommandResult run = ScriptRun.of("Prune", "--host", NO_ENGINE, "--threshold", "1", "--until", longest, "--dry-run");
        assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), "read, then on to the (unreachable) engine: "
                + run.toString().substring(0, Math.min(2000, run.toString().length())));
        assertEquals(1, run.err().lines().count());
        assertFalse((run.out() + run.err()).contains("\tat "));
    }

    @Test
    void anUnreachableEngineIsExit11InOneLine() {
        CommandResult run = ScriptRun.of("Prune", "--host", NO_ENGINE, "--threshold", "1", "--until", "1s",
                "--lock-file", tmp.resolve("unreachable.lock").toString());
        assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
        assertTrue(run.out().contains(PruneFormat.NOOP_LINE), run.toString());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("summary outcome=failed exit=11 phases=none ")
                && l.contains(" reason=\"disk, stack, convergence: cannot evaluate: cannot reach the Docker engine at " + NO_ENGINE + ": ")),
                "an unreachable engine is a failure, with its reason\n" + run);
        List<String> err = run.err().lines().toList();
        assertEquals(1, err.size(), run.toString());
        String prefix = "prune: cannot reach the Docker engine at " + NO_ENGINE + ": ";
        assertTrue(err.get(0).startsWith(prefix), run.toString());
        assertTrue(err.get(0).substring(prefix.length()).matches("(?i).*(no such file|not found|does not exist|enoent).*"),
                "the cause says the socket is missing: " + err.get(0));
        assertFalse((run.out() + run.err()).contains("\tat "), run.toString());
    }
}
