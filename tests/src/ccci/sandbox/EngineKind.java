package ccci.sandbox;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The engines the tests run on: Debian bookworm's docker.io (installed on the host), trixie's and
 * sid's (fetched into {@link EngineCache}), and sid's with the containerd image store, which also
 * refuses every request below API 1.44 as Docker 29 does (DOCKER_MIN_API_VERSION=1.44 in dockerd's
 * environment): Docker 29's fresh-install shape. The test JVM picks one with -Dccci.engine=ID
 * (tests/pom.xml runs the engine tests once per kind).
 */
public enum EngineKind {
    DOCKER_20_10("20.10", null, false, null),
    DOCKER_26_1("26.1", EngineRelease.TRIXIE, false, null),
    DOCKER_28_5("28.5", EngineRelease.SID, false, null),
    DOCKER_28_5_CONTAINERD("28.5-containerd", EngineRelease.SID, true, "1.44");

    public static final String PROPERTY = "ccci.engine";

    private final String id;
    private final EngineRelease release;
    private final boolean containerdImageStore;
    private final String minApiVersion;

    EngineKind(String id, EngineRelease release, boolean containerdImageStore, String minApiVersion) {
        this.id = id;
        this.release = release;
        this.containerdImageStore = containerdImageStore;
        this.minApiVersion = minApiVersion;
    }

    /** The kind named by -Dccci.engine, 20.10 when unset. */
    public static EngineKind current() {
        return of(System.getProperty(PROPERTY, DOCKER_20_10.id));
    }

    public static EngineKind of(String id) {
        return Arrays.stream(values()).filter(k -> k.id.equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown engine kind " + id + "; known: "
                        + Arrays.stream(values()).map(EngineKind::id).toList()));
    }

    public String id() {
        return id;
    }

    /** Images in containerd's content store and snapshotter instead of dockerd's graph driver. */
    public boolean containerdImageStore() {
        return containerdImageStore;
    }

    /**
     * The lowest API version the engine serves when raised above its own default (1.24 on 20.10 to
     * 28.5): Docker 29 refuses everything below 1.44. Empty: the release's default.
     */
    public Optional<String> minApiVersion() {
        return Optional.ofNullable(minApiVersion);
    }

    /** Where this kind's programs are; a Debian release of another suite is fetched on first use. */
    Binaries binaries() {
        if (release == null) {
            Provision.ensureInstalled();
            // Debian's own paths: a docker CLI elsewhere on PATH (e.g. /usr/local/bin) is another version
            return new Binaries(Path.of("/usr/sbin/dockerd"), Path.of("/usr/bin/docker"), Path.of("/usr/bin/containerd"), Map.of());
        }
        Path root = EngineCache.unpacked(release);
        Map<String, String> env = new HashMap<>(EngineCache.engineEnv(root));
        minApiVersion().ifPresent(v -> env.put("DOCKER_MIN_API_VERSION", v));
        return new Binaries(root.resolve("usr/sbin/dockerd"), root.resolve("usr/bin/docker"),
                root.resolve("usr/bin/containerd"), Map.copyOf(env));
    }

    /**
     * env: what the engine's processes run with (PATH: the release's own dirs, the host's runc first;
     * DOCKER_MIN_API_VERSION when {@link #minApiVersion()} is set).
     */
    record Binaries(Path dockerd, Path docker, Path containerd, Map<String, String> env) {}

    @Override
    public String toString() {
        return id;
    }
}
