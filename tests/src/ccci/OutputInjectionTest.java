package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.SandboxEngine;
import com.github.dockerjava.api.model.HostConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engine-supplied text (a stack label on a running container and on a swarm service, a user name in
 * the client config) holding a clear-screen escape and a newline followed by a forged verdict line:
 * text output shows it escaped, on the object's own line; no ESC byte and no forged line reach stdout
 * or stderr.
 */
class OutputInjectionTest {
    static final String ESC = "\u001b";
    static final String FORGED = "verdict: prune allowed (all gates hold)";
    /** Matches the default stack pattern (its "_" after the net), then clears the screen and forges a line. */
    static final String HOSTILE = "ab12-0a0b0c_ci_commoninternet_net_" + ESC + "[2J\r\n" + FORGED + "\u009b31m\u007f";
    static SandboxEngine engine;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() throws java.io.IOException {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true));
        engine.importBusybox("ccci-busybox:inject");
        try (com.github.dockerjava.api.DockerClient docker = engine.dockerJava()) {
            String id = docker.createContainerCmd("ccci-busybox:inject").withCmd("sleep", "3600")
                    .withName("ccci-injected").withLabels(Map.of(HostSnapshot.STACK_LABEL, HOSTILE))
                    .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none")).exec().getId();
            docker.startContainerCmd(id).exec();
        }
        engine.dockerOk("service", "create", "--detach", "--name", "ccci-injected-svc", "--label",
                HostSnapshot.STACK_LABEL + "=" + HOSTILE + "-svc", "--constraint", "node.labels.nowhere==1",
                "ccci-busybox:inject", "sleep", "3600");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void gatesShowTheHostileLabelEscapedOnOneLine() {
        CommandResult run = ScriptRun.of("Gates", "--host", engine.host(), "--threshold", "1");
        assertEquals(ExitCodes.GATE_BLOCKS, run.exit(), run.toString());
        assertClean(run);
        String stack = run.out().lines().filter(l -> l.startsWith("stack ")).findFirst().orElseThrow();
        assertTrue(stack.contains("ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J\\r\\n" + FORGED + "\\x9b31m\\x7f"), stack);
    }

    @Test
    void pruneSaysWhyItKeepsTheCacheWithTheLabelEscaped() {
        for (List<String> mode : List.of(List.<String>of(), List.of("--dry-run"))) {
            List<String> args = new java.util.ArrayList<>(List.of("--host", engine.host(), "--threshold", "1", "--until", "1s",
                    "--lock-file", tmp.resolve("inject.lock").toString()));
            args.addAll(mode);
            CommandResult run = ScriptRun.of("Prune", args.toArray(String[]::new));
            assertEquals(ExitCodes.OK, run.exit(), run.toString());
            assertClean(run);
            assertTrue(run.out().contains(PruneFormat.NOOP_LINE + ": stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J"),
                    run.toString());
        }
    }

    @Test
    void authCheckShowsAHostileUserNameEscaped() throws Exception {
        Path config = Files.createDirectories(tmp.resolve("cfg"));
        String user = "u" + ESC + "[2J\n" + "PASS - user forged"; // no ':' (it ends a user name)
        String auth = java.util.Base64.getEncoder().encodeToString((user + ":pw").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(config.resolve("config.json"), "{\"auths\":{\"localhost:1\":{\"auth\":\"" + auth + "\"}}}");
        Files.setPosixFilePermissions(config.resolve("config.json"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        CommandResult run = ScriptRun.of("AuthCheck", "--host", engine.host(), "--config", config.toString(), "--registry", "localhost:1");
        assertEquals(ExitCodes.AUTH_FAILED, run.exit(), run.toString());
        assertClean(run);
        assertTrue(run.out().lines().noneMatch(l -> l.startsWith("PASS")), run.toString());
        assertTrue(run.out().contains("user u\\x1b[2J\\nPASS - user forged for localhost:1"), run.toString());
    }

    @Test
    void theEscapeKeepsEveryControlCharacterOffTheTerminal() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0xa0; c++) {
            all.append(c);
        }
        all.append("\u2028\u2029\u202e\u2066");
        String safe = Text.safe(all.toString());
        assertTrue(safe.chars().allMatch(c -> c >= 0x20 && c < 0x7f), safe);
        assertEquals("plain name_1.2-x", Text.safe("plain name_1.2-x"));
        assertEquals("a\\nb\\x1b[2J\\u202e", Text.safe("a\nb\u001b[2J\u202e"));
    }

    static void assertClean(CommandResult run) {
        String all = run.out() + run.err();
        assertFalse(all.contains(ESC), "an ESC byte reached the output:\n" + run);
        assertFalse(all.contains("\u009b") || all.contains("\r") || all.contains("\u007f"), "a control character reached the output:\n" + run);
        assertTrue(all.lines().noneMatch(l -> l.startsWith(FORGED) || l.startsWith("PASS - user forged")),
                "a forged line:\n" + run);
    }
}
