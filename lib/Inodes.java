package ccci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A filesystem's inode counts, as df -i shows them: Java's FileStore tells bytes only. A data root
 * can run out of inodes (a thousand created containers on a small filesystem) while df shows half
 * its bytes free. Read with coreutils' stat(1) (statfs), bounded in time: a native binding would
 * cost the daily no-op more than the rest of its run.
 */
record Inodes(long used, long available) {
    private static final long TIMEOUT_MS = 2000;

    /** The counts, or empty where the filesystem has no fixed count (btrfs...) or stat cannot tell. */
    static Optional<Inodes> of(Path path) {
        Process stat;
        try {
            stat = new ProcessBuilder("stat", "--file-system", "--format=%c %d", "--", path.toString())
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return Optional.empty();
        }
        try (InputStream out = stat.getInputStream()) {
            if (!stat.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                stat.destroyForcibly();
                return Optional.empty();
            }
            return parse(new String(out.readNBytes(256), StandardCharsets.US_ASCII), stat.exitValue());
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stat.destroyForcibly();
            return Optional.empty();
        }
    }

    /** stat's "TOTAL FREE" line; a total of 0 means no fixed count. */
    static Optional<Inodes> parse(String line, int exit) {
        String[] parts = line.strip().split(" ");
        if (exit != 0 || parts.length != 2 || !parts[0].matches("\\d{1,19}") || !parts[1].matches("\\d{1,19}")) {
            return Optional.empty();
        }
        long total = Long.parseLong(parts[0]);
        long free = Long.parseLong(parts[1]);
        return total <= 0 || free > total ? Optional.empty() : Optional.of(new Inodes(total - free, free));
    }
}
