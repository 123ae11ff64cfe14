package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * reuse-proof on a real swarm engine against a real htpasswd registry on loopback: a 50 MB image
 * built here, pushed, and the engine's client logged in (its private DOCKER_CONFIG is the
 * --config the proof reads). Every run's stdout and stderr is checked for the password.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class ReuseProofEngineTest {
    static final String USER = "ccci";
    static final String PASSWORD = "pw-" + UUID.randomUUID();
    static final String WRONG_PASSWORD = "wrong-" + UUID.randomUUID();
    static RegistryHost host;
    static SandboxEngine engine;
    static SandboxRegistry registry;
    static String image;
    static String imageId;
    @TempDir static Path temp;

    @BeforeAll
    static void imageInARegistry() {
        host = RegistryHost.start(USER, PASSWORD, true);
        engine = host.engine();
        registry = host.registry();
        engine.importBusybox("ccci/busybox:1");
        image = registry.address() + "/ccci/big:1";
        engine.buildWithBuildKit("FROM ccci/busybox:1\nRUN dd if=/dev/urandom of=/blob bs=1M count=50\nCMD [\"sleep\", \"3600\"]\n", image);
        engine.dockerOk("push", image);
        // the build cache holds the layer too: without this prune, a "cold" pull finds it present
        engine.dockerOk("builder", "prune", "-af");
        imageId = imageId();
    }

    @AfterAll
    static void stop() {
        if (host != null) {
            host.close();
        }
    }

    @AfterEach
    void noProofServiceIsLeft() {
        assertEquals("", proofServices(), "a proof service was left behind");
    }

    static String imageId() {
        return engine.dockerOk("image", "inspect", "-f", "{{.Id}}", image);
    }

    static String proofServices() {
        return engine.dockerOk("service", "ls", "-q", "--filter", "label=" + ProofService.LABEL);
    }

    static CommandResult proof(Path configDir, String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host(), "--config", configDir.toString(), "--image", image));
        args.addAll(List.of(more));
        CommandResult run = ScriptRun.of("ReuseProof", args.toArray(String[]::new));
        assertNoSecret(run.out() + run.err());
        return run;
    }

    static void assertNoSecret(String output) {
        assertFalse(output.contains(PASSWORD), "the password leaked:\n" + output);
        assertFalse(output.contains(WRONG_PASSWORD), "the (wrong) password leaked:\n" + output);
        String basic = java.util.Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        assertFalse(output.contains(basic), "the auth token leaked:\n" + output);
    }

    @Test
    @Order(1)
    void passesOnAHealthyHostWithAWarmPullThatDownloadsNothing() {
        CommandResult run = proof(engine.dockerConfigDir(), "--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode r = run.json();
        assertEquals("PASS", r.path("verdict").asText(), run.toString());
        assertTrue(r.path("retained").asBoolean());
        assertEquals(0, r.path("warmLayersDownloaded").asInt());
        assertTrue(r.path("warmUpToDate").asBoolean());
        assertEquals(1, r.path("coldLayersDownloaded").asInt(), "the 50 MB layer is downloaded cold: " + r);
        assertEquals(1, r.path("coldLayersPresent").asInt(), "the busybox base layer is already here: " + r);
        assertTrue(r.path("warmMs").asLong() < r.path("coldMs").asLong(), "warm faster than cold in this run: " + r);
        assertEquals(imageId, r.path("imageId").asText());
        assertEquals(USER, r.path("user").asText());
        assertTrue(r.path("reason").isNull());
        assertTrue(r.path("service").asText().startsWith(ProofService.NAME_PREFIX));
        assertEquals(imageId, imageId(), "the host is left as found: the image is here with the same ID");
    }

    @Test
    @Order(2)
    void printsEachStepWithItsFigureThenTheVerdictAndASummary() {
        CommandResult run = proof(engine.dockerConfigDir());
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        System.err.println("[reuse-proof sample output]\n" + run.out());
        // a pull longer than a few seconds adds progress lines ("cold-pull ...  5 s: ..."): not steps
        List<String> lines = run.out().lines().filter(l -> !l.matches("[a-z-]+ +\\.\\.\\.  .*")).toList();
        String[] steps = {"check", "remove", "cold-pull", "deploy", "teardown", "retained", "warm-pull", "cleanup"};
        for (int i = 0; i < steps.length; i++) {
            assertTrue(lines.get(i).matches(steps[i] + " +pass +.*"), "line " + i + ": " + lines.get(i) + "\n" + run);
        }
        assertTrue(lines.get(2).matches(".* \\d+ ms, 1 layer downloaded, 1 already present.*"), lines.get(2));
        assertTrue(lines.get(6).matches(".* \\d+ ms, 0 layers downloaded, 0 already present, image is up to date.*"), lines.get(6));
        String verdict = lines.get(steps.length);
        assertTrue(verdict.startsWith("PASS: " + image), verdict);
        assertTrue(verdict.contains(imageId) && verdict.contains("x faster"), verdict);
        String summary = lines.get(steps.length + 1);
        assertTrue(summary.startsWith("summary verdict=pass outcome=pass exit=0 image=" + image), summary);
        assertTrue(summary.contains(" warm_layers_downloaded=0 ") && summary.contains(" retained=true "), summary);
        assertEquals("", run.err());
    }

    @Test
    @Order(3)
    void failsBeforeChangingAnythingWhenTheRegistryRejectsTheCredentials() throws Exception {
        Path wrong = Files.createDirectories(temp.resolve("wrong-config"));
        String auth = java.util.Base64.getEncoder().encodeToString((USER + ":" + WRONG_PASSWORD).getBytes(StandardCharsets.UTF_8));
        Files.writeString(wrong.resolve("config.json"), "{\"auths\":{\"" + registry.address() + "\":{\"auth\":\"" + auth + "\"}}}");
        CommandResult run = proof(wrong, "--json");
        assertEquals(ExitCodes.PROOF_FAILED, run.exit(), run.toString());
        JsonNode r = run.json();
        assertEquals("FAIL", r.path("verdict").asText());
        assertTrue(r.path("reason").asText().startsWith("the registry " + registry.address() + " rejected the credentials of "
                + USER + " from " + wrong.resolve("config.json")), r.path("reason").asText());
        assertTrue(r.path("reason").asText().endsWith("nothing was changed"), r.path("reason").asText());
        assertTrue(run.err().startsWith("reuse-proof: the registry " + registry.address() + " rejected"), run.err());
        assertEquals(imageId, imageId(), "the image was not touched");
    }

    @Test
    @Order(4)
    void failsWithAClearReasonWhenTheRegistryIsDownBeforeTheWarmPull() {
        ReuseProofRun.Listener registryGoesDown = new ReuseProofRun.Listener() {
            @Override
            public void beforeStep(ReuseProofRun.Step step) {
                if (step == ReuseProofRun.Step.WARM_PULL) {
                    registry.stop();
                }
            }
        };
        ReuseProofRun.Report report;
        try (Engine docker = Engine.connect(engine.host())) {
            report = ReuseProofRun.run(docker, ReuseProofRun.Settings.parse(image, engine.dockerConfigDir().toString(),
                    "60", "120", "0", null), registryGoesDown);
        } finally {
            registry.restart();
        }
        String text = report.steps().stream().map(ReuseProofFormat::stepLine).collect(Collectors.joining("\n"))
                + ReuseProofFormat.ending(report) + ReuseProofFormat.json(report);
        assertNoSecret(text);
        assertEquals(ReuseProofRun.Outcome.FAIL, report.outcome(), text);
        assertEquals(ExitCodes.PROOF_FAILED, report.exitCode());
        String reason = report.reason().orElseThrow();
        assertTrue(reason.startsWith("warm-pull: "), reason);
        assertTrue(reason.contains("connection refused"), reason);
        assertTrue(report.retained(), "the image was retained; only the warm pull failed: " + text);
        assertTrue(text.contains("FAIL: warm-pull: "), text);
        assertEquals(imageId, imageId(), "the image is still here");
    }

    @Test
    @Order(5)
    void refusesAnImageARunningServiceUsesAndLeavesBothAlone() throws Exception {
        String workload = "ccci-workload-" + UUID.randomUUID().toString().substring(0, 8);
        engine.dockerOk("service", "create", "--detach", "--name", workload, "--stop-grace-period", "1s", image, "sleep", "3600");
        try {
            awaitRunningTask(workload);
            CommandResult run = proof(engine.dockerConfigDir());
            assertEquals(ExitCodes.IMAGE_IN_USE, run.exit(), run.toString());
            assertTrue(run.out().contains("REFUSED: " + image + " is used by "), run.toString());
            assertTrue(run.out().contains("service " + workload + ":") || run.out().contains("service " + workload + ","), run.toString());
            assertTrue(run.out().contains("reuse-proof never disturbs a workload; nothing was changed"), run.toString());
            assertTrue(run.out().contains("outcome=refused exit=21"), run.toString());
            assertEquals("Running", engine.dockerOk("service", "ps", "--format", "{{.CurrentState}}", workload).split(" ")[0],
                    "the workload keeps running");
            assertEquals(imageId, imageId(), "the image stays");
        } finally {
            engine.removeService(workload); // and its container: the next test must find the image unused
        }
    }

    @Test
    @Order(6)
    void sigtermInTheMiddleOfTheDeployLeavesNoServiceBehind() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "ReuseProof",
                "--host", engine.host(), "--config", engine.dockerConfigDir().toString(), "--image", image, "--hold", "120"));
        Path out = temp.resolve("sigterm.out");
        Path err = temp.resolve("sigterm.err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            String service = awaitProofServiceRunning(process, 60);
            assertTrue(service.startsWith(ProofService.NAME_PREFIX), service);
            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "reuse-proof did not exit after SIGTERM");
            String output = Files.readString(out) + Files.readString(err);
            System.err.println("[reuse-proof stopped by SIGTERM]\n" + output);
            assertNoSecret(output);
            assertEquals(143, process.exitValue(), output);
            assertEquals("", proofServices(), "the proof's service is gone:\n" + output);
            assertTrue(Files.readString(err).contains("reuse-proof: stopped by a signal: removed service " + service), output);
            assertEquals("", engine.dockerOk("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=" + service),
                    "its container is gone too");
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    @Order(7)
    void anImageThatWasNotHereBeforeIsRemovedAgainAtTheEnd() {
        engine.dockerOk("rmi", image);
        try {
            CommandResult run = proof(engine.dockerConfigDir(), "--json");
            assertEquals(ExitCodes.OK, run.exit(), run.toString());
            JsonNode r = run.json();
            assertEquals("PASS", r.path("verdict").asText());
            assertFalse(r.path("imageWasPresent").asBoolean());
            assertTrue(r.path("steps").get(1).path("detail").asText().startsWith("not here: nothing to remove"), r.toString());
            JsonNode cleanup = r.path("steps").get(7);
            assertEquals("cleanup", cleanup.path("name").asText());
            assertTrue(cleanup.path("detail").asText().contains("image removed again (it was not here before the proof)"), r.toString());
            assertFalse(engine.docker("image", "inspect", image).ok(), "left as found: the image is not here");
        } finally {
            engine.dockerOk("pull", image);
        }
    }

    @Test
    @Order(8)
    void aPullReportsItsProgressLayersAndBytes() {
        engine.dockerOk("rmi", image);
        List<ImagePull.Progress> seen = new CopyOnWriteArrayList<>();
        ImagePull.Result result;
        try (Engine docker = Engine.connect(engine.host())) {
            result = ImagePull.pull(docker, ImageRef.parse(image), Registry.lookup(engine.dockerConfigDir(), registry.address())
                    .credentials(), Duration.ofMinutes(2), Duration.ZERO, seen::add); // every status reported
        }
        assertEquals(1, result.layersDownloaded(), result.toString());
        assertFalse(seen.isEmpty(), "progress was reported");
        ImagePull.Progress last = seen.get(seen.size() - 1);
        // the classic store names both layers (the busybox one "Already exists"); the containerd
        // store names only the layer it fetches
        int named = engine.kind().containerdImageStore() ? 1 : 2;
        assertEquals(named, last.layers(), last.toString());
        assertEquals(named, last.layersDone(), last.toString());
        assertTrue(last.bytes() >= 50_000_000L && last.bytesDone() == last.bytes(), "the 50 MB layer, all of it: " + last);
        assertTrue(ReuseProofFormat.progressLine(ReuseProofRun.Step.COLD_PULL, last)
                .matches("cold-pull \\.\\.\\.  \\d+ s: " + named + "/" + named
                        + " layers, \\d+\\.\\d MB of \\d+\\.\\d MB"), last.toString());
    }

    @Test
    @Order(9)
    void anImageWithoutSleepRunsItsOwnCommand() {
        String noSleep = registry.address() + "/ccci/nosleep:1";
        engine.buildWithBuildKit("FROM ccci/busybox:1\nRUN rm /bin/sleep\nCMD [\"tail\", \"-f\", \"/dev/null\"]\n", noSleep);
        engine.dockerOk("push", noSleep);
        assertFalse(engine.docker("run", "--rm", "--network", "none", "--entrypoint", "sleep", noSleep, "0").ok(),
                "precondition: the image has no sleep");
        CommandResult run = ScriptRun.of("ReuseProof", "--host", engine.host(), "--config", engine.dockerConfigDir().toString(),
                "--image", noSleep);
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        assertTrue(run.out().lines().anyMatch(l -> l.matches("deploy +pass .*, its own entrypoint/command\\) running after .*")),
                run.toString());
    }

    @Test
    @Order(10)
    void anImageWithNothingToRunIsRefusedAtCheckUnlessACommandIsGiven() {
        String bare = registry.address() + "/ccci/bare:1";
        engine.dockerOk("tag", "ccci/busybox:1", bare); // imported: no ENTRYPOINT, no CMD
        engine.dockerOk("push", bare);
        String id = engine.dockerOk("image", "inspect", "-f", "{{.Id}}", bare);
        CommandResult refused = ScriptRun.of("ReuseProof", "--host", engine.host(), "--config", engine.dockerConfigDir().toString(),
                "--image", bare);
        assertEquals(ExitCodes.PROOF_FAILED, refused.exit(), refused.toString());
        List<String> lines = refused.out().lines().toList();
        assertTrue(lines.get(0).startsWith("check     fail " + bare + " has no entrypoint or command in its config"), refused.toString());
        assertTrue(lines.get(1).startsWith("FAIL: ") && lines.get(1).endsWith("give one with --command, e.g. --command 'sleep 3600'; "
                + "nothing was changed"), refused.toString());
        assertEquals(id, engine.dockerOk("image", "inspect", "-f", "{{.Id}}", bare), "nothing was changed");

        CommandResult given = ScriptRun.of("ReuseProof", "--host", engine.host(), "--config", engine.dockerConfigDir().toString(),
                "--image", bare, "--command", "sleep 3600");
        assertEquals(ExitCodes.OK, given.exit(), given.toString());
        assertTrue(given.out().contains(", sleep 3600) running after "), given.toString());
    }

    /** The name of the proof's service once its task runs (the deploy step is then holding it). */
    static String awaitProofServiceRunning(Process process, int seconds) {
        String[] running = {null};
        Await.await(() -> {
            assertTrue(process.isAlive(), "reuse-proof exited before deploying: exit " + (process.isAlive() ? "" : process.exitValue()));
            String names = engine.dockerOk("service", "ls", "--format", "{{.Name}}", "--filter", "label=" + ProofService.LABEL);
            running[0] = names.lines().findFirst().filter(ReuseProofEngineTest::hasRunningTask).orElse(null);
            return running[0] != null;
        }, Duration.ofSeconds(seconds), "the proof's service runs");
        return running[0];
    }

    static boolean hasRunningTask(String service) {
        return engine.dockerOk("service", "ps", "--format", "{{.CurrentState}}", service).startsWith("Running");
    }

    static void awaitRunningTask(String service) {
        Await.await(() -> hasRunningTask(service), Duration.ofSeconds(30), service + " runs");
    }
}
