//SOURCES Inodes.java
package ccci;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Use of the filesystem holding a path, as df computes "Use%": used / (used + available to
 * unprivileged users), rounded up; the root-reserved blocks count neither as used nor as available,
 * so a full ext4 shows 100% before it is truly full. The same for its inodes (df -i), when the
 * filesystem has a fixed count: a disk is as full as the fuller of the two (usedInodes and
 * availableInodes are -1 when unknown).
 */
public record Disk(Path path, long usedBytes, long availableBytes, long usedInodes, long availableInodes) {

    /** A disk whose inodes are not counted (unknown, or a test's). */
    public Disk(Path path, long usedBytes, long availableBytes) {
        this(path, usedBytes, availableBytes, -1, -1);
    }

    /** The fuller of bytes and inodes, in df's Use%. */
    public int usedPercent() {
        return Math.max(bytesPercent(), inodesPercent().orElse(0));
    }

    public int bytesPercent() {
        return percent(usedBytes, availableBytes);
    }

    public Optional<Integer> inodesPercent() {
        return usedInodes < 0 ? Optional.empty() : Optional.of(percent(usedInodes, availableInodes));
    }

    /** Whether the inodes, not the bytes, make it this full. */
    public boolean inodesDecide() {
        return inodesPercent().map(i -> i > bytesPercent()).orElse(false);
    }

    /** "57% of /var/lib/docker", or "91% of /var/lib/docker (inodes; bytes 51%)" when the inodes decide. */
    public String describe() {
        return usedPercent() + "% of " + path + (inodesDecide() ? " (inodes; bytes " + bytesPercent() + "%)" : "");
    }

    /** The same disk with this many bytes more available (a prediction after removals); inodes unchanged. */
    public Disk freeing(long bytes) {
        long moved = Math.min(bytes, usedBytes);
        return new Disk(path, usedBytes - moved, availableBytes + moved, usedInodes, availableInodes);
    }

    private static int percent(long used, long available) {
        long total = used + available;
        if (total <= 0) {
            return 0;
        }
        // ceil(used*100/total) without overflow for any real disk size
        return (int) ((used * 100 + total - 1) / total);
    }

    /** The one with the highest use; the first of equals, so the data root wins a tie. */
    public static Optional<Disk> fullest(List<Disk> disks) {
        Disk best = null;
        for (Disk d : disks) {
            if (best == null || d.usedPercent() > best.usedPercent()) {
                best = d;
            }
        }
        return Optional.ofNullable(best);
    }

    public static Disk measure(Path path) throws IOException {
        FileStore store = Files.getFileStore(path);
        long used = store.getTotalSpace() - store.getUnallocatedSpace();
        Optional<Inodes> inodes = Inodes.of(path);
        return new Disk(path, used, store.getUsableSpace(), inodes.map(Inodes::used).orElse(-1L),
                inodes.map(Inodes::available).orElse(-1L));
    }
}
