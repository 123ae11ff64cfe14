package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.EngineKind;
import ccci.sandbox.CommandResult;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/** `gates` on an engine that is not in a swarm, whose data root is a small loop-mounted ext4. */
@OnEveryEngine
class GatesStandaloneEngineTest {
    static SandboxEngine engine;

    @BeforeAll
    static void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(64));
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    JsonNode gates() {
        return gates(engine, "--json").json();
    }

    /** gates --json, naming the sandbox's containerd root on that store (it is not the host's /var/lib/containerd). */
    static CommandResult gates(SandboxEngine engine, String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host()));
        engine.containerdRoot().ifPresent(root -> args.addAll(List.of("--containerd-root", root.toString())));
        args.addAll(List.of(more));
        return ScriptRun.of("Gates", args.toArray(String[]::new));
    }

    /**
     * The containerd image store keeps image content and snapshots under containerd's root: here a
     * file system of its own, fuller than the data root's. The disk gate measures both, goes by the
     * fullest and names each, asked from the engine's store or given as two --path.
     */
    @Test
    void onTheContainerdStoreTheFullerFilesystemOfContainerdsRootDecides() throws Exception {
        Assumptions.assumeTrue(EngineKind.current().containerdImageStore(), "the containerd image store only");
        try (SandboxEngine split = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnLoopFs(64)
                .containerdRootOnLoopFs(64))) {
            Path containerdRoot = split.containerdRoot().orElseThrow();
            assertFalse(Files.getFileStore(containerdRoot).equals(Files.getFileStore(split.dataRoot())), "two file systems");
            fill(containerdRoot.resolve("ccci-ballast"), containerdRoot, 90);
            int containerdPercent = dfPercent(containerdRoot);
            int dataPercent = dfPercent(split.dataRoot());
            assertTrue(containerdPercent >= 80 && dataPercent < 80, containerdPercent + "% vs " + dataPercent + "%");

            CommandResult json = gates(split, "--json");
            JsonNode disk = json.json().path("gates").get(0);
            assertTrue(disk.path("holds").asBoolean(), json.toString());
            assertEquals(containerdRoot.toString(), disk.path("path").asText());
            assertEquals(containerdPercent, disk.path("usedPercent").asInt());
            JsonNode paths = disk.path("paths");
            assertEquals(2, paths.size(), disk.toString());
            assertEquals(split.dataRoot().toString(), paths.get(0).path("path").asText());
            assertEquals(dataPercent, paths.get(0).path("usedPercent").asInt());
            assertEquals(containerdRoot.toString(), paths.get(1).path("path").asText());

            String output = gates(split).out();
            System.err.println("[gates sample output, containerd store]\n" + output);
            String text = output.lines().findFirst().orElseThrow();
            assertEquals(String.format("%-12s %-7s ", "disk", "holds") + containerdPercent + "% of " + containerdRoot + " \u2265 80% (the fullest; also "
                    + split.dataRoot() + " " + dataPercent + "%)", text);

            // the daily unit's way: both named with --path, decided from the disk alone
            CommandResult twoPaths = ScriptRun.of("Gates", "--host", split.host(), "--json",
                    "--path", split.dataRoot().toString(), "--path", containerdRoot.toString());
            assertEquals(containerdRoot.toString(), twoPaths.json().path("gates").get(0).path("path").asText(), twoPaths.toString());
            CommandResult onlyData = ScriptRun.of("Gates", "--host", split.host(), "--json", "--path", split.dataRoot().toString());
            assertFalse(onlyData.json().path("gates").get(0).path("holds").asBoolean(), "the data root alone is below 80%");
        }
    }

    @Test
    void aNonSwarmEngineHasNoServicesToConvergeAndSaysWhy() {
        JsonNode convergence = gates().path("gates").get(2);
        assertEquals("convergence", convergence.path("name").asText());
        assertTrue(convergence.path("holds").asBoolean());
        assertEquals("not a swarm node: no services to converge", convergence.path("detail").asText());
    }

    @Test
    void theDataRootsOwnFilesystemDrivesTheDiskGate() throws Exception {
        Path ballast = engine.dataRoot().resolve("ccci-ballast");
        try {
            fill(ballast, engine.dataRoot(), 90);
            JsonNode full = gates().path("gates").get(0);
            assertEquals(engine.dataRoot().toString(), full.path("path").asText());
            assertEquals(dfPercent(engine.dataRoot()), full.path("usedPercent").asInt());
            assertTrue(full.path("holds").asBoolean(), full.toString());

            Files.delete(ballast);
            JsonNode empty = gates().path("gates").get(0);
            assertEquals(dfPercent(engine.dataRoot()), empty.path("usedPercent").asInt());
            assertFalse(empty.path("holds").asBoolean(), empty.toString());
        } finally {
            Files.deleteIfExists(ballast);
        }
    }

    @Test
    void aSocketWithoutPermissionFailsClosedWithOneLine() throws Exception {
        Path jars = Files.createTempDirectory("ccci-cp");
        try {
            Files.setPosixFilePermissions(jars, PosixFilePermissions.fromString("rwxr-xr-x"));
            ProcessResult run = new ProcessExecutor(asNobody(jars, "--host", engine.host()))
                    .readOutput(true).redirectErrorStream(true).timeout(60, TimeUnit.SECONDS).execute();
            String out = run.outputUTF8();
            assertEquals(ExitCodes.CANNOT_EVALUATE, run.getExitValue(), out);
            assertTrue(out.contains("gates: permission denied on the Docker engine socket " + engine.host()), out);
            assertFalse(out.contains("\tat "), "no stack trace:\n" + out);
        } finally {
            new ProcessExecutor("rm", "-rf", jars.toString()).execute();
        }
    }

    /** The gates command as an unprivileged user, from a world-readable copy of this test's classpath. */
    static List<String> asNobody(Path jars, String... args) throws Exception {
        List<String> classpath = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            Path copy = jars.resolve((n++) + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                new ProcessExecutor("cp", "-r", source.toString(), copy.toString()).exitValueNormal().execute();
            } else {
                Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
            }
            classpath.add(copy.toString());
        }
        new ProcessExecutor("chmod", "-R", "a+rX", jars.toString()).exitValueNormal().execute();
        Path jnaTmp = Files.createDirectories(jars.resolve("tmp"));
        new ProcessExecutor("chmod", "1777", jnaTmp.toString()).exitValueNormal().execute();
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.tmpdir=" + jnaTmp, "-Djava.io.tmpdir=" + jnaTmp,
                "-cp", String.join(File.pathSeparator, classpath), "Gates"));
        command.addAll(List.of(args));
        return command;
    }

    static void fill(Path file, Path fs, int percent) throws Exception {
        var store = Files.getFileStore(fs);
        long target = store.getTotalSpace() * percent / 100 - (store.getTotalSpace() - store.getUnallocatedSpace());
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] block = new byte[1 << 16];
            for (long written = 0; written < target; written += block.length) {
                out.write(block);
            }
        }
    }

    static int dfPercent(Path path) throws Exception {
        String out = new ProcessExecutor("df", "--output=pcent", path.toString())
                .readOutput(true).exitValueNormal().execute().outputUTF8();
        return Integer.parseInt(out.strip().lines().reduce((a, b) -> b).orElseThrow().replace("%", "").strip());
    }
}
