package ccci;

import ccci.sandbox.Await;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.SandboxEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The host state the prune tests share, built for real on a sandbox engine: what the seed's
 * policy must remove (old dangling images) beside everything it must keep.
 */
record PruneScenario(
        String busybox,             // tagged, used by the containers and the service
        String oldTagged,           // tagged, 48h old: kept (never all unused images)
        String youngDangling,       // dangling, 1h old: kept under 24h
        List<String> oldDangling,   // dangling, 48h old: removed
        String usedDangling,        // dangling, 48h old, used by a stopped container: kept
        Instant now) {

    static final Instant OLD = Instant.parse("2026-01-01T00:00:00Z");
    static final String VOLUME = "ccci-data";
    static final String VOLUME_PROOF = "kept-data";
    static final List<String> CONTAINERS = List.of("ccci-created", "ccci-exited", "ccci-holds-dangling");
    static final String SERVICE = "ccci-keeper";

    /**
     * @param now          the same instant for every engine a test compares (image IDs depend on it)
     * @param danglingMb   size of each old dangling image, to fill a small disk
     * @param withService  a running swarm service (needs a swarm engine)
     */
    static PruneScenario build(SandboxEngine engine, Instant now, int danglingMb, boolean withService) {
        String busybox = "ccci-bb:prune";
        engine.importBusybox(busybox);
        List<ImageSpec> specs = List.of(
                ImageSpec.tagged("ccci/old-tagged:1", OLD, 4L << 20),
                ImageSpec.dangling(now.minus(Duration.ofHours(1)), 2L << 20, 101),
                ImageSpec.dangling(OLD, (long) danglingMb << 20, 201),
                ImageSpec.dangling(OLD, (long) danglingMb << 20, 202),
                ImageSpec.dangling(OLD, (long) danglingMb << 20, 203),
                ImageSpec.dangling(OLD, 1L << 20, 301));
        List<String> ids = specs.stream().map(engine::loadImage).toList();
        // each arrived when it was built, on the containerd store too (which ages images by that)
        engine.backdateImageRecords(specs);
        String oldTagged = ids.get(0);
        String young = ids.get(1);
        List<String> oldDangling = ids.subList(2, 5);
        String used = ids.get(5);

        engine.dockerOk("create", "--network", "none", "--name", "ccci-holds-dangling", used, "sleep", "1");
        engine.dockerOk("create", "--network", "none", "--name", "ccci-created", busybox, "sleep", "1");
        engine.dockerOk("run", "--network", "none", "--name", "ccci-exited", busybox, "true");
        engine.dockerOk("volume", "create", VOLUME);
        engine.dockerOk("run", "--rm", "--network", "none", "-v", VOLUME + ":/data", busybox,
                "sh", "-c", "echo " + VOLUME_PROOF + " > /data/proof");
        engine.buildWithBuildKit("FROM " + busybox + "\nRUN echo built > /built\n", "ccci/built:1");
        if (withService) {
            engine.dockerOk("service", "create", "--detach", "--name", SERVICE, busybox, "sleep", "3600");
            waitUntil(() -> engine.dockerOk("service", "ls", "--filter", "name=" + SERVICE,
                    "--format", "{{.Replicas}}").equals("1/1"), SERVICE + " running");
        }
        return new PruneScenario(busybox, oldTagged, young, oldDangling, used, now);
    }

    /**
     * Waits until every container and image is older than {@code until} as the engine ages them: the
     * engine cuts "now - until" down to a whole second and compares its own timestamps (a
     * container's Created; an image's Created, or on the containerd store the later LastTagTime,
     * when it was tagged or became dangling; a build cache record's last use), so an object is old
     * enough from the whole second after its newest timestamp plus {@code until}.
     */
    static void awaitAllOlderThan(SandboxEngine engine, Duration until) {
        Instant newest = Instant.EPOCH;
        List<String> containers = engine.dockerOk("ps", "-aq").lines().filter(l -> !l.isBlank()).toList();
        List<String> images = engine.dockerOk("images", "-aq", "--no-trunc").lines().filter(l -> !l.isBlank()).distinct().toList();
        List<String> times = new java.util.ArrayList<>();
        if (!containers.isEmpty()) {
            times.addAll(engine.dockerOk(concat(List.of("inspect", "-f", "{{.Created}}"), containers)).lines().toList());
        }
        if (!images.isEmpty()) {
            times.addAll(engine.dockerOk(concat(List.of("image", "inspect", "-f", "{{json .Created}} {{json .Metadata.LastTagTime}}"), images))
                    .lines().flatMap(l -> java.util.Arrays.stream(l.split(" "))).toList());
        }
        for (com.fasterxml.jackson.databind.JsonNode record : engine.dockerJson("system", "df", "-v", "--format", "{{json .BuildCache}}")) {
            times.add(record.path("LastUsedAt").asText(""));
            times.add(record.path("CreatedAt").asText(""));
        }
        for (String t : times) {
            if (t.isBlank() || t.contains("0001-01-01")) {
                continue; // never tagged
            }
            Instant i = parseEngineTime(t);
            newest = i.isAfter(newest) ? i : newest;
        }
        Instant oldEnough = Instant.ofEpochSecond(newest.getEpochSecond() + 1).plus(until).plusMillis(250);
        Await.await(() -> Instant.now().isAfter(oldEnough), until.plusSeconds(5), "every object is older than " + until);
    }

    /** RFC 3339 (inspect's JSON) or Go's time.String() ("2026-11-30 10:21:53.355 +0000 UTC", df's JSON). */
    private static Instant parseEngineTime(String text) {
        String t = text.strip().replace("\"", "");
        if (t.endsWith(" +0000 UTC")) {
            t = t.substring(0, t.length() - " +0000 UTC".length()).replaceFirst(" ", "T") + "Z";
        }
        return Instant.parse(t);
    }

    private static String[] concat(List<String> head, List<String> rest) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(rest);
        return all.toArray(String[]::new);
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, String what) {
        Await.await(condition, Duration.ofSeconds(60), what);
    }

    /** Every image ID in the store, intermediate ones included. */
    static Set<String> imageIds(SandboxEngine engine) {
        return new TreeSet<>(engine.dockerOk("images", "-a", "-q", "--no-trunc").lines().toList());
    }

    /** What survives, named so that two engines built from the same scenario compare equal. */
    static Set<String> survivors(SandboxEngine engine) {
        Set<String> all = new TreeSet<>();
        engine.dockerOk("images", "-a", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines()
                .map(line -> line.startsWith("<none>:<none> ") ? "image " + line.substring(14) : "image " + line.split(" ")[0])
                .forEach(all::add);
        engine.dockerOk("ps", "-a", "--format", "{{.Names}}").lines()
                .filter(name -> !name.startsWith(SERVICE + "."))
                .map(name -> "container " + name).forEach(all::add);
        engine.dockerOk("volume", "ls", "-q").lines().map(v -> "volume " + v).forEach(all::add);
        engine.dockerOk("system", "df", "-v", "--format", "{{range .BuildCache}}{{.CacheType}} {{.Description}}\n{{end}}")
                .lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> "build-cache " + l).forEach(all::add);
        return all;
    }

    String volumeProof(SandboxEngine engine) {
        return engine.dockerOk("run", "--rm", "--network", "none", "-v", VOLUME + ":/data", busybox, "cat", "/data/proof");
    }
}
