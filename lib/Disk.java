package ccci;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Space use of the filesystem holding a path, computed the way df computes "Use%":
 * used / (used + available to unprivileged users), rounded up. The root-reserved blocks count
 * neither as used nor as available, so a full ext4 shows 100% before it is truly full.
 */
public record Disk(Path path, long usedBytes, long availableBytes) {

    public int usedPercent() {
        long total = usedBytes + availableBytes;
        if (total <= 0) {
            return 0;
        }
        // ceil(used*100/total) without overflow for any real disk size
        return (int) ((usedBytes * 100 + total - 1) / total);
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
        return new Disk(path, used, store.getUsableSpace());
    }
}
