package ccci;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A small file the toolkit writes (a state file, a metrics file), replaced whole: written to a
 * temp file in the same directory, flushed to disk, then renamed over the target. Readers, and a
 * writer killed with -9 at any moment, only ever leave the old or the new complete file; a symlink
 * at the target is replaced, never written through.
 */
public final class StateFile {
    private StateFile() {}

    /**
     * Fails before any work when {@code file} could never be replaced: its directory must exist and
     * be writable, and the path must be absent or a regular file (not a device, FIFO or directory).
     */
    public static void checkTarget(String option, Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Cli.BadInput(option + " '" + file + "': directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new Cli.BadInput(option + " '" + file + "': directory " + dir + " is not writable");
        }
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new Cli.BadInput(option + " '" + file + "' is not a regular file: it would be replaced");
        }
    }

    /** Replaces {@code file} with {@code text}, mode 0644. */
    public static void replace(Path file, String text) throws IOException {
        Path target = file.toAbsolutePath();
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                out.write(StandardCharsets.UTF_8.encode(text));
                out.force(true);
            }
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
