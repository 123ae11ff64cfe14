//SOURCES Cli.java Disk.java Disks.java EngineApi.java EvictionPolicy.java GateCheck.java GatePolicy.java
//SOURCES HostSnapshot.java InUse.java LastUse.java Text.java
package ccci;

import ccci.Cli.ExitCodes;
import ccci.EvictionPolicy.Decision;
import ccci.EvictionPolicy.Plan;
import ccci.GatePolicy.GateResult;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Eviction's imperative shell: removes the images of an {@link EvictionPolicy} plan in its order,
 * one at a time: those unused for longer than --max-unused-age whatever the disk, then (when the
 * disk called for space) the next ones while the disk is at or above the low watermark (measured
 * before each removal); at most --evict-max of them, the rest left for the next run.
 * Before each removal the gates are checked again, and with the workloads read for it the image's
 * users: the one definition of in use, on the image as the engine has it now.
 *
 * <p>An image goes whole or not at all. The engine refuses to delete an image by ID while it has
 * names in several repositories, and deletes a tag without asking who uses the image (only the last
 * name's delete meets its 409), so the names go one by one and the last delete is the engine's own
 * check of its containers; when that meets a 409, or the image stays for any reason, every tag
 * taken is put back. Never forced.
 */
public final class EvictionRun {
    private EvictionRun() {}

    /** What happened to one image of the order. removed: the engine deleted it; else why not, and what it did. */
    public record Removal(Decision decision, boolean removed, String detail, Optional<Integer> diskAfter) {}

    /**
     * The eviction step of a prune. predicted: a dry run (removals are what the plan predicts).
     * stopped: why it stopped before reaching the watermark (gates closed, engine error), with the
     * exit code to use; else empty. leftForNextRun: due, but left by --evict-max. reachedWatermark:
     * the disk ended below the watermark (true when eviction was not for space).
     */
    public record Result(Plan plan, boolean predicted, List<Removal> removals, Optional<Integer> diskBefore,
                         Optional<Integer> diskAfter, Optional<String> stopped, int exitCode, List<Decision> leftForNextRun,
                         boolean reachedWatermark) {
        public List<Removal> removed() {
            return removals.stream().filter(Removal::removed).toList();
        }

        /** The unique bytes of the images removed (or, for a dry run, to be removed). */
        public long bytesFreed() {
            return removed().stream().mapToLong(r -> r.decision().frees()).sum();
        }

        /** The images removed (or to be removed) for this cause. */
        public List<Removal> removed(EvictionPolicy.Cause cause) {
            return removed().stream().filter(r -> r.decision().cause().equals(Optional.of(cause))).toList();
        }
    }

    /** Hooks for progress output (and for tests that change the host between removals). */
    public interface Listener {
        default void beforeRemoval(Decision next) {}

        default void removalDone(Removal removal) {}
    }

    /** What a real run would do on the same state: the plan's predicted removals. */
    public static Result predict(Plan plan) {
        List<Removal> removals = plan.evicted().stream()
                .map(d -> new Removal(d, true, "would free " + Text.bytes(d.frees()), Optional.empty())).toList();
        return new Result(plan, true, removals, Optional.of(plan.disk().usedPercent()),
                Optional.of(plan.predictedAfter().usedPercent()), Optional.empty(), ExitCodes.OK, plan.deferred(),
                plan.reachesWatermark());
    }

    /** What a removal needs besides the plan: the host's seams, the gates, and the rules of in use. */
    public record Context(EngineApi engine, Disks disks, GatePolicy.Settings gates, InUse.Settings keep, LastUse record,
                          EvictionPolicy.Settings settings, HostSnapshot planned, Instant now) {}

    public static Result run(Context c, Plan plan, Path diskPath, Listener listener) {
        List<Removal> removals = new ArrayList<>();
        Optional<Disk> before = measure(c.disks(), diskPath);
        Optional<Disk> now = before;
        Optional<Instant> unusedSince = plan.maxUnusedAge().map(a -> c.now().minus(a.duration()));
        int removed = 0;
        List<Decision> order = plan.order();
        for (int i = 0; i < order.size(); i++) {
            Decision d = order.get(i);
            if (now.isEmpty()) {
                return result(plan, removals, before, now, Optional.of("cannot measure the disk at " + diskPath + ": eviction stopped"),
                        ExitCodes.CANNOT_EVALUATE, List.of());
            }
            boolean old = unusedSince.isPresent() && d.lastUse().at().isBefore(unusedSince.get());
            Disk disk = now.get();
            boolean forSpace = plan.forSpace() && plan.watermark().map(w -> w.reachedBy(disk)).orElse(false);
            if (!old && !forSpace) {
                break; // LRU order: no later candidate is older
            }
            if (plan.evictMax().isPresent() && removed >= plan.evictMax().getAsInt()) {
                return result(plan, removals, before, now, Optional.empty(), ExitCodes.OK, order.subList(i, order.size()).stream()
                        .filter(x -> x.evict() || x.deferred() || (unusedSince.isPresent() && x.lastUse().at().isBefore(unusedSince.get())))
                        .toList());
            }
            Decision due = old || d.cause().isPresent() ? d.due() : new Decision(d.image(), d.lastUse(), d.frees(), true, d.evict(),
                    "unused, last use " + InUse.ago(d.lastUse().at(), c.now()) + " ago (" + d.lastUse().describe()
                            + "); the disk still at or above " + plan.evictTo().below(), Optional.of(EvictionPolicy.Cause.SPACE), false);
            if (old && !d.cause().equals(Optional.of(EvictionPolicy.Cause.AGE))) {
                due = new Decision(d.image(), d.lastUse(), d.frees(), true, d.evict(), "unused for " + InUse.ago(d.lastUse().at(), c.now())
                        + ", longer than --max-unused-age " + plan.maxUnusedAge().get(), Optional.of(EvictionPolicy.Cause.AGE), false);
            }
            listener.beforeRemoval(due);
            GateCheck.Checked recheck = GateCheck.check(c.engine(), c.gates(), Optional.empty(), c.disks());
            List<GateResult> closed = recheck.verdict().closedMidRun();
            if (!closed.isEmpty()) {
                boolean unknown = closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
                return result(plan, removals, before, now, Optional.of("gates closed before evicting "
                        + Text.safe(d.image().name()) + ": " + String.join("; ",
                        closed.stream().map(g -> g.name() + ": " + g.detail()).toList())),
                        unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.STOPPED_GATES_CLOSED, List.of());
            }
            Removal removal;
            try {
                removal = remove(c, recheck.host().orElseThrow(), due, diskPath);
            } catch (EngineApi.Unavailable e) {
                return result(plan, removals, before, measure(c.disks(), diskPath), Optional.of("while evicting " + Text.safe(d.image().name())
                        + ": " + e.getMessage()), ExitCodes.ENGINE_FAILED, List.of());
            }
            removals.add(removal);
            if (removal.removed()) {
                removed++;
            }
            listener.removalDone(removal);
            now = measure(c.disks(), diskPath);
        }
        return result(plan, removals, before, now, Optional.empty(), ExitCodes.OK, List.of());
    }

    private static Result result(Plan plan, List<Removal> removals, Optional<Disk> before, Optional<Disk> after, Optional<String> stopped,
                                 int exit, List<Decision> left) {
        boolean reached = !plan.forSpace() || plan.watermark().isEmpty()
                || after.map(d -> !plan.watermark().get().reachedBy(d)).orElse(false);
        return new Result(plan, false, removals, percent(before), percent(after), stopped, exit, List.copyOf(left), reached);
    }

    /**
     * One image, whole or not at all: its users checked again on the image as it is now (a new tag
     * means someone used it: kept), then its names removed, the last by the engine's own check.
     */
    static Removal remove(Context c, HostSnapshot workloads, Decision d, Path diskPath) {
        EngineApi engine = c.engine();
        HostSnapshot.Image planned = d.image();
        Optional<HostSnapshot.Image> found = current(engine, planned);
        if (found.isEmpty()) {
            return new Removal(d, false, "gone already (removed by someone else)", percent(measure(c.disks(), diskPath)));
        }
        HostSnapshot.Image image = found.get();
        List<String> added = image.tags().stream().filter(t -> !planned.tags().contains(t)).toList();
        if (!added.isEmpty()) {
            return kept(c, d, diskPath, "a tag was added since the plan (" + Text.safe(String.join(", ", added)) + ")");
        }
        HostSnapshot.Store store = c.planned().requireStore();
        List<HostSnapshot.Image> images = new ArrayList<>(store.images().stream().map(i -> i.id().equals(image.id()) ? image : i).toList());
        HostSnapshot now = new HostSnapshot(workloads.readAt(), workloads.engine(), workloads.services(), workloads.tasks(),
                workloads.containers(), Optional.of(new HostSnapshot.Store(images, store.buildCache(), store.volumes(), store.layersSize())));
        List<InUse.Reason> users = InUse.of(now, c.keep(), new InUse.Recency(c.record(), c.settings().minAge(), c.now()))
                .getOrDefault(image.id(), List.of());
        if (!users.isEmpty()) {
            return kept(c, d, diskPath, "a user appeared: " + InUse.describe(users));
        }

        List<String> untagged = new ArrayList<>();
        // its tags first, then the containerd store's records named by a digest (repo@sha256:..., listed
        // among RepoTags): a tag can be put back after a 409, a record by digest cannot (the engine tags
        // no name with a digest), so the delete that may meet a user's 409 is of such a record
        List<String> names = new ArrayList<>(image.tags().stream().filter(t -> !t.contains("@")).toList());
        names.addAll(image.tags().stream().filter(t -> t.contains("@")).toList());
        names.add(image.id()); // what is left after the tags (registry digests) goes with the image itself
        for (String name : names) {
            JsonNode answer;
            try {
                answer = engine.deleteImage(name);
            } catch (EngineApi.Refused e) {
                if (e.status() == 404) {
                    continue;
                }
                String restored = restore(engine, image, untagged);
                return kept(c, d, diskPath, (e.status() == 409 ? "a user appeared (the engine: " : "the engine refused (HTTP " + e.status() + ": ")
                        + Text.safe(e.engineMessage()) + ")" + restored);
            }
            if (deleted(answer, image.id())) {
                return new Removal(d, true, "freed " + Text.bytes(d.frees()) + " (unique bytes)", percent(measure(c.disks(), diskPath)));
            }
            if (!name.equals(image.id())) {
                untagged.add(name);
            }
        }
        if (current(engine, image).isEmpty()) {
            return new Removal(d, true, "freed " + Text.bytes(d.frees()) + " (unique bytes)", percent(measure(c.disks(), diskPath)));
        }
        return kept(c, d, diskPath, "the engine kept it after its names went" + restore(engine, image, untagged));
    }

    private static Removal kept(Context c, Decision d, Path diskPath, String why) {
        return new Removal(d, false, "kept: " + why, percent(measure(c.disks(), diskPath)));
    }

    /** The image as the engine has it now (its tags and digests), or empty when it is gone. */
    static Optional<HostSnapshot.Image> current(EngineApi engine, HostSnapshot.Image planned) {
        JsonNode inspected;
        try {
            inspected = engine.inspectImage(planned.id());
        } catch (EngineApi.Refused e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
        List<String> tags = new ArrayList<>();
        inspected.path("RepoTags").forEach(t -> tags.add(t.asText()));
        List<String> digests = new ArrayList<>();
        inspected.path("RepoDigests").forEach(t -> digests.add(t.asText()));
        return Optional.of(new HostSnapshot.Image(planned.id(), planned.parentId(), List.copyOf(tags), List.copyOf(digests),
                planned.created(), planned.size(), planned.sharedSize(), planned.labels(), planned.topLevel(), planned.layers(),
                planned.lastTagTime()));
    }

    /** Puts back the tags taken from an image that stays; says what could not be put back. */
    static String restore(EngineApi engine, HostSnapshot.Image image, List<String> tags) {
        if (tags.isEmpty()) {
            return "";
        }
        List<String> failed = new ArrayList<>();
        for (String tag : tags) {
            int colon = tag.lastIndexOf(':');
            if (tag.contains("@")) {
                failed.add(tag); // a record by digest: no tag request can name it again
                continue;
            }
            try {
                engine.tagImage(image.id(), tag.substring(0, colon), tag.substring(colon + 1));
            } catch (EngineApi.Unavailable e) {
                failed.add(tag);
            }
        }
        List<String> digestsLost = current(engine, image).map(now -> image.repoDigests().stream()
                .filter(dg -> !now.repoDigests().contains(dg)).toList()).orElse(List.of());
        List<String> back = tags.stream().filter(t -> !failed.contains(t)).toList();
        return (back.isEmpty() ? "" : "; its tags put back (" + Text.safe(String.join(", ", back)) + ")")
                + (failed.isEmpty() ? "" : "; could not put back " + Text.safe(String.join(", ", failed)))
                + (digestsLost.isEmpty() ? "" : "; its registry digest " + Text.safe(String.join(", ", digestsLost))
                        + " went with its last tag (a deploy by digest pulls the manifest again)");
    }

    private static boolean deleted(JsonNode answer, String id) {
        for (JsonNode entry : answer) {
            if (entry.path("Deleted").asText().equals(id)) {
                return true;
            }
        }
        return false;
    }

    private static Optional<Disk> measure(Disks disks, Path path) {
        try {
            return Optional.of(disks.measure(path));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> percent(Optional<Disk> disk) {
        return disk.map(Disk::usedPercent);
    }
}
