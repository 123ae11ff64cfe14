package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.Provision;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/** prune --metrics-file on a real engine, read back with Prometheus' own parser (promtool). */
@OnEveryEngine
class PruneMetricsTest {
    static SandboxEngine engine;
    @TempDir Path dir;

    @BeforeAll
    static void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
        engine.importBusybox("ccci-bb:metrics");
        engine.dockerOk("create", "--network", "none", "--name", "ccci-metrics-old", "ccci-bb:metrics", "sleep", "1");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    CommandResult prune(Path metrics, String host, String... more) {
        String[] base = {"--host", host, "--metrics-file", metrics.toString(),
            "--lock-file", engine.workDir().resolve("prune.lock").toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return ScriptRun.of("Prune", all);
    }

    static Map<String, Double> parseWithPromtool(Path file) throws Exception {
        ProcessResult check = new ProcessExecutor(Provision.binary("promtool").toString(), "check", "metrics")
                .redirectInput(Files.newInputStream(file)).readOutput(true).redirectErrorStream(true)
                .timeout(30, TimeUnit.SECONDS).execute();
        assertEquals(0, check.getExitValue(), "promtool check metrics:\n" + check.outputUTF8() + "\n" + Files.readString(file));
        Map<String, Double> samples = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(ci_docker_prune_[a-z_]+(?:\\{[^}]*})?) (\\S+)$").matcher(Files.readString(file));
        while (m.find()) {
            samples.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return samples;
    }

    @Test
    void aPruneWritesParseableMetricsAtomicallyWithMode0644() throws Exception {
        Path metrics = dir.resolve("ci_docker_prune.prom");
        PruneScenario.awaitAllOlderThan(engine, Duration.ofSeconds(1));
        CommandResult run = prune(metrics, engine.host(), "--threshold", "1", "--until", "1s", "--json");
        // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
        assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        JsonNode report = run.json();

        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(metrics)));
        try (var leftovers = Files.list(dir)) {
            assertEquals(1, leftovers.count(), "no temp file left beside it");
        }
        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(17.0, m.get("ci_docker_prune_exit_code"));
        assertEquals(null, m.get("ci_docker_prune_last_success_timestamp_seconds"), "not a success, and none before it");
        assertEquals(1.0, m.get("ci_docker_prune_outcome{outcome=\"insufficient\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_outcome{outcome=\"pruned\"}"));
        assertEquals(1.0, m.get("ci_docker_prune_insufficient"));
        for (String gate : new String[] {"disk", "stack", "convergence"}) {
            assertEquals(1.0, m.get("ci_docker_prune_gate_holds{gate=\"" + gate + "\"}"), gate);
            assertEquals(1.0, m.get("ci_docker_prune_gate_state{gate=\"" + gate + "\",state=\"holds\"}"), gate);
        }
        for (JsonNode phase : report.path("phases")) {
            assertEquals(phase.path("removed").asDouble(), m.get("ci_docker_prune_removed_objects{phase=\"" + phase.path("name").asText() + "\"}"));
            assertEquals(phase.path("reclaimedBytes").asDouble(), m.get("ci_docker_prune_reclaimed_bytes{phase=\"" + phase.path("name").asText() + "\"}"));
        }
        assertTrue(report.path("phases").get(0).path("removedIds").size() >= 1, "the old stopped container went:\n" + run.out());
        assertTrue(m.containsKey("ci_docker_prune_reclaimed_bytes{phase=\"images\"}"));
        assertEquals(1.0, m.get("ci_docker_prune_images{when=\"before\"}"));
        assertEquals(1.0, m.get("ci_docker_prune_images{when=\"after\"}"));
        assertTrue(m.containsKey("ci_docker_prune_disk_used_percent{when=\"after\"}"));
    }

    @Test
    void aFailedRunKeepsTheLastSuccessTimeAndShowsTheGatesFailedClosed() throws Exception {
        Path metrics = dir.resolve("ci_docker_prune.prom");
        assertEquals(ExitCodes.OK, prune(metrics, engine.host()).exit(), "a no-op run succeeds");
        double success = parseWithPromtool(metrics).get("ci_docker_prune_last_success_timestamp_seconds");
        Await.await(() -> System.currentTimeMillis() / 1000.0 > success, Duration.ofSeconds(5), "the clock passes the last success");

        CommandResult failed = prune(metrics, "unix:///nonexistent/docker.sock");
        assertEquals(ExitCodes.CANNOT_EVALUATE, failed.exit(), failed.toString());
        Map<String, Double> m = parseWithPromtool(metrics);
        assertEquals(11.0, m.get("ci_docker_prune_exit_code"));
        assertEquals(success, m.get("ci_docker_prune_last_success_timestamp_seconds"));
        assertTrue(m.get("ci_docker_prune_last_run_timestamp_seconds") > success);
        assertEquals(1.0, m.get("ci_docker_prune_gate_state{gate=\"stack\",state=\"unknown\"}"));
        assertEquals(0.0, m.get("ci_docker_prune_gate_holds{gate=\"stack\"}"));
    }

    @Test
    void aMetricsFileInAMissingDirectoryIsBadInputBeforeAnythingIsRemoved() throws Exception {
        engine.dockerOk("create", "--network", "none", "--name", "ccci-metrics-keep", "ccci-bb:metrics", "sleep", "1");
        PruneScenario.awaitAllOlderThan(engine, Duration.ofSeconds(1)); // it would go if prune ran
        CommandResult run = prune(dir.resolve("missing/ci.prom"), engine.host(), "--threshold", "1", "--until", "1s");
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(engine.dockerOk("ps", "-a", "--format", "{{.Names}}").contains("ccci-metrics-keep"),
                "nothing removed: the old stopped container is still there");
    }
}
