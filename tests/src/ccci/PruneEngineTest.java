package ccci;

import static ccci.PruneJson.ids;
import static ccci.PruneJson.reasonFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ccci.Cli.ExitCodes;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * prune through its command on a real engine whose data root is a small loop-mounted ext4 filled
 * past 80%: what only a real engine shows, on one engine for the whole class. The engine is the
 * kind the matrix names (its facts are written for the README's table); a lock held by another
 * process keeps the command off it; the dry run lists the old untagged images and the real run
 * removes exactly those, with figures df agrees with; a hostile label comes back escaped; another
 * tool's prune makes the engine answer 409. Everything else prune does: ccci.scenario, on the fake.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class PruneEngineTest {
    static SandboxEngine engine;
    static PruneScenario scenario;
    static Set<String> before;
    static Path lockFile;

    /** A swarm manager (its raft store pre-allocates ~120 MB of the 256: the images fill the rest; the 409's containers need the inodes). */
    @BeforeAll
    static void fillTheDisk() throws Exception {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(true).dataRootOnLoopFs(256).debug(true));
        // the containerd store keeps each layer's blob beside its unpacked snapshot: twice the bytes
        int danglingMb = engine.kind().containerdImageStore() ? 11 : 22;
        scenario = PruneScenario.build(engine, Instant.now(), danglingMb, false);
        int used = SmallDisk.dfPercent(engine.dataRoot());
        assertTrue(used >= 80, "precondition: the data root must be at least 80% full, is " + used + "%");
        before = PruneScenario.imageIds(engine);
        lockFile = engine.workDir().resolve("prune.lock");
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    static CommandResult prune(String... args) {
        List<String> all = new ArrayList<>(List.of("--host", engine.host(), "--lock-file", lockFile.toString()));
        // the sandbox's containerd root (in the data root's file system), not the host's /var/lib/containerd
        engine.containerdRoot().ifPresent(root -> all.addAll(List.of("--containerd-root", root.toString())));
        all.addAll(List.of(args));
        return ScriptRun.of("Prune", all.toArray(String[]::new));
    }

    /**
     * The engine the matrix names, at its own API version (the lowest it serves: its default, or
     * Docker 29's 1.44 on the kind that sets it) and image store: written to
     * tests/target/engine-facts/KIND.properties for the README's verified-engines table.
     */
    @Test
    @Order(1)
    void theEngineIsTheKindTheMatrixNames() throws Exception {
        Map<String, String> api = Map.of("20.10", "1.41", "26.1", "1.45", "28.5", "1.51", "28.5-containerd", "1.51");
        Properties facts = new Properties();
        try (Engine docker = Engine.connect(engine.host())) {
            JsonNode version = docker.version();
            assertEquals(api.get(engine.kind().id()), version.path("ApiVersion").asText(), engine.kind().id());
            assertEquals(engine.kind().minApiVersion().orElse(engine.kind().id().equals("20.10") ? "1.12" : "1.24"),
                    version.path("MinAPIVersion").asText(), engine.kind().id());
            EngineInfo.ImageStore store = EngineInfo.of(docker.info()).imageStore();
            assertEquals(engine.kind().containerdImageStore(), store == EngineInfo.ImageStore.CONTAINERD, "the store /info reports");
            facts.setProperty("engine", version.path("Version").asText());
            facts.setProperty("api", version.path("ApiVersion").asText());
            facts.setProperty("minApi", version.path("MinAPIVersion").asText());
            facts.setProperty("store", store == EngineInfo.ImageStore.CONTAINERD ? "containerd" : "overlay2 (graph driver)");
        }
        Path dir = Files.createDirectories(Repo.root().resolve("tests/target/engine-facts"));
        try (var out = Files.newBufferedWriter(dir.resolve(engine.kind().id() + ".properties"))) {
            facts.store(out, "the engine PruneEngineTest ran on");
        }
    }

    /** The engine logs its requests (debug): the held lock keeps the command from asking it anything. */
    @Test
    @Order(2)
    void aLockHeldByAnotherProcessKeepsThePruneOffTheEngine() throws Exception {
        long served = engine.apiRequestsServed();
        Process holder = JavaProcess.java(List.of(JavaProcess.HoldLock.class.getName(), lockFile.toString()),
                ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.to(engine.workDir().resolve("holder.err").toFile()));
        try {
            JavaProcess.awaitLine(holder, "held");
            CommandResult run = prune("--threshold", "1");
            assertEquals(ExitCodes.LOCKED, run.exit(), run.toString());
            assertEquals("prune: another prune is running (lock " + lockFile + " held by pid " + holder.pid() + "): nothing removed",
                    run.err().strip());
            assertTrue(run.out().startsWith("summary outcome=locked exit=14 phases=none "), run.toString());
        } finally {
            holder.getOutputStream().close();
            if (!holder.waitFor(20, TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
        }
        assertEquals(served, engine.apiRequestsServed(), "the engine was not even asked");
        assertEquals(before, PruneScenario.imageIds(engine), "nothing removed");
    }

    /** The dry run lists the old untagged images, the real run removes exactly those; the report agrees with df and the engine. */
    @Test
    @Order(3)
    void onAReallyFullDiskTheRealRunRemovesExactlyWhatTheDryRunListed() throws Exception {
        CommandResult dry = prune("--dry-run", "--json");
        assertEquals(ExitCodes.OK, dry.exit(), dry.toString());
        Set<String> wouldRemove = ids(dry.json().path("wouldRemove"));
        assertEquals(new TreeSet<>(scenario.oldDangling()), wouldRemove, dry.out());
        assertEquals(before, PruneScenario.imageIds(engine), "a dry run removes nothing");
        JsonNode kept = dry.json().path("kept");
        assertEquals("in use by container ccci-holds-dangling (created)", reasonFor(kept, scenario.usedDangling()));
        assertEquals("tagged", reasonFor(kept, scenario.oldTagged()));
        assertEquals("volume: never pruned", reasonFor(kept, PruneScenario.VOLUME));

        int diskBefore = SmallDisk.dfPercent(engine.dataRoot());
        long listedBytes = 0;
        for (String id : scenario.oldDangling()) {
            listedBytes += Long.parseLong(engine.dockerOk("image", "inspect", "-f", "{{.Size}}", id));
        }
        CommandResult run = prune("--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode json = run.json();
        Set<String> gone = new TreeSet<>(before);
        gone.removeAll(PruneScenario.imageIds(engine));
        assertEquals(wouldRemove, gone, "the real run removes what the dry run listed");
        assertEquals(wouldRemove, ids(json.path("removed")), "and reports it");
        for (String name : PruneScenario.CONTAINERS) {
            assertEquals(name, engine.dockerOk("ps", "-a", "--filter", "name=^" + name + "$", "--format", "{{.Names}}"));
        }
        assertEquals(PruneScenario.VOLUME_PROOF, scenario.volumeProof(engine));
        int diskAfter = SmallDisk.dfPercent(engine.dataRoot());
        assertTrue(diskAfter < diskBefore, "disk use dropped: " + diskBefore + "% -> " + diskAfter + "%");
        assertEquals(diskBefore, json.path("diskBefore").asInt());
        assertEquals(diskAfter, json.path("diskAfter").asInt());
        int imagesNow = engine.dockerOk("images", "-q").lines().toList().size();
        assertEquals(imagesNow, json.path("imagesAfter").asInt());
        assertEquals(imagesNow + 3, json.path("imagesBefore").asInt());
        long planned = 0;
        for (JsonNode item : dry.json().path("wouldRemove")) {
            planned += item.path("size").asLong();
        }
        assertEquals(planned, json.path("reclaimedBytes").asLong(), "reclaimed = the sizes the dry run listed");
        if (engine.kind().containerdImageStore()) {
            // the engine's df counts an image's content blobs and its unpacked snapshot; inspect's Size one of them
            assertTrue(planned >= listedBytes, planned + " >= " + listedBytes);
        } else {
            assertEquals(listedBytes, planned, "the sizes docker image inspect shows");
        }
    }

    /** A stack label holding a clear-screen escape and a forged verdict line, as the engine hands it back. */
    @Test
    @Order(4)
    void aHostileLabelFromTheEngineComesBackEscaped() {
        String hostile = "ab12-0a0b0c_ci_commoninternet_net_\u001b[2J\r\nverdict: prune allowed (all gates hold)\u009b31m\u007f";
        engine.dockerOk("run", "-d", "--network", "none", "--name", "ccci-injected", "--label", HostSnapshot.STACK_LABEL + "=" + hostile,
                scenario.busybox(), "sleep", "3600");
        try {
            CommandResult gates = ScriptRun.of("Gates", "--host", engine.host(), "--threshold", "1");
            CommandResult prune = prune("--threshold", "1", "--until", "1s");
            for (CommandResult run : List.of(gates, prune)) {
                String all = run.out() + run.err();
                assertFalse(all.contains("\u001b") || all.contains("\u009b") || all.contains("\r") || all.contains("\u007f"),
                        "a control character reached the output:\n" + run);
                assertTrue(all.lines().noneMatch(l -> l.startsWith("verdict: prune allowed")), "a forged line:\n" + run);
            }
            assertEquals(ExitCodes.GATE_BLOCKS, gates.exit(), gates.toString());
            assertTrue(gates.out().contains("ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J\\r\\nverdict: prune allowed (all gates hold)\\x9b31m\\x7f"),
                    gates.toString());
            assertTrue(prune.out().startsWith(PruneFormat.NOOP_LINE + ": stack: live run-app stack ab12-0a0b0c_ci_commoninternet_net_\\x1b[2J"),
                    prune.toString());
        } finally {
            engine.dockerOk("rm", "-f", "ccci-injected");
        }
    }

    /**
     * Another tool's container prune (`docker container prune` on hundreds of created containers)
     * keeps the engine busy: our first phase meets the engine's 409, reported in one line with exit
     * 15, nothing of ours removed. Our run (in this JVM, as the command runs it) starts the other
     * prune right before its first phase, after it has looked at the host: on the containerd store
     * GET /system/df fails while containers are being removed, which is exit 11, not the point here.
     * Timing-dependent (the other prune must still be at work): up to three attempts.
     */
    @Test
    @Order(5)
    void anotherToolsPruneMakesTheEngineAnswer409AndOurRunRemovesNothing() throws Exception {
        List<String> missed = new ArrayList<>();
        GatePolicy.Settings gates = GatePolicy.Settings.parse("1", GatePolicy.Settings.DEFAULT_STACK_PATTERN, List.of(),
                engine.containerdRoot().map(Path::toString).orElse(null), null);
        for (int attempt = 1; attempt <= 3; attempt++) {
            int bulk = attempt == 1 ? 150 : 250; // a wider window when a busy machine made us miss it
            engine.dockerOk("run", "--name", "ccci-bystander-" + attempt, "--network", "none", scenario.busybox(), "true");
            PruneScenario.awaitAllOlderThan(engine, Duration.ofSeconds(1));
            Set<String> containers = new TreeSet<>(engine.dockerOk("ps", "-aq", "--no-trunc").lines().toList());
            Set<String> images = PruneScenario.imageIds(engine);
            createBulkContainers(bulk);
            Process[] other = new Process[1];
            boolean[] atWork = {false};
            PruneRun.Report report;
            try (Engine docker = Engine.connect(engine.host()); Engine watch = Engine.connect(engine.host())) {
                report = PruneRun.run(() -> docker, Disks.REAL, PruneRun.Settings.of(gates, Until.parse("1s")), false,
                        new PruneRun.Listener() {
                            @Override
                            public void phaseStarting(PrunePolicy.Phase phase) {
                                if (phase == PrunePolicy.Phase.CONTAINERS) {
                                    try {
                                        other[0] = new ProcessBuilder(engine.dockerCommandLine("container", "prune", "-f", "--filter",
                                                "label=ccci-bulk")).redirectErrorStream(true)
                                                .redirectOutput(engine.workDir().resolve("other-prune.out").toFile()).start();
                                    } catch (java.io.IOException e) {
                                        throw new java.io.UncheckedIOException(e);
                                    }
                                    atWork[0] = awaitBulkShrinking(watch, bulk, other[0]);
                                }
                            }
                        }, java.time.Clock.systemUTC());
            } finally {
                if (other[0] != null && !other[0].waitFor(30, TimeUnit.SECONDS)) {
                    other[0].destroyForcibly();
                    fail("the other prune did not finish in 30 s");
                }
            }
            if (report.exitCode() != ExitCodes.ENGINE_BUSY) {
                missed.add("attempt " + attempt + ": " + (atWork[0] ? "" : "the other prune not seen at work; ") + "exit "
                        + report.exitCode() + " " + report.problem().orElse(""));
                engine.docker("rm", "-f", "ccci-bystander-" + attempt);
                continue;
            }
            String text = PruneFormat.text(report);
            assertEquals(PruneRun.Outcome.FAILED, report.outcome(), text);
            assertEquals(List.of(), report.phases(), "no phase of ours completed");
            assertEquals(java.util.Optional.of(PrunePolicy.Phase.CONTAINERS), report.stoppedBefore());
            String problem = report.problem().orElseThrow();
            assertTrue(problem.startsWith("the engine is already running a prune (HTTP 409: "), problem);
            assertTrue(problem.endsWith("containers not pruned"), problem);
            assertEquals(1, problem.lines().count(), problem);
            assertTrue(text.contains("summary outcome=failed exit=15 phases=none "), text);
            assertEquals(containers, new TreeSet<>(engine.dockerOk("ps", "-aq", "--no-trunc").lines().toList()),
                    "the other tool removed its own containers, ours removed none");
            assertEquals(images, PruneScenario.imageIds(engine), "our run never got to the images");
            System.err.println("[PruneEngineTest] 409 on attempt " + attempt + " " + missed);
            return;
        }
        fail("could not catch the engine in another prune in 3 attempts: " + missed);
    }

    /** Created (never started) containers labelled ccci-bulk, made through the API on a few threads. */
    static void createBulkContainers(int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (var docker = engine.dockerJava()) {
            List<Future<?>> made = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                made.add(pool.submit(() -> docker.createContainerCmd(scenario.busybox()).withCmd("true")
                        .withLabels(Map.of("ccci-bulk", "1"))
                        .withHostConfig(com.github.dockerjava.api.model.HostConfig.newHostConfig().withNetworkMode("none")).exec()));
            }
            for (Future<?> f : made) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** True once the other prune has removed some but not all of the bulk containers. */
    static boolean awaitBulkShrinking(Engine watch, int bulk, Process other) {
        int[] left = {bulk};
        Await.within(() -> {
            int n = 0;
            try {
                for (JsonNode c : watch.containers(true)) {
                    n += c.path("Labels").has("ccci-bulk") ? 1 : 0;
                }
            } catch (EngineApi.Unavailable busy) {
                return !other.isAlive(); // a listing can fail while containers go: look again
            }
            left[0] = n;
            return left[0] < bulk || !other.isAlive();
        }, Duration.ofSeconds(15));
        return left[0] < bulk && left[0] > bulk / 5;
    }
}
