package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import ccci.sandbox.WholeProduct;
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
 * The runbook (docs/runbook.md), run as written on a sandbox host: a swarm engine whose client is logged in
 * to a real htpasswd registry holding $IMAGE, the catalog registered as the README says. Every line
 * but systemctl/journalctl runs, in one bash session and in order; each EXPECT must show up in that
 * line's own output, and a line without one must exit 0. The lines left out are exactly those
 * asking systemd. It checks the document, not an engine's behaviour (the engine tests do that on
 * every engine of the matrix), so it runs once, on the default engine.
 */
@WholeProduct
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
        engine.buildWithBuildKit("FROM ccci/busybox:1\nCMD [\"sleep\", \"3600\"]\n", image); // runs its own command, as redis does
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
        String runbook = Repo.read("docs/runbook.md");
        Matcher block = Pattern.compile("(?s)# Runbook[^\\n]*\\n.*?```sh\\n(.*?)```").matcher(runbook);
        assertTrue(block.find(), "docs/runbook.md has no runbook block");
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

    /** Lines that ask systemd, which does not run as PID 1 on the test machine. */
    static boolean runnableHere(Step step) {
        return !step.command().matches("^(systemctl|journalctl)\\b.*");
    }

    static final Pattern MENTIONS_SYSTEMD = Pattern.compile("\\b(systemctl|journalctl)\\b");

    /**
     * Every runnable line runs, in order, in one bash session, to its end; each one's own output
     * (stdout and stderr) must contain its EXPECT, and a line without one must exit 0. (gates exits
     * 10 on a host below the threshold: its EXPECT says so.)
     */
    @Test
    void everyRunnableLineOfTheRunbookRunsAndPrintsWhatItExpects() {
        List<Step> steps = runbook();
        assertTrue(steps.stream().filter(s -> s.expect() != null).count() >= 8, "the runbook checks the seed's list");
        String nonce = UUID.randomUUID().toString();
        StringBuilder script = new StringBuilder("set +e\n");
        List<Step> ran = new ArrayList<>();
        for (Step step : steps) {
            if (runnableHere(step)) {
                int i = ran.size();
                script.append("echo '<<<step ").append(i).append(' ').append(nonce).append(">>>'\n")
                        .append("{\n").append(step.command()).append("\n} 2>&1\n")
                        .append("echo \"<<<exit ").append(i).append(' ').append(nonce).append(" $?>>>\"\n");
                ran.add(step);
            }
        }
        CommandResult run = Cmd.run(List.of("bash", "-c", script.toString()), environment(), Repo.root());
        Matcher marked = Pattern.compile("(?s)<<<step (\\d+) " + nonce + ">>>\n(.*?)<<<exit \\1 " + nonce + " (\\d+)>>>\n")
                .matcher(run.out());
        int next = 0;
        while (marked.find()) {
            assertEquals(next, Integer.parseInt(marked.group(1)), "steps out of order:\n" + run);
            Step step = ran.get(next++);
            String output = marked.group(2);
            assertFalse(output.contains(PASSWORD), "the password leaked from: " + step.command());
            if (step.expect() == null) {
                assertEquals("0", marked.group(3), "runbook line\n  " + step.command() + "\nexited " + marked.group(3) + ":\n" + output);
            } else {
                assertTrue(output.contains(step.expect()), "runbook line\n  " + step.command() + "\nexpected '"
                        + step.expect() + "' in:\n" + output);
            }
        }
        assertEquals(ran.size(), next, "every runnable line ran to its end:\n" + run);
        for (String command : List.of("gates@cc-ci", "prune@cc-ci", "auth-check@cc-ci", "reuse-proof@cc-ci")) {
            assertTrue(ran.stream().anyMatch(s -> s.command().contains(command)), command + " runs here too");
        }
    }

    /**
     * What the test leaves to the host is exactly the lines that ask systemd, and each of those asks
     * nothing else: a line that mixes a toolkit command with systemctl would otherwise go unchecked.
     */
    @Test
    void onlySystemdLinesAreLeftToTheHost() {
        List<Step> steps = runbook();
        List<String> skipped = steps.stream().filter(s -> !runnableHere(s)).map(Step::command).toList();
        List<String> mentioningSystemd = steps.stream().filter(s -> MENTIONS_SYSTEMD.matcher(s.command()).find())
                .map(Step::command).toList();
        assertEquals(mentioningSystemd, skipped, "the lines not run here must be exactly those naming systemctl/journalctl");
        for (String line : skipped) {
            for (String command : line.split("&&|\\|\\||;|\\|")) {
                assertTrue(command.strip().matches("(systemctl|journalctl)\\b.*"),
                        "a line left to the host runs something else too: '" + command.strip() + "' in: " + line);
            }
        }
        assertFalse(skipped.isEmpty(), "the runbook checks the timer on the host");
    }
}
