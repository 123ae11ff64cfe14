//SOURCES EngineApi.java EngineInfo.java HostSnapshot.java InUse.java LastUse.java LocalImage.java Text.java
//SOURCES Until.java
package ccci;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What prune removes, phase by phase, and beside each phase what it asks of the engine: the pure
 * prediction with a reason for every object kept or removed is the plan, and the real run does
 * what the plan says (dry run = real run). Each phase decides its age once (containersAge,
 * imagesAge, buildCacheAge) for both its request and its prediction: edit a phase here, in one place.
 *
 * <ol>
 * <li>stopped containers: the engine's container prune, with until;</li>
 * <li>dangling images: deleted one by one, by ID and never forced, as this plan lists them. Not the
 *     engine's image prune: it cannot tell the local cache from debris, and removes an untagged
 *     image that came from a registry by digest (every stack deploy brings its images so on the
 *     classic store) although a redeploy needs it. Kept: anything {@link InUse} protects, and the
 *     newest image of each registry repository here (the cache); removed: untagged images older than
 *     until, older pulls of a repository superseded by a newer one among them;</li>
 * <li>build cache: the engine's build-cache prune, with until; with --build-cache-max, then the
 *     engine's build-cache prune with that budget (the oldest unused records go until the cache is
 *     below it).</li>
 * </ol>
 * Never widened: no "all", no volumes, no networks, no force ({@link EngineApi} cannot express them).
 */
public final class PrunePolicy {
    private PrunePolicy() {}

    public enum Phase {
        CONTAINERS("containers", "container"),
        IMAGES("images", "image"),
        BUILD_CACHE("build-cache", "build-cache");

        public final String key;
        /** What one object of this phase is called in the plan. */
        public final String kind;

        Phase(String key, String kind) {
            this.key = key;
            this.kind = kind;
        }
    }

    /** Why an object goes or stays, in kinds the summaries count by; the reason says it in words. */
    public enum Why { REMOVE, RUNNING, YOUNG, TAGGED, IN_USE, CACHE, UNKNOWN_AGE, NEVER }

    /** One object and what the phase does with it, and why; size: what removing it frees (an image: its unique bytes). */
    public record Item(String kind, String id, String name, Instant created, long size, Why why, String reason) {
        public boolean remove() {
            return why == Why.REMOVE;
        }

        /** The same object, kept at run time for another reason (a user appeared, the engine refused). */
        public Item keptBecause(Why why, String reason) {
            return new Item(kind, id, name, created, size, why, reason);
        }
    }

    /** The prediction for every object prune looks at; volumes are listed only to say they are kept. */
    public record Plan(List<Item> containers, List<Item> images, List<Item> buildCache, List<Item> volumes) {

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
    }

    /** What the plan is made from: the host, what the operator protects by name, and the last-use record. */
    public record Inputs(HostSnapshot host, InUse.Settings keep, LastUse record) {
        public static Inputs of(HostSnapshot host) {
            return new Inputs(host, InUse.Settings.NONE, LastUse.empty());
        }
    }

    /** The prediction of all three phases, run in order on the same state at {@code now}. */
    public static Plan plan(Inputs in, Instant now, Until until) {
        return plan(in, now, until, OptionalLong.empty());
    }

    /** @param buildCacheMax --build-cache-max: the build cache's budget in bytes (empty: none) */
    public static Plan plan(Inputs in, Instant now, Until until, OptionalLong buildCacheMax) {
        HostSnapshot host = in.host();
        List<Item> containers = host.containers().stream().map(c -> container(c, until, now)).toList();
        Set<String> removedContainers = new HashSet<>();
        containers.stream().filter(Item::remove).forEach(c -> removedContainers.add(c.id()));
        // the image phase runs after phase 1: the containers it removes no longer hold their images
        HostSnapshot afterPhase1 = new HostSnapshot(host.readAt(), host.engine(), host.services(), host.tasks(),
                host.containers().stream().filter(c -> !removedContainers.contains(c.id())).toList(), host.store());
        Map<String, List<InUse.Reason>> protectedImages = InUse.of(afterPhase1, in.keep(),
                new InUse.Recency(in.record(), imagesAge(until), now));
        HostSnapshot.Store store = host.requireStore();
        List<Item> images = store.topLevel().stream()
                .map(i -> image(i, store, protectedImages.getOrDefault(i.id(), List.of()), host.engine().imageStore(), until, now))
                .toList();
        List<Item> cache = store.buildCache().stream().map(b -> buildCacheRecord(b, until, now)).toList();
        if (buildCacheMax.isPresent()) {
            cache = buildCacheBudget(store.buildCache(), cache, buildCacheMax.getAsLong());
        }
        List<Item> volumes = store.volumes().stream()
                .map(v -> new Item("volume", v, v, null, 0, Why.NEVER, "volume: never pruned"))
                .toList();
        return new Plan(containers, images, cache, volumes);
    }

    /** The request of the phases the engine prunes itself (containers, build cache); the image phase has none. */
    public static Optional<EngineApi.PruneCall> request(Phase phase, Until until) {
        return switch (phase) {
            case CONTAINERS -> Optional.of(containersRequest(until));
            case IMAGES -> Optional.empty();
            case BUILD_CACHE -> Optional.of(buildCacheRequest(until));
        };
    }

    // ---------------------------------------------------------------- phase 1: stopped containers

    /** Engine states in which a container counts as running for container prune. */
    static final Set<String> RUNNING_STATES = Set.of("running", "paused", "restarting", "removing");

    /** The age a stopped container must reach before phase 1 removes it (its request and prediction ask here). */
    static Until containersAge(Until until) {
        return until;
    }

    static EngineApi.PruneCall containersRequest(Until until) {
        return new EngineApi.PruneCall(EngineApi.PruneCall.CONTAINERS, Map.of("until", List.of(containersAge(until).engineFilter())));
    }

    static Item container(HostSnapshot.Container c, Until until, Instant now) {
        Until age = containersAge(until);
        if (RUNNING_STATES.contains(c.state())) {
            return new Item(Phase.CONTAINERS.kind, c.id(), c.name(), c.created(), c.sizeRw(), Why.RUNNING, c.state());
        }
        if (!olderThan(c.created(), age, now)) {
            return new Item(Phase.CONTAINERS.kind, c.id(), c.name(), c.created(), c.sizeRw(), Why.YOUNG, c.state() + ", younger than " + age);
        }
        return new Item(Phase.CONTAINERS.kind, c.id(), c.name(), c.created(), c.sizeRw(), Why.REMOVE, c.state() + " and older than " + age);
    }

    // ---------------------------------------------------------------- phase 2: dangling images

    /** The age a dangling image must reach before phase 2 removes it, and within which a use protects it. */
    static Until imagesAge(Until until) {
        return until;
    }

    /** What the image phase deletes for a planned removal: the image, by ID (DELETE /images/{id}, never forced). */
    public static String imageRequest(Item item) {
        return item.id();
    }

    /**
     * The image store decides how old an untagged image is, as the engine's own prune would: on the
     * classic store by the config's build time (Created, whole seconds); on the containerd store by
     * the engine's record of it (when it became untagged or arrived so), which the store alone knows.
     *
     * @param protectedBy why {@link InUse} protects it (empty: nothing does)
     */
    static Item image(HostSnapshot.Image i, HostSnapshot.Store store, List<InUse.Reason> protectedBy, EngineInfo.ImageStore kind,
                      Until until, Instant now) {
        Until age = imagesAge(until);
        String name = i.name();
        if (!i.dangling()) {
            // never removed here; one a workload uses is said so (the shortfall's "nothing uses" counts the others)
            List<InUse.Reason> users = protectedBy.stream().filter(r -> r.kind().workload()).toList();
            return users.isEmpty() ? keep(i, Why.TAGGED, "tagged")
                    : keep(i, Why.IN_USE, "in use by " + InUse.describe(users) + "; tagged");
        }
        if (!protectedBy.isEmpty()) {
            return protectedBy.get(0).kind() == InUse.Kind.RECENT ? keep(i, Why.YOUNG, protectedBy.get(0).text())
                    : keep(i, Why.IN_USE, "in use by " + InUse.describe(protectedBy));
        }
        Optional<HostSnapshot.Image> newer = newerOfItsRepository(i, store);
        if (!i.repoDigests().isEmpty() && newer.isEmpty()) {
            return keep(i, Why.CACHE, "cache: the newest image of " + HostSnapshot.Image.repository(i.repoDigests().get(0))
                    + " here, pulled by digest (a redeploy needs it)");
        }
        String what = newer.map(n -> "superseded by " + LocalImage.shortId(n.id()) + " (" + n.name() + ")").orElse("dangling");
        Instant basis;
        String by = "";
        if (kind == EngineInfo.ImageStore.CONTAINERD) {
            if (i.lastTagTime().isEmpty()) {
                return keep(i, Why.UNKNOWN_AGE, what + "; its age on this store is unknown (no record time): kept");
            }
            basis = i.lastTagTime().get();
            by = " (by its local record, " + basis.truncatedTo(ChronoUnit.SECONDS) + ")";
            if (!basis.isBefore(now.minus(age.duration()))) {
                return keep(i, Why.YOUNG, what + ", younger than " + age + by);
            }
        } else if (!olderThan(i.created(), age, now)) {
            return keep(i, Why.YOUNG, what + ", younger than " + age);
        }
        return new Item(Phase.IMAGES.kind, i.id(), name, i.created(), i.uniqueBytes(), Why.REMOVE, what + " and older than " + age + by);
    }

    private static Item keep(HostSnapshot.Image i, Why why, String reason) {
        return new Item(Phase.IMAGES.kind, i.id(), i.name(), i.created(), i.uniqueBytes(), why, reason);
    }

    /**
     * A newer top-level image in one of this image's registry repositories, if any: then this one is
     * an older pull, superseded (newest: latest Created, then the later record time, then by ID).
     */
    static Optional<HostSnapshot.Image> newerOfItsRepository(HostSnapshot.Image image, HostSnapshot.Store store) {
        Set<String> repositories = image.repositories();
        if (repositories.isEmpty()) {
            return Optional.empty();
        }
        Comparator<HostSnapshot.Image> newest = Comparator.comparing(HostSnapshot.Image::created)
                .thenComparing(i -> i.lastTagTime().orElse(Instant.EPOCH))
                .thenComparing(HostSnapshot.Image::id);
        for (String repository : repositories) {
            Optional<HostSnapshot.Image> best = store.topLevel().stream()
                    .filter(other -> other.repositories().contains(repository))
                    .max(newest);
            if (best.isPresent() && best.get().id().equals(image.id())) {
                return Optional.empty(); // the newest of one of its repositories: the cache
            }
        }
        return store.topLevel().stream()
                .filter(other -> !other.id().equals(image.id()) && other.repositories().stream().anyMatch(repositories::contains))
                .max(newest);
    }

    // ---------------------------------------------------------------- phase 3: build cache

    /** Build cache BuildKit keeps unless `--all`: helper and frontend images. */
    static final Set<String> INTERNAL_CACHE_TYPES = Set.of("internal", "frontend");

    /** The age a build cache record must reach unused before phase 3 removes it (its request and prediction ask here). */
    static Until buildCacheAge(Until until) {
        return until;
    }

    static EngineApi.PruneCall buildCacheRequest(Until until) {
        return new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of("until", List.of(buildCacheAge(until).engineFilter())));
    }

    /**
     * After the until prune, the budget's: the engine's own build-cache prune with the budget as the
     * bytes to keep, in the parameter the engine's API version takes (reserved-space from 1.48,
     * keep-storage before; an engine ignores the other, and would prune every unused record).
     */
    public static EngineApi.PruneCall buildCacheBudgetRequest(long budget, String apiVersion) {
        return new EngineApi.PruneCall(EngineApi.PruneCall.BUILD_CACHE, Map.of(),
                Map.of(EngineApi.PruneCall.budgetParameter(apiVersion), Long.toString(budget)));
    }

    /**
     * What the budget's prune removes after the until prune, as BuildKit does it: while the cache
     * (records not shared with an image) holds the budget or more, the least recently used record
     * that is neither in use, shared nor internal goes (never used first), one at a time. (BuildKit
     * also weighs how often a record was used; records used as often go by last use.)
     */
    static List<Item> buildCacheBudget(List<HostSnapshot.BuildCacheRecord> records, List<Item> afterUntil, long budget) {
        Map<String, HostSnapshot.BuildCacheRecord> byId = new java.util.HashMap<>();
        records.forEach(r -> byId.put(r.id(), r));
        long total = 0;
        List<HostSnapshot.BuildCacheRecord> candidates = new ArrayList<>();
        for (Item item : afterUntil) {
            HostSnapshot.BuildCacheRecord r = byId.get(item.id());
            if (item.remove()) {
                continue;
            }
            if (!r.shared()) {
                total += r.size();
            }
            if (!r.inUse() && !r.shared() && !INTERNAL_CACHE_TYPES.contains(r.type())) {
                candidates.add(r);
            }
        }
        candidates.sort(Comparator.comparing((HostSnapshot.BuildCacheRecord r) -> r.lastUsed().orElse(Instant.MIN))
                .thenComparing(HostSnapshot.BuildCacheRecord::id));
        Set<String> over = new HashSet<>();
        for (HostSnapshot.BuildCacheRecord r : candidates) {
            if (total < budget) {
                break;
            }
            over.add(r.id());
            total -= r.size();
        }
        List<Item> result = new ArrayList<>();
        for (Item item : afterUntil) {
            result.add(over.contains(item.id()) ? item.keptBecause(Why.REMOVE, "beyond --build-cache-max " + Text.bytes(budget)
                    + ": the least recently used goes first (" + item.reason() + ")") : item);
        }
        return result;
    }

    /**
     * BuildKit ages a record by its last use, to the nanosecond, and prunes a record that was never
     * used whatever its age (cache/manager.go: only a LastUsedAt after the cutoff keeps it; the same
     * in the BuildKit of engines 20.10 (0.8), 26.1 (0.13) and 28.5 (0.25)).
     */
    static Item buildCacheRecord(HostSnapshot.BuildCacheRecord b, Until until, Instant now) {
        Until age = buildCacheAge(until);
        Why why;
        String reason;
        if (b.inUse()) {
            why = Why.IN_USE;
            reason = "in use";
        } else if (INTERNAL_CACHE_TYPES.contains(b.type())) {
            why = Why.NEVER;
            reason = b.type() + " cache (removed only by builder prune --all)";
        } else if (b.shared()) {
            why = Why.IN_USE;
            reason = "shared with an image";
        } else if (b.lastUsed().isEmpty()) {
            why = Why.REMOVE;
            reason = "never used (BuildKit removes it whatever its age)";
        } else if (b.lastUsed().get().isAfter(now.minus(age.duration()))) {
            why = Why.YOUNG;
            reason = "used within " + age;
        } else {
            why = Why.REMOVE;
            reason = "unused for " + age + " or more";
        }
        return new Item(Phase.BUILD_CACHE.kind, b.id(), b.type() + " " + b.description(), b.created(), b.size(), why, reason);
    }

    // ---------------------------------------------------------------- shared by the phases

    /**
     * Container and image prune cut off at a whole second, and the listings give whole seconds: an
     * object from the cutoff's own second is still "younger" to the engine.
     */
    static boolean olderThan(Instant created, Until until, Instant now) {
        return created.isBefore(now.minus(until.duration()).truncatedTo(ChronoUnit.SECONDS));
    }
}
