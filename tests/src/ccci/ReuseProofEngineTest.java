package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.Await;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.Provision;
import ccci.sandbox.RegistryHost;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * reuse-proof on a real swarm engine against a real htpasswd registry on loopback, on every engine
 * and store of the matrix: the deploy brings the image by digest, teardown, the toolkit's own prune
 * (gates holding, the default --until 24h), redeploy without a pull. The image is made here once
 * and pushed once: a busybox layer and a 12 MB layer, its config built in 2020 (so that on the
 * classic store only the cache rule, not its age, can keep the untagged image prune sees), its
 * command a sleep that ends on SIGTERM. Every run's output is checked for the password.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@OnEveryEngine
class ReuseProofEngineTest {
    static final String USER = "ccci";
    static final String PASSWORD = "pw-" + UUID.randomUUID();
    static RegistryHost host;
    static SandboxEngine engine;
    static SandboxRegistry registry;
    static String image;
    static String imageId;
    @TempDir static Path temp;

    @BeforeAll
    static void imageInARegistry() throws IOException {
        host = RegistryHost.start(USER, PASSWORD, true);
        engine = host.engine();
        registry = host.registry();
        image = registry.address() + "/ccci/proof:1";
        Path archive = temp.resolve("proof.tar");
        try (OutputStream out = Files.newOutputStream(archive)) {
            ProofImage.write(image, out);
        }
        engine.dockerOk("load", "-i", archive.toString());
        engine.dockerOk("push", image);
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

    static List<String> args(String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host(), "--config", engine.dockerConfigDir().toString(),
                "--image", image, "--lock-file", temp.resolve("prune.lock").toString()));
        args.addAll(List.of(more));
        return args;
    }

    static CommandResult proof(String... more) {
        CommandResult run = ScriptRun.of("ReuseProof", args(more).toArray(String[]::new));
        assertNoSecret(run.out() + run.err());
        return run;
    }

    static void assertNoSecret(String output) {
        assertFalse(output.contains(PASSWORD), "the password leaked:\n" + output);
        String basic = java.util.Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        assertFalse(output.contains(basic), "the auth token leaked:\n" + output);
    }

    @Test
    @Order(1)
    void passesTheWayAStackDeployBringsTheImageThroughTeardownAndTheToolkitsPrune() {
        CommandResult run = proof();
        System.err.println("[reuse-proof sample output, engine " + engine.kind() + "]\n" + run.out());
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        // a deploy waiting longer than a few seconds adds progress lines ("deploy    ...  5 s: ..."): not steps
        List<String> lines = run.out().lines().filter(l -> !l.matches("[a-z-]+ +\\.\\.\\.  .*")).toList();
        String[] steps = {"check", "remove", "deploy", "teardown", "prune", "retained", "redeploy", "warm-pull", "cleanup"};
        for (int i = 0; i < steps.length; i++) {
            assertTrue(lines.get(i).matches(steps[i] + " +pass +.*"), "line " + i + ": " + lines.get(i) + "\n" + run);
        }
        String deploy = lines.get(2);
        assertTrue(deploy.contains("the engine pulled it for the service (1 pull event: " + image + "@sha256:"), deploy);
        String shortId = LocalImage.shortId(imageId);
        if (engine.kind().containerdImageStore()) {
            assertTrue(deploy.contains("image " + shortId + ", tagged " + image), deploy);
            assertTrue(lines.get(4).contains("the proof's image " + shortId + " kept: tagged"), lines.get(4));
        } else {
            // the classic store keeps no tag for what a deploy brings: prune's cache rule alone keeps it
            assertTrue(deploy.contains("image " + shortId + ", untagged, only its digest " + image.replace(":1", "") + "@sha256:"),
                    deploy);
            assertTrue(lines.get(4).contains("the proof's image " + shortId + " kept: cache: the newest image of "
                    + image.replace(":1", "") + " here, pulled by digest (a redeploy needs it)"), lines.get(4));
            assertTrue(lines.get(8).contains("its tag " + image + " put back (a deploy brings an image by its digest)"), lines.get(8));
        }
        assertTrue(lines.get(6).contains("no pull: the engine found the image here by its digest, 0 layers downloaded"), lines.get(6));
        assertTrue(lines.get(7).matches("warm-pull pass \\d+ ms, 0 layers downloaded, image is up to date .*"), lines.get(7));
        String verdict = lines.get(steps.length);
        assertTrue(verdict.startsWith("PASS: " + image + " came by digest with the deploy"), verdict);
        String summary = lines.get(steps.length + 1);
        assertTrue(summary.startsWith("summary verdict=pass outcome=pass exit=0 image=" + image + " image_id=" + imageId), summary);
        assertTrue(summary.contains(" cold_pulled=true prune=ran ") && summary.contains(" redeploy_pulled=false ")
                && summary.contains(" warm_layers_downloaded=0 "), summary);
        assertEquals("", run.err());
        assertEquals(imageId, imageId(), "left as found: the image here under its tag, same ID");
    }

    @Test
    @Order(2)
    void refusesAnImageAStoppedContainerUsesAndChangesNothing() {
        String job = "ccci-job-" + UUID.randomUUID().toString().substring(0, 8);
        engine.dockerOk("create", "--name", job, "--network", "none", image);
        try {
            CommandResult run = proof();
            System.err.println("[reuse-proof refused]\n" + run.out());
            assertEquals(ExitCodes.IMAGE_IN_USE, run.exit(), run.toString());
            assertTrue(run.out().contains("REFUSED: " + image + " is used by container " + job + " (created)"), run.toString());
            assertTrue(run.out().contains("reuse-proof never disturbs a workload; nothing was changed"), run.toString());
            assertEquals(imageId, imageId(), "the image stays");
        } finally {
            engine.dockerOk("rm", job);
        }
    }

    @Test
    @Order(3)
    void refusesAnImageAServiceScaledToZeroUsesAndChangesNothing() {
        String web = "ccci-web-" + UUID.randomUUID().toString().substring(0, 8);
        engine.dockerOk("service", "create", "--detach", "--replicas", "0", "--name", web, image);
        try {
            CommandResult run = proof("--json");
            assertEquals(ExitCodes.IMAGE_IN_USE, run.exit(), run.toString());
            String reason = run.json().path("reason").asText();
            assertTrue(reason.startsWith(image + " is used by service " + web + " (0 desired, 0 running)"), reason);
            assertEquals(1, run.json().path("steps").size(), run.toString());
            assertEquals(imageId, imageId(), "the image stays");
        } finally {
            engine.dockerOk("service", "rm", web);
        }
    }

    @Test
    @Order(4)
    void refusesAnImageAnotherNameSharesAndChangesNothing() {
        String mirror = registry.address() + "/ccci/mirror:1";
        engine.dockerOk("tag", image, mirror);
        try {
            CommandResult run = proof();
            assertEquals(ExitCodes.PROOF_FAILED, run.exit(), run.toString());
            // the containerd store names the mirror's digest too
            assertTrue(run.out().contains("also has the name") && run.out().contains(mirror), run.toString());
            assertTrue(run.out().contains(": removing " + image + " would only untag it and the cold deploy would download nothing, "
                    + "which proves nothing"), run.toString());
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith("FAIL: ") && l.endsWith("; nothing was changed")), run.toString());
            assertEquals(imageId, imageId(), "the image stays");
        } finally {
            engine.dockerOk("rmi", mirror); // only untags: the image keeps its own name
        }
    }

    @Test
    @Order(5)
    void sigtermInTheMiddleOfTheDeployLeavesNoServiceBehind() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "ReuseProof"));
        command.addAll(args("--hold", "120"));
        Path out = temp.resolve("sigterm.out");
        Path err = temp.resolve("sigterm.err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            String service = awaitProofServiceRunning(process, 60);
            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "reuse-proof did not exit after SIGTERM");
            String output = Files.readString(out) + Files.readString(err);
            System.err.println("[reuse-proof stopped by SIGTERM]\n" + output);
            assertNoSecret(output);
            assertEquals(143, process.exitValue(), output);
            assertEquals("", proofServices(), "the proof's service is gone:\n" + output);
            assertTrue(Files.readString(err).contains("reuse-proof: stopped by a signal: removed service " + service), output);
            assertTrue(Files.readString(out).contains("STOPPED: stopped by SIGTERM during deploy; service " + service + " removed; "
                    + "image removed; the deploy may have brought it back by its digest only: docker pull " + image
                    + " brings it back with its tag"), output);
            assertEquals("", engine.dockerOk("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=" + service),
                    "its container is gone too");
        } finally {
            process.destroyForcibly();
        }
        engine.dockerOk("pull", image); // as the summary says: here again, with its tag
        assertEquals(imageId, imageId());
    }

    @Test
    @Order(6)
    void anImageThatWasNotHereBeforeIsRemovedAgainAtTheEnd() {
        engine.dockerOk("rmi", image);
        assertFalse(engine.docker("image", "inspect", imageId).ok(), "precondition: not here");
        CommandResult run = proof("--json");
        assertEquals(ExitCodes.OK, run.exit(), run.toString());
        JsonNode r = run.json();
        assertEquals("PASS", r.path("verdict").asText());
        assertFalse(r.path("imageWasPresent").asBoolean());
        assertTrue(r.path("steps").get(1).path("detail").asText().startsWith("not here: nothing to remove"), r.toString());
        assertTrue(r.path("coldDeploy").path("pulled").asBoolean() && !r.path("redeploy").path("pulled").asBoolean(), r.toString());
        assertEquals(imageId, r.path("imageId").asText());
        JsonNode cleanup = r.path("steps").get(8);
        assertEquals("cleanup", cleanup.path("name").asText());
        assertTrue(cleanup.path("detail").asText().endsWith("image removed again (it was not here before the proof)"), r.toString());
        assertFalse(engine.docker("image", "inspect", imageId).ok(), "left as found: the image is not here");
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

    /**
     * The proof's image as a docker-archive: a busybox layer (sh and sleep), a 12 MB layer of seeded
     * random bytes, and a config built on 2020-01-01 whose command sleeps and ends on SIGTERM.
     * Deterministic: the same bytes, the same image ID, every run.
     */
    static final class ProofImage {
        static final String CREATED = "2020-01-01T00:00:00Z";
        static final int PAYLOAD = 12 << 20;

        static void write(String ref, OutputStream out) throws IOException {
            byte[] base = tar(t -> {
                Path busybox = Provision.binary("busybox");
                t.directory("bin");
                t.file("bin/busybox", 0755, Files.readAllBytes(busybox));
                t.symlink("bin/sh", "busybox");
                t.symlink("bin/sleep", "busybox");
                t.directory("tmp");
            });
            byte[] payload = tar(t -> {
                byte[] bytes = new byte[PAYLOAD];
                new Random(42).nextBytes(bytes);
                t.file("payload.bin", 0644, bytes);
            });
            String arch = System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64";
            String config = "{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"created\":\"" + CREATED + "\","
                    + "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; sleep 3600 & wait\"]},"
                    + "\"history\":[{\"created\":\"" + CREATED + "\",\"created_by\":\"busybox\"},"
                    + "{\"created\":\"" + CREATED + "\",\"created_by\":\"payload\"}],"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + sha256(base) + "\",\"sha256:" + sha256(payload) + "\"]}}";
            byte[] configBytes = config.getBytes(StandardCharsets.UTF_8);
            String configName = sha256(configBytes) + ".json";
            String manifest = "[{\"Config\":\"" + configName + "\",\"RepoTags\":[\"" + ref + "\"],"
                    + "\"Layers\":[\"base/layer.tar\",\"payload/layer.tar\"]}]";
            out.write(tar(t -> {
                t.file(configName, 0644, configBytes);
                t.directory("base");
                t.file("base/layer.tar", 0644, base);
                t.directory("payload");
                t.file("payload/layer.tar", 0644, payload);
                t.file("manifest.json", 0644, manifest.getBytes(StandardCharsets.UTF_8));
            }));
        }

        interface Entries {
            void write(Tar tar) throws IOException;
        }

        static byte[] tar(Entries entries) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Tar tar = new Tar(bytes);
            entries.write(tar);
            bytes.write(new byte[1024]);
            return bytes.toByteArray();
        }

        static String sha256(byte[] bytes) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A minimal ustar writer: owner 0:0, mtime 0. */
        record Tar(OutputStream out) {
            void directory(String name) throws IOException {
                header(name + "/", 0755, 0, '5', "");
            }

            void symlink(String name, String target) throws IOException {
                header(name, 0777, 0, '2', target);
            }

            void file(String name, int mode, byte[] content) throws IOException {
                header(name, mode, content.length, '0', "");
                out.write(content);
                out.write(new byte[(int) ((512 - content.length % 512) % 512)]);
            }

            private void header(String name, int mode, long size, char type, String link) throws IOException {
                byte[] h = new byte[512];
                put(h, 0, name);
                put(h, 100, String.format("%07o", mode));
                put(h, 108, "0000000");
                put(h, 116, "0000000");
                put(h, 124, String.format("%011o", size));
                put(h, 136, "00000000000");
                h[156] = (byte) type;
                put(h, 157, link);
                put(h, 257, "ustar");
                put(h, 263, "00");
                java.util.Arrays.fill(h, 148, 156, (byte) ' ');
                long sum = 0;
                for (byte b : h) {
                    sum += b & 0xff;
                }
                put(h, 148, String.format("%06o", sum));
                h[154] = 0;
                out.write(h);
            }

            private static void put(byte[] h, int at, String value) {
                byte[] b = value.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(b, 0, h, at, b.length);
            }
        }
    }
}
