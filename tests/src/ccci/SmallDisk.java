package ccci;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.zeroturnaround.exec.ProcessExecutor;

/** A small real tmpfs, filled to a chosen use, to drive the disk gate over and under its threshold. */
final class SmallDisk implements AutoCloseable {
    private final Path mountPoint;
    private final Path ballast;

    private SmallDisk(Path mountPoint) {
        this.mountPoint = mountPoint;
        this.ballast = mountPoint.resolve("ballast");
    }

    static SmallDisk mount(int sizeMb) throws Exception {
        Path dir = Files.createTempDirectory("ccci-small-disk");
        run("mount", "-t", "tmpfs", "-o", "size=" + sizeMb + "m", "tmpfs", dir.toString());
        return new SmallDisk(dir);
    }

    /** A tmpfs with few inodes: files, not bytes, fill it. */
    static SmallDisk mountWithInodes(int sizeMb, int inodes) throws Exception {
        Path dir = Files.createTempDirectory("ccci-small-disk");
        run("mount", "-t", "tmpfs", "-o", "size=" + sizeMb + "m,nr_inodes=" + inodes, "tmpfs", dir.toString());
        return new SmallDisk(dir);
    }

    /** Creates empty files until df -i shows about this IUse%. */
    SmallDisk fillInodesTo(int percent, int inodes) throws IOException {
        for (int i = 0; i < inodes * percent / 100; i++) {
            Files.createFile(mountPoint.resolve("f" + i));
        }
        return this;
    }

    /** What df -i prints as IUse%. */
    int dfInodePercent() throws Exception {
        String out = new ProcessExecutor("df", "--output=ipcent", mountPoint.toString())
                .readOutput(true).exitValueNormal().timeout(10, TimeUnit.SECONDS).execute().outputUTF8();
        String last = out.strip().lines().reduce((a, b) -> b).orElseThrow();
        return Integer.parseInt(last.replace("%", "").strip());
    }

    Path path() {
        return mountPoint;
    }

    /** Grows or shrinks the ballast file until df shows about this Use%. */
    SmallDisk fillTo(int percent) throws IOException {
        long total = Files.getFileStore(mountPoint).getTotalSpace();
        try (RandomAccessFile file = new RandomAccessFile(ballast.toFile(), "rw")) {
            file.setLength(0);
            byte[] block = new byte[64 * 1024];
            long target = total * percent / 100;
            for (long written = 0; written < target; written += block.length) {
                file.write(block, 0, (int) Math.min(block.length, target - written));
            }
        }
        return this;
    }

    /** What df itself prints as Use% (the number operators compare against). */
    int dfPercent() throws Exception {
        String out = new ProcessExecutor("df", "--output=pcent", mountPoint.toString())
                .readOutput(true).exitValueNormal().timeout(10, TimeUnit.SECONDS).execute().outputUTF8();
        String last = out.strip().lines().reduce((a, b) -> b).orElseThrow();
        return Integer.parseInt(last.replace("%", "").strip());
    }

    @Override
    public void close() throws Exception {
        run("umount", mountPoint.toString());
        Files.deleteIfExists(mountPoint);
    }

    private static void run(String... command) throws Exception {
        new ProcessExecutor(command).exitValueNormal().timeout(30, TimeUnit.SECONDS).execute();
    }
}
