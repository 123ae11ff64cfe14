package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.Sandboxes;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/** The pinned ./jbang launcher and the catalog, end to end, as an operator runs them. */
@WholeProduct
class LauncherTest {
    @TempDir static Path jbangDir;
    @TempDir static Path elsewhere;
    static SandboxEngine engine;

    static String catalogAsCommitted;

    /** The README's set-up step, run as written: from the clone's root. */
    @BeforeAll
    static void registerCatalog() throws Exception {
        engine = Sandboxes.sharedSwarm();
        catalogAsCommitted = Repo.read("jbang-catalog.json");
        ProcessResult add = launcherIn(Repo.root(), "catalog", "add", "--global", "--name", "cc-ci",
                Repo.root().resolve("jbang-catalog.json").toString());
        assertEquals(0, add.getExitValue(), add.outputUTF8());
    }

    static ProcessResult launcher(String... args) throws Exception {
        return launcherIn(elsewhere, args); // works from any current directory
    }

    static ProcessResult launcherIn(Path directory, String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = Repo.root().resolve("jbang").toString();
        System.arraycopy(args, 0, command, 1, args.length);
        return new ProcessExecutor(command)
                .directory(directory.toFile())
                .environment("JBANG_DIR", jbangDir.toString())
                .environment("JBANG_CACHE_DIR", Repo.jbangCacheDir())
                .environment("DOCKER_HOST", engine.host())
                .redirectErrorStream(false)
                .readOutput(true)
                .timeout(5, TimeUnit.MINUTES)
                .execute();
    }

    @Test
    void registeringTheCatalogLeavesTheRepositoryUntouched() throws Exception {
        assertEquals(catalogAsCommitted, Repo.read("jbang-catalog.json"));
        var catalog = new ObjectMapper().readTree(catalogAsCommitted);
        assertTrue(catalog.path("catalogs").isMissingNode(), "a committed catalog must not register catalogs");
        catalog.path("aliases").fields().forEachRemaining(alias -> {
            String script = alias.getValue().path("script-ref").asText();
            assertTrue(Files.isRegularFile(Repo.root().resolve(script)), alias.getKey() + " -> missing " + script);
            assertTrue(alias.getValue().path("description").asText().length() > 20, alias.getKey() + " needs a description");
        });
    }

    /**
     * JBang compiles each script from its own //SOURCES list: a missing lib file fails here. Each alias
     * also runs bare from the clone (no alias is one of JBang's commands: `./jbang cache` was JBang's).
     */
    @Test
    void everyAliasCompilesThroughJbangAndAnswersHelp() throws Exception {
        var aliases = new ObjectMapper().readTree(catalogAsCommitted).path("aliases").fieldNames();
        while (aliases.hasNext()) {
            String alias = aliases.next();
            ProcessResult help = launcher(alias + "@cc-ci", "--help");
            assertEquals(0, help.getExitValue(), alias + ":\n" + help.outputUTF8());
            assertTrue(help.outputUTF8().contains("Exit codes:"), alias + " documents its exit codes");
            ProcessResult bare = launcherIn(Repo.root(), alias, "--help");
            assertEquals(help.outputUTF8(), bare.outputUTF8(), "./jbang " + alias + " from the clone runs the alias");
        }
    }

    @Test
    void runsTheExactPinnedJbang() throws Exception {
        ProcessResult version = launcher("version");
        assertEquals(0, version.getExitValue());
        assertEquals(VersionsAgreeTest.launcherVersions().get("dev.jbang:jbang-cli"), version.outputUTF8().strip());
    }

    @Test
    void theCatalogListsItsAliases() throws Exception {
        String aliases = launcher("alias", "list", "cc-ci").outputUTF8();
        assertTrue(aliases.contains("gates@cc-ci"), "alias list is empty when the wrong gson is used:\n" + aliases);
        var names = new ObjectMapper().readTree(catalogAsCommitted).path("aliases").fieldNames();
        while (names.hasNext()) {
            String alias = names.next() + "@cc-ci";
            assertTrue(aliases.contains(alias), alias + " is missing:\n" + aliases);
        }
    }

    /** JBang's own output through a pipe: no colour and no stray escape sequence, on stdout or stderr. */
    @Test
    void noEscapeSequenceInAPipe() throws Exception {
        for (String[] args : new String[][] {{"catalog", "list"}, {"alias", "list", "cc-ci"}, {"catalog", "add", "--global", "--force",
                "--name", "cc-ci", Repo.root().resolve("jbang-catalog.json").toString()}}) {
            List<String> command = new ArrayList<>(List.of(Repo.root().resolve("jbang").toString()));
            command.addAll(List.of(args));
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("JBANG_DIR", jbangDir.toString());
            env.remove("CLICOLOR_FORCE");
            CommandResult run = Cmd.run(command, env, elsewhere);
            assertEquals(0, run.exit(), run.toString());
            assertFalse((run.out() + run.err()).contains("\u001B"), String.join(" ", args) + ":\n" + run);
        }
    }

    /** On a terminal (given by script(1)) JBang colours its output, unless NO_COLOR is set. */
    @Test
    void colourOnATerminalOnlyAndNeverAgainstNoColor() throws Exception {
        String command = Repo.root().resolve("jbang") + " alias list cc-ci";
        ProcessResult coloured = onATerminal(command, false);
        assertTrue(coloured.outputUTF8().contains("gates") && coloured.outputUTF8().contains("\u001B["), coloured.outputUTF8());
        ProcessResult plain = onATerminal(command, true);
        assertTrue(plain.outputUTF8().contains("gates") && !plain.outputUTF8().contains("\u001B"), plain.outputUTF8());
    }

    static ProcessResult onATerminal(String command, boolean noColor) throws Exception {
        ProcessExecutor script = new ProcessExecutor("script", "-qec", command, "/dev/null")
                .directory(elsewhere.toFile())
                .environment("JBANG_DIR", jbangDir.toString())
                .readOutput(true).timeout(5, TimeUnit.MINUTES);
        if (noColor) {
            script.environment("NO_COLOR", "1");
        }
        ProcessResult run = script.execute();
        assertEquals(0, run.getExitValue(), run.outputUTF8());
        return run;
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
                .environment("JBANG_CACHE_DIR", Repo.jbangCacheDir())
                .readOutput(true).redirectErrorStream(true)
                .timeout(5, TimeUnit.MINUTES).execute();
        assertEquals(ExitCodes.BAD_INPUT, run.getExitValue(), run.outputUTF8());
        String last = run.outputUTF8().strip().lines().reduce((a, b) -> b).orElse("");
        assertEquals("gates: --threshold 'abc' is not a whole number of percent (1-100)", last);
        assertTrue(!run.outputUTF8().contains("\tat "), "no stack trace");
    }
}
