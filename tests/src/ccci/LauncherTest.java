package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.SandboxEngine;
import ccci.sandbox.Sandboxes;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/** The pinned ./jbang launcher and the catalog, end to end, as an operator runs them. */
class LauncherTest {
    @TempDir static Path jbangDir;
    @TempDir static Path elsewhere;
    static SandboxEngine engine;

    @BeforeAll
    static void registerCatalog() throws Exception {
        engine = Sandboxes.sharedSwarm();
        ProcessResult add = launcher("catalog", "add", "--name", "cc-ci", Repo.root().resolve("jbang-catalog.json").toString());
        assertEquals(0, add.getExitValue(), add.outputUTF8());
    }

    static ProcessResult launcher(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = Repo.root().resolve("jbang").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        return new ProcessExecutor(command)
                .directory(elsewhere.toFile()) // works from any current directory
                .environment("JBANG_DIR", jbangDir.toString())
                .environment("DOCKER_HOST", engine.host())
                .redirectErrorStream(false)
                .readOutput(true)
                .timeout(5, TimeUnit.MINUTES)
                .execute();
    }

    @Test
    void runsTheExactPinnedJbang() throws Exception {
        ProcessResult version = launcher("version");
        assertEquals(0, version.getExitValue());
        assertEquals("0.132.1", version.outputUTF8().strip());
    }

    @Test
    void theCatalogListsItsAliases() throws Exception {
        String aliases = launcher("alias", "list", "cc-ci").outputUTF8().replaceAll("\u001B\\[[0-9;]*m", "");
        assertTrue(aliases.contains("gates@cc-ci"), "alias list is empty when the wrong gson is used:\n" + aliases);
        for (String alias : new String[] {"prune@cc-ci", "reuse-proof@cc-ci", "auth-check@cc-ci"}) {
            assertTrue(aliases.contains(alias), alias + " is missing:\n" + aliases);
        }
    }

    @Test
    void gatesRunsThroughTheCatalogAliasAndHonoursDockerHost() throws Exception {
        ProcessResult run = launcher("gates@cc-ci", "--json", "--threshold", "1");
        String out = run.outputUTF8();
        var json = new ObjectMapper().readTree(out);
        assertEquals(engine.host(), json.path("host").asText(), out);
        assertEquals(json.path("exitCode").asInt(), run.getExitValue(), "exit code passes through the launcher");
        assertEquals(3, json.path("gates").size());
    }

    @Test
    void badInputThroughTheLauncherIsOneLineWithItsCode() throws Exception {
        ProcessResult run = new ProcessExecutor(Repo.root().resolve("jbang").toString(), "gates@cc-ci", "--threshold", "abc")
                .directory(elsewhere.toFile())
                .environment("JBANG_DIR", jbangDir.toString())
                .readOutput(true).redirectErrorStream(true)
                .timeout(5, TimeUnit.MINUTES).execute();
        assertEquals(ExitCodes.BAD_INPUT, run.getExitValue(), run.outputUTF8());
        String last = run.outputUTF8().strip().lines().reduce((a, b) -> b).orElse("");
        assertEquals("gates: --threshold 'abc' is not a whole number of percent (1-100)", last);
        assertTrue(!run.outputUTF8().contains("\tat "), "no stack trace");
    }
}
