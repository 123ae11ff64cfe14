package ccci.sandbox;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Loop-mounted ext4 and tmpfs file systems for data roots, and unmounting what dockerd leaves. */
final class Mounts {
    private static final Pattern OCTAL_ESCAPE = Pattern.compile("\\\\([0-7]{3})");

    private Mounts() {}

    /**
     * A sparse image file formatted ext4 and loop-mounted on {@code mountPoint}. {@code -m 0}: no
     * blocks reserved for root, so df's size and available space add up the way tests expect.
     */
    static void loopExt4(Path image, Path mountPoint, int sizeMb) {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(sizeMb * 1024L * 1024L);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Exec.ok(List.of(Provision.binary("mkfs.ext4").toString(), "-q", "-F", "-m", "0", image.toString()));
        Exec.ok(List.of("mount", "-o", "loop", image.toString(), mountPoint.toString()));
    }

    static void tmpfs(Path mountPoint, int sizeMb) {
        Exec.ok(List.of("mount", "-t", "tmpfs", "-o", "size=" + sizeMb + "m", "tmpfs", mountPoint.toString()));
    }

    /** Every mount point at or below {@code dir}, deepest first. */
    static List<Path> under(Path dir) {
        String root = dir.toAbsolutePath().normalize().toString();
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(line -> unescape(line.split(" ")[4]))
                    .filter(p -> p.equals(root) || p.startsWith(root + "/"))
                    .distinct()
                    .sorted(Comparator.comparingInt(String::length).reversed())
                    .map(Path::of)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Unmounts everything at or below {@code dir}: the data root's own mount, and what a killed
     * dockerd leaves behind (overlay "merged" dirs, netns files, its private bind of the data root).
     * Falls back to a lazy unmount for busy ones. Returns the mounts it could not remove.
     */
    static List<Path> unmountAllUnder(Path dir) {
        for (int round = 0; round < 5; round++) {
            List<Path> mounts = under(dir);
            if (mounts.isEmpty()) {
                return List.of();
            }
            for (Path m : mounts) {
                if (Exec.run(List.of("umount", m.toString())).exit() != 0) {
                    Exec.run(List.of("umount", "-l", m.toString()));
                }
            }
        }
        return under(dir);
    }

    private static String unescape(String field) {
        Matcher m = OCTAL_ESCAPE.matcher(field);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(
                    String.valueOf((char) Integer.parseInt(m.group(1), 8))));
        }
        return m.appendTail(sb).toString();
    }
}
