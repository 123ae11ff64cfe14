package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.SandboxEngine;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files prune writes as root, against a hostile or broken file system: the metrics file (never
 * replace or follow anything but a regular file; an honest exit 24 when it cannot be written after a
 * real prune) and the lock (never through a link, never a non-regular file or another user's file;
 * a full file system does not stop a prune).
 */
class PruneFilesTest {
    static SandboxEngine engine;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
    }

    @AfterAll
    static void stop() {
        if (engine != null) {
            engine.close();
        }
    }

    static CommandResult prune(String... more) {
        List<String> args = new ArrayList<>(List.of("--host", engine.host(), "--threshold", "1", "--until", "1s"));
        args.addAll(Arrays.asList(more));
        return ScriptRun.of("Prune", args.toArray(String[]::new));
    }

    static String oldDanglingImage(long seed) {
        return engine.loadImage(ImageSpec.dangling(Instant.parse("2024-01-02T03:04:05Z"), 4096, seed));
    }

    /** Fills the small disk until a write of one more page fails (no space left). */
    static void fill(SmallDisk disk) throws Exception {
        disk.fillTo(90);
        for (int i = 0; ; i++) {
            try {
                Files.write(disk.path().resolve("more-" + i), new byte[4096]);
            } catch (java.io.IOException full) {
                return;
            }
        }
    }

    static boolean imageThere(String id) {
        return engine.docker("image", "inspect", id).ok();
    }

    static void assertBadInputNothingRemoved(CommandResult run, String id, String says) {
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().contains(says), run.toString());
        assertTrue(imageThere(id), "refused before pruning: the image is still there");
    }

    // ---------------------------------------------------------------- --metrics-file

    @Test
    void metricsOnADeviceAFifoADirectoryOrALinkAreRefusedBeforeAnything() throws Exception {
        String image = oldDanglingImage(9101);
        Path lock = tmp.resolve("metrics-refused.lock");

        CommandResult devNull = prune("--lock-file", lock.toString(), "--metrics-file", "/dev/null");
        assertBadInputNothingRemoved(devNull, image, "'/dev/null' is a FIFO, socket or device");
        assertFalse(Files.isRegularFile(Path.of("/dev/null")), "/dev/null is still a device");

        Path fifo = tmp.resolve("metrics.fifo");
        Cmd.run("mkfifo", fifo.toString()).requireOk();
        CommandResult fifoRun = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> prune("--lock-file", lock.toString(), "--metrics-file", fifo.toString()));
        assertBadInputNothingRemoved(fifoRun, image, "is a FIFO, socket or device");

        Path dir = Files.createDirectories(tmp.resolve("metrics-dir"));
        assertBadInputNothingRemoved(prune("--lock-file", lock.toString(), "--metrics-file", dir.toString()), image, "is a directory");
        assertBadInputNothingRemoved(prune("--lock-file", lock.toString(), "--metrics-file", ""), image, "--metrics-file is empty");

        Path secret = tmp.resolve("root-only-secret");
        Files.writeString(secret, "token=s3cr3t\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path link = tmp.resolve("metrics-link.prom");
        Files.createSymbolicLink(link, secret);
        assertBadInputNothingRemoved(prune("--lock-file", lock.toString(), "--metrics-file", link.toString()), image,
                "is a symbolic link");
        assertTrue(Files.isSymbolicLink(link), "the link is left as it was");
        assertEquals("token=s3cr3t\n", Files.readString(secret));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    }

    /**
     * Exit 24 follows a run that succeeded: here a data root on a small tmpfs, just at the threshold,
     * that the removal of an old 12 MB dangling image brings below it.
     */
    @Test
    void aFullFileSystemAfterARealPruneIsExit24AndTheSummarySaysSo() throws Exception {
        try (SandboxEngine small = SandboxEngine.start(SandboxEngine.options().swarm(false).dataRootOnTmpfs(96));
             SmallDisk disk = SmallDisk.mount(1)) {
            String image = small.loadImage(ImageSpec.dangling(Instant.parse("2024-01-02T03:04:05Z"), 12L << 20, 9201));
            Thread.sleep(2100); // until=1s cuts off at a whole second (the containerd store ages by arrival)
            int used = GatesStandaloneEngineTest.dfPercent(small.dataRoot());
            Path metrics = disk.path().resolve("ci_docker_prune.prom");
            fill(disk);
            CommandResult run = ScriptRun.of("Prune", "--host", small.host(), "--threshold", String.valueOf(used), "--until", "1s",
                    "--lock-file", tmp.resolve("full.lock").toString(), "--metrics-file", metrics.toString());
            assertEquals(ExitCodes.METRICS_NOT_WRITTEN, run.exit(), run.toString());
            assertFalse(small.docker("image", "inspect", image).ok(), "the prune itself ran: " + run);
            String summary = run.out().lines().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow();
            assertTrue(summary.startsWith("summary outcome=pruned exit=24 "), summary);
            assertTrue(summary.contains(" metrics=failed"), summary);
            assertTrue(run.out().contains("metrics not written: --metrics-file '" + metrics + "' could not be written: "), run.toString());
            assertEquals(1, run.err().lines().count(), run.toString());
            assertTrue(run.err().startsWith("prune: --metrics-file '" + metrics + "' could not be written: "), run.toString());
            assertFalse(Files.exists(metrics), "no half-written file");
            try (var left = Files.list(disk.path())) {
                assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left behind");
            }
        }
    }

    @Test
    void aWrittenMetricsFileIsANewRegularFile0644AndTheSummarySaysWritten() throws Exception {
        Path metrics = tmp.resolve("written.prom");
        CommandResult run = prune("--lock-file", tmp.resolve("written.lock").toString(), "--metrics-file", metrics.toString(), "--json");
        // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
        assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
        assertTrue(run.json().path("metrics").path("written").asBoolean(), run.toString());
        assertTrue(Files.isRegularFile(metrics, LinkOption.NOFOLLOW_LINKS));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(metrics)));
    }

    // ---------------------------------------------------------------- the lock

    @Test
    void aLockThatIsNotARegularFileOfOursIsBadInput() throws Exception {
        String image = oldDanglingImage(9301);
        assertBadInputNothingRemoved(prune("--lock-file", "/dev/null"), image, "'/dev/null' is a FIFO, socket or device");

        Path fifo = tmp.resolve("lock.fifo");
        Cmd.run("mkfifo", fifo.toString()).requireOk();
        assertBadInputNothingRemoved(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> prune("--lock-file", fifo.toString())),
                image, "is a FIFO, socket or device");

        Path target = tmp.resolve("lock-target");
        Files.writeString(target, "precious\n");
        Path link = tmp.resolve("planted.lock");
        Files.createSymbolicLink(link, target);
        assertBadInputNothingRemoved(prune("--lock-file", link.toString()), image, "is a symbolic link");
        assertEquals("precious\n", Files.readString(target), "nothing written through the link");

        Path theirs = tmp.resolve("theirs.lock");
        Files.writeString(theirs, "");
        Cmd.run("chown", "nobody", theirs.toString()).requireOk();
        assertBadInputNothingRemoved(prune("--lock-file", theirs.toString()), image, "not to us");
    }

    @Test
    void aFullFileSystemDoesNotStopAPruneWhenTheLockFileExists() throws Exception {
        String image = oldDanglingImage(9401);
        try (SmallDisk disk = SmallDisk.mount(1)) {
            Path lock = disk.path().resolve("ci-docker-prune.lock");
            Files.writeString(lock, "12345678\n");
            fill(disk);
            CommandResult run = prune("--lock-file", lock.toString());
            // --threshold 1 makes the disk gate hold; no prune brings a real disk below 1%: insufficient (exit 17)
            assertEquals(ExitCodes.INSUFFICIENT, run.exit(), run.toString());
            assertTrue(run.out().contains("summary outcome=insufficient exit=17 phases=containers,images,build-cache "), run.toString());
            assertFalse(imageThere(image), "pruned");
        }
    }

    @Test
    void theDefaultLockIsNeverInADirectoryOthersCanWrite() throws Exception {
        Path notRun = tmp.resolve("no-run-here");
        Path open = Files.createDirectories(tmp.resolve("xdg-open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path temp = Files.createDirectories(tmp.resolve("shared-tmp"));
        Path chosen = PruneLock.defaultPath(notRun, open.toString(), temp);
        assertEquals(temp.resolve("ci-docker-prune-" + PruneLock.uid()).resolve(PruneLock.NAME), chosen,
                "not the world-writable XDG_RUNTIME_DIR: a private dir of ours in the temp dir");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(chosen.getParent())));

        Path xdg = Files.createDirectories(tmp.resolve("xdg-private"));
        Files.setPosixFilePermissions(xdg, PosixFilePermissions.fromString("rwx------"));
        assertEquals(xdg.resolve(PruneLock.NAME), PruneLock.defaultPath(notRun, xdg.toString(), temp));

        Path planted = Files.createDirectories(tmp.resolve("planted-tmp"));
        Path elsewhere = Files.createDirectories(tmp.resolve("attacker-dir"));
        Files.createSymbolicLink(planted.resolve("ci-docker-prune-" + PruneLock.uid()), elsewhere);
        Cli.BadInput refused = assertThrows(Cli.BadInput.class, () -> PruneLock.defaultPath(notRun, null, planted));
        assertTrue(refused.getMessage().contains("is a symbolic link"), refused.getMessage());

        CommandResult help = ScriptRun.of("Prune", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("$XDG_RUNTIME_DIR/ci-docker-prune.lock"), help.out());
    }
}
