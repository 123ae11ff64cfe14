package ccci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** One prune at a time on a host: an exclusive lock on a file, released when the process ends. */
public final class PruneLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private PruneLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** /run/ci-docker-prune.lock where /run is writable (root), else the same name in the temp dir. */
    public static Path defaultPath() {
        Path run = Path.of("/run");
        Path dir = Files.isDirectory(run) && Files.isWritable(run) ? run : Path.of(System.getProperty("java.io.tmpdir"));
        return dir.resolve("ci-docker-prune.lock");
    }

    /** @throws AlreadyLocked when another process holds it; BadInput when the file cannot be opened */
    public static PruneLock acquire(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be opened: " + DockerEngine.rootMessage(e));
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
                throw new AlreadyLocked("another prune is running (lock " + file
                        + (holder.isEmpty() ? "" : " held by pid " + holder) + "): nothing removed");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
            return new PruneLock(channel, lock);
        } catch (IOException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be locked: " + DockerEngine.rootMessage(e));
        }
    }

    @Override
    public void close() {
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
