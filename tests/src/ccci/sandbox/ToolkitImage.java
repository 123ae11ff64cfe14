package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The toolkit's container image without any registry: what deploy/container/Dockerfile builds on
 * Eclipse Temurin, built here on a minimal root file system instead. The same jars (exported by
 * deploy/container/export, i.e. `jbang export portable`) and the same entry point at the same
 * paths (the Dockerfile's COPY lines), a jlinked runtime of the JDK running the tests at the base
 * image's JAVA_HOME, the host libraries it needs, busybox for /bin/sh; the Dockerfile's ENV and
 * ENTRYPOINT lines are given to `docker import --change`.
 *
 * <p>The exported jars and the root file system tar are cached between runs ({@link ToolkitImageCache}):
 * a cold build takes about a minute, a cached one a second or two, then `docker import` a few seconds.
 */
public final class ToolkitImage {
    private static final String REPOSITORY = "ccci/toolkit";
    private static final Duration EXPORT_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration UNPACK_TIMEOUT = Duration.ofMinutes(2);

    private static Built built;

    /** A built (or cached) root file system: the tar, its key, and the --change lines. */
    public record Built(Path tar, String key, List<String> changes) {
        /** The tag both the imported and the pushed image carry: the key's first 12 characters. */
        public String tag() {
            return key.substring(0, 12);
        }
    }

    private ToolkitImage() {}

    /** Builds the image's tar once per JVM (or takes it from the cache). */
    public static synchronized Built build() {
        if (built == null) {
            built = buildOrReuse();
        }
        return built;
    }

    /** `docker import`s the image into {@code engine}; returns its reference, ccci/toolkit:TAG. */
    public static String importInto(SandboxEngine engine) {
        return importAs(engine, REPOSITORY + ":" + build().tag());
    }

    /**
     * Imports the image into {@code engine} (whose client is logged in to {@code registry}) and
     * pushes it there; returns the reference swarm nodes pull, localhost:PORT/ccci/toolkit:TAG.
     */
    public static String pushTo(SandboxEngine engine, SandboxRegistry registry) {
        String ref = importAs(engine, registry.address() + "/" + REPOSITORY + ":" + build().tag());
        engine.dockerOk("push", ref);
        return ref;
    }

    private static String importAs(SandboxEngine engine, String ref) {
        Built image = build();
        List<String> args = new ArrayList<>(List.of("import"));
        image.changes().forEach(change -> Collections.addAll(args, "--change", change));
        Collections.addAll(args, image.tar().toString(), ref);
        engine.dockerOk(args.toArray(String[]::new));
        return ref;
    }

    /**
     * One JVM at a time builds (tests/run runs its executions side by side, and each swarm engine's
     * builds the image): two exports at once share JBang's state in the cache and can leave a
     * truncated class in the jars ("ClassFormatError: Truncated class file" in a node's job).
     */
    private static Built buildOrReuse() {
        Provision.ensureInstalled();
        Path cache = ToolkitImageCache.dir();
        try {
            Files.createDirectories(cache);
            try (FileChannel channel = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                return buildOrReuse(cache);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Built buildOrReuse(Path cache) {
        long t0 = System.nanoTime();
        Path work = null;
        try {
            work = Files.createTempDirectory(cache, "work-");
            Path repo = repoRoot();
            Path context = repo.resolve("deploy/container");
            ToolkitDockerfile dockerfile = ToolkitDockerfile.parse(Files.readString(context.resolve("Dockerfile")));

            Path exported = cache.resolve("export-" + ToolkitImageCache.sourceKey(repo));
            boolean exportCached = Files.isDirectory(exported);
            if (!exportCached) {
                ToolkitImageCache.publish(export(cache, work), exported);
            }
            ToolkitImageCache.used(exported, "export-");
            long t1 = System.nanoTime();

            String key = ToolkitImageCache.imageKey(exported, context, dockerfile);
            Path tar = cache.resolve("rootfs-" + key + ".tar");
            boolean tarCached = Files.isRegularFile(tar);
            if (!tarCached) {
                Path stage = Files.createDirectories(work.resolve("rootfs"));
                stageRootfs(stage, exported, context, dockerfile);
                Path partial = work.resolve("rootfs.tar");
                Exec.ok(List.of("tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                        "-C", stage.toString(), "-cf", partial.toString(), "."));
                ToolkitImageCache.publish(partial, tar);
            }
            ToolkitImageCache.used(tar, "rootfs-");
            System.err.printf("[sandbox] toolkit image %s: jars %s in %d ms, root file system tar %s in %d ms (%d MB)%n",
                    key.substring(0, 12), exportCached ? "from the cache" : "exported", (t1 - t0) / 1_000_000,
                    tarCached ? "from the cache" : "built", (System.nanoTime() - t1) / 1_000_000, Files.size(tar) >> 20);
            return new Built(tar, key, dockerfile.changes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (work != null) {
                Exec.run(List.of("rm", "-rf", "--one-file-system", work.toString()));
            }
        }
    }

    /** deploy/container/export into the work dir, with JBang's state kept in the cache (it compiles once). */
    private static Path export(Path cache, Path work) {
        Path out = work.resolve("export");
        List<String> command = List.of(repoRoot().resolve("deploy/container/export").toString(), "--out", out.toString());
        CommandResult r = Exec.run(command, Map.of("JBANG_DIR", cache.resolve("jbang").toString()), null, EXPORT_TIMEOUT);
        if (r.exit() != 0) {
            throw new AssertionError(Exec.describeFailure(command, r));
        }
        return out;
    }

    private static void stageRootfs(Path stage, Path exported, Path context, ToolkitDockerfile dockerfile) throws IOException {
        List<String> untar = List.of("tar", "-x", "-C", stage.toString());
        CommandResult unpacked = Exec.runStreaming(untar, Map.of(), BusyboxRootfs::writeTo, UNPACK_TIMEOUT);
        if (unpacked.exit() != 0) {
            throw new AssertionError(Exec.describeFailure(untar, unpacked));
        }
        Files.createDirectories(stage.resolve("run"));
        Files.createDirectories(stage.resolve("var"));
        Files.createSymbolicLink(stage.resolve("var/run"), Path.of("../run")); // as in the Temurin (Ubuntu) base
        Path runtime = stage.resolve(ToolkitDockerfile.JAVA_HOME.substring(1));
        Files.createDirectories(runtime.getParent());
        JlinkRuntime.link(JlinkRuntime.modules(exported.resolve("app")), runtime);
        for (Path library : JlinkRuntime.hostLibraries(runtime.toAbsolutePath().normalize())) {
            Path target = stage.resolve(library.toString().substring(1));
            Files.createDirectories(target.getParent());
            Files.copy(library.toRealPath(), target, StandardCopyOption.REPLACE_EXISTING);
        }
        for (ToolkitDockerfile.Copy copy : dockerfile.copies()) {
            Path source = exported.resolve(copy.source()).normalize();
            if (!Files.exists(source)) {
                source = context.resolve(copy.source()).normalize();
            }
            Path destination = stage.resolve(copy.destination().substring(1));
            if (Files.isDirectory(source)) {
                Files.createDirectories(destination);
                Exec.ok(List.of("cp", "-a", source + "/.", destination.toString()));
            } else {
                Path file = copy.destination().endsWith("/") ? destination.resolve(source.getFileName()) : destination;
                Files.createDirectories(file.getParent());
                Files.copy(source, file, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    static Path repoRoot() {
        try {
            return Path.of(System.getProperty("ccci.repo", "..")).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
