package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Issue 19 item 7: a data root out of inodes (about a thousand created containers on a small
 * filesystem) fills like a data root out of bytes: `docker run` fails with "no space left on
 * device". The disk gate measures inodes as well as bytes, against the same threshold, and says
 * which decided. Measured for real on a tmpfs with few inodes (df -i agrees).
 */
class DiskInodesTest {
    @Test
    void inodesFillTheDiskAsBytesDoAndTheGateSaysWhich() throws Exception {
        try (SmallDisk disk = SmallDisk.mountWithInodes(64, 200).fillInodesTo(90, 200)) {
            Disk measured = Disk.measure(disk.path());
            assertEquals(disk.dfInodePercent(), measured.inodesPercent().orElseThrow(), "IUse% as df -i shows it");
            assertTrue(measured.bytesPercent() < 10, "the bytes are nearly free: " + measured);
            assertTrue(measured.inodesDecide());
            assertEquals(measured.inodesPercent().orElseThrow(), measured.usedPercent());

            CommandResult gates = ScriptRun.of("Gates", "--path", disk.path().toString(), "--threshold", "80", "--json",
                    "-H", "unix:///nonexistent/engine.sock", "--last-use", disk.path().resolve("none/x.json").toString());
            var gate = ScriptRun.gate(gates, "disk");
            assertEquals("holds", gate.path("state").asText(), gates.out());
            assertEquals("inodes", gate.path("decidedBy").asText());
            assertTrue(gate.path("detail").asText().matches("\\d+% of " + disk.path() + " \\(inodes; bytes \\d+%\\) \u2265 80%"),
                    gate.path("detail").asText());

            CommandResult prune = ScriptRun.of("Prune", "--path", disk.path().toString(), "--threshold", "95",
                    "--lock-file", disk.path().resolve("p.lock").toString(), "--state-file", disk.path().resolve("s.json").toString());
            assertTrue(prune.out().contains("(inodes; bytes "), "the no-op says what is full: " + prune.out());
        }
    }

    @Test
    void aFilesystemWithoutAFixedInodeCountIsMeasuredByItsBytes() throws Exception {
        Disk none = new Disk(Path.of("/x"), 90, 10);
        assertEquals(90, none.usedPercent());
        assertTrue(none.inodesPercent().isEmpty());
        assertEquals("90% of /x", none.describe());
    }
}
