package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Input that used to hang a command, crash it or get a wrong exit code: a client config that is a
 * FIFO, a link to /dev/zero or huge, and option values at the edges. Each ends fast, in one line,
 * with its documented code, before any engine is asked (none is there).
 */
class HostileInputTest {
    /** No engine: each case ends before a command would ask one (the stack pattern's case is on the fake: ccci.scenario.GatesTest). */
    static final String NO_ENGINE = "unix:///nonexistent/docker.sock";
    @TempDir static Path tmp;

    // ---------------------------------------------------------------- hangs

    static Stream<String> badConfigs() {
        return Stream.of("fifo", "dev-zero-link", "huge", "directory");
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void aClientConfigThatIsNotASmallRegularFileIsOneLineNotAHang(String kind) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("cfg-" + kind));
        Path config = dir.resolve("config.json");
        switch (kind) {
            case "fifo" -> Cmd.run("mkfifo", config.toString()).requireOk();
            case "dev-zero-link" -> Files.createSymbolicLink(config, Path.of("/dev/zero"));
            case "huge" -> Files.writeString(config, "{\"auths\":{}," + "\"x\":\"" + "y".repeat(2 << 20) + "\"}");
            default -> Files.createDirectory(config);
        }
        for (String[] command : new String[][] {
                {"AuthCheck", "--host", NO_ENGINE, "--config", dir.toString(), "--registry", "localhost:5000"},
                {"ReuseProof", "--host", NO_ENGINE, "--config", dir.toString(), "--image", "localhost:5000/a:1"}}) {
            CommandResult run = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ScriptRun.of(command[0],
                    Arrays.copyOfRange(command, 1, command.length)));
            assertTrue(run.exit() == ExitCodes.BAD_INPUT || run.exit() == ExitCodes.AUTH_FAILED, run.toString());
            String all = run.out() + run.err();
            assertTrue(all.contains("config " + config + (kind.equals("huge") ? " is larger than" : " is not a regular file")), run.toString());
            assertFalse(all.contains("\tat "), run.toString());
        }
        ChildScript gates = ChildScript.start(tmp, Map.of("DOCKER_CONFIG", dir.toString()), "Gates", "--host", NO_ENGINE,
                "--threshold", "1").finish(60);
        assertEquals(ExitCodes.BAD_INPUT, gates.exit(), "docker-java reads config.json too: checked first\n" + gates);
        assertEquals(1, gates.err().lines().count(), gates.toString());
    }

    // ---------------------------------------------------------------- edge values

    static Stream<List<String>> edgeValues() {
        String longImage = "localhost:5000/" + "a".repeat(300) + ":1";
        return Stream.of(
                List.of("Gates", "-H", "", "-H|empty"),
                List.of("Gates", "-H", "npipe:////./pipe/docker_engine", "Windows named pipe"),
                List.of("Gates", "-H", "ssh://user@host", "not a Docker host URI"),
                List.of("ReuseProof", "--image", longImage, "characters long"),
                List.of("ReuseProof", "--image", "localhost:99999/a:1", "port outside 1-65535"),
                List.of("AuthCheck", "--registry", "localhost:99999", "port outside 1-65535"),
                List.of("Gates", "--threshold", "\u0668\u0660", "--threshold"),
                List.of("Gates", "--threshold", "\uff18\uff10", "--threshold"),
                List.of("ReuseProof", "--hold", "\u0661", "--hold"),
                List.of("Gates", "@/etc/hostname", "Unmatched argument"));
    }

    @ParameterizedTest
    @MethodSource("edgeValues")
    void edgeValuesAreOneLineOfBadInput(List<String> c) {
        List<String> args = new java.util.ArrayList<>(c.subList(1, c.size() - 1));
        if (!args.contains("-H")) {
            args.addAll(List.of("-H", NO_ENGINE));
        }
        CommandResult run = ScriptRun.of(c.get(0), args.toArray(String[]::new));
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        String says = c.get(c.size() - 1);
        assertTrue(Stream.of(says.split("\\|")).anyMatch(run.err()::contains), run.toString());
        assertFalse(run.err().matches("(?s).*(Exception|Error:).*"), run.toString());
    }

    @Test
    void atFileArgumentsAreNotReadAsFiles() throws Exception {
        Path file = tmp.resolve("args");
        Files.writeString(file, "--threshold\nsecret-token-from-file\n");
        CommandResult run = ScriptRun.of("Gates", "-H", NO_ENGINE, "@" + file);
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertFalse((run.out() + run.err()).contains("secret-token-from-file"), run.toString());
    }

    @Test
    void anUnreadablePathSaysPermissionDenied() throws Exception {
        Path closed = Files.createDirectories(tmp.resolve("closed"));
        Path inside = Files.createDirectories(closed.resolve("data"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        Cmd.run("chown", "nobody", closed.toString()).requireOk();
        Cmd.run("chmod", "o+x", tmp.toString()).requireOk();
        // root without the capabilities that bypass file permissions: a closed dir is closed to it too
        ChildScript run = ChildScript.start(tmp, List.of("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"),
                Map.of(), "Gates", "-H", NO_ENGINE, "--path", inside.toString()).finish(60);
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("gates: --path '" + inside + "': permission denied (cannot look it up)", run.err().strip(), run.toString());
    }

    // ---------------------------------------------------------------- engine-supplied and config-supplied text, a closed socket

    /** Every control character, and the bidirectional overrides, are escaped before they reach a terminal. */
    @Test
    void theEscapeKeepsEveryControlCharacterOffTheTerminal() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0xa0; c++) {
            all.append(c);
        }
        all.append("\u2028\u2029\u202e\u2066");
        String safe = Text.safe(all.toString());
        assertTrue(safe.chars().allMatch(c -> c >= 0x20 && c < 0x7f), safe);
        assertEquals("a\\nb\\x1b[2J\\u202e", Text.safe("a\nb\u001b[2J\u202e"));
    }

    /** A user name in the client config holding a clear-screen escape and a forged PASS line: shown escaped. */
    @Test
    void authCheckShowsAHostileUserNameEscaped() throws Exception {
        Path config = Files.createDirectories(tmp.resolve("cfg-hostile-user"));
        String user = "u\u001b[2J\nPASS - user forged"; // no ':' (it ends a user name)
        String auth = java.util.Base64.getEncoder().encodeToString((user + ":pw").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(config.resolve("config.json"), "{\"auths\":{\"localhost:1\":{\"auth\":\"" + auth + "\"}}}");
        Files.setPosixFilePermissions(config.resolve("config.json"), PosixFilePermissions.fromString("rw-------"));
        CommandResult run = ScriptRun.of("AuthCheck", "--host", NO_ENGINE, "--config", config.toString(), "--registry", "localhost:1");
        String all = run.out() + run.err();
        assertFalse(all.contains("\u001b") || all.contains("\r"), "a control character reached the output:\n" + run);
        assertTrue(all.lines().noneMatch(l -> l.startsWith("PASS")), run.toString());
        assertTrue(run.out().contains("user u\\x1b[2J\\nPASS - user forged for localhost:1"), run.toString());
    }

    /**
     * A socket the user may not open (no engine behind it is needed: the kernel refuses the connect):
     * gates as nobody fails closed, in one line that says permission denied.
     */
    @Test
    void aSocketWithoutPermissionFailsClosedWithOneLine() throws Exception {
        Path dir = Files.createTempDirectory("ccci-sock");
        Path jars = Files.createTempDirectory("ccci-cp");
        Path socket = dir.resolve("docker.sock");
        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            Files.setPosixFilePermissions(jars, PosixFilePermissions.fromString("rwxr-xr-x"));
            org.zeroturnaround.exec.ProcessResult run = new org.zeroturnaround.exec.ProcessExecutor(asNobody(jars, "--host", "unix://" + socket))
                    .readOutput(true).redirectErrorStream(true).timeout(60, java.util.concurrent.TimeUnit.SECONDS).execute();
            String out = run.outputUTF8();
            assertEquals(ExitCodes.CANNOT_EVALUATE, run.getExitValue(), out);
            assertTrue(out.contains("gates: permission denied on the Docker engine socket unix://" + socket), out);
            assertFalse(out.contains("\tat "), "no stack trace:\n" + out);
        } finally {
            new org.zeroturnaround.exec.ProcessExecutor("rm", "-rf", jars.toString(), dir.toString()).execute();
        }
    }

    /** The gates command as an unprivileged user, from a world-readable copy of this test's classpath. */
    static List<String> asNobody(Path jars, String... args) throws Exception {
        List<String> classpath = new java.util.ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path source = Path.of(entry);
            Path copy = jars.resolve((n++) + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                new org.zeroturnaround.exec.ProcessExecutor("cp", "-r", source.toString(), copy.toString()).exitValueNormal().execute();
            } else {
                Files.copy(source, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            classpath.add(copy.toString());
        }
        new org.zeroturnaround.exec.ProcessExecutor("chmod", "-R", "a+rX", jars.toString()).exitValueNormal().execute();
        Path jnaTmp = Files.createDirectories(jars.resolve("tmp"));
        new org.zeroturnaround.exec.ProcessExecutor("chmod", "1777", jnaTmp.toString()).exitValueNormal().execute();
        List<String> command = new java.util.ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.tmpdir=" + jnaTmp, "-Djava.io.tmpdir=" + jnaTmp,
                "-cp", String.join(java.io.File.pathSeparator, classpath), "Gates"));
        command.addAll(List.of(args));
        return command;
    }
}
