package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's runbook, run as written on a sandbox host: a swarm engine whose client is logged in
 * to a real htpasswd registry holding $IMAGE, the catalog registered as the README says. Every line
 * but systemctl/journalctl runs, in one bash session and in order, and each EXPECT must show up in
 * that line's own output.
 */
@OnEveryEngine
class RunbookTest {
    static final String USER = "runbook";
    static final String PASSWORD = "pw-" + UUID.randomUUID();
    static RegistryHost host;
    static SandboxEngine engine;
    static SandboxRegistry registry;
    static String image;
    @TempDir static Path jbangDir;

    record Step(String command, String expect) {}

    @BeforeAll
    static void aHostWithItsRegistry() {
        host = RegistryHost.start(USER, PASSWORD, true);
        engine = host.engine();
        registry = host.registry();
        engine.importBusybox("ccci/busybox:1");
        image = registry.address() + "/ccci/runbook:1";
        engine.dockerOk("tag", "ccci/busybox:1", image);
        engine.dockerOk("push", image);
        CommandResult add = Cmd.run(List.of(Repo.root().resolve("jbang").toString(), "catalog", "add", "--global", "--name", "cc-ci",
                Repo.root().resolve("jbang-catalog.json").toString()), environment(), Repo.root());
        assertEquals(0, add.exit(), add.toString());
    }

    @AfterAll
    static void stop() {
        if (host != null) {
            host.close();
        }
    }

    static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        env.put("DOCKER_HOST", engine.host());
        env.put("DOCKER_CONFIG", engine.dockerConfigDir().toString());
        env.put("JBANG_DIR", jbangDir.toString());
        env.put("JBANG_CACHE_DIR", Repo.jbangCacheDir());
        env.put("IMAGE", image);
        env.put("REGISTRY", registry.address());
        return env;
    }

    static List<Step> runbook() {
        String readme = Repo.read("README.md");
        Matcher block = Pattern.compile("(?s)## Runbook[^\\n]*\\n.*?```sh\\n(.*?)```").matcher(readme);
        assertTrue(block.find(), "README.md has no runbook block");
        List<Step> steps = new ArrayList<>();
        for (String line : block.group(1).lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int expect = line.indexOf("# EXPECT:");
            steps.add(expect < 0
                    ? new Step(line.strip(), null)
                    : new Step(line.substring(0, expect).strip(), line.substring(expect + "# EXPECT:".length()).strip()));
        }
        return steps;
    }

    static boolean runnableHere(Step step) {
        return !step.command().matches("^(systemctl|journalctl)\\b.*");
    }

    @Test
    void everyRunnableLineOfTheRunbookPrintsWhatItExpects() {
        List<Step> steps = runbook();
        assertTrue(steps.stream().filter(s -> s.expect() != null).count() >= 8, "the runbook checks the seed's list");
        StringBuilder script = new StringBuilder("set +e\n");
        List<Step> ran = new ArrayList<>();
        for (Step step : steps) {
            if (runnableHere(step)) {
                script.append("echo '<<<step ").append(ran.size()).append(">>>'\n").append(step.command()).append(" 2>&1\n");
                ran.add(step);
            }
        }
        CommandResult run = Cmd.run(List.of("bash", "-c", script.toString()), environment(), Repo.root());
        String[] outputs = run.out().split("<<<step \\d+>>>\n", -1);
        assertEquals(ran.size() + 1, outputs.length, "every step ran:\n" + run);
        for (int i = 0; i < ran.size(); i++) {
            Step step = ran.get(i);
            String output = outputs[i + 1];
            assertFalse(output.contains(PASSWORD), "the password leaked from: " + step.command());
            if (step.expect() != null) {
                assertTrue(output.contains(step.expect()), "runbook line\n  " + step.command() + "\nexpected '"
                        + step.expect() + "' in:\n" + output);
            }
        }
        assertTrue(ran.stream().anyMatch(s -> s.command().contains("reuse-proof")), "the proof runs here too");
    }

    @Test
    void onlySystemdLinesAreLeftToTheHost() {
        List<String> skipped = runbook().stream().filter(s -> !runnableHere(s)).map(Step::command).toList();
        assertTrue(skipped.stream().allMatch(c -> c.startsWith("systemctl") || c.startsWith("journalctl")), skipped.toString());
        assertTrue(skipped.size() <= 4, skipped.toString());
    }
}
