package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.Sandboxes;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** `gates` against a real, private swarm engine: every gate driven both ways. */
@OnEveryEngine
class GatesEngineTest {
    static final String IMAGE = "ccci-busybox:gates";
    static final String STACK_SERVICE = "ab12-0a0b0c_ci_commoninternet_net_web";
    static SandboxEngine engine;
    static SmallDisk fullDisk;

    @BeforeAll
    static void start() throws Exception {
        engine = Sandboxes.sharedSwarm();
        engine.importBusybox(IMAGE);
        fullDisk = SmallDisk.mount(16).fillTo(90);
    }

    @AfterAll
    static void stop() throws Exception {
        if (fullDisk != null) {
            fullDisk.close();
        }
        // the shared engine closes at JVM exit, too late to fail a test: on an engine with a
        // minimum API (28.5-containerd: 1.44), nothing the gates sent may have been refused as too old
        assertEquals(List.of(), engine.requestsRefusedAsTooOld(), "requests below " + engine.kind().minApiVersion());
    }

    @AfterEach
    void leaveTheEngineClean() {
        engine.docker("service", "rm", STACK_SERVICE, "ccci-stuck", "ccci-web");
        engine.docker("rm", "-f", "ccci-labelled");
        waitUntil(() -> engine.dockerOk("service", "ls", "-q").isEmpty()
                && engine.dockerOk("ps", "-q").isEmpty(), "services and containers gone");
    }

    CommandResult gates(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "--host";
        all[1] = engine.host();
        all[2] = "--json";
        System.arraycopy(args, 0, all, 3, args.length);
        return ScriptRun.of("Gates", all);
    }

    /**
     * docker-java leaves the API version to the engine (no version in the request path): gates runs
     * at each engine's own, 1.41 on 20.10, 1.45 on 26.1, 1.51 on 28.5. The lowest the engine serves
     * is its default (1.12 on 20.10, 1.24 after), or Docker 29's 1.44 on the kind that sets it. The
     * engine it ran on is written to tests/target/engine-facts/KIND.properties for the README's
     * verified-engines table.
     */
    @Test
    void dockerJavaTalksToEachEngineAtItsOwnApiVersion() throws Exception {
        Map<String, String> api = Map.of("20.10", "1.41", "26.1", "1.45", "28.5", "1.51", "28.5-containerd", "1.51");
        Properties facts = new Properties();
        try (Engine docker = Engine.connect(engine.host())) {
            Version version = engine.dockerJava().versionCmd().exec();
            assertEquals(api.get(engine.kind().id()), version.getApiVersion(), engine.kind().id());
            assertEquals(engine.kind().minApiVersion().orElse(engine.kind().id().equals("20.10") ? "1.12" : "1.24"),
                    version.getMinAPIVersion(), engine.kind().id());
            EngineInfo.ImageStore store = EngineInfo.of(docker.info()).imageStore();
            assertEquals(engine.kind().containerdImageStore(), store == EngineInfo.ImageStore.CONTAINERD, "the store /info reports");
            facts.setProperty("engine", version.getVersion());
            facts.setProperty("api", version.getApiVersion());
            facts.setProperty("minApi", version.getMinAPIVersion());
            facts.setProperty("store", store == EngineInfo.ImageStore.CONTAINERD ? "containerd" : "overlay2 (graph driver)");
        }
        CommandResult run = gates("--path", fullDisk.path().toString());
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertEquals("", run.err());
        Path dir = Files.createDirectories(Repo.root().resolve("tests/target/engine-facts"));
        try (var out = Files.newBufferedWriter(dir.resolve(engine.kind().id() + ".properties"))) {
            facts.store(out, "the engine GatesEngineTest ran on");
        }
    }

    @Test
    void allGatesHoldOnAFullDiskWithNothingRunning() {
        CommandResult run = gates("--path", fullDisk.path().toString());
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertTrue(run.json().path("pruneAllowed").asBoolean(), run.toString());
        assertEquals("", run.err());
    }

    @Test
    void diskGateReportsDfsNumberOverAndUnderTheThreshold() throws Exception {
        JsonNode over = ScriptRun.gate(gates("--path", fullDisk.path().toString()), "disk");
        assertTrue(over.path("holds").asBoolean(), over.toString());
        assertEquals(fullDisk.dfPercent(), over.path("usedPercent").asInt());
        assertEquals(80, over.path("threshold").asInt());

        CommandResult under = gates("--path", fullDisk.path().toString(), "--threshold", "95");
        assertEquals(ExitCodes.GATE_BLOCKS, under.exit(), under.toString());
        assertEquals("blocks", ScriptRun.gate(under, "disk").path("state").asText());
    }

    /** On the containerd store containerd's root too (here inside the data root: one file system, the data root named). */
    @Test
    void diskGateMeasuresTheEnginesDataRootByDefault() {
        JsonNode disk = ScriptRun.gate(engine.containerdRoot().map(root -> gates("--containerd-root", root.toString()))
                .orElseGet(this::gates), "disk");
        assertEquals(engine.dataRoot().toString(), disk.path("path").asText());
        assertEquals(engine.containerdRoot().isPresent() ? 2 : 1, disk.path("paths").size(), disk.toString());
    }

    @Test
    void aServiceNamedLikeARunAppStackBlocksUntilRemoved() {
        engine.dockerOk("service", "create", "--detach", "--name", STACK_SERVICE, IMAGE, "sleep", "3600");
        engine.awaitServiceContainer(STACK_SERVICE);
        CommandResult run = gates("--path", fullDisk.path().toString());
        assertEquals(ExitCodes.GATE_BLOCKS, run.exit(), run.toString());
        assertTrue(run.json().path("reason").asText().startsWith("stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net"),
                run.toString());
        // the service may still be starting: convergence may block too, the stack gate is the point
        CommandResult text = ScriptRun.of("Gates", "--host", engine.host(), "--path", fullDisk.path().toString());
        assertTrue(text.out().lines().anyMatch(l -> l.matches("summary prune_allowed=false exit=10 disk=holds stack=blocks "
                + "convergence=(holds|blocks) disk_used=\\d+ reason=\"stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net .*\"")),
                text.toString());
        JsonNode stack = ScriptRun.gate(run, "stack");
        assertFalse(stack.path("holds").asBoolean());
        assertEquals("ab12-0a0b0c_ci_commoninternet_net", stack.path("liveStacks").get(0).asText());

        engine.removeService(STACK_SERVICE);
        assertTrue(ScriptRun.gate(gates("--path", fullDisk.path().toString()), "stack").path("holds").asBoolean());
    }

    @Test
    void aRunningContainerWithOnlyTheStackLabelBlocks() {
        engine.dockerOk("run", "-d", "--network", "none", "--name", "ccci-labelled",
                "--label", "com.docker.stack.namespace=zz9-abcdef_ci_commoninternet_net", IMAGE, "sleep", "3600");
        JsonNode stack = ScriptRun.gate(gates(), "stack");
        assertFalse(stack.path("holds").asBoolean(), stack.toString());
        assertEquals("zz9-abcdef_ci_commoninternet_net", stack.path("liveStacks").get(0).asText());

        engine.dockerOk("stop", "-t", "0", "ccci-labelled");
        assertTrue(ScriptRun.gate(gates(), "stack").path("holds").asBoolean(), "a stopped container is not a live stack");
    }

    @Test
    void aServiceThatCannotBePlacedIsConverging() {
        engine.dockerOk("service", "create", "--detach", "--name", "ccci-stuck",
                "--constraint", "node.labels.nowhere==1", IMAGE, "sleep", "3600");
        CommandResult run = gates("--path", fullDisk.path().toString());
        assertEquals(ExitCodes.GATE_BLOCKS, run.exit(), run.toString());
        JsonNode converging = ScriptRun.gate(run, "convergence").path("converging").get(0);
        assertEquals("ccci-stuck", converging.path("service").asText());
        assertEquals(0, converging.path("running").asInt());
        assertEquals(1, converging.path("desired").asInt());
    }

    @Test
    void aServiceThatReachesItsReplicasConverges() {
        engine.dockerOk("service", "create", "--detach", "--name", "ccci-web", "--replicas", "2", IMAGE, "sleep", "3600");
        waitUntil(() -> engine.dockerOk("service", "ls", "--filter", "name=ccci-web", "--format", "{{.Replicas}}")
                .equals("2/2"), "ccci-web 2/2");
        JsonNode convergence = ScriptRun.gate(gates(), "convergence");
        assertTrue(convergence.path("holds").asBoolean(), convergence.toString());
    }

    @Test
    void anUnreachableEngineFailsClosedWithOneLine() {
        CommandResult run = ScriptRun.of("Gates", "--host", "unix:///nonexistent/docker.sock",
                "--path", fullDisk.path().toString());
        assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
        assertTrue(run.out().contains("verdict: prune not allowed"), run.toString());
        String summary = run.out().lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow();
        assertTrue(summary.startsWith("summary prune_allowed=false exit=11 disk=holds stack=unknown convergence=unknown disk_used="),
                summary);
        assertTrue(summary.contains(" reason=\"stack: cannot evaluate: cannot reach the Docker engine at unix:///nonexistent/docker.sock"),
                summary);
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().startsWith("gates: cannot reach the Docker engine at unix:///nonexistent/docker.sock"), run.err());
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, String what) {
        Await.await(condition, Duration.ofSeconds(60), what);
    }
}
