//SOURCES Cli.java Text.java
package ccci;

import ccci.Cli.BadInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Optional;
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

    public static final String NAME = "ci-docker-prune.lock";
    /** Where the default lock is, in words, for --help and the README. */
    public static final String WHERE = "/run/" + NAME + " when /run is writable (root), else $XDG_RUNTIME_DIR/" + NAME
            + " when that dir is ours and private (0700), else a private dir of ours in the temp dir (/tmp/ci-docker-prune-UID/" + NAME + ")";

    /** The default lock file: see {@link #WHERE}. Never a file in a directory others may write. */
    public static Path defaultPath() {
        return defaultPath(Path.of("/run"), System.getenv("XDG_RUNTIME_DIR"), Path.of(System.getProperty("java.io.tmpdir")));
    }

    static Path defaultPath(Path run, String xdgRuntimeDir, Path tmp) {
        if (Files.isDirectory(run, LinkOption.NOFOLLOW_LINKS) && Files.isWritable(run) && ownedByUsAndPrivateOrRoots(run)) {
            return run.resolve(NAME);
        }
        if (xdgRuntimeDir != null && !xdgRuntimeDir.isEmpty() && Path.of(xdgRuntimeDir).isAbsolute()
                && privateDir(Path.of(xdgRuntimeDir)).isEmpty()) {
            return Path.of(xdgRuntimeDir).resolve(NAME);
        }
        Path own = tmp.resolve("ci-docker-prune-" + uid());
        try {
            Files.createDirectory(own, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // checked below: it must be ours and private, not a directory or link someone planted
        } catch (IOException | UnsupportedOperationException e) {
            throw new BadInput("no usable default lock file: cannot create " + own + " (" + Text.rootMessage(e)
                    + "): pass --lock-file");
        }
        Optional<String> why = privateDir(own);
        if (why.isPresent()) {
            throw new BadInput("no usable default lock file: " + own + " " + why.get() + ": remove it, or pass --lock-file");
        }
        return own.resolve(NAME);
    }

    /** /run as root sees it: owned by root, not writable by group or others (or ours). */
    private static boolean ownedByUsAndPrivateOrRoots(Path dir) {
        try {
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            boolean othersWrite = a.permissions().contains(PosixFilePermission.OTHERS_WRITE)
                    || a.permissions().contains(PosixFilePermission.GROUP_WRITE);
            return (owner == 0 || owner == uid()) && !othersWrite;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Why dir is not a private directory of ours (mode 0700 or stricter, owned by us, not a link), or empty. */
    static Optional<String> privateDir(Path dir) {
        try {
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isDirectory()) {
                return Optional.of("is " + Text.fileKind(a) + ", not a directory");
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != uid()) {
                return Optional.of("belongs to uid " + owner + ", not to us (uid " + uid() + ")");
            }
            for (PosixFilePermission p : a.permissions()) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    return Optional.of("is open to group or others (mode " + modeText(a.permissions()) + ")");
                }
            }
            return Optional.empty();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.of("cannot be checked: " + Text.rootMessage(e));
        }
    }

    private static String modeText(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.toString(permissions);
    }

    /** This process's user id, as the kernel sees it (the owner of /proc/self). */
    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
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
        refuseUnlessRegularAndOurs(file, false);
        FileChannel channel;
        try {
            // O_NOFOLLOW: a link planted at the lock's path is never followed (no write into its target)
            channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        } catch (IOException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be opened: " + Text.rootMessage(e));
        }
        try {
            refuseUnlessRegularAndOurs(file, true);
        } catch (BadInput e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // refusing anyway
            }
            throw e;
        }
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
                lock = null;
            }
            if (lock == null) {
                String holder = holder(channel);
                channel.close();
                throw alreadyLocked(file, holder);
            }
            writePid(channel);
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

    /**
     * The lock must be a regular file owned by us (or by root, when we are root): a FIFO would hang
     * the open, a device or directory is no lock, and a file another user owns lets that user
     * hold every prune off (and write the pid we show).
     */
    private static void refuseUnlessRegularAndOurs(Path file, boolean mustExist) {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            if (mustExist) {
                throw new BadInput("--lock-file '" + file + "' vanished while being opened");
            }
            return;
        } catch (IOException | UnsupportedOperationException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be checked: " + Text.rootMessage(e));
        }
        if (!a.isRegularFile()) {
            throw new BadInput("--lock-file '" + file + "' is " + Text.fileKind(a) + ": a lock must be a regular file");
        }
        int owner;
        try {
            owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new BadInput("--lock-file '" + file + "' cannot be checked: " + Text.rootMessage(e));
        }
        if (owner != uid()) {
            throw new BadInput("--lock-file '" + file + "' belongs to uid " + owner + ", not to us (uid " + uid()
                    + "): another user could hold every prune off");
        }
    }

    /**
     * Records our pid for the "held by pid" message. A full file system must not stop a prune: the
     * lock is what counts, so a failed write only leaves the pid out.
     */
    private static void writePid(FileChannel channel) {
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException noSpace) {
            // e.g. ENOSPC: the lock is held all the same
        }
    }

    /** The pid the holder wrote, when it is one (the file is not trusted: at most 20 bytes, digits only). */
    private static String holder(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(20);
        channel.read(buffer, 0);
        String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
        return text.matches("[0-9]{1,10}") ? text : "";
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
