package ccci;

import ccci.Cli.BadInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * One prune at a time on a host: an exclusive lock on a file, released when the process ends.
 * The lock is a POSIX record lock, which belongs to the whole process and is dropped when the process
 * closes any descriptor of the file: so a lock file this JVM already holds is recognised from a
 * JVM-wide set (by file identity) before the file is opened again.
 */
public final class PruneLock implements AutoCloseable {
    /** File keys (device and inode) of the lock files this JVM holds. */
    private static final Set<Object> HELD = new HashSet<>();

    private final FileChannel channel;
    private final FileLock lock;
    private final Object key;

    private PruneLock(FileChannel channel, FileLock lock, Object key) {
        this.channel = channel;
        this.lock = lock;
        this.key = key;
    }

    /** /run/ci-docker-prune.lock where /run is writable (root), else the same name in the temp dir. */
    public static Path defaultPath() {
        Path run = Path.of("/run");
        Path dir = Files.isDirectory(run) && Files.isWritable(run) ? run : Path.of(System.getProperty("java.io.tmpdir"));
        return dir.resolve("ci-docker-prune.lock");
    }

    /** @throws AlreadyLocked when another process holds it; BadInput when the file cannot be opened */
    public static PruneLock acquire(Path file) {
        synchronized (HELD) {
            Object held = fileKey(file);
            if (held != null && HELD.contains(held)) {
                throw alreadyLocked(file, String.valueOf(ProcessHandle.current().pid()));
            }
            PruneLock acquired = lock(file);
            if (acquired.key != null) {
                HELD.add(acquired.key);
            }
            return acquired;
        }
    }

    private static PruneLock lock(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be opened: " + Text.rootMessage(e));
        }
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
                lock = null;
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                channel.close();
                throw alreadyLocked(file, holder);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
            return new PruneLock(channel, lock, fileKey(file));
        } catch (IOException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing: the message below says why
            }
            throw new BadInput("--lock-file '" + file + "' cannot be locked: " + Text.rootMessage(e));
        }
    }

    private static AlreadyLocked alreadyLocked(Path file, String holder) {
        return new AlreadyLocked("another prune is running (lock " + file
                + (holder.isEmpty() ? "" : " held by pid " + holder) + "): nothing removed");
    }

    /** The file's identity (device and inode) without opening it, or null when it cannot be read. */
    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    @Override
    public void close() {
        synchronized (HELD) {
            HELD.remove(key);
        }
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the lock dies with the process anyway
        }
    }

    public static final class AlreadyLocked extends RuntimeException {
        public AlreadyLocked(String message) {
            super(message);
        }
    }
}
