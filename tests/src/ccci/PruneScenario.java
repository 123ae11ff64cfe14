package ccci;

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
            GatesEngineTest.waitUntil(() -> engine.dockerOk("service", "ls", "--filter", "name=" + SERVICE,
                    "--format", "{{.Replicas}}").equals("1/1"), SERVICE + " running");
        }
        return new PruneScenario(busybox, oldTagged, young, oldDangling, used, now);
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
