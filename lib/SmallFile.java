//SOURCES Cli.java Text.java
package ccci;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The toolkit's small files on disk (the metrics files, the state file, the last-use record): written whole or not at
 * all, never through a link. A write goes to a new file in the same directory (created exclusively
 * with an unguessable name, so nothing already there is followed or reused), is synced and made mode
 * 0644 whatever the umask, then renamed over the target, which is checked again right before the
 * rename: a reader sees the old file or the new one, never half of one, even after kill -9 or a
 * crash. A target that is a symbolic link, FIFO, device or directory is refused, never replaced.
 */
public final class SmallFile {
    private SmallFile() {}

    /** Why a small file could not be read or written: a clause to follow the file's name, e.g. "is a symbolic link: not replaced". */
    public static final class Unusable extends IOException {
        public Unusable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Set<PosixFilePermission> MODE_0644 = PosixFilePermissions.fromString("rw-r--r--");

    /**
     * Fails with one line (bad input) before any work when {@code file}, given as {@code option},
     * could never be replaced: the path must be absent or a regular file (never followed: not a
     * link, FIFO, device or directory), in an existing directory this process may write.
     */
    public static void checkTarget(String option, Path file) {
        if (file.toString().isEmpty()) {
            throw new Cli.BadInput(option + " is empty: give a file path, or leave the option out");
        }
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || target.getFileName() == null) {
            throw new Cli.BadInput(option + " '" + file + "' is not a file path");
        }
        try {
            Optional<String> notRegular = notRegular(target);
            if (notRegular.isPresent()) {
                throw new Cli.BadInput(option + " '" + file + "' " + notRegular.get()
                        + ": it must be a regular file or not exist yet (it is replaced by a new file)");
            }
        } catch (AccessDeniedException e) {
            throw new Cli.BadInput(option + " '" + file + "': permission denied");
        } catch (IOException e) {
            throw new Cli.BadInput(option + " '" + file + "' cannot be checked: " + Text.rootMessage(e));
        }
        if (!Files.isDirectory(dir)) {
            throw new Cli.BadInput(option + " '" + file + "': directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new Cli.BadInput(option + " '" + file + "': directory " + dir + " is not writable");
        }
    }

    /** Replaces file with text, atomically. @throws Unusable saying why, when it cannot */
    public static void writeAtomically(Path file, String text) throws Unusable {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Unusable("cannot be written: its directory " + dir + " does not exist", null);
        }
        refuseAnythingButARegularFile(target);
        // CREATE_NEW with NOFOLLOW_LINKS keeps the name safe, so it need not be unpredictable: no
        // SecureRandom, whose provider set-up costs the daily no-op about a tenth of its time
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(MODE_0644))) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            // without following links (fchmod on an O_NOFOLLOW descriptor): the umask decides nothing
            Files.getFileAttributeView(temp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(MODE_0644);
            refuseAnythingButARegularFile(target); // again: something may have been put there meanwhile
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Unusable e) {
            throw e;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new Unusable("could not be written: " + Text.rootMessage(e), e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the temp file's name starts with a dot and ends in .tmp: harmless if left
            }
        }
    }

    /**
     * The file's text, or empty when there is no such file.
     *
     * @throws Unusable when it is a link or not a regular file, larger than maxBytes, or unreadable
     */
    public static Optional<String> read(Path file, int maxBytes) throws Unusable {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | SecurityException e) {
            throw new Unusable("could not be read: " + Text.rootMessage(e), e);
        }
        if (!attributes.isRegularFile()) {
            throw new Unusable("is " + Text.fileKind(attributes) + ": not read", null);
        }
        if (attributes.size() > maxBytes) {
            throw new Unusable("is larger than " + maxBytes + " bytes: not read", null);
        }
        try (SeekableByteChannel in = Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer bytes = ByteBuffer.allocate(maxBytes + 1);
            while (bytes.hasRemaining() && in.read(bytes) > 0) {
                // until the end, or one byte past the limit
            }
            if (bytes.position() > maxBytes) {
                throw new Unusable("is larger than " + maxBytes + " bytes: not read", null);
            }
            return Optional.of(new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (Unusable e) {
            throw e;
        } catch (IOException | SecurityException e) {
            throw new Unusable("could not be read: " + Text.rootMessage(e), e);
        }
    }

    /**
     * A lock file beside a small file, opened for an exclusive lock: a regular file only (absent: it
     * is made, 0644), never followed through a link, and opened read-write so that even a FIFO planted
     * between the check and the open cannot block the open (a write-only open of a FIFO waits for a
     * reader); checked again once open.
     */
    public static java.nio.channels.FileChannel openLock(Path lockFile) throws Unusable {
        refuseAnythingButARegularFile(lockFile);
        java.nio.channels.FileChannel channel;
        try {
            channel = java.nio.channels.FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(MODE_0644));
        } catch (IOException e) {
            throw new Unusable("cannot be opened: " + Text.rootMessage(e), e);
        }
        try {
            refuseAnythingButARegularFile(lockFile);
        } catch (Unusable e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // refusing anyway
            }
            throw e;
        }
        return channel;
    }

    /** Why the path is not a regular file (a link, directory, FIFO or device), or empty when it is one or is absent. */
    public static Optional<String> notRegular(Path file) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? Optional.empty() : Optional.of("is " + Text.fileKind(a));
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
    }

    private static void refuseAnythingButARegularFile(Path target) throws Unusable {
        Optional<String> notRegular;
        try {
            notRegular = notRegular(target);
        } catch (IOException | SecurityException e) {
            throw new Unusable("could not be written: " + Text.rootMessage(e), e);
        }
        if (notRegular.isPresent()) {
            throw new Unusable(notRegular.get() + ": not replaced", null);
        }
    }
}
