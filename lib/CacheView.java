package ccci;

import ccci.PrunePolicy.Until;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What `cache` shows, read once: the store (images, who uses them, unique and shared bytes), the
 * disk, the last use of every image, what the seed's prune would remove now (PrunePolicy's own
 * plan) and what eviction down to the low watermark would remove, in which order
 * (EvictionPolicy's plan). Reading it also refreshes the last-use record with the images in use
 * right now. notes are one-line warnings (a record that could not be read or written).
 */
public record CacheView(
        String host,
        CacheFacts facts,
        Disk disk,
        Path lastUseFile,
        LastUse lastUse,
        List<String> notes,
        Until until,
        PrunePolicy.Plan prunePlan,
        EvictionPolicy.Settings eviction,
        EvictionPolicy.Plan evictionPlan,
        Instant now) {

    /** The engine requests one view costs: GET /info, GET /system/df, GET /services (a swarm manager only). */
    public static final int ENGINE_REQUESTS = 3;

    public static CacheView read(Engine engine, Optional<Path> path, Path lastUseFile, Until until,
                                 EvictionPolicy.Settings eviction, Instant now) {
        CacheFacts facts = CacheFacts.read(engine);
        Path target = path.orElseGet(() -> {
            Path root = Path.of(facts.dockerRootDir());
            return Files.isDirectory(root) ? root : Path.of("/");
        });
        Disk disk;
        try {
            disk = Disk.measure(target);
        } catch (IOException | SecurityException e) {
            throw new Engine.Unavailable("cannot measure the disk at " + target + ": " + Text.rootMessage(e), e);
        }
        List<String> notes = new ArrayList<>();
        LastUse.Loaded loaded = LastUse.load(lastUseFile);
        loaded.problem().ifPresent(notes::add);
        LastUse record = loaded.record();
        facts.inUseNow().forEach(u -> record.use(u.imageId(), List.of(u.reference()), now));
        LastUse.refresh(lastUseFile, facts.inUseNow(), now, Optional.of(facts.presence())).ifPresent(notes::add);
        PrunePolicy.Plan prunePlan = PrunePolicy.plan(facts.asPruneFacts(), now, until);
        EvictionPolicy.Plan evictionPlan = EvictionPolicy.plan(facts, record, eviction, disk, now);
        return new CacheView(engine.host(), facts, disk, lastUseFile, record, notes, until, prunePlan, eviction, evictionPlan, now);
    }

    /** Bytes the seed's prune would free now: the removed images' sizes, build cache records and containers' writable layers. */
    public long pruneReclaimableBytes() {
        long bytes = 0;
        for (PrunePolicy.Item item : prunePlan.removed()) {
            bytes += item.kind().equals("container") ? containerSize(item.id()) : item.size();
        }
        return bytes;
    }

    private long containerSize(String id) {
        return facts.containers().stream().filter(c -> c.id().equals(id)).mapToLong(CacheFacts.Container::sizeRw).sum();
    }

    /** Images some container or service uses. */
    public long imagesInUse() {
        return facts.images().stream().filter(i -> !facts.usersOf(i).isEmpty()).count();
    }

    /** Images whose last use comes from the record (their own or a tag's), not their creation time. */
    public long imagesWithRecord() {
        return facts.images().stream().filter(i -> CacheFacts.lastUse(lastUse, i).source() != LastUse.Source.CREATED).count();
    }

    /** The eviction decision about one image. */
    public EvictionPolicy.Decision decision(CacheFacts.Image image) {
        for (EvictionPolicy.Decision d : evictionPlan.order()) {
            if (d.image().id().equals(image.id())) {
                return d;
            }
        }
        return evictionPlan.kept().stream().filter(d -> d.image().id().equals(image.id())).findFirst().orElseThrow();
    }

    /** 1-based place in the eviction order, or 0 when the image is not a candidate. */
    public int rank(CacheFacts.Image image) {
        List<EvictionPolicy.Decision> order = evictionPlan.order();
        for (int i = 0; i < order.size(); i++) {
            if (order.get(i).image().id().equals(image.id())) {
                return i + 1;
            }
        }
        return 0;
    }
}
