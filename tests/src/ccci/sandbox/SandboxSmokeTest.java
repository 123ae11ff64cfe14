package ccci.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The sandbox does for real what the other tests rely on. */
@OnEveryEngine
class SandboxSmokeTest {
    private static final String BUSYBOX = "sbx-smoke/busybox:1";

    @Test
    void sharedSwarmRunsBusyboxContainersAndServices() {
        SandboxEngine engine = Sandboxes.sharedSwarm();
        engine.importBusybox(BUSYBOX);
        assertEquals("ok", engine.dockerOk("run", "--rm", "--network", "none", BUSYBOX, "sh", "-c", "echo ok"));

        engine.dockerOk("service", "create", "-d", "--name", "smoke-running", BUSYBOX, "sleep", "3600");
        engine.dockerOk("service", "create", "-d", "--name", "smoke-pending",
                "--constraint", "node.labels.nowhere==1", BUSYBOX, "sleep", "3600");
        try {
            awaitEquals("1/1", () -> replicas(engine, "smoke-running"), Duration.ofSeconds(30));
            assertEquals("0/1", replicas(engine, "smoke-pending"));
        } finally {
            engine.dockerOk("service", "rm", "smoke-running", "smoke-pending");
        }
    }

    @Test
    void loadedImagesKeepTheirCreatedDateAndIdAndCanBeDangling() {
        SandboxEngine engine = Sandboxes.sharedSwarm();
        Instant twoDaysAgo = Instant.now().minus(48, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);

        String id = engine.loadImage(ImageSpec.tagged("sbx-smoke/old:1", twoDaysAgo, 100_000));
        assertEquals(twoDaysAgo.toString(), engine.dockerOk("image", "inspect", "-f", "{{.Created}}", "sbx-smoke/old:1"));
        assertEquals(id, engine.dockerOk("image", "inspect", "-f", "{{.Id}}", "sbx-smoke/old:1"));
        assertEquals(id, engine.loadImage(ImageSpec.tagged("sbx-smoke/old:1", twoDaysAgo, 100_000)), "deterministic ID");

        String danglingId = engine.loadImage(ImageSpec.dangling(twoDaysAgo, 50_000, 42));
        List<String> dangling = engine.dockerOk("images", "-f", "dangling=true", "-q").lines().toList();
        assertTrue(dangling.contains(danglingId.substring("sha256:".length(), "sha256:".length() + 12)),
                danglingId + " not in " + dangling);
    }

    /**
     * An engine kind with a minimum API (Docker 29's 1.44) refuses an older client, here Debian's
     * 20.10 CLI (API 1.41), and the sandbox sees the refusal in the engine's log (close() fails
     * while one is left unacknowledged); the other kinds serve that client.
     */
    @Test
    void anEngineWithAMinimumApiRefusesOlderClientsAndTheSandboxSeesIt() {
        SandboxEngine engine = Sandboxes.sharedSwarm();
        List<String> old = List.of("/usr/bin/docker", "-H", engine.host(), "version", "-f", "{{.Server.MinAPIVersion}}");
        CommandResult r = Exec.run(old, java.util.Map.of("DOCKER_CONFIG", engine.dockerConfigDir().toString()), null, Exec.DEFAULT_TIMEOUT);
        if (engine.kind().minApiVersion().isPresent()) {
            String min = engine.kind().minApiVersion().get();
            assertFalse(r.ok(), r.toString());
            assertTrue(r.err().contains("client version 1.41 is too old. Minimum supported API version is " + min), r.toString());
            assertTrue(engine.requestsRefusedAsTooOld().stream().anyMatch(q -> q.matches("GET /v1\\.41/.*version")),
                    engine.requestsRefusedAsTooOld().toString());
            engine.acknowledgeRefusedRequests();
            assertEquals(List.of(), engine.requestsRefusedAsTooOld());
            assertEquals(min, engine.dockerOk("version", "-f", "{{.Server.MinAPIVersion}}"), "its own release's CLI is new enough");
        } else {
            assertTrue(r.ok(), r.toString());
        }
    }

    @Test
    void plainEngineOnALoopFsCanStopAndComeBack() {
        try (SandboxEngine engine = SandboxEngine.start(new SandboxEngine.Options().swarm(false).dataRootOnLoopFs(64))) {
            assertEquals("inactive", engine.dockerOk("info", "-f", "{{.Swarm.LocalNodeState}}"));
            String rootDir = engine.dockerOk("info", "-f", "{{.DockerRootDir}}");
            assertEquals(engine.dataRoot().toString(), rootDir);
            String df = Exec.ok(List.of("df", "--output=target,fstype", rootDir)).out().lines().skip(1).findFirst().orElseThrow();
            assertEquals(List.of(rootDir, "ext4"), List.of(df.trim().split("\\s+")));

            engine.stopEngine();
            assertFalse(engine.isRunning());
            assertFalse(engine.docker("version").ok());
            engine.restartEngine();
            assertEquals("inactive", engine.dockerOk("info", "-f", "{{.Swarm.LocalNodeState}}"));
        }
    }

    @Test
    void overlayWorksOnATmpfsDataRootAndCloseCleansUp() {
        Path workDir;
        try (SandboxEngine engine = SandboxEngine.start(new SandboxEngine.Options().swarm(false).dataRootOnTmpfs(128))) {
            workDir = engine.workDir();
            String driver = engine.kind().containerdImageStore() ? "overlayfs" : "overlay2"; // the snapshotter's name
            assertEquals(driver, engine.dockerOk("info", "-f", "{{.Driver}}"));
            engine.importBusybox(BUSYBOX);
            // left running on purpose: close() must cope
            engine.dockerOk("run", "-d", "--network", "none", BUSYBOX, "sleep", "3600");
        }
        assertFalse(Files.exists(workDir), workDir + " still exists");
        assertTrue(Mounts.under(workDir).isEmpty(), "mounts left under " + workDir);
    }

    @Test
    void registryTakesAPushAndServesItBack() {
        SandboxEngine engine = Sandboxes.sharedSwarm();
        engine.importBusybox(BUSYBOX);
        try (SandboxRegistry registry = SandboxRegistry.start("smoke", "smoke-secret")) {
            String remote = registry.address() + "/smoke/busybox:1";
            engine.login(registry.address(), registry.user(), registry.password());
            assertTrue(readConfig(engine).contains(registry.address()), "login not stored in the private DOCKER_CONFIG");

            engine.dockerOk("tag", BUSYBOX, remote);
            engine.dockerOk("push", remote);
            engine.dockerOk("rmi", remote);
            engine.dockerOk("pull", remote);
            assertTrue(engine.dockerOk("pull", remote).contains("Image is up to date"));

            registry.restart();
            assertTrue(engine.dockerOk("pull", remote).contains("Image is up to date"), "data kept over a restart");
        }
    }

    private static String replicas(SandboxEngine engine, String service) {
        return engine.dockerOk("service", "ls", "--filter", "name=" + service, "--format", "{{.Replicas}}");
    }

    private static String readConfig(SandboxEngine engine) {
        try {
            return Files.readString(engine.dockerConfigDir().resolve("config.json"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void awaitEquals(String expected, Supplier<String> actual, Duration timeout) {
        Await.within(() -> expected.equals(actual.get()), timeout);
        assertEquals(expected, actual.get(), "after " + timeout);
    }
}
