//SOURCES Cli.java Defaults.java Disk.java HostSnapshot.java InUse.java LastUse.java Threshold.java Until.java
package ccci;

import ccci.Cli.BadInput;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/**
 * Opt-in LRU eviction, like kubelet's image GC: a pure order over a snapshot of the store. Its
 * candidates are the images the conservative phases keep only because they have a name: tagged
 * images, and the local cache of registry images (untagged, pulled by digest). Never one that
 * {@link InUse} protects (with --min-age as its recent age); never one with a child image (removing
 * it frees nothing while the child exists); untagged images without a registry digest are the image
 * phase's. The others go least recently used first (ties: the one that frees more bytes first, then
 * by image ID): as many as bring the disk below the low watermark (--evict-to, with --min-free's
 * floor), and, with --max-unused-age, every one unused for longer than that whatever the disk
 * (kubelet's imageMaximumGCAge); at most --evict-max of them in one run, the rest left for the next.
 */
public final class EvictionPolicy {
    private EvictionPolicy() {}

    public static final String DEFAULT_MIN_AGE = Defaults.MIN_AGE;

    /**
     * Eviction's knobs, validated once at the edge; errors quote the offending input.
     *
     * @param watermark    --evict-to (with --min-free's floor): evict for space down to it; empty: not for space
     * @param maxUnusedAge --max-unused-age: evict what is unused for longer, whatever the disk; empty: off
     * @param evictMax     --evict-max: at most this many images removed in one run; empty: no limit
     */
    public record Settings(Optional<Threshold> watermark, Until minAge, Optional<Until> maxUnusedAge, OptionalInt evictMax) {

        /** Eviction for space alone, down to this watermark. */
        public Settings(Threshold evictTo, Until minAge) {
            this(Optional.of(evictTo), minAge, Optional.empty(), OptionalInt.empty());
        }

        /** @param threshold the disk gate's threshold, which the low watermark must be below (empty: not checked) */
        public static Settings parse(String evictTo, String minAge, Optional<Threshold> threshold) {
            return parse(evictTo, minAge, null, null, threshold, threshold.map(Threshold::minFreeBytes).orElse(0L));
        }

        /**
         * @param evictTo      --evict-to, or null (then not for space)
         * @param maxUnusedAge --max-unused-age, or null
         * @param evictMax     --evict-max, or null
         * @param threshold    the disk gate's threshold, which the low watermark must be below (empty: not checked)
         * @param minFree      --min-free in bytes (0: none): the watermark's floor of free bytes
         */
        public static Settings parse(String evictTo, String minAge, String maxUnusedAge, String evictMax,
                                     Optional<Threshold> threshold, long minFree) {
            Optional<Threshold> watermark = Optional.empty();
            if (evictTo != null) {
                int percent = parsePercent(evictTo);
                threshold.ifPresent(t -> {
                    if (percent >= t.percent()) {
                        throw new BadInput("--evict-to " + percent + " must be below --threshold " + t.percent()
                                + " (evict down to a low watermark under the point where pruning starts)");
                    }
                });
                watermark = Optional.of(new Threshold(percent, minFree));
            }
            Until min = Until.parse("--min-age", minAge);
            Optional<Until> maxAge = Optional.empty();
            if (maxUnusedAge != null) {
                Until max = Until.parse("--max-unused-age", maxUnusedAge);
                if (max.duration().compareTo(min.duration()) <= 0) {
                    throw new BadInput("--max-unused-age " + max + " must be longer than --min-age " + min
                            + " (an image used within --min-age is never evicted)");
                }
                maxAge = Optional.of(max);
            }
            OptionalInt most = OptionalInt.empty();
            if (evictMax != null) {
                int n;
                try {
                    n = Cli.wholeNumber(evictMax.strip());
                } catch (NumberFormatException e) {
                    throw new BadInput("--evict-max '" + evictMax + "' is not a whole number of images (1 or more)");
                }
                if (n < 1) {
                    throw new BadInput("--evict-max " + n + " is below 1 (leave it out for no limit)");
                }
                if (watermark.isEmpty() && maxAge.isEmpty()) {
                    throw new BadInput("--evict-max limits eviction: give --evict-to or --max-unused-age with it");
                }
                most = OptionalInt.of(n);
            }
            return new Settings(watermark, min, maxAge, most);
        }

        static int parsePercent(String text) {
            int value;
            try {
                value = Cli.wholeNumber(text.strip().replaceFirst("%$", ""));
            } catch (NumberFormatException e) {
                throw new BadInput("--evict-to '" + text + "' is not a whole number of percent (1-100)");
            }
            if (value < 1 || value > 100) {
                throw new BadInput("--evict-to " + value + " is outside 1-100 (percent of the disk in use)");
            }
            return value;
        }

        /** The low watermark (--evict-to); only for settings that evict for space. */
        public Threshold evictTo() {
            return watermark.orElseThrow(() -> new IllegalStateException("no --evict-to"));
        }

        public int evictToPercent() {
            return evictTo().percent();
        }
    }

    /** The eviction options (a picocli mixin); eviction is off unless --evict-to or --max-unused-age is given. */
    public static final class Options {
        @Option(names = "--evict-to", paramLabel = "PERCENT",
                description = "Eviction's low watermark: when the disk is still at or above --threshold after the phases, tagged images "
                        + "(and cached registry images) nothing uses go, least recently used first, until the disk is below PERCENT "
                        + "(which must be below --threshold) and, with --min-free, at least that much is free.")
        String evictTo;

        @Option(names = "--min-age", paramLabel = "AGE", defaultValue = DEFAULT_MIN_AGE,
                description = "Never evict an image used, pulled, tagged or created within this age (units s, m, h, d). Default: ${DEFAULT-VALUE}.")
        String minAge = DEFAULT_MIN_AGE; // also the field's value: prune's daily command line is parsed without picocli (FastArgs)

        @Option(names = "--max-unused-age", paramLabel = "AGE",
                description = "Also evict every image (the same candidates as --evict-to's) unused for longer than AGE, even when the disk "
                        + "is below --threshold (the stack and convergence gates must still hold); longer than --min-age. Off unless given.")
        String maxUnusedAge;

        @Option(names = "--evict-max", paramLabel = "N",
                description = "At most N images removed by eviction (--evict-to and --max-unused-age together) in one run; "
                        + "the rest are left for the next run (the dry run lists them). No limit unless given.")
        String evictMax;

        /** Whether eviction was asked for (--evict-to or --max-unused-age). */
        public boolean enabled() {
            return evictTo != null || maxUnusedAge != null;
        }

        /** The first eviction option given, for an error that names it. */
        public String given() {
            return evictTo != null ? "--evict-to" : maxUnusedAge != null ? "--max-unused-age" : evictMax != null ? "--evict-max" : null;
        }

        /** Empty when neither --evict-to nor --max-unused-age is given; the other options are still checked. */
        public Optional<Settings> settings(Optional<Threshold> threshold) {
            Settings settings = Settings.parse(evictTo, minAge, maxUnusedAge, evictMax, threshold,
                    threshold.map(Threshold::minFreeBytes).orElse(0L));
            return enabled() ? Optional.of(settings) : Optional.empty();
        }

        /** With a default watermark, for a view that only shows what eviction would do. */
        public Settings settingsOr(int defaultEvictTo) {
            return settingsOr(defaultEvictTo, 0);
        }

        /** With a default watermark and --min-free's floor, for a view that only shows what eviction would do. */
        public Settings settingsOr(int defaultEvictTo, long minFree) {
            return Settings.parse(evictTo != null ? evictTo : String.valueOf(defaultEvictTo), minAge, maxUnusedAge, evictMax,
                    Optional.empty(), minFree);
        }
    }

    /** Why eviction removes (or would remove) an image: for space (the low watermark) or its age (--max-unused-age). */
    public enum Cause {
        SPACE, AGE;

        /** As --json and the metrics spell it: space, age. */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * What eviction does with one image. evict: in the predicted run; candidate: nothing protects it
     * (it is in {@link Plan#order}, evicted, "not needed" or left for the next run); frees: its unique
     * bytes; cause: why it is (or would be) evicted; deferred: due, but left for the next run by --evict-max.
     */
    public record Decision(HostSnapshot.Image image, LastUse.Seen lastUse, long frees, boolean candidate, boolean evict,
                           String reason, Optional<Cause> cause, boolean deferred) {

        Decision(HostSnapshot.Image image, LastUse.Seen lastUse, long frees, boolean candidate, boolean evict, String reason) {
            this(image, lastUse, frees, candidate, evict, reason, Optional.empty(), false);
        }

        /** A decision left for the next run, as it reads when a run gets to it after all (a planned removal was kept). */
        public Decision due() {
            if (!deferred) {
                return this;
            }
            int cut = reason.indexOf("): ");
            return new Decision(image, lastUse, frees, candidate, true, cut < 0 ? reason : reason.substring(cut + 3), cause, false);
        }

        /** Its fields as --json shows them, in cache and prune alike. */
        public Map<String, Object> fields() {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("id", image.id());
            fields.put("name", image.name());
            fields.put("lastUse", lastUse.at().toString());
            fields.put("lastUseSource", lastUse.source().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            fields.put("frees", frees);
            fields.put("evict", evict);
            fields.put("cause", cause.map(Cause::word).orElse(null));
            fields.put("leftForNextRun", deferred);
            fields.put("reason", reason);
            return fields;
        }
    }

    /**
     * order: every candidate, least recently used first, those the run is predicted to remove
     * first; kept: every other top-level image, with why. watermark: --evict-to with its floor
     * (empty: eviction for age alone); forSpace: whether the disk called for eviction down to the
     * watermark (it was at or above the threshold); bytesNeeded: what must go for the disk to be
     * below the watermark (0 when it already is, or not for space).
     */
    public record Plan(List<Decision> order, List<Decision> kept, Disk disk, Optional<Threshold> watermark, long bytesNeeded,
                       Disk predictedAfter, Optional<Until> maxUnusedAge, OptionalInt evictMax, boolean forSpace) {
        public List<Decision> evicted() {
            return order.stream().filter(Decision::evict).toList();
        }

        /** Due, but left for the next run by --evict-max. */
        public List<Decision> deferred() {
            return order.stream().filter(Decision::deferred).toList();
        }

        public long bytesFreed() {
            return evicted().stream().mapToLong(Decision::frees).sum();
        }

        /** The low watermark; only for a plan that evicts for space (see {@link #watermark}). */
        public Threshold evictTo() {
            return watermark.orElseThrow(() -> new IllegalStateException("no --evict-to"));
        }

        public int evictToPercent() {
            return evictTo().percent();
        }

        /** The disk reaches the watermark with the predicted removals (true without a watermark). */
        public boolean reachesWatermark() {
            return watermark.map(w -> !w.reachedBy(predictedAfter)).orElse(true);
        }
    }

    /** The LRU order: oldest last use first; ties: frees more first, then by image ID. */
    static final Comparator<Decision> LRU = Comparator.<Decision, Instant>comparing(d -> d.lastUse().at())
            .thenComparing(Comparator.comparingLong(Decision::frees).reversed())
            .thenComparing(d -> d.image().id());

    /** What eviction would do to the host's store, by its rules and the one definition of in use (the disk calling for space). */
    public static Plan plan(HostSnapshot host, InUse.Settings keep, LastUse record, Settings settings, Disk disk, Instant now) {
        return plan(host, keep, record, settings, disk, now, true);
    }

    /**
     * @param forSpace whether eviction goes down to the watermark (the disk is at or above the
     *                 threshold); without it only --max-unused-age evicts
     */
    public static Plan plan(HostSnapshot host, InUse.Settings keep, LastUse record, Settings settings, Disk disk, Instant now,
                            boolean forSpace) {
        List<HostSnapshot.Image> images = host.requireStore().images();
        Map<String, List<InUse.Reason>> protectedBy = InUse.of(host, keep, new InUse.Recency(record, settings.minAge(), now));
        Map<String, List<HostSnapshot.Image>> children = InUse.children(images);
        List<Decision> candidates = new ArrayList<>();
        List<Decision> kept = new ArrayList<>();
        for (HostSnapshot.Image image : host.requireStore().topLevel()) {
            LastUse.Seen seen = InUse.lastUse(record, image);
            long frees = image.uniqueBytes();
            List<InUse.Reason> reasons = protectedBy.getOrDefault(image.id(), List.of());
            String reason = null;
            if (!reasons.isEmpty()) {
                reason = reasons.get(0).kind() == InUse.Kind.RECENT || reasons.get(0).kind() == InUse.Kind.KEEP
                        || reasons.get(0).kind() == InUse.Kind.KEEP_LABEL
                        ? reasons.get(0).text() : "in use by " + InUse.describe(reasons);
            } else if (image.dangling() && image.repoDigests().isEmpty()) {
                reason = "dangling: left to prune's image phase";
            } else if (children.containsKey(image.id())) {
                List<HostSnapshot.Image> kids = children.get(image.id());
                reason = "parent of " + kids.get(0).name() + (kids.size() > 1 ? " and " + (kids.size() - 1) + " more" : "")
                        + ": removing it frees nothing while they exist";
            }
            if (reason != null) {
                kept.add(new Decision(image, seen, frees, false, false, reason));
            } else {
                candidates.add(new Decision(image, seen, frees, true, false, ""));
            }
        }
        candidates.sort(LRU);

        boolean space = forSpace && settings.watermark().isPresent();
        long needed = space ? settings.evictTo().bytesToGoBelow(disk) : 0;
        Optional<Instant> unusedSince = settings.maxUnusedAge().map(a -> now.minus(a.duration()));
        List<Decision> order = new ArrayList<>();
        long freed = 0;
        int count = 0;
        for (Decision d : candidates) {
            boolean old = unusedSince.isPresent() && d.lastUse().at().isBefore(unusedSince.get());
            Optional<Cause> cause = old ? Optional.of(Cause.AGE) : freed < needed ? Optional.of(Cause.SPACE) : Optional.empty();
            if (cause.isEmpty()) {
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, false, space
                        ? "not needed: the disk is below " + settings.evictTo().below() + " without it"
                        : settings.maxUnusedAge().map(a -> "used within --max-unused-age " + a + " (last use " + InUse.ago(d.lastUse().at(), now)
                                + " ago" + (d.lastUse().source() == LastUse.Source.GAP_END ? ": " + d.lastUse().describe() : "")
                                + "); the disk is below the threshold").orElse("not needed: the disk is below the threshold")));
                continue;
            }
            String why = cause.get() == Cause.AGE
                    ? "unused for " + InUse.ago(d.lastUse().at(), now) + ", longer than --max-unused-age " + settings.maxUnusedAge().get()
                            + (d.lastUse().source() == LastUse.Source.GAP_END ? " (" + d.lastUse().describe() + ")" : "")
                    : "unused, last use " + InUse.ago(d.lastUse().at(), now) + " ago (" + d.lastUse().describe() + ")";
            if (settings.evictMax().isPresent() && count >= settings.evictMax().getAsInt()) {
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, false,
                        "left for the next run (--evict-max " + settings.evictMax().getAsInt() + "): " + why, cause, true));
                continue;
            }
            count++;
            freed += d.frees();
            order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, true, why, cause, false));
        }
        // those the run removes first, in LRU order among themselves (age and space alike)
        List<Decision> sorted = new ArrayList<>(order.stream().filter(Decision::evict).toList());
        order.stream().filter(d -> !d.evict()).forEach(sorted::add);
        Disk after = disk.freeing(freed);
        return new Plan(sorted, kept, disk, settings.watermark(), needed, after, settings.maxUnusedAge(), settings.evictMax(), space);
    }
}
