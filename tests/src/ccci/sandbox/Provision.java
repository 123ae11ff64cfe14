package ccci.sandbox;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Installs what the sandbox needs from Debian's packages when missing, and finds the binaries.
 * A fresh CI machine has none of them; this machine has them all (then this costs a few stat calls).
 */
public final class Provision {
    private static final Map<String, String> PACKAGE_OF_BINARY = new LinkedHashMap<>();
    static {
        PACKAGE_OF_BINARY.put("dockerd", "docker.io");
        PACKAGE_OF_BINARY.put("docker", "docker.io");
        PACKAGE_OF_BINARY.put("docker-registry", "docker-registry");
        PACKAGE_OF_BINARY.put("htpasswd", "apache2-utils");
        PACKAGE_OF_BINARY.put("busybox", "busybox-static");
        PACKAGE_OF_BINARY.put("mkfs.ext4", "e2fsprogs");
        PACKAGE_OF_BINARY.put("promtool", "prometheus"); // the reference parser for the metrics file
    }
    /** sbin dirs are listed too: a JVM's PATH may lack them even for root. */
    private static final List<String> EXTRA_DIRS =
            List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
    private static final Path POLICY_RC_D = Path.of("/usr/sbin/policy-rc.d");
    private static final Path DEFAULT_SOCKET = Path.of("/var/run/docker.sock");
    private static volatile boolean verified;

    private Provision() {}

    public static synchronized void ensureInstalled() {
        if (verified) {
            return;
        }
        TreeSet<String> missing = missingPackages();
        if (!missing.isEmpty()) {
            install(missing);
            missing = missingPackages();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("still missing after apt-get install: " + missing);
            }
        }
        verified = true;
    }

    /**
     * One tool outside the sandbox (nix-instantiate, systemd-analyze...): installs its Debian
     * package when the binary is missing, and returns the binary's path.
     */
    public static synchronized Path ensureBinary(String binary, String debianPackage) {
        if (find(binary).isEmpty()) {
            install(new TreeSet<>(List.of(debianPackage)));
        }
        return binary(binary);
    }

    /** Absolute path of a binary on PATH or in the usual bin/sbin dirs. */
    public static Path binary(String name) {
        return find(name).orElseThrow(() -> new IllegalStateException(
                name + " not found on PATH nor in " + EXTRA_DIRS + " (Provision.ensureInstalled() installs it)"));
    }

    private static TreeSet<String> missingPackages() {
        TreeSet<String> missing = new TreeSet<>();
        PACKAGE_OF_BINARY.forEach((bin, pkg) -> {
            if (find(bin).isEmpty()) {
                missing.add(pkg);
            }
        });
        // Debian's plain `busybox` package is dynamically linked: useless as an image's only binary
        find("busybox").filter(b -> !isStatic(b)).ifPresent(b -> missing.add("busybox-static"));
        return missing;
    }

    private static Optional<Path> find(String name) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
        return Stream.concat(Stream.of(path.split(":")), EXTRA_DIRS.stream())
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** An ELF file without a PT_INTERP program header needs no dynamic loader. */
    static boolean isStatic(Path elf) {
        try (RandomAccessFile f = new RandomAccessFile(elf.toFile(), "r")) {
            long phoff = Long.reverseBytes(readLong(f, 0x20));
            int phentsize = Short.toUnsignedInt(Short.reverseBytes(readShort(f, 0x36)));
            int phnum = Short.toUnsignedInt(Short.reverseBytes(readShort(f, 0x38)));
            for (int i = 0; i < phnum; i++) {
                f.seek(phoff + (long) i * phentsize);
                if (Integer.reverseBytes(f.readInt()) == 3 /* PT_INTERP */) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static long readLong(RandomAccessFile f, long at) throws IOException {
        f.seek(at);
        return f.readLong();
    }

    private static short readShort(RandomAccessFile f, long at) throws IOException {
        f.seek(at);
        return f.readShort();
    }

    /**
     * docker.io's and docker-registry's maintainer scripts start their services (dockerd on the
     * default socket, a registry on :5000) unless policy-rc.d denies it, so one is put in place for
     * the duration of the install when the machine has none.
     */
    static void install(TreeSet<String> packages) {
        System.err.println("[sandbox] installing from Debian: " + packages);
        boolean socketBefore = Files.exists(DEFAULT_SOCKET);
        boolean ownPolicy = !Files.exists(POLICY_RC_D);
        try {
            if (ownPolicy) {
                Files.writeString(POLICY_RC_D, "#!/bin/sh\n# ccci sandbox: no service may start during its apt-get install\nexit 101\n");
                Files.setPosixFilePermissions(POLICY_RC_D, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
            apt(env, List.of("apt-get", "update"));
            List<String> installCmd = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
            installCmd.addAll(packages);
            apt(env, installCmd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (ownPolicy) {
                try {
                    Files.deleteIfExists(POLICY_RC_D);
                } catch (IOException e) {
                    System.err.println("[sandbox] could not remove " + POLICY_RC_D + ": " + e);
                }
            }
        }
        if (!socketBefore && Files.exists(DEFAULT_SOCKET)) {
            // not fatal (the sandbox never uses it), but worth knowing
            System.err.println("[sandbox] warning: " + DEFAULT_SOCKET + " appeared during apt-get install");
        }
    }

    private static void apt(Map<String, String> env, List<String> command) {
        CommandResult r = Exec.run(command, env, null, Duration.ofMinutes(15));
        if (r.exit() != 0) {
            throw new IllegalStateException(Exec.describeFailure(command, r));
        }
    }
}
