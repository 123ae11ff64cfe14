package ccci;

import ccci.sandbox.CommandResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.fake.FakeHost;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files prune writes as root, against a hostile or broken file system: the metrics file (never
 * replace or follow anything but a regular file; an honest exit 24 when it cannot be written after a
 * real prune) and the lock (never through a link, never a non-regular file or another user's file;
 * a full file system does not stop a prune). No engine: the command refuses before it would ask one,
 * and a run that must succeed runs on the fake host.
 */
class PruneFilesTest {
    /** No engine: a refusal comes before one would be asked (reaching for it would be exit 11, not 12). */
    static final String NO_ENGINE = "unix:///nonexistent/docker.sock";
    @TempDir static Path tmp;

    static CommandResult prune(String... more) {
        List<String> args = new ArrayList<>(List.of("--host", NO_ENGINE, "--threshold", "1", "--until", "1s"));
        args.addAll(Arrays.asList(more));
        return ScriptRun.of("Prune", args.toArray(String[]::new));
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

    static void assertRefusedBeforeAnything(CommandResult run, String says) {
        assertEquals(ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().contains(says), run.toString());
    }

    /** A fake host at 81% whose old untagged image, once removed, brings it to 79%: the run succeeds. */
    static FakeHost prunable() {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        host.state().disk(10_000_000_000L, 7_850_000_000L);
        host.state().image().created(Instant.parse("2024-01-02T03:04:05Z")).layer("old", 200_000_000L);
        return host;
    }

    static PruneRun.Report pruneOnTheFake(FakeHost host) {
        return PruneRun.run(() -> host, host, PruneRun.Settings.of(GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN,
                null), Until.parse("24h")), false, new PruneRun.Listener() {}, Clock.fixed(host.state().now(), ZoneOffset.UTC));
    }

    // ---------------------------------------------------------------- --metrics-file

    @Test
    void metricsOnADeviceAFifoADirectoryOrALinkAreRefusedBeforeAnything() throws Exception {
        Path lock = tmp.resolve("metrics-refused.lock");

        CommandResult devNull = prune("--lock-file", lock.toString(), "--metrics-file", "/dev/null");
        assertRefusedBeforeAnything(devNull, "'/dev/null' is a FIFO, socket or device");
        assertFalse(Files.isRegularFile(Path.of("/dev/null")), "/dev/null is still a device");

        Path fifo = tmp.resolve("metrics.fifo");
        Cmd.run("mkfifo", fifo.toString()).requireOk();
        CommandResult fifoRun = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> prune("--lock-file", lock.toString(), "--metrics-file", fifo.toString()));
        assertRefusedBeforeAnything(fifoRun, "is a FIFO, socket or device");

        Path dir = Files.createDirectories(tmp.resolve("metrics-dir"));
        assertRefusedBeforeAnything(prune("--lock-file", lock.toString(), "--metrics-file", dir.toString()), "is a directory");
        assertRefusedBeforeAnything(prune("--lock-file", lock.toString(), "--metrics-file", ""), "--metrics-file is empty");

        Path secret = tmp.resolve("root-only-secret");
        Files.writeString(secret, "token=s3cr3t\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path link = tmp.resolve("metrics-link.prom");
        Files.createSymbolicLink(link, secret);
        assertRefusedBeforeAnything(prune("--lock-file", lock.toString(), "--metrics-file", link.toString()),
                "is a symbolic link");
        assertTrue(Files.isSymbolicLink(link), "the link is left as it was");
        assertEquals("token=s3cr3t\n", Files.readString(secret));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    }

    /**
     * Exit 24 follows a run that succeeded: here on the fake host, whose prune brings its disk below
     * the threshold, with the metrics file on a real file system that is full.
     */
    @Test
    void aFullFileSystemAfterARealPruneIsExit24AndTheSummarySaysSo() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(1)) {
            Path metrics = disk.path().resolve("ci_docker_prune.prom");
            fill(disk);
            PruneRun.Report run = PruneMetrics.record(metrics, pruneOnTheFake(prunable()), Instant.now());
            String text = PruneFormat.text(run);
            assertEquals(ExitCodes.METRICS_NOT_WRITTEN, run.exitCode(), text);
            assertEquals(PruneRun.Outcome.PRUNED, run.outcome(), "the prune itself ran");
            String summary = PruneFormat.summary(run);
            assertTrue(summary.startsWith("summary outcome=pruned exit=24 "), summary);
            assertTrue(summary.contains(" metrics=failed"), summary);
            assertTrue(text.contains("metrics not written: --metrics-file '" + metrics + "' could not be written: "), text);
            assertFalse(Files.exists(metrics), "no half-written file");
            try (var left = Files.list(disk.path())) {
                assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left behind");
            }
        }
    }

    @Test
    void aWrittenMetricsFileIsANewRegularFile0644AndTheSummarySaysWritten() throws Exception {
        Path metrics = tmp.resolve("written.prom");
        PruneRun.Report run = PruneMetrics.record(metrics, pruneOnTheFake(prunable()), Instant.now());
        assertEquals(ExitCodes.OK, run.exitCode(), PruneFormat.text(run));
        assertTrue(PruneFormat.summary(run).contains(" metrics=written"));
        assertTrue(Files.isRegularFile(metrics, LinkOption.NOFOLLOW_LINKS));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(metrics)));
    }

    @Test
    void aMetricsFileInAMissingDirectoryIsBadInputBeforeAnything() {
        CommandResult run = prune("--metrics-file", tmp.resolve("missing/ci.prom").toString(), "--lock-file", tmp.resolve("m.lock").toString());
        assertRefusedBeforeAnything(run, "missing");
    }

    // ---------------------------------------------------------------- the lock

    @Test
    void aLockThatIsNotARegularFileOfOursIsBadInput() throws Exception {
        assertRefusedBeforeAnything(prune("--lock-file", "/dev/null"), "'/dev/null' is a FIFO, socket or device");

        Path fifo = tmp.resolve("lock.fifo");
        Cmd.run("mkfifo", fifo.toString()).requireOk();
        assertRefusedBeforeAnything(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> prune("--lock-file", fifo.toString())),
                "is a FIFO, socket or device");

        Path target = tmp.resolve("lock-target");
        Files.writeString(target, "precious\n");
        Path link = tmp.resolve("planted.lock");
        Files.createSymbolicLink(link, target);
        assertRefusedBeforeAnything(prune("--lock-file", link.toString()), "is a symbolic link");
        assertEquals("precious\n", Files.readString(target), "nothing written through the link");

        Path theirs = tmp.resolve("theirs.lock");
        Files.writeString(theirs, "");
        Cmd.run("chown", "nobody", theirs.toString()).requireOk();
        assertRefusedBeforeAnything(prune("--lock-file", theirs.toString()), "not to us");
    }

    @Test
    void aFullFileSystemDoesNotStopAPruneWhenTheLockFileExists() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(1)) {
            Path lock = disk.path().resolve("ci-docker-prune.lock");
            Files.writeString(lock, "12345678\n");
            fill(disk);
            PruneLock.acquire(lock).close();
            CommandResult run = prune("--lock-file", lock.toString());
            assertEquals(ExitCodes.CANNOT_EVALUATE, run.exit(), "past the lock, on to the (unreachable) engine: " + run);
            assertTrue(run.err().startsWith("prune: cannot reach the Docker engine"), run.toString());
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
