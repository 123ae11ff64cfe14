package ccci.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Engine releases of other Debian suites, fetched once into /var/cache/ccci-engines (outside the
 * repo, kept for later runs): `apt-get download` through {@link PrivateApt}, each .deb checked
 * against its pinned SHA-256, `dpkg -x` into a dir of its own, dockerd's version checked. A file
 * lock keeps concurrent test JVMs from fetching the same release twice. Nothing is installed.
 */
final class EngineCache {
    static final Path ROOT = Path.of(System.getProperty("ccci.engineCache", "/var/cache/ccci-engines"));
    private static final String VERIFIED = "verified";

    private EngineCache() {}

    /** The unpacked release (usr/sbin/dockerd, usr/bin/docker, usr/bin/containerd), fetched on first use. */
    static synchronized Path unpacked(EngineRelease release) {
        Path dir = ROOT.resolve(release.cacheName());
        if (Files.exists(dir.resolve(VERIFIED))) {
            return dir.resolve("root");
        }
        try {
            Files.createDirectories(ROOT);
            try (FileChannel channel = FileChannel.open(ROOT.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                if (!Files.exists(dir.resolve(VERIFIED))) {
                    fetch(release, dir);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch Debian " + release.suite() + "'s engine into " + dir, e);
        }
        return dir.resolve("root");
    }

    /** Bookworm's runc first on PATH: sid's runc needs glibc 2.38, newer than the host's. */
    static Map<String, String> engineEnv(Path root) {
        Path runcDir = root.resolveSibling("host-runc");
        return Map.of("PATH", String.join(":", runcDir.toString(), root.resolve("usr/sbin").toString(),
                root.resolve("usr/bin").toString(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    }

    private static void fetch(EngineRelease release, Path dir) throws IOException {
        String arch = Exec.ok(List.of("dpkg", "--print-architecture")).out().strip();
        if (!arch.equals("amd64")) {
            throw new IllegalStateException("the engine pins in EngineRelease are for amd64, this machine is " + arch);
        }
        long t0 = System.nanoTime();
        System.err.println("[sandbox] fetching " + release.debs() + " from Debian " + release.suite() + " into " + dir + " (once)");
        Exec.ok(List.of("rm", "-rf", "--one-file-system", dir.toString())); // what a broken earlier attempt left
        Path debs = Files.createDirectories(dir.resolve("debs"));
        PrivateApt.update(dir.resolve("apt"), release.suite())
                .download(debs, release.debs().stream().map(d -> d.name() + "=" + d.version()).toList());
        Path staging = dir.resolve("root.partial");
        for (EngineRelease.Deb deb : release.debs()) {
            Path file = debs.resolve(deb.fileName());
            String actual = sha256(file);
            if (!actual.equals(deb.sha256())) {
                throw new IllegalStateException(file + " has SHA-256 " + actual + ", pinned " + deb.sha256());
            }
            Exec.ok(List.of("dpkg-deb", "-x", file.toString(), staging.toString()));
        }
        Path root = Files.move(staging, dir.resolve("root"));
        Path runcDir = Files.createDirectories(dir.resolve("host-runc"));
        Files.createSymbolicLink(runcDir.resolve("runc"), Provision.binary("runc"));
        CommandResult version = Exec.run(List.of(root.resolve("usr/sbin/dockerd").toString(), "--version"),
                engineEnv(root), null, Exec.DEFAULT_TIMEOUT);
        if (!version.ok() || !version.out().contains(" " + release.dockerVersion())) {
            throw new IllegalStateException("unpacked dockerd is not " + release.dockerVersion() + ": " + version);
        }
        Exec.ok(List.of("rm", "-rf", debs.toString(), dir.resolve("apt").toString()));
        Files.writeString(dir.resolve(VERIFIED), release.debs() + "\n" + version.out());
        System.err.printf("[sandbox] %s ready in %d s%n", version.out().strip(), (System.nanoTime() - t0) / 1_000_000_000);
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
