package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The last-use record and its state file: merged, bounded, replaced whole, never trusted blindly. */
class LastUseTest {
    static final Instant T1 = Instant.parse("2026-06-01T10:00:00Z");
    static final Instant T2 = Instant.parse("2026-06-02T10:00:00Z");

    @TempDir Path dir;

    @Test
    void laterUsesWinAndOnlyTaggedReferencesAreRecorded() {
        LastUse r = LastUse.empty()
                .use("sha256:a", List.of("app:1", "sha256:a", "app@sha256:" + "1".repeat(64)), T2)
                .use("sha256:a", List.of("app:1"), T1);
        assertEquals(Optional.of(T2), r.ofImage("sha256:a"));
        assertEquals(Optional.of(T2), r.ofRef("app:1"));
        assertEquals(2, r.size(), "an image ID or a bare digest is not a tag");
        assertTrue(LastUse.isTag("localhost:5000/ci/app:7"));
        assertFalse(LastUse.isTag("localhost:5000/ci/app"));
    }

    @Test
    void savingMergesWithWhatIsOnDiskAndDropsWhatTheStoreNoLongerHolds() throws Exception {
        Path file = dir.resolve("last-use.json");
        LastUse.save(file, LastUse.empty().use("sha256:a", List.of("a:1"), T1).use("sha256:b", List.of("b:1"), T2), Optional.empty());
        LastUse.save(file, LastUse.empty().use("sha256:a", List.of("a:1"), T2), Optional.empty());
        LastUse.Loaded loaded = LastUse.load(file);
        assertTrue(loaded.problem().isEmpty());
        assertEquals(Optional.of(T2), loaded.record().ofImage("sha256:a"));
        assertEquals(Optional.of(T2), loaded.record().ofImage("sha256:b"), "a second writer loses nothing the first wrote");

        LastUse.save(file, LastUse.empty(), Optional.of(new LastUse.Presence(Set.of("sha256:a"), Set.of("a:1"))));
        LastUse after = LastUse.load(file).record();
        assertEquals(Optional.empty(), after.ofImage("sha256:b"));
        assertEquals(Optional.empty(), after.ofRef("b:1"));
        assertEquals(Optional.of(T2), after.ofRef("a:1"));
        try (var files = Files.list(dir)) {
            assertEquals(Set.of("last-use.json", "last-use.json.lock"),
                    Set.copyOf(files.map(p -> p.getFileName().toString()).toList()), "no temp file left behind");
        }
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void aDamagedOrForeignFileReadsAsEmptyWithAReasonAndIsNeverFollowed() throws Exception {
        Path file = dir.resolve("last-use.json");
        Files.writeString(file, "{\"images\": {\"sha256:a\": \"not a time\", \"sha256:b\": \"2026-06-01T10:00:00Z\"}}");
        assertEquals(Optional.of(T1), LastUse.load(file).record().ofImage("sha256:b"), "one bad entry spoils nothing else");

        Files.writeString(file, "{\"images\": {\"sha256:a\": ");
        LastUse.Loaded truncated = LastUse.load(file);
        assertEquals(0, truncated.record().size());
        assertTrue(truncated.problem().orElseThrow().startsWith("last-use record " + file + " cannot be read"));

        Path secret = dir.resolve("secret");
        Files.writeString(secret, "{\"images\": {\"sha256:s\": \"2026-06-01T10:00:00Z\"}}");
        Files.delete(file);
        Files.createSymbolicLink(file, secret);
        LastUse.Loaded link = LastUse.load(file);
        assertEquals(0, link.record().size());
        assertTrue(link.problem().orElseThrow().contains("not a regular file"), link.problem().toString());

        SmallFile.Unusable refused = org.junit.jupiter.api.Assertions.assertThrows(SmallFile.Unusable.class,
                () -> LastUse.save(file, LastUse.empty().use("sha256:a", List.of(), T1), Optional.empty()));
        assertEquals("is a symbolic link: not replaced", refused.getMessage());
        assertTrue(Files.isSymbolicLink(file), "the link is refused, neither replaced nor written through");
        assertTrue(Files.readString(secret).contains("sha256:s") && !Files.readString(secret).contains("sha256:a"),
                "its target is untouched");
    }

    @Test
    void refreshNeverThrowsAndWritesNothingWhereTheDirectoryIsMissing() {
        Path missing = dir.resolve("nowhere/last-use.json");
        assertEquals(Optional.empty(), LastUse.refresh(missing, List.of(new LastUse.InUse("sha256:a", "a:1")), T1, Optional.empty()));
        assertFalse(Files.exists(missing.getParent()));
        Path file = dir.resolve("last-use.json");
        assertEquals(Optional.empty(), LastUse.refresh(file, List.of(new LastUse.InUse("sha256:a", "a:1")), T1, Optional.empty()));
        assertEquals(Optional.of(T1), LastUse.load(file).record().ofImage("sha256:a"));
    }

    @Test
    void theRecordIsBounded() {
        LastUse r = LastUse.empty();
        for (int i = 0; i < LastUse.MAX_ENTRIES + 50; i++) {
            r.use("sha256:" + i, List.of(), T1.plusSeconds(i));
        }
        LastUse back = LastUse.fromJson(readBack(r));
        assertEquals(LastUse.MAX_ENTRIES, back.size());
        assertEquals(Optional.empty(), back.ofImage("sha256:0"), "the least recently used records go first");
        assertTrue(back.ofImage("sha256:" + (LastUse.MAX_ENTRIES + 49)).isPresent());
    }

    /** Issue 19 item 4: a FIFO planted at the record's lock must not hang gates, prune, cache or watch. */
    @Test
    void aFifoAtTheLockPathIsRefusedWithoutBlocking() throws Exception {
        Path file = dir.resolve("last-use.json");
        Path lock = dir.resolve("last-use.json.lock");
        Process mkfifo = new ProcessBuilder("mkfifo", lock.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        java.util.concurrent.Future<Optional<String>> refreshed = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }).submit(() -> LastUse.refresh(file, List.of(new LastUse.InUse("sha256:a", "a:1")), T1, Optional.empty()));
        Optional<String> problem = refreshed.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(problem.orElseThrow().contains("its lock " + lock + " is a FIFO, socket or device"), problem.toString());
        assertFalse(Files.exists(file), "nothing written through a FIFO");
    }

    static com.fasterxml.jackson.databind.JsonNode readBack(LastUse r) {
        try {
            return Json.mapper().readTree(r.toJson());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
