package ccci;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A filesystem's inode counts, from statvfs(3) through JNA (which the engine transport brings):
 * Java's FileStore tells bytes only. A data root can run out of inodes (a thousand created
 * containers on a small filesystem) while df shows half its bytes free.
 */
final class Statvfs {
    private Statvfs() {}

    /** Inodes in use and available to unprivileged users; empty where the filesystem has no fixed count or the call fails. */
    record Inodes(long used, long available) {}

    /** glibc's struct statvfs on 64-bit Linux: eleven unsigned longs, then six ints of padding. */
    @Structure.FieldOrder({"f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_favail",
            "f_fsid", "f_flag", "f_namemax", "f_spare"})
    public static final class Result extends Structure {
        public NativeLong f_bsize;
        public NativeLong f_frsize;
        public NativeLong f_blocks;
        public NativeLong f_bfree;
        public NativeLong f_bavail;
        public NativeLong f_files;
        public NativeLong f_ffree;
        public NativeLong f_favail;
        public NativeLong f_fsid;
        public NativeLong f_flag;
        public NativeLong f_namemax;
        public int[] f_spare = new int[6];
    }

    interface LibC extends Library {
        int statvfs(String path, Result result);
    }

    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    static Optional<Inodes> inodes(Path path) {
        if (NativeLong.SIZE != 8) {
            return Optional.empty(); // the layout above is the 64-bit one
        }
        try {
            Result r = new Result();
            if (Holder.LIBC.statvfs(path.toString(), r) != 0) {
                return Optional.empty();
            }
            long files = r.f_files.longValue();
            long free = r.f_ffree.longValue();
            long available = r.f_favail.longValue();
            if (files <= 0) {
                return Optional.empty(); // btrfs, tmpfs without nr_inodes...: no fixed count to run out of
            }
            return Optional.of(new Inodes(files - free, available));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }
}
