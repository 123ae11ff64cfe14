package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The last-use record survives kill -9 of its writer: a JVM of its own writes it as watch does
 * (LastUse.save, merging, replacing the file whole) as fast as it can and is killed with SIGKILL
 * mid-stream; the file is then always a complete record holding everything of the previous writes,
 * and the next writer carries on. This was EvictionEngineTest's kill -9 of watch; nothing in it
 * needs an engine: what is at stake is the file, so it runs once, without one.
 */
class LastUseKillTest {
    @TempDir Path dir;

    /** Writes one record after another: image i used at second i, for i = 1, 2, ...; prints "writing" once the first is on disk. */
    static final class Writer {
        public static void main(String[] args) throws Exception {
            Path file = Path.of(args[0]);
            int start = Integer.parseInt(args[1]);
            for (int i = start; ; i++) {
                LastUse.save(file, LastUse.empty().use(image(i), List.of("app:" + i), Instant.ofEpochSecond(i)), Optional.empty());
                if (i == start) {
                    System.out.println("writing");
                    System.out.flush();
                }
            }
        }
    }

    static String image(int i) {
        return String.format("sha256:%064x", i);
    }

    @Test
    void aWriterKilledWithSigkillLeavesTheLastCompleteRecordAndTheNextCarriesOn() throws Exception {
        Path file = dir.resolve("last-use.json");
        int next = 1;
        for (int round = 0; round < 2; round++) {
            Process writer = JavaProcess.java(List.of(Writer.class.getName(), file.toString(), String.valueOf(next)),
                    ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.INHERIT);
            JavaProcess.awaitLine(writer, "writing");
            Thread.sleep(ThreadLocalRandom.current().nextInt(20, 200));
            writer.destroyForcibly(); // SIGKILL
            assertTrue(writer.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, writer.exitValue());

            LastUse.Loaded loaded = LastUse.load(file);
            assertEquals(Optional.empty(), loaded.problem(), "a complete record after kill -9: " + Files.readString(file));
            LastUse record = loaded.record();
            int last = 0;
            while (record.ofImage(image(last + 1)).isPresent()) {
                last++;
            }
            assertTrue(last >= next, "this round's first write is there (" + last + " < " + next + ")");
            for (int i = 1; i <= last; i++) {
                assertEquals(Optional.of(Instant.ofEpochSecond(i)), record.ofImage(image(i)), "image " + i + " of " + last);
                assertEquals(Optional.of(Instant.ofEpochSecond(i)), record.ofRef("app:" + i));
            }
            assertEquals(2 * last, record.size(), "nothing but complete writes");
            next = last + 1;
        }
    }
}
