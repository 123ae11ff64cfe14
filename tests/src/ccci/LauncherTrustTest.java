package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.WholeProduct;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher runs nothing someone else could have written (README "Security"): its cache, JBang's
 * directories and the JDK must be the running user's (or root's), JBang's jars the pinned ones, and
 * a remembered line the one made for this script; and no @FILE argument is ever expanded. The
 * tests run as root and hand files to nobody (uid 65534), as another user on the host would own them.
 */
@WholeProduct
class LauncherTrustTest {
    static final int NOBODY = 65534;
    static final int EXIT_REFUSED = 12;
    static final String[] BAD_INPUT = {"gates@cc-ci", "--threshold", "abc"};

    @TempDir static Path temp;
    static LauncherCopy copy;
    static String jarsDirName;

    @BeforeAll
    static void registerTheCopysCatalog() throws IOException {
        copy = LauncherCopy.in(temp).sharingJbangsCompileCache();
        CommandResult add = copy.run("catalog", "add", "--global", "--name", "cc-ci", copy.root.resolve("jbang-catalog.json").toString());
        assertEquals(0, add.exit(), add.toString());
        var versions = VersionsAgreeTest.launcherVersions();
        jarsDirName = "jbang-" + versions.get("dev.jbang:jbang-cli") + "-gson-" + versions.get("com.google.code.gson:gson");
        assertTrue(Files.isDirectory(copy.cache.resolve(jarsDirName)), "the launcher keeps JBang's jars in " + jarsDirName);
    }

    /** A launcher cache of its own in a new directory, with JBang's jars as the copy's first run fetched them. */
    static Path cacheWithJars(Path cache) throws IOException {
        Path from = copy.cache.resolve(jarsDirName);
        Path to = Files.createDirectories(cache.resolve(jarsDirName));
        try (Stream<Path> jars = Files.list(from)) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, to.resolve(jar.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return cache;
    }

    static void giveToNobody(Path path) throws IOException {
        Files.setAttribute(path, "unix:uid", NOBODY);
        Files.setAttribute(path, "unix:gid", NOBODY);
    }

    /** The launcher refused, in one line naming what, and ran nothing. */
    static void refused(CommandResult run, String naming) {
        assertEquals(EXIT_REFUSED, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line:\n" + run);
        assertTrue(lines.get(0).startsWith("jbang launcher: ") && lines.get(0).contains(naming), run.toString());
        assertFalse(run.err().contains("\tat "), "no stack trace");
    }

    @Test
    void aCacheOfAnotherUserIsRefused() throws IOException {
        Path cache = cacheWithJars(temp.resolve("cache-of-nobody"));
        try (Stream<Path> files = Files.walk(cache)) {
            for (Path file : files.toList()) {
                giveToNobody(file);
            }
        }
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), "version"), cache.toString());
    }

    /** A user who owns a directory above the cache could swap the cache for one of their own. */
    @Test
    void aCacheInADirectoryOfAnotherUserIsRefused() throws IOException {
        Path theirs = Files.createDirectories(temp.resolve("dir-of-nobody"));
        Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cache = cacheWithJars(theirs.resolve("cache"));
        giveToNobody(theirs);
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), "version"), theirs.toString());
        // nor does it make a cache there (as `sudo -E` would, in the user's ~/.cache)
        Path notYet = theirs.resolve("not-yet/cc-ci");
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", notYet.toString()), "version"), theirs.toString());
        assertFalse(Files.exists(theirs.resolve("not-yet")), "nothing made in another user's directory");
    }

    @Test
    void aCacheOthersMayWriteIsRefused() throws IOException {
        Path cache = cacheWithJars(temp.resolve("cache-group-writable"));
        Path jars = cache.resolve(jarsDirName);
        Files.setPosixFilePermissions(jars, PosixFilePermissions.fromString("rwxrwxr-x"));
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), "version"), jars.toString());
        Files.setPosixFilePermissions(jars, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path lines = Files.createDirectories(cache.resolve("lines"));
        Files.setPosixFilePermissions(lines, PosixFilePermissions.fromString("rwxrwxrwx"));
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), BAD_INPUT), lines.toString());
    }

    /** A dev.jbang.Main planted in the cache never runs: JBang's jars must have their pinned SHA-256. */
    @Test
    void aPlantedJbangNeverRuns() throws IOException {
        Path cache = cacheWithJars(temp.resolve("cache-planted"));
        Path src = Files.createDirectories(temp.resolve("planted/src/dev/jbang"));
        Files.writeString(src.resolve("Main.java"), "package dev.jbang; public class Main { public static void main(String[] a) "
                + "{ System.out.println(\"PLANTED\"); } }");
        Path classes = temp.resolve("planted/classes");
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                src.resolve("Main.java").toString()));
        String version = VersionsAgreeTest.launcherVersions().get("dev.jbang:jbang-cli");
        Path jar = cache.resolve(jarsDirName).resolve("jbang-cli-" + version + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream planted = new JarOutputStream(out)) {
            planted.putNextEntry(new JarEntry("dev/jbang/Main.class"));
            planted.write(Files.readAllBytes(classes.resolve("dev/jbang/Main.class")));
        }
        CommandResult run = copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), "version");
        assertFalse(run.out().contains("PLANTED"), run.toString());
        refused(run, jar.getFileName().toString());
    }

    /** Every jar JBang runs with is pinned: one more on its class path is refused. */
    @Test
    void anExtraJarIsRefused() throws IOException {
        Path cache = cacheWithJars(temp.resolve("cache-extra"));
        Path jars = cache.resolve(jarsDirName);
        try (Stream<Path> files = Files.list(jars)) {
            Path any = files.filter(f -> f.getFileName().toString().startsWith("gson-")).findFirst().orElseThrow();
            Files.copy(any, jars.resolve("a-extra.jar"));
        }
        refused(copy.run(Map.of("CC_CI_LAUNCHER_CACHE", cache.toString()), "version"), jars.toString());
    }

    @Test
    void aJbangDirectoryOfAnotherUserIsRefused() throws IOException {
        Path theirs = Files.createDirectories(temp.resolve("jbang-dir-of-nobody"));
        giveToNobody(theirs);
        refused(copy.run(Map.of("JBANG_DIR", theirs.toString()), "version"), theirs.toString());
    }

    /** A JDK another user can change would run as you: JAVA_HOME of theirs is refused. */
    @Test
    void aJdkOfAnotherUserIsRefused() throws IOException {
        Path jdk = Path.of(System.getProperty("java.home"));
        Path theirs = Files.createDirectories(temp.resolve("jdk-of-nobody/bin"));
        for (String tool : List.of("java", "javac")) {
            Files.createSymbolicLink(theirs.resolve(tool), jdk.resolve("bin").resolve(tool));
        }
        giveToNobody(theirs);
        giveToNobody(theirs.getParent());
        refused(copy.run(Map.of("JAVA_HOME", theirs.getParent().toString()), "version"), theirs.getParent().toString());
    }

    /**
     * An entry renamed onto the key of another script (by whoever can write the cache) is not run: an
     * entry names its key and script, and holds only for them.
     */
    @Test
    void anEntryRenamedOntoAnotherScriptsKeyIsNeverRun() throws IOException {
        String[] pruneHelp = {"prune@cc-ci", "--help"};
        copy.remembered(Map.of(), pruneHelp);
        copy.remembered(Map.of(), BAD_INPUT);
        Path pruneEntry = null;
        Path gatesEntry = null;
        try (Stream<Path> files = Files.list(copy.lines())) {
            for (Path entry : files.filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                String text = Files.readString(entry);
                if (text.contains("/prune.jar")) {
                    pruneEntry = entry;
                } else if (text.contains("/gates.jar")) {
                    gatesEntry = entry;
                }
            }
        }
        assertTrue(pruneEntry != null && gatesEntry != null, "an entry for each script");
        Files.move(pruneEntry, gatesEntry, StandardCopyOption.REPLACE_EXISTING);
        CommandResult run = copy.debug(BAD_INPUT);
        assertEquals(EXIT_BAD_INPUT, run.exit(), run.toString());
        String last = run.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("gates: --threshold 'abc'"), "gates ran, not prune:\n" + run);
        assertFalse(run.err().contains(LauncherCopy.FROM_MEMORY), run.toString());
    }

    static final int EXIT_BAD_INPUT = 12;

    /**
     * @FILE is never expanded on any path through the launcher: not for a script (JBang's path or
     * from memory), not with a JBang option before it, not for JBang's own commands. A file readable
     * by root only never shows up in an error.
     */
    @Test
    void anAtFileIsNeverExpandedNorPrinted() throws IOException {
        String secret = "ccci-secret-" + UUID.randomUUID();
        Path file = Files.writeString(temp.resolve("secret.txt"), secret + "\n--dry-run\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        String at = "@" + file;
        String echo = copy.argsEcho().toString();
        String expected = LauncherCopy.echoed(List.of(at));
        assertEquals(expected, copy.run(echo, at).out(), "a script gets @FILE as it is");
        assertEquals(expected, copy.remembered(Map.of(), echo, at).out(), "from memory too");
        assertEquals(expected, copy.run("run", "--quiet", echo, at).out(), "with a JBang option before the script too");
        for (String[] args : new String[][] {{"version", at}, {"alias", "list", at}, {"gates@cc-ci", at}, {at}, {"run", "--quiet", "gates@cc-ci", at}}) {
            CommandResult run = copy.run(args);
            assertFalse((run.out() + run.err()).contains(secret), List.of(args) + " printed the file's content:\n" + run);
            assertFalse((run.out() + run.err()).contains("dry-run"), List.of(args) + ":\n" + run);
        }
    }
}
