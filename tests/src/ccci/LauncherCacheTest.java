package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ccci.sandbox.WholeProduct;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher remembers JBang's command line, and a change to anything it was made from is seen on
 * the next run: a lib file, the catalog, the JDK, a jar JBang's cache lost. All on a copy of the
 * repository with its own JBang state and launcher cache.
 */
@WholeProduct
class LauncherCacheTest {
    static final String REMEMBERED = LauncherCopy.REMEMBERED;
    static final String FROM_MEMORY = LauncherCopy.FROM_MEMORY;
    static final String[] BAD_INPUT = {"gates@cc-ci", "--threshold", "abc"};
    static final Path TEMURIN_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
    /** README "Exit codes". */
    static final int EXIT_BAD_INPUT = 12;
    static final int EXIT_CANNOT_EVALUATE = 11;

    @TempDir static Path temp;
    static LauncherCopy copy;
    static CommandResult firstRun;
    static CommandResult firstScriptRun;

    /** The copy's JBang state is its own: its first run of gates resolves and compiles it. */
    @BeforeAll
    static void registerTheCopysCatalog() {
        copy = LauncherCopy.in(temp);
        firstRun = copy.run("catalog", "add", "--global", "--name", "cc-ci", copy.root.resolve("jbang-catalog.json").toString());
        assertEquals(0, firstRun.exit(), firstRun.toString());
        firstScriptRun = copy.run(BAD_INPUT);
    }

    /** Runs until JBang's line is remembered, then once from memory: that run. */
    static CommandResult remembered(Map<String, String> env, String... args) {
        return copy.remembered(env, args);
    }

    static CommandResult remembered(String... args) {
        return remembered(Map.of(), args);
    }

    static String lastLine(String text) {
        List<String> lines = text.strip().lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** The run without the line saying JBang takes seconds (it comes when JBang has not answered after 3 s). */
    static CommandResult withoutNotice(CommandResult run) {
        String err = run.err().lines().filter(l -> !l.startsWith("jbang launcher: JBang is preparing "))
                .map(l -> l + "\n").reduce("", String::concat);
        return new CommandResult(run.exit(), run.out(), err);
    }

    /** The java command line a debug run says it used from memory. */
    static String rememberedLine(CommandResult run) {
        String said = run.err().lines().filter(l -> l.startsWith(FROM_MEMORY)).findFirst().orElseThrow();
        return said.substring(said.indexOf("): ") + 3);
    }

    @Test
    void theFirstRunSaysWhatItFetchesAndPrintsNoEscapeSequences() {
        String first = firstRun.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("jbang launcher: first run: fetching JBang ") && first.contains(" with Maven ")
                && first.contains(copy.cache.toString()), "one line saying what is fetched and where:\n" + firstRun);
        assertFalse((firstRun.out() + firstRun.err()).contains("\u001B"), "no escape sequence in a pipe:\n" + firstRun);
    }

    /**
     * A cold run shows progress while JBang resolves and compiles (it takes seconds), and javac's
     * notes ("uses or overrides a deprecated API") never reach the operator.
     */
    @Test
    void theFirstRunOfAScriptSaysWhatTakesTimeAndPrintsNoCompilerNote() {
        assertEquals(EXIT_BAD_INPUT, firstScriptRun.exit(), firstScriptRun.toString());
        assertTrue(firstScriptRun.err().contains("[jbang] Building jar for gates.java"), "it did compile:\n" + firstScriptRun);
        assertTrue(firstScriptRun.err().lines().anyMatch(l -> l.startsWith("jbang launcher: JBang is preparing gates@cc-ci")),
                "a line says what takes seconds:\n" + firstScriptRun);
        assertFalse(firstScriptRun.err().contains("Note:") || firstScriptRun.err().contains("deprecat"),
                "no compiler note:\n" + firstScriptRun);
        assertTrue(lastLine(firstScriptRun.err()).startsWith("gates: --threshold 'abc'"), firstScriptRun.toString());
    }

    /** The java command line does not depend on the script's arguments: any arguments run from memory. */
    @Test
    void otherArgumentsUseTheScriptsRememberedLine() throws IOException {
        remembered(BAD_INPUT);
        int before = entries().size();
        CommandResult other = copy.debug("gates@cc-ci", "--threshold", "xyz");
        assertTrue(other.err().contains(FROM_MEMORY), "no JBang round trip for new arguments:\n" + other);
        assertEquals(EXIT_BAD_INPUT, other.exit(), other.toString());
        assertTrue(lastLine(other.err()).startsWith("gates: --threshold 'xyz'"), other.toString());
        CommandResult help = copy.debug("gates@cc-ci", "--help");
        assertTrue(help.err().contains(FROM_MEMORY) && help.out().contains("Exit codes:"), help.toString());
        assertEquals(before, entries().size(), "one entry per script, whatever its arguments");
    }

    /** Arguments reach the script byte for byte, on JBang's path and from memory: none is dropped, split or expanded. */
    @Test
    void argumentsReachTheScriptByteForByte() throws IOException {
        Path argFile = Files.writeString(temp.resolve("args.txt"), "--dry-run\n");
        List<String> args = List.of("", "a b", "it's", "\"dq\"", "l1\nl2", "$HOME", "`id`", "$(id)", "*", "t\tt", "\\back",
                "@" + argFile, "@@twice", "@", "--help", "-Dx=y", " lead", "trail ", "semi;colon", "{a,b}", "~", "--", "-");
        String script = copy.argsEcho().toString();
        List<String> command = new java.util.ArrayList<>(List.of(script));
        command.addAll(args);
        String[] argv = command.toArray(String[]::new);
        CommandResult viaJbang = copy.run(Map.of("CC_CI_LAUNCHER_REMEMBER", "0"), argv);
        assertEquals(LauncherCopy.echoed(args), viaJbang.out(), viaJbang.toString());
        CommandResult fromMemory = remembered(Map.of(), argv);
        assertEquals(LauncherCopy.echoed(args), fromMemory.out(), fromMemory.toString());
        Files.writeString(argFile, "--threshold\n1\n");
        assertEquals(LauncherCopy.echoed(args), copy.run(argv).out(), "the file's content never matters");
        List<String> run = new java.util.ArrayList<>(List.of("run", script));
        run.addAll(args);
        assertEquals(LauncherCopy.echoed(args), copy.run(run.toArray(String[]::new)).out(), "./jbang run SCRIPT ARGS too");

        // a script named by a relative path is remembered too
        List<String> relative = new java.util.ArrayList<>(List.of(copy.launcher().toString(), "ArgsEcho.java"));
        relative.addAll(args);
        Map<String, String> env = copy.environment(Map.of("CC_CI_LAUNCHER_DEBUG", "1"));
        Cmd.run(relative, env, copy.root);
        CommandResult again = Cmd.run(relative, env, copy.root);
        assertTrue(again.err().contains(FROM_MEMORY), again.toString());
        assertEquals(LauncherCopy.echoed(args), again.out(), again.toString());
    }

    @Test
    void aRepeatRunUsesTheRememberedLineAndPassesTheExitCodeThrough() {
        CommandResult run = remembered(BAD_INPUT);
        assertEquals(EXIT_BAD_INPUT, run.exit(), run.toString());
        assertTrue(lastLine(run.err()).startsWith("gates: --threshold 'abc'"), run.toString());
    }

    @Test
    void theRememberedPathPrintsExactlyWhatJbangsPathPrints() {
        List<String[]> commands = List.of(BAD_INPUT, new String[] {"prune@cc-ci", "--help"},
                new String[] {"gates@cc-ci", "--path", temp.toString(), "--threshold", "1"});
        for (String[] args : commands) {
            remembered(args); // so the plain run below is from memory: REMEMBER=0 neither reads nor writes
            CommandResult viaJbang = withoutNotice(copy.run(Map.of("CC_CI_LAUNCHER_REMEMBER", "0"), args));
            CommandResult fromMemory = copy.run(args);
            assertEquals(viaJbang.toString(), fromMemory.toString(), List.of(args).toString());
        }
        assertEquals(EXIT_CANNOT_EVALUATE, copy.run(commands.get(2)).exit(), "a domain exit code passes through");
    }

    @Test
    void theDockerEnvironmentIsNotPartOfTheLine() {
        String[] gates = {"gates@cc-ci", "--path", temp.toString(), "--threshold", "1"};
        remembered(Map.of("DOCKER_HOST", "unix:///nonexistent/a.sock"), gates);
        CommandResult other = copy.debug(Map.of("DOCKER_HOST", "unix:///nonexistent/b.sock"), gates);
        assertTrue(other.err().contains(FROM_MEMORY), other.toString());
        assertTrue(other.out().contains("unix:///nonexistent/b.sock") && !other.out().contains("a.sock"), other.toString());
    }

    @Test
    void editingALibFileTakesEffectOnTheNextRun() {
        String message = lastLine(remembered(BAD_INPUT).err());
        Path libFile = null;
        String literal = null;
        // only the files gates compiles: the same literal may also stand in a lib file gates does not use
        try (Stream<Path> files = Files.list(copy.root.resolve("lib"))) {
            String gatesSources = copy.read("scripts/gates.java");
            for (Path file : files.sorted().filter(f -> gatesSources.contains("../lib/" + f.getFileName())).toList()) {
                Matcher m = Pattern.compile("\"([^\"\\\\]{12,})\"").matcher(Files.readString(file));
                while (libFile == null && m.find()) {
                    if (message.contains(m.group(1))) {
                        libFile = file;
                        literal = m.group(1);
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertTrue(libFile != null, "no lib string literal in the message " + message);
        String relative = copy.root.relativize(libFile).toString();
        String original = copy.read(relative);
        try {
            copy.write(relative, original.replace("\"" + literal + "\"", "\"" + literal + " [edited]\""));
            CommandResult edited = copy.debug(BAD_INPUT);
            assertTrue(edited.err().contains(relative + " changed: asking JBang"), edited.toString());
            assertTrue(lastLine(edited.err()).contains(literal + " [edited]"), edited.toString());
            assertTrue(edited.err().contains(REMEMBERED), "the run that built the script remembers its line:\n" + edited);
            CommandResult next = copy.debug(BAD_INPUT);
            assertTrue(next.err().contains(FROM_MEMORY) && lastLine(next.err()).contains(literal + " [edited]"), next.toString());
        } finally {
            copy.write(relative, original);
        }
        assertEquals(message, lastLine(copy.run(BAD_INPUT).err()), "the original again once the edit is undone");
    }

    @Test
    void changingTheCatalogTakesEffectOnTheNextRun() {
        remembered(BAD_INPUT);
        String catalog = copy.read("jbang-catalog.json");
        String pointedElsewhere = catalog.replace("\"scripts/gates.java\"", "\"scripts/prune.java\"");
        assertFalse(pointedElsewhere.equals(catalog), "the catalog names scripts/gates.java");
        try {
            copy.write("jbang-catalog.json", pointedElsewhere);
            CommandResult run = copy.debug(BAD_INPUT);
            assertTrue(run.err().contains("jbang-catalog.json changed: asking JBang"), run.toString());
            assertTrue(lastLine(run.err()).startsWith("prune: --threshold 'abc'"), "the alias now runs prune:\n" + run);
        } finally {
            copy.write("jbang-catalog.json", catalog);
        }
        assertTrue(lastLine(copy.run(BAD_INPUT).err()).startsWith("gates: "));
    }

    @Test
    void switchingTheJdkChangesTheLine() {
        assumeTrue(Files.isExecutable(TEMURIN_25.resolve("bin/javac")), "Temurin 25 is not installed");
        Path jdk = Path.of(System.getProperty("java.home"));
        assertTrue(Files.isExecutable(jdk.resolve("bin/javac")), "the tests run on a JDK");
        CommandResult onThisJdk = remembered(Map.of("JAVA_HOME", jdk.toString()), BAD_INPUT);
        assertTrue(rememberedLine(onThisJdk).startsWith(jdk.resolve("bin/java") + " "), onThisJdk.toString());
        CommandResult onTemurin = remembered(Map.of("JAVA_HOME", TEMURIN_25.toString()), BAD_INPUT);
        assertTrue(rememberedLine(onTemurin).startsWith(TEMURIN_25.resolve("bin/java") + " "), onTemurin.toString());
        assertEquals(onThisJdk.exit(), onTemurin.exit());
        CommandResult back = copy.debug(Map.of("JAVA_HOME", jdk.toString()), BAD_INPUT);
        assertEquals(rememberedLine(onThisJdk), rememberedLine(back), "each JDK keeps its own line");
    }

    @Test
    void aJarMissingFromJbangsCacheFallsBackToJbang() throws IOException {
        remembered(BAD_INPUT);
        List<Path> jars;
        try (Stream<Path> files = Files.walk(copy.jbangDir.resolve("cache/jars"))) {
            jars = files.filter(f -> f.getFileName().toString().equals("gates.jar")).toList();
        }
        assertFalse(jars.isEmpty(), "JBang keeps gates.jar in its cache");
        for (Path jar : jars) {
            Files.delete(jar);
        }
        CommandResult run = copy.debug(BAD_INPUT);
        assertTrue(run.err().contains("gates.jar is gone: asking JBang"), run.toString());
        assertEquals(EXIT_BAD_INPUT, run.exit(), run.toString());
        assertTrue(jars.stream().anyMatch(Files::isRegularFile), "JBang built it again");
        remembered(BAD_INPUT);
    }

    @Test
    void aDamagedEntryIsIgnored() throws IOException {
        remembered(BAD_INPUT);
        for (Path entry : entries()) {
            String text = Files.readString(entry);
            Files.writeString(entry, text.substring(0, text.length() / 2));
        }
        CommandResult run = copy.debug(BAD_INPUT);
        assertTrue(run.err().contains("ignoring a damaged entry"), run.toString());
        assertEquals(EXIT_BAD_INPUT, run.exit(), run.toString());
        remembered(BAD_INPUT);
    }

    @Test
    void entriesAreReadableByTheirOwnerOnly() throws IOException {
        remembered(BAD_INPUT);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy.lines())));
        for (Path entry : entries()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(entry)), entry.toString());
        }
    }

    @Test
    void onlyRunsOfAScriptAreRemembered() throws IOException {
        List<List<String>> others = List.of(List.of("version"), List.of("alias", "list", "cc-ci"), List.of("--help"),
                List.of("run", "--quiet", "gates@cc-ci", "--threshold", "abc"));
        remembered(BAD_INPUT); // gates is built: a run of it could be remembered at once
        int before = entries().size();
        for (List<String> args : others) {
            CommandResult run = copy.debug(args.toArray(String[]::new));
            assertFalse(run.err().contains(REMEMBERED) || run.err().contains(FROM_MEMORY), run.toString());
        }
        assertEquals(before, entries().size());
    }

    @Test
    void aLineThatTrainsAnArchiveIsNeverRemembered() throws IOException {
        String catalog = copy.read("jbang-catalog.json");
        Path archive = temp.resolve("trained.jsa");
        String withTraining = catalog.replaceFirst("\"aliases\"\\s*:\\s*\\{", "\"aliases\": {\"trained\": {\"script-ref\": "
                + "\"scripts/gates.java\", \"runtime-options\": [\"-XX:ArchiveClassesAtExit=" + archive + "\"]},");
        try {
            copy.write("jbang-catalog.json", withTraining);
            for (int i = 0; i < 2; i++) { // gates.jar is built already: the first run could be remembered
                CommandResult run = copy.debug("trained@cc-ci", "--threshold", "abc");
                assertEquals(EXIT_BAD_INPUT, run.exit(), run.toString());
                assertFalse(run.err().contains(REMEMBERED) || run.err().contains(FROM_MEMORY), run.toString());
            }
        } finally {
            copy.write("jbang-catalog.json", catalog);
        }
    }

    @Test
    void appInstallWritesACommandThatCallsThisLauncherAndLeavesShellFilesAlone() throws IOException {
        Path home = Files.createDirectories(temp.resolve("home"));
        Path bashrc = Files.writeString(home.resolve(".bashrc"), "# the operator's own\n");
        Map<String, String> env = Map.of("JBANG_JAVA_OPTIONS", "-Duser.home=" + home);
        CommandResult install = copy.run(env, "app", "install", "--force", "--name", "ccci-gates", "gates@cc-ci");
        assertEquals(0, install.exit(), install.toString());
        Path command = copy.jbangDir.resolve("bin/ccci-gates");
        assertTrue(Files.readString(command).contains("exec " + copy.launcher().toRealPath() + " run "), Files.readString(command));
        assertEquals("# the operator's own\n", Files.readString(bashrc), "JBang did not edit the shell's start-up file");
        assertTrue(install.err().contains("put " + copy.jbangDir.resolve("bin") + " on PATH"), install.toString());

        Map<String, String> plain = copy.environment(Map.of());
        plain.put("PATH", "/usr/bin:/bin");
        CommandResult run = Cmd.run(List.of(command.toString(), "--threshold", "abc"), plain, copy.elsewhere);
        assertEquals(EXIT_BAD_INPUT, run.exit(), "the installed command works without jbang on PATH:\n" + run);
        assertTrue(lastLine(run.err()).startsWith("gates: --threshold 'abc'"), run.toString());
    }

    static List<Path> entries() throws IOException {
        if (!Files.isDirectory(copy.lines())) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(copy.lines())) {
            return files.filter(f -> !f.getFileName().toString().startsWith(".")).toList();
        }
    }
}
