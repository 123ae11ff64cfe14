package ccci;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The toolkit's small files on disk (state, metrics): written whole or not at all, never through a
 * symbolic link. A write goes to a new temp file in the same directory (created exclusively, so
 * nothing already there is followed or reused), is made mode 0644 whatever the umask, then renamed
 * over the target: a reader sees the old file or the new one, never half of one, even after kill -9.
 * A target that is a symbolic link (or anything but a regular file) is refused, not replaced.
 */
public final class SmallFile {
    private SmallFile() {}

    /** Why a small file could not be read or written; the message is one line naming the file. */
    public static final class Unusable extends IOException {
        public Unusable(String message) {
            super(message);
        }
    }

    private static final Set<java.nio.file.attribute.PosixFilePermission> MODE_0644 =
            PosixFilePermissions.fromString("rw-r--r--");

    /** Replaces file with text, atomically. @throws Unusable with the reason, when it cannot */
    public static void writeAtomically(Path file, String text) throws Unusable {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Unusable(file + ": directory " + dir + " does not exist");
        }
        refuseAnythingButARegularFile(target, file);
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (SeekableByteChannel out = Files.newByteChannel(temp, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS))) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
            }
            // without following links (fchmod on an O_NOFOLLOW descriptor): the umask decides nothing
            Files.getFileAttributeView(temp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(MODE_0644);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new Unusable(file + " cannot be written: " + Text.rootMessage(e));
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the temp file's name starts with a dot and says .tmp: harmless if left
            }
        }
    }

    /**
     * The file's text, or empty when there is no such file.
     *
     * @throws Unusable when it is a symbolic link or not a regular file, larger than maxBytes, or unreadable
     */
    public static Optional<String> read(Path file, int maxBytes) throws Unusable {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | SecurityException e) {
            throw new Unusable(file + " cannot be read: " + Text.rootMessage(e));
        }
        if (!attributes.isRegularFile()) {
            throw new Unusable(file + " is " + (attributes.isSymbolicLink() ? "a symbolic link" : "not a regular file") + ": not read");
        }
        if (attributes.size() > maxBytes) {
            throw new Unusable(file + " is larger than " + maxBytes + " bytes: not read");
        }
        try (SeekableByteChannel in = Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer bytes = ByteBuffer.allocate(maxBytes + 1);
            while (bytes.hasRemaining() && in.read(bytes) > 0) {
                // read until the end or one byte past the limit
            }
            if (bytes.position() > maxBytes) {
                throw new Unusable(file + " is larger than " + maxBytes + " bytes: not read");
            }
            return Optional.of(new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | SecurityException e) {
            throw new Unusable(file + " cannot be read: " + Text.rootMessage(e));
        }
    }

    private static void refuseAnythingButARegularFile(Path target, Path named) throws Unusable {
        BasicFileAttributes existing;
        try {
            existing = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return; // a new file
        } catch (IOException | SecurityException e) {
            throw new Unusable(named + " cannot be written: " + Text.rootMessage(e));
        }
        if (!existing.isRegularFile()) {
            throw new Unusable(named + " is " + (existing.isSymbolicLink() ? "a symbolic link" : "not a regular file")
                    + ": not replaced");
        }
    }
}
