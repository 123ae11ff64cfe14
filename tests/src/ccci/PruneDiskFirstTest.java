package ccci;

import ccci.sandbox.CommandResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The daily no-op decided by the disk alone: with --path below the threshold, prune answers without
 * asking the engine at all (the engine named here does not even exist), and still fails closed.
 */
class PruneDiskFirstTest {
    static SmallDisk halfFull;
    @org.junit.jupiter.api.io.TempDir static java.nio.file.Path tmp;

    /** Never the host's default lock (/run/ci-docker-prune.lock): one of the test's own. */
    static String lock() {
        return tmp.resolve("disk-first.lock").toString();
    }

    @BeforeAll
    static void mount() throws Exception {
        halfFull = SmallDisk.mount(8).fillTo(50);
    }

    @AfterAll
    static void unmount() throws Exception {
        halfFull.close();
    }

    @Test
    void belowTheThresholdTheEngineIsNeverAsked() {
        CommandResult run = ScriptRun.of("Prune", "--host", "unix:///nonexistent/docker.sock", "--lock-file", lock(),
                "--path", halfFull.path().toString(), "--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode json = run.json();
        assertEquals("noop", json.path("outcome").asText());
        assertEquals("blocks", json.path("gates").get(0).path("state").asText());
        assertEquals("skipped", json.path("gates").get(1).path("state").asText());
        assertEquals("skipped", json.path("gates").get(2).path("state").asText());
        assertEquals("", run.err(), "no engine problem to report: it was not asked");
    }

    @Test
    void theNoOpLineNamesOnlyTheDiskGate() {
        CommandResult run = ScriptRun.of("Prune", "--host", "unix:///nonexistent/docker.sock", "--lock-file", lock(),
                "--path", halfFull.path().toString());
        String first = run.out().lines().findFirst().orElseThrow();
        assertTrue(first.matches("keeping local image cache, nothing to do: disk: \\d+% of \\S+ < 80%"), first);
    }

    @Test
    void atTheThresholdTheEngineIsAskedAndAnUnreachableOneFailsClosed() {
        CommandResult run = ScriptRun.of("Prune", "--host", "unix:///nonexistent/docker.sock", "--lock-file", lock(),
                "--path", halfFull.path().toString(), "--threshold", "10");
        assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
        assertTrue(run.out().startsWith(PruneFormat.NOOP_LINE), run.toString());
        assertEquals(1, run.err().lines().count(), run.err());
    }

    @Test
    void aMalformedHostIsBadInputEvenWhenTheEngineIsNotNeeded() {
        CommandResult run = ScriptRun.of("Prune", "--host", "bogus://x", "--lock-file", lock(), "--path", halfFull.path().toString());
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("prune: --host 'bogus://x' is not a Docker host URI this toolkit can use (expected unix:///path/to/docker.sock or tcp://host:port)",
                run.err().strip());
    }
}
