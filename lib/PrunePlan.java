package ccci;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What each phase of prune removes and what it keeps, with a reason for every object: a pure
 * prediction of the engine's own prune endpoints (the ones `docker container|image|builder prune
 * --filter until=...` call), phase by phase, so that dry-run tells the truth.
 */
public record PrunePlan(Instant cutoff, List<Item> containers, List<Item> images, List<Item> buildCache, List<Item> volumes) {

    public enum Phase {
        CONTAINERS("containers", "stopped containers"),
        IMAGES("images", "dangling images"),
        BUILD_CACHE("build-cache", "build cache");

        public final String key;
        public final String label;

        Phase(String key, String label) {
            this.key = key;
            this.label = label;
        }
    }

    public record Item(String kind, String id, String name, Instant created, long size, boolean remove, String reason) {}

    /** Engine states in which a container counts as running for container prune. */
    static final Set<String> RUNNING_STATES = Set.of("running", "paused", "restarting", "removing");
    /** Build cache BuildKit keeps unless `--all`: helper and frontend images. */
    static final Set<String> INTERNAL_CACHE_TYPES = Set.of("internal", "frontend");

    public List<Item> phase(Phase phase) {
        return switch (phase) {
            case CONTAINERS -> containers;
            case IMAGES -> images;
            case BUILD_CACHE -> buildCache;
        };
    }

    public List<Item> removed() {
        List<Item> all = new ArrayList<>();
        for (Phase p : Phase.values()) {
            phase(p).stream().filter(Item::remove).forEach(all::add);
        }
        return all;
    }

    public List<Item> kept() {
        List<Item> all = new ArrayList<>();
        for (Phase p : Phase.values()) {
            phase(p).stream().filter(i -> !i.remove()).forEach(all::add);
        }
        all.addAll(volumes);
        return all;
    }

    public static PrunePlan compute(PruneFacts facts, Instant now, Until until) {
        Instant cutoff = now.minus(until.duration());
        // The engine's container and image prune cut off at a whole second, and the listings give
        // whole seconds: an object from the cutoff's own second is still "younger" to the engine.
        Instant wholeSecondCutoff = cutoff.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String age = "younger than " + until;

        List<Item> containers = new ArrayList<>();
        Map<String, String> imageUsers = new HashMap<>(); // image ID -> a container that still uses it after phase 1
        for (PruneFacts.ContainerRow c : facts.containers()) {
            String reason;
            boolean remove = false;
            if (RUNNING_STATES.contains(c.state())) {
                reason = c.state();
            } else if (!c.created().isBefore(wholeSecondCutoff)) {
                reason = c.state() + ", " + age;
            } else {
                reason = c.state() + " and older than " + until;
                remove = true;
            }
            if (!remove) {
                imageUsers.putIfAbsent(c.imageId(), c.name());
            }
            containers.add(new Item("container", c.id(), c.name(), c.created(), 0, remove, reason));
        }

        List<Item> images = new ArrayList<>();
        for (PruneFacts.ImageRow i : facts.images()) {
            String name = i.dangling() ? "<none>:<none>" : String.join(", ", i.tags());
            String reason;
            boolean remove = false;
            if (!i.dangling()) {
                reason = "tagged";
            } else if (imageUsers.containsKey(i.id())) {
                reason = "in use by container " + imageUsers.get(i.id());
            } else if (!i.created().isBefore(wholeSecondCutoff)) {
                reason = "dangling, " + age;
            } else {
                reason = "dangling and older than " + until;
                remove = true;
            }
            images.add(new Item("image", i.id(), name, i.created(), i.size(), remove, reason));
        }

        List<Item> cache = new ArrayList<>();
        for (PruneFacts.BuildCacheRow b : facts.buildCache()) {
            Instant lastUsed = b.lastUsed().orElse(b.created());
            String reason;
            boolean remove = false;
            if (b.inUse()) {
                reason = "in use";
            } else if (INTERNAL_CACHE_TYPES.contains(b.type())) {
                reason = b.type() + " cache (removed only by builder prune --all)";
            } else if (b.shared()) {
                reason = "shared with an image";
            } else if (lastUsed.isAfter(cutoff)) {
                reason = "used within " + until;
            } else {
                reason = "unused for " + until + " or more";
                remove = true;
            }
            cache.add(new Item("build-cache", b.id(), b.type() + " " + b.description(), b.created(), b.size(), remove, reason));
        }

        List<Item> volumes = facts.volumes().stream()
                .map(v -> new Item("volume", v, v, null, 0, false, "volume: never pruned"))
                .toList();
        return new PrunePlan(cutoff, containers, images, cache, volumes);
    }

    static String ago(Instant then, Instant now) {
        Duration d = Duration.between(then, now);
        if (d.toDays() >= 2) return d.toDays() + "d ago";
        if (d.toHours() >= 1) return d.toHours() + "h ago";
        return Math.max(0, d.toMinutes()) + "m ago";
    }
}
