package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The state file and the small-file writes under it: round trip, corrupt input, links, mode, no leftovers. */
class PruneStateTest {
    static final PruneState STATE = new PruneState(Optional.of(Instant.parse("2026-06-01T00:00:03.250Z")), Optional.empty(),
            Optional.of(Instant.parse("2026-06-02T00:00:01Z")), Optional.of("blocked-too-long"));
    @TempDir Path dir;

    @Test
    void whatIsSavedIsReadBack() throws Exception {
        Path file = dir.resolve("state.json");
        STATE.save(file);
        assertEquals(new PruneState.Loaded.Found(STATE), PruneState.load(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left beside it");
        }
    }

    @Test
    void theFileIsPlainJsonThatJacksonReadsToo() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(STATE.render());
        assertEquals(1, json.path("version").asInt());
        assertEquals("2026-06-01T00:00:03.250Z", json.path("gatesLastAllowed").asText());
        assertTrue(json.path("blockedSince").isNull());
        assertEquals("blocked-too-long", json.path("lastOutcome").asText());
    }

    @Test
    void aMissingFileIsNoStateYet() {
        assertInstanceOf(PruneState.Loaded.Missing.class, PruneState.load(dir.resolve("state.json")));
        assertEquals(PruneState.empty(), PruneState.load(dir.resolve("state.json")).state());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "garbage", "{", "[]", "{}", "{\"version\": 2}", "{\"version\": 1, \"blockedSince\": \"yesterday\"}",
        "{\"version\": 1 \"lastRun\": null}", "{\"version\": 1, \"lastOutcome\": \"a\\\"b\"}", "\u0000\u0000\u0000"})
    void aCorruptFileIsUnusableWithTheReason(String text) throws Exception {
        Path file = Files.writeString(dir.resolve("state.json"), text);
        PruneState.Loaded loaded = PruneState.load(file);
        PruneState.Loaded.Unusable unusable = assertInstanceOf(PruneState.Loaded.Unusable.class, loaded, text);
        assertTrue(unusable.reason().startsWith(file + " is corrupt ("), unusable.reason());
        assertEquals(1, unusable.reason().lines().count());
        assertEquals(PruneState.empty(), loaded.state());
    }

    @Test
    void unknownFieldsAreIgnoredForwardCompatibly() {
        assertEquals(STATE, PruneState.parse(STATE.render().replace("{", "{\"later\": \"x\",")));
    }

    @Test
    void aSymbolicLinkIsNeitherReadNorReplaced() throws Exception {
        Path elsewhere = dir.resolve("elsewhere.json");
        STATE.save(elsewhere);
        String before = Files.readString(elsewhere);
        Path link = Files.createSymbolicLink(dir.resolve("state.json"), elsewhere);

        PruneState.Loaded.Unusable read = assertInstanceOf(PruneState.Loaded.Unusable.class, PruneState.load(link));
        assertTrue(read.reason().contains("symbolic link"), read.reason());
        SmallFile.Unusable write = assertThrows(SmallFile.Unusable.class, () -> PruneState.empty().save(link));
        assertTrue(write.getMessage().contains("symbolic link"), write.getMessage());
        assertTrue(Files.isSymbolicLink(link), "the link is left as it is");
        assertEquals(before, Files.readString(elsewhere), "nothing written through it");
    }

    @Test
    void aDirectoryThatDoesNotExistIsOneLine() {
        Path file = dir.resolve("missing/state.json");
        SmallFile.Unusable e = assertThrows(SmallFile.Unusable.class, () -> STATE.save(file));
        assertEquals("cannot be written: its directory " + dir.resolve("missing") + " does not exist", e.getMessage());
    }

    @Test
    void aFifoOrADirectoryIsRefusedNotReplaced() throws Exception {
        Path fifo = dir.resolve("state.fifo");
        Cmd.run("mkfifo", fifo.toString());
        SmallFile.Unusable e = assertThrows(SmallFile.Unusable.class, () -> STATE.save(fifo));
        assertEquals("is a FIFO, socket or device: not replaced", e.getMessage());
        PruneState.Loaded.Unusable read = assertInstanceOf(PruneState.Loaded.Unusable.class, PruneState.load(fifo));
        assertEquals(fifo + " is a FIFO, socket or device: not read", read.reason(), "never opened: a FIFO would block");
        Path sub = Files.createDirectories(dir.resolve("state.d"));
        assertEquals("is a directory: not replaced", assertThrows(SmallFile.Unusable.class, () -> STATE.save(sub)).getMessage());
    }

    @Test
    void aFileTooLargeIsNotRead() throws Exception {
        Path file = Files.writeString(dir.resolve("state.json"), " ".repeat(5000) + STATE.render());
        PruneState.Loaded.Unusable unusable = assertInstanceOf(PruneState.Loaded.Unusable.class, PruneState.load(file));
        assertTrue(unusable.reason().contains("larger than"), unusable.reason());
    }

    @Test
    void aWriteReplacesTheWholeFileEvenAShorterOne() throws Exception {
        Path file = dir.resolve("state.json");
        Files.writeString(file, "x".repeat(3000));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        STATE.save(file);
        assertEquals(STATE.render(), Files.readString(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), "0644 whatever was there");
    }
}
