package ccci;

import ccci.Cli.BadInput;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What prune removes, phase by phase: the exact request each phase sends to the engine's own prune
 * endpoint (the calls behind `docker container|image|builder prune --filter until=...`), and beside
 * it the pure prediction of what that request removes, with a reason for every object kept or
 * removed, so that dry-run tells the truth. Each phase decides its age once (containersAge,
 * imagesAge, buildCacheAge) for both its request and its prediction: edit a phase here, in one place.
 * Never widened: no "all", no volumes, no networks, no force; images only when dangling.
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

    /**
     * One object and what the phase does with it, and why. undecided: the engine alone can tell
     * (its age on this store is unknown), so the prediction is neither remove nor keep.
     */
    public record Item(String kind, String id, String name, Instant created, long size, boolean remove, String reason,
                       boolean undecided) {
        public Item(String kind, String id, String name, Instant created, long size, boolean remove, String reason) {
            this(kind, id, name, created, size, remove, reason, false);
        }

        /**
         * The item once the real run is over, as the engine settled it: an undecided one says what
         * the engine did; one the plan kept but the engine removed says so (never a "keep" reason
         * under "removed").
         */
        public Item settled(boolean removedByEngine) {
            if (undecided) {
                return new Item(kind, id, name, created, size, removedByEngine, removedByEngine
                        ? "removed by the engine (its age on this store was unknown to the plan)"
                        : "kept by the engine (its age on this store was unknown to the plan)", false);
            }
            if (removedByEngine && !remove) {
                return new Item(kind, id, name, created, size, true, "removed by the engine, though the plan said: " + reason, false);
            }
            return this;
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
                phase(p).stream().filter(i -> !i.remove() && !i.undecided()).forEach(all::add);
            }
            all.addAll(volumes);
            return all;
        }

        /** Objects only the engine can decide on (their age on this store is unknown). */
        public List<Item> undecided() {
            List<Item> all = new ArrayList<>();
            for (Phase p : Phase.values()) {
                phase(p).stream().filter(Item::undecided).forEach(all::add);
            }
            return all;
        }
    }

    /** The exact request each phase sends; nothing else can widen it (no "all", no volumes, no networks). */
    public static String request(Phase phase, Until until) {
        return switch (phase) {
            case CONTAINERS -> containersRequest(until);
            case IMAGES -> imagesRequest(until);
            case BUILD_CACHE -> buildCacheRequest(until);
        };
    }

    /** The prediction of all three phases, run in order on the same state at {@code now}. */
    public static Plan plan(PruneFacts facts, Instant now, Until until) {
        List<Item> containers = new ArrayList<>();
        Map<String, String> imageUsers = new HashMap<>(); // image ID -> a container that still uses it after phase 1
        for (PruneFacts.ContainerRow c : facts.containers()) {
            Item item = container(c, until, now);
            if (!item.remove()) {
                imageUsers.putIfAbsent(c.imageId(), c.name());
            }
            containers.add(item);
        }
        List<Item> images = facts.images().stream().map(i -> image(i, imageUsers, facts.imageStore(), until, now)).toList();
        List<Item> cache = facts.buildCache().stream().map(b -> buildCacheRecord(b, until, now)).toList();
        List<Item> volumes = facts.volumes().stream()
                .map(v -> new Item("volume", v, v, null, 0, false, "volume: never pruned"))
                .toList();
        return new Plan(containers, images, cache, volumes);
    }

    // ---------------------------------------------------------------- phase 1: stopped containers

    /** Engine states in which a container counts as running for container prune. */
    static final Set<String> RUNNING_STATES = Set.of("running", "paused", "restarting", "removing");

    /** The age a stopped container must reach before phase 1 removes it (its request and prediction ask here). */
    static Until containersAge(Until until) {
        return until;
    }

    static String containersRequest(Until until) {
        return "/containers/prune?filters=" + encode("{" + untilFilter(containersAge(until)) + "}");
    }

    static Item container(PruneFacts.ContainerRow c, Until until, Instant now) {
        Until age = containersAge(until);
        String reason;
        boolean remove = false;
        if (RUNNING_STATES.contains(c.state())) {
            reason = c.state();
        } else if (!olderThan(c.created(), age, now)) {
            reason = c.state() + ", younger than " + age;
        } else {
            reason = c.state() + " and older than " + age;
            remove = true;
        }
        return new Item(Phase.CONTAINERS.kind, c.id(), c.name(), c.created(), 0, remove, reason);
    }

    // ---------------------------------------------------------------- phase 2: dangling images

    /** The age a dangling image must reach before phase 2 removes it (its request and prediction ask here). */
    static Until imagesAge(Until until) {
        return until;
    }

    static String imagesRequest(Until until) {
        return "/images/prune?filters=" + encode("{\"dangling\":[\"true\"]," + untilFilter(imagesAge(until)) + "}");
    }

    /** What --dry-run says of a dangling image whose age the engine's API does not tell. */
    static final String AGE_UNKNOWN = "dangling; age on this store unknown: the engine decides";

    /**
     * The image store decides what the engine's until compares: on the classic store the config's
     * build time (Created, whole seconds); on the containerd store the time of the engine's own record
     * (for a dangling image: when it became dangling or arrived untagged), to the nanosecond.
     *
     * @param imageUsers image ID -> a container that still uses it after phase 1
     */
    static Item image(PruneFacts.ImageRow i, Map<String, String> imageUsers, Engine.ImageStore store, Until until, Instant now) {
        Until age = imagesAge(until);
        String name = i.dangling() ? "<none>:<none>" : String.join(", ", i.tags());
        String reason;
        boolean remove = false;
        if (!i.dangling()) {
            reason = "tagged";
        } else if (imageUsers.containsKey(i.id())) {
            reason = "in use by container " + imageUsers.get(i.id());
        } else if (store == Engine.ImageStore.CONTAINERD) {
            if (i.recorded().isEmpty()) {
                return new Item(Phase.IMAGES.kind, i.id(), name, i.created(), i.size(), false, AGE_UNKNOWN, true);
            }
            Instant recorded = i.recorded().get();
            String basis = " (by its local record, " + recorded.truncatedTo(ChronoUnit.SECONDS) + ")";
            remove = recorded.isBefore(now.minus(age.duration()));
            reason = remove ? "dangling and older than " + age + basis : "dangling, younger than " + age + basis;
        } else if (!olderThan(i.created(), age, now)) {
            reason = "dangling, younger than " + age;
        } else {
            reason = "dangling and older than " + age;
            remove = true;
        }
        return new Item(Phase.IMAGES.kind, i.id(), name, i.created(), i.size(), remove, reason);
    }

    // ---------------------------------------------------------------- phase 3: build cache

    /** Build cache BuildKit keeps unless `--all`: helper and frontend images. */
    static final Set<String> INTERNAL_CACHE_TYPES = Set.of("internal", "frontend");

    /** The age a build cache record must reach unused before phase 3 removes it (its request and prediction ask here). */
    static Until buildCacheAge(Until until) {
        return until;
    }

    static String buildCacheRequest(Until until) {
        return "/build/prune?filters=" + encode("{" + untilFilter(buildCacheAge(until)) + "}");
    }

    /**
     * BuildKit ages a record by its last use, to the nanosecond, and prunes a record that was never
     * used whatever its age (cache/manager.go: only a LastUsedAt after the cutoff keeps it; the same
     * in the BuildKit of engines 20.10 (0.8), 26.1 (0.13) and 28.5 (0.25)).
     */
    static Item buildCacheRecord(PruneFacts.BuildCacheRow b, Until until, Instant now) {
        Until age = buildCacheAge(until);
        String reason;
        boolean remove = false;
        if (b.inUse()) {
            reason = "in use";
        } else if (INTERNAL_CACHE_TYPES.contains(b.type())) {
            reason = b.type() + " cache (removed only by builder prune --all)";
        } else if (b.shared()) {
            reason = "shared with an image";
        } else if (b.lastUsed().isEmpty()) {
            reason = "never used (BuildKit removes it whatever its age)";
            remove = true;
        } else if (b.lastUsed().get().isAfter(now.minus(age.duration()))) {
            reason = "used within " + age;
        } else {
            reason = "unused for " + age + " or more";
            remove = true;
        }
        return new Item(Phase.BUILD_CACHE.kind, b.id(), b.type() + " " + b.description(), b.created(), b.size(), remove, reason);
    }

    // ---------------------------------------------------------------- shared by the phases

    /**
     * Container and image prune cut off at a whole second, and the listings give whole seconds: an
     * object from the cutoff's own second is still "younger" to the engine.
     */
    static boolean olderThan(Instant created, Until until, Instant now) {
        return created.isBefore(now.minus(until.duration()).truncatedTo(ChronoUnit.SECONDS));
    }

    private static String untilFilter(Until until) {
        return "\"until\":[\"" + until.engineFilter() + "\"]";
    }

    private static String encode(String json) {
        return URLEncoder.encode(json, StandardCharsets.UTF_8);
    }

    /**
     * The age limit of prune's --until: one or more whole-number parts with a unit s, m, h or d
     * (e.g. 24h, 90m, 7d, 1d12h). The engine's filter speaks Go durations, which have no "d", so
     * {@link #engineFilter()} always gives seconds.
     */
    public record Until(String text, Duration duration) {
        private static final Pattern PART = Pattern.compile("(\\d+)([smhd])");
        private static final Duration MAX = Duration.ofDays(3650);

        public static Until parse(String text) {
            return parse("--until", text);
        }

        /** @param option the option the text came from, named in every error */
        public static Until parse(String option, String text) {
            String value = text.strip();
            if (value.isEmpty()) {
                throw notAnAge(option, text);
            }
            Duration total = Duration.ZERO;
            Matcher m = PART.matcher(value);
            // part by part, not one (?:\d+[smhd])+ match: that regex recurses per part and overflows
            // the stack on a long argument
            for (int at = 0; at < value.length(); at = m.end()) {
                if (!m.region(at, value.length()).lookingAt()) {
                    throw notAnAge(option, text);
                }
                long amount;
                try {
                    amount = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    throw new BadInput(option + " '" + text + "' is too large");
                }
                if (amount > MAX.toSeconds()) {
                    throw new BadInput(option + " '" + text + "' is too large (at most 3650d)");
                }
                total = total.plus(switch (m.group(2)) {
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                });
                if (total.compareTo(MAX) > 0) {
                    throw new BadInput(option + " '" + text + "' is too large (at most 3650d)");
                }
            }
            if (total.isZero()) {
                throw new BadInput(option + " '" + text + "' is zero: it would cover objects created a moment ago");
            }
            return new Until(value, total);
        }

        private static BadInput notAnAge(String option, String text) {
            return new BadInput(option + " '" + text + "' is not an age like 24h, 90m, 7d or 1d12h (units s, m, h, d)");
        }

        /** The value for the engine's until filter, e.g. 86400s for 24h. */
        public String engineFilter() {
            return duration.toSeconds() + "s";
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
