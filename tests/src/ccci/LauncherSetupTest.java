package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the launcher sets up by itself on a fresh host (README "The two commands"): a JDK and Maven
 * from Debian's packages, JBang, the catalog; one home for the launcher, JBang and Maven; and the
 * catalog's aliases never shadow one of JBang's commands.
 */
@WholeProduct
class LauncherSetupTest {
    static final int NOBODY = 65534;
    static final int EXIT_SETUP = 11;
    static final int EXIT_BAD_INPUT = 12;
    static final String[] BAD_INPUT = {"gates@cc-ci", "--threshold", "abc"};

    @TempDir static Path temp;
    static LauncherCopy copy;

    @BeforeAll
    static void aCopyWithJbangFetched() throws IOException {
        copy = LauncherCopy.in(temp).sharingJbangsCompileCache();
        CommandResult version = copy.run("version");
        assertEquals(0, version.exit(), version.toString());
    }

    static String lastLine(String text) {
        List<String> lines = text.strip().lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** JBang's commands, from its own --help: this stays true when JBang changes. */
    static Set<String> jbangCommands() {
        CommandResult help = copy.run("--help");
        assertEquals(0, help.exit(), help.toString());
        Set<String> commands = new HashSet<>();
        Matcher m = Pattern.compile("(?m)^  ([a-z][a-z-]*) {2,}[A-Z]").matcher(help.out() + help.err()); // JBang prints help on stderr
        while (m.find()) {
            commands.add(m.group(1));
        }
        assertTrue(commands.containsAll(List.of("run", "cache", "catalog", "version")), "JBang's commands from --help: " + commands);
        return commands;
    }

    /**
     * An alias named like a JBang command never runs from the clone (`./jbang cache` is JBang's
     * own cache command, `./jbang cache clear` clears JBang's cache); the launcher must also know
     * each command, so that it never remembers a line for one.
     */
    @Test
    void noAliasIsAJbangCommandAndTheLauncherKnowsEachCommand() throws IOException {
        Set<String> commands = jbangCommands();
        List<String> aliases = new ArrayList<>();
        new ObjectMapper().readTree(Repo.read("jbang-catalog.json")).path("aliases").fieldNames().forEachRemaining(aliases::add);
        assertFalse(aliases.isEmpty());
        for (String alias : aliases) {
            assertFalse(commands.contains(alias), "the alias " + alias + " is one of JBang's commands " + commands);
        }
        Matcher known = Pattern.compile("(?s)case \\$script in\\s+(.*?)\\) return 1").matcher(Repo.read("jbang"));
        assertTrue(known.find(), "the launcher lists JBang's commands");
        Set<String> listed = new HashSet<>(List.of(known.group(1).split("[\\s|\\\\]+")));
        assertTrue(listed.containsAll(commands), "the launcher does not know JBang's commands " + commands + ": " + listed);
    }

    /** `./jbang gates@cc-ci` on a fresh host: the catalog of the launcher's clone is registered on first use. */
    @Test
    void theCatalogIsRegisteredOnFirstUseOfItsAlias() throws IOException {
        Path jbangDir = temp.resolve("jbang-dir-unregistered");
        Map<String, String> env = Map.of("JBANG_DIR", jbangDir.toString());
        CommandResult first = copy.run(env, BAD_INPUT);
        assertEquals(EXIT_BAD_INPUT, first.exit(), first.toString());
        assertTrue(first.err().lines().anyMatch(l -> l.startsWith("jbang launcher: registering ")
                && l.contains(copy.root.resolve("jbang-catalog.json").toString())), first.toString());
        assertTrue(lastLine(first.err()).startsWith("gates: --threshold 'abc'"), first.toString());
        Path global = jbangDir.resolve("jbang-catalog.json");
        assertTrue(Files.readString(global).contains(copy.root.resolve("jbang-catalog.json").toString()), Files.readString(global));

        CommandResult again = copy.run(env, BAD_INPUT);
        assertFalse(again.err().contains("registering"), "once:\n" + again);
        assertTrue(lastLine(again.err()).startsWith("gates: --threshold 'abc'"), again.toString());

        // the clone moved: the catalog registered before is gone, this clone's is registered instead
        Files.writeString(global, Files.readString(global).replace(copy.root.toString(), temp.resolve("moved-away").toString()));
        CommandResult moved = copy.run(env, BAD_INPUT);
        assertTrue(moved.err().contains("registering "), moved.toString());
        assertTrue(lastLine(moved.err()).startsWith("gates: --threshold 'abc'"), moved.toString());
    }

    /** PATH entries without java, javac and mvn (every other command of the host is there). */
    static Path hostWithoutJdkAndMaven(Path dir) throws IOException {
        Path tools = Files.createDirectories(dir);
        Set<String> left = Set.of("java", "javac", "mvn", "apt-get");
        for (String from : List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (!Files.isDirectory(Path.of(from))) {
                continue;
            }
            try (Stream<Path> files = Files.list(Path.of(from))) {
                for (Path file : files.toList()) {
                    Path link = tools.resolve(file.getFileName().toString());
                    if (!left.contains(file.getFileName().toString()) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, file);
                    }
                }
            }
        }
        return tools;
    }

    /** As root on a host without a JDK and Maven: installed from Debian's packages, as tests/run does. */
    @Test
    void asRootAMissingJdkAndMavenAreInstalled() throws IOException {
        Path tools = hostWithoutJdkAndMaven(temp.resolve("host/tools"));
        Path stub = Files.createDirectories(temp.resolve("host/stub"));
        Path log = temp.resolve("host/apt-get.log");
        Path jdk = Path.of(System.getProperty("java.home"));
        Path mvn = Path.of("/usr/bin/mvn").toRealPath();
        // apt-get: notes how it was called; "installing" puts java, javac and mvn on PATH
        Files.writeString(stub.resolve("apt-get"), "#!/bin/sh\n"
                + "echo \"DEBIAN_FRONTEND=${DEBIAN_FRONTEND-} $*\" >>" + log + "\n"
                + "case \" $* \" in *' install '*)\n"
                + "  ln -s " + jdk.resolve("bin/java") + " " + stub.resolve("java") + "\n"
                + "  ln -s " + jdk.resolve("bin/javac") + " " + stub.resolve("javac") + "\n"
                + "  ln -s " + mvn + " " + stub.resolve("mvn") + " ;;\nesac\n");
        Files.setPosixFilePermissions(stub.resolve("apt-get"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = copy.environment(Map.of("PATH", stub + ":" + tools, "CC_CI_LAUNCHER_CACHE",
                temp.resolve("host/cache").toString()));
        env.remove("JAVA_HOME");
        CommandResult run = Cmd.run(List.of(copy.launcher().toString(), "version"), env, copy.elsewhere);
        assertEquals(0, run.exit(), run.toString());
        assertEquals(VersionsAgreeTest.launcherVersions().get("dev.jbang:jbang-cli"), run.out().strip(), run.toString());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("jbang launcher: installing default-jdk-headless maven ")), run.toString());
        List<String> calls = Files.readAllLines(log);
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.get(0).endsWith(" update -qq"), calls.toString());
        assertEquals("DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends default-jdk-headless maven", calls.get(1));
    }

    /** Another user cannot install packages: the launcher says the one command to run, and stops. */
    @Test
    void withoutRootTheCommandToRunIsNamed() throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path world = Files.createDirectories(temp.resolve("world"));
        Path tools = hostWithoutJdkAndMaven(world.resolve("tools"));
        Path launcher = Files.copy(copy.launcher(), world.resolve("jbang"));
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path home = Files.createDirectories(world.resolve("home"));
        Files.setAttribute(home, "unix:uid", NOBODY);
        Map<String, String> env = new java.util.LinkedHashMap<>(Map.of("PATH", tools.toString(), "HOME", home.toString()));
        CommandResult run = Cmd.run(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--",
                launcher.toString(), "version"), env, world);
        assertEquals(EXIT_SETUP, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        List<String> lines = run.err().strip().lines().toList();
        assertEquals(1, lines.size(), run.toString());
        assertTrue(lines.get(0).startsWith("jbang launcher: ") && lines.get(0).contains("apt-get install default-jdk-headless maven"),
                run.toString());
    }

    /**
     * $HOME is the one home: the launcher's cache, JBang's directory and Maven's settings and local
     * repository all go under it, also when it is not the account's home (as with sudo -E).
     */
    @Test
    void oneHomeForTheLauncherJbangAndMaven() throws IOException {
        Path home = Files.createDirectories(temp.resolve("home"));
        Path repo = home.resolve("m2-repo");
        Files.createDirectories(home.resolve(".m2"));
        Files.writeString(home.resolve(".m2/settings.xml"), "<settings><localRepository>" + repo
                + "</localRepository><offline>true</offline></settings>\n");
        // a library only this home's local repository holds
        Path marker = Files.createDirectories(repo.resolve("ccci/test/marker/1"));
        Files.writeString(marker.resolve("marker-1.pom"), "<project><modelVersion>4.0.0</modelVersion><groupId>ccci.test</groupId>"
                + "<artifactId>marker</artifactId><version>1</version></project>\n");
        try (OutputStream out = Files.newOutputStream(marker.resolve("marker-1.jar")); JarOutputStream jar = new JarOutputStream(out)) {
            jar.putNextEntry(new JarEntry("ccci-marker.txt"));
            jar.write("resolved from this home".getBytes());
        }
        Path script = Files.writeString(temp.resolve("Marker.java"), """
                //DEPS ccci.test:marker:1
                class Marker {
                    public static void main(String[] args) throws Exception {
                        try (var in = Marker.class.getResourceAsStream("/ccci-marker.txt")) {
                            System.out.println(new String(in.readAllBytes()));
                        }
                    }
                }
                """);
        Map<String, String> env = copy.environment(Map.of("HOME", home.toString()));
        env.remove("JBANG_DIR");
        env.remove("JBANG_CACHE_DIR");
        env.remove("XDG_CACHE_HOME");

        CommandResult run = Cmd.run(List.of(copy.launcher().toString(), script.toString()), env, copy.elsewhere);
        assertEquals(0, run.exit(), run.toString());
        assertEquals("resolved from this home", run.out().strip(), "JBang resolved with $HOME/.m2/settings.xml:\n" + run);
        try (Stream<Path> jars = Files.list(home.resolve(".jbang/cache/jars"))) {
            assertTrue(jars.anyMatch(j -> j.getFileName().toString().startsWith("Marker.java.")), "JBang's directory is $HOME/.jbang");
        }

        // Maven, fetching JBang, reads the same settings: offline, with nothing in that repository
        env.remove("CC_CI_LAUNCHER_CACHE");
        CommandResult fetch = Cmd.run(List.of(copy.launcher().toString(), "version"), env, copy.elsewhere);
        assertTrue(fetch.err().lines().findFirst().orElse("").contains(home.resolve(".cache/cc-ci").toString()),
                "the launcher's cache is under $HOME:\n" + fetch);
        assertEquals(EXIT_SETUP, fetch.exit(), "Maven worked offline with $HOME's empty repository: it cannot fetch JBang\n" + fetch);
        assertTrue(lastLine(fetch.err()).startsWith("jbang launcher: could not fetch JBang"), fetch.toString());
    }
}
