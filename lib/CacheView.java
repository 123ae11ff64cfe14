//SOURCES Disk.java Disks.java EngineApi.java EvictionPolicy.java HostSnapshot.java InUse.java LastUse.java
//SOURCES PrunePolicy.java Text.java Until.java
package ccci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What `cache` shows, read once: the store (images, who uses them, unique and shared bytes), the
 * disk, the last use of every image, what prune would remove now (PrunePolicy's own plan) and what
 * eviction down to the low watermark would remove, in which order (EvictionPolicy's plan); all of
 * it decided by the one definition of in use. Reading it also refreshes the last-use record with
 * the images in use right now. notes are one-line warnings (a record that could not be read or written).
 */
public record CacheView(
        String host,
        HostSnapshot snapshot,
        Disk disk,
        Path lastUseFile,
        boolean recordExists,
        LastUse lastUse,
        List<String> notes,
        Until until,
        InUse.Settings keep,
        Map<String, List<InUse.Reason>> inUse,
        PrunePolicy.Plan prunePlan,
        EvictionPolicy.Settings eviction,
        EvictionPolicy.Plan evictionPlan,
        Instant now,
        OptionalLong buildCacheMax) {

    public static CacheView read(EngineApi engine, Disks disks, Optional<Path> path, Path lastUseFile, Until until,
                                 InUse.Settings keep, EvictionPolicy.Settings eviction, Instant now) {
        return read(engine, disks, path, lastUseFile, until, keep, eviction, now, OptionalLong.empty());
    }

    /** @param buildCacheMax --build-cache-max: prune's build-cache budget, shown in what prune would remove */
    public static CacheView read(EngineApi engine, Disks disks, Optional<Path> path, Path lastUseFile, Until until,
                                 InUse.Settings keep, EvictionPolicy.Settings eviction, Instant now, OptionalLong buildCacheMax) {
        HostSnapshot host = HostSnapshot.read(engine, HostSnapshot.Depth.STORE, now);
        Path target = path.orElseGet(() -> {
            Path root = Path.of(host.engine().dockerRootDir());
            return disks.isDirectory(root) ? root : Path.of("/");
        });
        Disk disk;
        try {
            disk = disks.measure(target);
        } catch (IOException | SecurityException e) {
            throw new EngineApi.Unavailable("cannot measure the disk at " + target + ": " + Text.rootMessage(e), e);
        }
        List<String> notes = new ArrayList<>();
        boolean recordExists = Files.exists(lastUseFile);
        LastUse.Loaded loaded = LastUse.load(lastUseFile);
        loaded.problem().ifPresent(notes::add);
        LastUse record = loaded.record();
        host.inUseNow().forEach(u -> record.use(u.imageId(), List.of(u.reference()), now));
        LastUse.refresh(lastUseFile, host.inUseNow(), now, Optional.of(host.presence())).ifPresent(notes::add);
        PrunePolicy.Plan prunePlan = PrunePolicy.plan(new PrunePolicy.Inputs(host, keep, record), now, until, buildCacheMax);
        EvictionPolicy.Plan evictionPlan = EvictionPolicy.plan(host, keep, record, eviction, disk, now);
        Map<String, List<InUse.Reason>> inUse = InUse.of(host, InUse.Settings.NONE, new InUse.Recency(record, Until.NONE, now));
        return new CacheView(engine.host(), host, disk, lastUseFile, recordExists, record, notes, until, keep, inUse, prunePlan,
                eviction, evictionPlan, now, buildCacheMax);
    }

    /** The gaps in the last-use record (watch down, the engine's events lost), oldest first. */
    public List<LastUse.Gap> gaps() {
        return lastUse.gaps();
    }

    /** Images whose last use is the end of a gap in the record they were present at. */
    public long imagesFromGap() {
        return images().stream().filter(i -> InUse.lastUse(lastUse, i).source() == LastUse.Source.GAP_END).count();
    }

    /** Build cache bytes not shared with an image (what --build-cache-max is measured against, as BuildKit counts it). */
    public long buildCacheBytes() {
        return snapshot.requireStore().buildCache().stream().filter(b -> !b.shared()).mapToLong(HostSnapshot.BuildCacheRecord::size).sum();
    }

    /** The images `docker images` lists. */
    public List<HostSnapshot.Image> images() {
        return snapshot.requireStore().topLevel();
    }

    /** Who uses an image right now: containers, services, tasks, users of a child (no age, no keep rule). */
    public List<InUse.Reason> usersOf(HostSnapshot.Image image) {
        return inUse.getOrDefault(image.id(), List.of());
    }

    /** Bytes prune would free now: what its plan removes (containers' writable layers, images' unique bytes, build cache). */
    public long pruneReclaimableBytes() {
        return prunePlan.removed().stream().mapToLong(PrunePolicy.Item::size).sum();
    }

    /** The engine's total of image layers on disk, each layer counted once (docker system df's SIZE). */
    public long layersBytes() {
        return snapshot.requireStore().layersSize();
    }

    /** Bytes only one image holds, summed. */
    public long uniqueBytes() {
        return images().stream().mapToLong(HostSnapshot.Image::uniqueBytes).sum();
    }

    /** Bytes of layers several images share, each layer counted once (as docker system df counts them). */
    public long sharedBytes() {
        return Math.max(0, layersBytes() - uniqueBytes());
    }

    /** Containers (any state) made from the image. */
    public long containersOf(HostSnapshot.Image image) {
        return snapshot.containers().stream().filter(c -> c.imageId().equals(image.id())).count();
    }

    /** Images some workload uses. */
    public long imagesInUse() {
        return images().stream().filter(i -> !usersOf(i).isEmpty()).count();
    }

    /** Images whose last use comes from the record (their own or a tag's) or the engine's tag time, not their creation. */
    public long imagesWithRecord() {
        return images().stream().filter(i -> InUse.lastUse(lastUse, i).source() != LastUse.Source.CREATED).count();
    }

    /** The eviction decision about one image. */
    public EvictionPolicy.Decision decision(HostSnapshot.Image image) {
        for (EvictionPolicy.Decision d : evictionPlan.order()) {
            if (d.image().id().equals(image.id())) {
                return d;
            }
        }
        return evictionPlan.kept().stream().filter(d -> d.image().id().equals(image.id())).findFirst().orElseThrow();
    }

    /** 1-based place in the eviction order, or 0 when the image is not a candidate. */
    public int rank(HostSnapshot.Image image) {
        List<EvictionPolicy.Decision> order = evictionPlan.order();
        for (int i = 0; i < order.size(); i++) {
            if (order.get(i).image().id().equals(image.id())) {
                return i + 1;
            }
        }
        return 0;
    }
}
