//SOURCES CacheView.java Cli.java EvictionPolicy.java HostSnapshot.java InUse.java Json.java LastUse.java
//SOURCES PrunePolicy.java SmallFile.java Text.java Threshold.java
package ccci;

import ccci.EvictionPolicy.Decision;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Renders a {@link CacheView}: a table for people, one JSON object, or textfile-collector metrics. */
public final class CacheFormat {
    private CacheFormat() {}

    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    static final String PREFIX = "ci_docker_cache_";

    public static String text(CacheView v) {
        Text.Lines out = new Text.Lines();
        long tagged = v.images().stream().filter(i -> !i.dangling()).count();
        long minFree = v.evictionPlan().watermark().map(Threshold::minFreeBytes).orElse(0L);
        out.add(String.format(Locale.ROOT, "disk      %d%% of %s in use (%s used, %s available%s)", v.disk().usedPercent(),
                v.disk().path(), Text.bytes(v.disk().usedBytes()), Text.bytes(v.disk().availableBytes()),
                minFree > 0 ? "; --min-free " + Text.bytes(minFree) : ""));
        out.add(String.format(Locale.ROOT, "images    %d (%d tagged, %d dangling), %d in use; layers %s on disk, %s shared by several images",
                v.images().size(), tagged, v.images().size() - tagged, v.imagesInUse(), Text.bytes(v.layersBytes()),
                Text.bytes(v.sharedBytes())));
        out.add(v.recordExists()
                ? String.format(Locale.ROOT, "last use  %d of %d images from the record %s or the engine's pull/tag time; the others by their creation time",
                        v.imagesWithRecord(), v.images().size(), v.lastUseFile())
                : String.format(Locale.ROOT, "last use  no record at %s (start watch to keep one: the ci-docker-watch unit, or watch@cc-ci); "
                        + "%d of %d images by the engine's pull/tag time, the others by their creation time",
                        v.lastUseFile(), v.imagesWithRecord(), v.images().size()));
        v.lastUse().alive().ifPresent(t -> out.add("watch     its last heartbeat in the record at " + WHEN.format(t)
                + " (" + InUse.ago(t, v.now()) + " ago)"));
        if (!v.gaps().isEmpty()) {
            LastUse.Gap latest = v.gaps().get(v.gaps().size() - 1);
            out.add(String.format(Locale.ROOT, "gaps      %s in the record (watch down, or the engine's events lost), the latest %s; "
                    + "%d images count as used at a gap's end (present then, never older)", v.gaps().size(), latest.describe(),
                    v.imagesFromGap()));
        }
        out.add("");
        out.add(String.format(Locale.ROOT, "%-12s  %-36s %9s %9s %9s  %-19s %-7s %-9s %s", "IMAGE ID", "REPOSITORY:TAG", "SIZE",
                "SHARED", "UNIQUE", "LAST USE", "FROM", "EVICTION", "IN USE BY / KEPT BECAUSE"));
        for (HostSnapshot.Image image : v.images()) {
            Decision d = v.decision(image);
            int rank = v.rank(image);
            String eviction = rank == 0 ? "kept" : label(d) + " " + rank;
            String why = rank == 0 || d.deferred() || d.cause().equals(java.util.Optional.of(EvictionPolicy.Cause.AGE)) ? d.reason() : "";
            out.add(String.format(Locale.ROOT, "%-12s  %-36s %9s %9s %9s  %-19s %-7s %-9s %s", Text.shortId(image.id()),
                    Text.clipStart(Text.safe(image.name()), 36), Text.bytes(image.size()), Text.bytes(image.sharedBytes()),
                    Text.bytes(image.uniqueBytes()), WHEN.format(d.lastUse().at()), source(d.lastUse()), eviction,
                    Text.safe(why)));
        }
        out.add("");
        List<PrunePolicy.Item> removed = v.prunePlan().removed();
        out.add(String.format(Locale.ROOT, "prune now (--until %s): would remove %s, %s, %s: %s",
                v.until(), Text.count(kind(removed, "container"), "container"), Text.count(kind(removed, "image"), "dangling image"),
                Text.count(kind(removed, "build-cache"), "build cache record"), Text.bytes(v.pruneReclaimableBytes())));
        v.buildCacheMax().ifPresent(max -> out.add(String.format(Locale.ROOT, "build cache %s not shared with images; --build-cache-max %s: "
                + "after the until prune, the engine's prune to the budget would remove %s", Text.bytes(v.buildCacheBytes()), Text.bytes(max),
                Text.count(removed.stream().filter(i -> i.kind().equals("build-cache") && i.reason().startsWith("beyond --build-cache-max")).count(),
                        "record"))));
        EvictionPolicy.Plan plan = v.evictionPlan();
        if (plan.bytesNeeded() == 0) {
            out.add(String.format(Locale.ROOT, "eviction  the disk is below %s already: nothing to evict for space (%d candidates, least recently used first)",
                    plan.evictTo().below(), plan.order().size()));
        } else {
            out.add(String.format(Locale.ROOT, "eviction  to below %d%%: %s needed; would remove %s, freeing %s%s",
                    plan.evictToPercent(), Text.bytes(plan.bytesNeeded()), Text.count(plan.evicted().size(), "image"),
                    Text.bytes(plan.bytesFreed()), plan.reachesWatermark() ? ""
                            : ", not enough: " + plan.predictedAfter().usedPercent() + "% after"));
        }
        int rank = 0;
        plan.maxUnusedAge().ifPresent(age -> {
            List<Decision> old = plan.order().stream().filter(d -> d.cause().equals(java.util.Optional.of(EvictionPolicy.Cause.AGE))).toList();
            out.add(String.format(Locale.ROOT, "max age   --max-unused-age %s: %s unused for longer, whatever the disk (%s)", age,
                    Text.count(old.size(), "image"), Text.bytes(old.stream().mapToLong(Decision::frees).sum())));
        });
        plan.evictMax().ifPresent(n -> out.add(String.format(Locale.ROOT, "evict max --evict-max %d: %s left for the next run", n,
                Text.count(plan.deferred().size(), "image"))));
        for (Decision d : plan.order()) {
            rank++;
            out.add(String.format(Locale.ROOT, "  %-5s %3d  %-12s  frees %9s  last use %s (%s)  %s", label(d), rank,
                    Text.shortId(d.image().id()), Text.bytes(d.frees()), WHEN.format(d.lastUse().at()),
                    d.lastUse().describe(), Text.safe(d.image().name())));
        }
        v.notes().forEach(n -> out.add("note: " + Text.safe(n)));
        out.add(summary(v));
        return out.toString();
    }

    /** evict (for space), age (--max-unused-age), next (left for the next run by --evict-max), spare. */
    static String label(Decision d) {
        if (d.deferred()) {
            return "next";
        }
        if (!d.evict()) {
            return "spare";
        }
        return d.cause().equals(java.util.Optional.of(EvictionPolicy.Cause.AGE)) ? "age" : "evict";
    }

    private static long kind(List<PrunePolicy.Item> items, String kind) {
        return items.stream().filter(i -> i.kind().equals(kind)).count();
    }

    private static String source(LastUse.Seen seen) {
        return switch (seen.source()) {
            case RECORD -> "record";
            case TAG_RECORD -> "tag";
            case TAGGED -> "tagged";
            case GAP_END -> "gap";
            case CREATED -> "created";
        };
    }

    public static String summary(CacheView v) {
        EvictionPolicy.Plan plan = v.evictionPlan();
        return new Text.Summary()
                .put("images", v.images().size())
                .put("tagged", v.images().stream().filter(i -> !i.dangling()).count())
                .put("dangling", v.images().stream().filter(HostSnapshot.Image::dangling).count())
                .put("in_use", v.imagesInUse())
                .put("layers_bytes", v.layersBytes())
                .put("disk_used_percent", v.disk().usedPercent())
                .put("prune_reclaimable_bytes", v.pruneReclaimableBytes())
                .put("evict_to", plan.evictToPercent())
                .put("evict_candidates", plan.order().size())
                .put("evict_images", plan.evicted().size())
                .put("evict_reclaimable_bytes", plan.bytesFreed())
                .put("evict_left", plan.deferred().size())
                .put("last_use_recorded", v.imagesWithRecord())
                .toString();
    }

    public static String json(CacheView v) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("host", v.host());
        ObjectNode disk = root.putObject("disk");
        disk.put("path", v.disk().path().toString());
        disk.put("usedPercent", v.disk().usedPercent());
        disk.put("usedBytes", v.disk().usedBytes());
        disk.put("availableBytes", v.disk().availableBytes());
        ObjectNode totals = root.putObject("totals");
        totals.put("images", v.images().size());
        totals.put("tagged", v.images().stream().filter(i -> !i.dangling()).count());
        totals.put("dangling", v.images().stream().filter(HostSnapshot.Image::dangling).count());
        totals.put("inUse", v.imagesInUse());
        totals.put("layersBytes", v.layersBytes());
        totals.put("sharedBytes", v.sharedBytes());
        totals.put("uniqueBytes", v.uniqueBytes());
        root.put("lastUseFile", v.lastUseFile().toString());
        ObjectNode record = root.putObject("lastUseRecord");
        v.lastUse().alive().ifPresentOrElse(t -> record.put("watchAlive", t.toString()), () -> record.putNull("watchAlive"));
        ArrayNode gaps = record.putArray("gaps");
        for (LastUse.Gap g : v.gaps()) {
            ObjectNode gap = gaps.addObject();
            g.from().ifPresentOrElse(f -> gap.put("from", f.toString()), () -> gap.putNull("from"));
            gap.put("to", g.to().toString());
        }
        record.put("imagesFromGap", v.imagesFromGap());
        root.set("notes", Json.mapper().valueToTree(v.notes()));
        ArrayNode images = root.putArray("images");
        for (HostSnapshot.Image image : v.images()) {
            ObjectNode node = images.addObject();
            node.put("id", image.id());
            node.set("tags", Json.mapper().valueToTree(image.tags()));
            node.set("repoDigests", Json.mapper().valueToTree(image.repoDigests()));
            node.put("dangling", image.dangling());
            node.put("created", image.created().toString());
            node.put("size", image.size());
            node.put("sharedSize", image.sharedBytes());
            node.put("uniqueSize", image.uniqueBytes());
            node.put("containers", v.containersOf(image));
            node.set("inUseBy", Json.mapper().valueToTree(v.usersOf(image).stream().map(InUse.Reason::text).toList()));
            Decision d = v.decision(image);
            node.put("lastUse", d.lastUse().at().toString());
            node.put("lastUseSource", d.lastUse().source().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            int rank = v.rank(image);
            node.put("evictionRank", rank);
            node.put("evict", d.evict());
            node.put("evictionReason", d.reason());
        }
        ObjectNode prune = root.putObject("prune");
        prune.put("until", v.until().toString());
        prune.put("reclaimableBytes", v.pruneReclaimableBytes());
        v.buildCacheMax().ifPresentOrElse(m -> prune.put("buildCacheMax", m), () -> prune.putNull("buildCacheMax"));
        prune.put("buildCacheBytes", v.buildCacheBytes());
        ArrayNode wouldRemove = prune.putArray("wouldRemove");
        for (PrunePolicy.Item item : v.prunePlan().removed()) {
            ObjectNode node = wouldRemove.addObject();
            node.put("type", item.kind());
            node.put("id", item.id());
            node.put("name", item.name());
            node.put("size", item.size());
            node.put("reason", item.reason());
        }
        EvictionPolicy.Plan plan = v.evictionPlan();
        ObjectNode eviction = root.putObject("eviction");
        eviction.put("evictTo", plan.evictToPercent());
        eviction.put("minFreeBytes", plan.evictTo().minFreeBytes());
        eviction.put("minAge", v.eviction().minAge().toString());
        plan.maxUnusedAge().ifPresentOrElse(a -> eviction.put("maxUnusedAge", a.toString()), () -> eviction.putNull("maxUnusedAge"));
        plan.evictMax().ifPresentOrElse(n -> eviction.put("evictMax", n), () -> eviction.putNull("evictMax"));
        eviction.set("keep", Json.mapper().valueToTree(v.keep().keep().stream().map(p -> p.pattern()).toList()));
        eviction.set("keepLabels", Json.mapper().valueToTree(v.keep().keepLabels().stream().map(Object::toString).toList()));
        eviction.put("bytesNeeded", plan.bytesNeeded());
        eviction.put("bytesFreed", plan.bytesFreed());
        eviction.put("predictedUsedPercent", plan.predictedAfter().usedPercent());
        eviction.put("reachesWatermark", plan.reachesWatermark());
        decisions(eviction.putArray("order"), plan.order());
        decisions(eviction.putArray("kept"), plan.kept());
        return root.toPrettyString() + System.lineSeparator();
    }

    static void decisions(ArrayNode array, List<Decision> decisions) {
        for (Decision d : decisions) {
            array.add(Json.mapper().<ObjectNode>valueToTree(d.fields()));
        }
    }

    // ---------------------------------------------------------------- metrics

    public static void writeMetrics(Path file, CacheView v, Instant at) {
        try {
            SmallFile.writeAtomically(file, metrics(v, at));
        } catch (IOException | RuntimeException e) {
            throw new Cli.Failure(Cli.ExitCodes.METRICS_NOT_WRITTEN, "--metrics-file '" + file + "' cannot be written: "
                    + Text.rootMessage(e), e);
        }
    }

    static String metrics(CacheView v, Instant at) {
        EvictionPolicy.Plan plan = v.evictionPlan();
        Text.Gauges out = new Text.Gauges(PREFIX);
        out.gauge("last_run_timestamp_seconds", "Unix time the cache view was taken.", "",
                String.format(Locale.ROOT, "%d.%03d", at.getEpochSecond(), at.getNano() / 1_000_000));
        out.help("images", "Images in the local store (top-level, as docker images lists them), by kind.");
        out.sample("images", "{kind=\"tagged\"}", v.images().stream().filter(i -> !i.dangling()).count());
        out.sample("images", "{kind=\"dangling\"}", v.images().stream().filter(HostSnapshot.Image::dangling).count());
        out.gauge("images_in_use", "Images used by a container (running or stopped) or a service.", "", v.imagesInUse());
        out.gauge("layers_bytes", "Bytes of image layers on disk, each layer counted once (docker system df's image SIZE).", "", v.layersBytes());
        out.help("image_bytes", "Bytes of image layers on disk by kind: held by one image (unique) or shared by several, each layer once.");
        out.sample("image_bytes", "{kind=\"shared\"}", v.sharedBytes());
        out.sample("image_bytes", "{kind=\"unique\"}", v.uniqueBytes());
        out.gauge("disk_used_percent", "Used % (as df shows it) of the filesystem holding the store.", "", v.disk().usedPercent());
        out.gauge("prune_reclaimable_bytes", "Bytes prune would free now (--until).", "", v.pruneReclaimableBytes());
        out.gauge("evict_to_percent", "The low watermark eviction would bring the disk below.", "", plan.evictToPercent());
        out.gauge("evict_candidates", "Tagged images nothing uses or protects (eviction candidates).", "", plan.order().size());
        out.gauge("evict_images", "Images eviction down to the low watermark would remove now.", "", plan.evicted().size());
        out.gauge("evict_reclaimable_bytes", "Bytes eviction down to the low watermark would free now.", "", plan.bytesFreed());
        out.gauge("evict_left_images", "Images eviction would leave for the next run (--evict-max).", "", plan.deferred().size());
        out.gauge("last_use_gap_images", "Images whose last use is the end of a gap in the last-use record (watch down).", "", v.imagesFromGap());
        out.gauge("last_use_recorded_images", "Images whose last use comes from the record, not their creation time.", "", v.imagesWithRecord());
        return out.toString();
    }
}
