package ccci.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Where {@link ToolkitImage} keeps its work between test runs: ~/.cache/cc-ci/toolkit-image (or
 * -Dccci.cache=DIR). Two levels, each published atomically (several test JVMs may build at once):
 * the exported jars, keyed by the sources they are built from (the export costs seconds even with
 * JBang's own cache, kept there too); and the image's root file system tar, keyed by the jars'
 * contents (not their times), the entry point, the Dockerfile, the JDK and the host libraries.
 */
final class ToolkitImageCache {
    /** Bump when the way the jars or the tar are made changes: older entries are then not used. */
    private static final String FORMAT = "toolkit-image 2";
    private static final int KEEP = 3;

    private ToolkitImageCache() {}

    static Path dir() {
        String configured = System.getProperty("ccci.cache");
        if (configured != null) {
            return Path.of(configured, "toolkit-image");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("cc-ci").resolve("toolkit-image");
    }

    /** What the export reads: the scripts, the lib, the launcher, the export script, the JDK. */
    static String sourceKey(Path repo) throws IOException {
        MessageDigest sha = sha256();
        update(sha, FORMAT);
        for (String dir : List.of("scripts", "lib")) {
            try (Stream<Path> s = Files.walk(repo.resolve(dir))) {
                for (Path file : s.filter(Files::isRegularFile).sorted().toList()) {
                    update(sha, repo.relativize(file).toString());
                    sha.update(Files.readAllBytes(file));
                }
            }
        }
        for (String file : List.of("jbang", "deploy/container/export")) {
            update(sha, file);
            sha.update(Files.readAllBytes(repo.resolve(file)));
        }
        update(sha, JlinkRuntime.jdkRelease());
        return HexFormat.of().formatHex(sha.digest());
    }

    /** What ends up in the image. */
    static String imageKey(Path exported, Path context, ToolkitDockerfile dockerfile) throws IOException {
        MessageDigest sha = sha256();
        update(sha, FORMAT);
        List<Path> jars;
        try (Stream<Path> s = Files.walk(exported)) {
            jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        for (Path jar : jars) {
            update(sha, exported.relativize(jar).toString());
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (ZipEntry entry : zip.stream().sorted(Comparator.comparing(ZipEntry::getName)).toList()) {
                    update(sha, entry.getName());
                    try (InputStream in = zip.getInputStream(entry)) {
                        sha.update(in.readAllBytes());
                    }
                }
            }
        }
        for (ToolkitDockerfile.Copy copy : dockerfile.copies()) {
            Path local = context.resolve(copy.source());
            if (Files.isRegularFile(local)) {
                update(sha, copy.source());
                sha.update(Files.readAllBytes(local));
            }
        }
        update(sha, Files.readString(context.resolve("Dockerfile")));
        update(sha, JlinkRuntime.jdkRelease());
        sha.update(Files.readAllBytes(Provision.binary("busybox")));
        // the host's C and C++ libraries, as the JDK's own launcher and JVM load them
        for (Path library : JlinkRuntime.launcherLibraries(Path.of(System.getProperty("java.home")).toRealPath())) {
            update(sha, library.toString());
            sha.update(Files.readAllBytes(library.toRealPath()));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Moves a finished file or dir into place; when another JVM was first, keeps theirs. */
    static void publish(Path finished, Path entry) throws IOException {
        try {
            Files.move(finished, entry, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException otherWasFirst) {
            // same key, same content
        }
    }

    /** Marks an entry used now, and removes all but the {@value #KEEP} most recently used of its kind. */
    static void used(Path entry, String prefix) throws IOException {
        Files.setLastModifiedTime(entry, FileTime.fromMillis(System.currentTimeMillis()));
        List<Path> old;
        try (Stream<Path> s = Files.list(entry.getParent())) {
            old = s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .sorted(Comparator.comparing(ToolkitImageCache::modified).reversed())
                    .skip(KEEP)
                    .toList();
        }
        for (Path p : old) {
            Exec.run(List.of("rm", "-rf", "--one-file-system", p.toString()));
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void update(MessageDigest sha, String text) {
        sha.update(text.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
