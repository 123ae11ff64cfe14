package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.SandboxEngine;
import com.github.dockerjava.api.model.HostConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Input that used to hang a command, crash it or get a wrong exit code: a backtracking
 * --stack-pattern on a long label, a client config that is a FIFO, a link to /dev/zero or huge, and
 * option values at the edges. Each ends fast, in one line, with its documented code.
 */
class HostileInputTest {
    static SandboxEngine engine;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() throws java.io.IOException {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
        engine.importBusybox("ccci-busybox:hostile");
        try (com.github.dockerjava.api.DockerClient docker = engine.dockerJava()) {
            String id = docker.createContainerCmd("ccci-busybox:hostile").withCmd("sleep", "3600")
                    .withName("ccci-long-label").withLabels(Map.of(HostSnapshot.STACK_LABEL, "a".repeat(5000) + "b"))
                    .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none")).exec().getId();
            docker.startContainerCmd(id).exec();
        }
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    // ---------------------------------------------------------------- hangs

    @Test
    void aBacktrackingStackPatternFailsClosedInsteadOfHanging() {
        CommandResult gates = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ScriptRun.of("Gates", "--host", engine.host(),
                "--threshold", "1", "--stack-pattern", "(.*a){20}$"));
        assertEquals(ExitCodes.CANNOT_EVALUATE, gates.exit(), gates.toString());
        String stack = gates.out().lines().filter(l -> l.startsWith("stack ")).findFirst().orElseThrow();
        assertTrue(stack.matches("stack +unknown +cannot evaluate: --stack-pattern took more than \\d+ steps on container ccci-long-label .*"),
                stack);

        CommandResult prune = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ScriptRun.of("Prune", "--host", engine.host(),
                "--threshold", "1", "--until", "1s", "--stack-pattern", "(.*a){20}$", "--lock-file", tmp.resolve("slow.lock").toString()));
        assertEquals(ExitCodes.CANNOT_EVALUATE, prune.exit(), prune.toString());
        assertTrue(prune.out().contains(PruneFormat.NOOP_LINE), prune.toString());
    }

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
                {"AuthCheck", "--host", engine.host(), "--config", dir.toString(), "--registry", "localhost:5000"},
                {"ReuseProof", "--host", engine.host(), "--config", dir.toString(), "--image", "localhost:5000/a:1"}}) {
            CommandResult run = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ScriptRun.of(command[0],
                    Arrays.copyOfRange(command, 1, command.length)));
            assertTrue(run.exit() == ExitCodes.BAD_INPUT || run.exit() == ExitCodes.AUTH_FAILED, run.toString());
            String all = run.out() + run.err();
            assertTrue(all.contains("config " + config + (kind.equals("huge") ? " is larger than" : " is not a regular file")), run.toString());
            assertFalse(all.contains("\tat "), run.toString());
        }
        ChildScript gates = ChildScript.start(tmp, Map.of("DOCKER_CONFIG", dir.toString()), "Gates", "--host", engine.host(),
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
            args.addAll(List.of("-H", engine.host()));
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
        CommandResult run = ScriptRun.of("Gates", "-H", engine.host(), "@" + file);
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
                Map.of(), "Gates", "-H", engine.host(), "--path", inside.toString()).finish(60);
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("gates: --path '" + inside + "': permission denied (cannot look it up)", run.err().strip(), run.toString());
    }
}
