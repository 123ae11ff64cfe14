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
import picocli.CommandLine.Option;

/**
 * Opt-in LRU eviction, like kubelet's image GC: a pure order over a snapshot of the store. Its
 * candidates are the images the conservative phases keep only because they have a name: tagged
 * images, and the local cache of registry images (untagged, pulled by digest). Never one that
 * {@link InUse} protects (with --min-age as its recent age); never one with a child image (removing
 * it frees nothing while the child exists); untagged images without a registry digest are the image
 * phase's. The others go least recently used first (ties: the one that frees more bytes first, then
 * by image ID), and only as many as bring the disk below the low watermark.
 */
public final class EvictionPolicy {
    private EvictionPolicy() {}

    public static final String DEFAULT_MIN_AGE = Defaults.MIN_AGE;

    /** Eviction's knobs, validated once at the edge; errors quote the offending input. */
    public record Settings(Threshold evictTo, Until minAge) {

        /** @param threshold the disk gate's threshold, which the low watermark must be below (empty: not checked) */
        public static Settings parse(String evictTo, String minAge, Optional<Threshold> threshold) {
            int percent = parsePercent(evictTo);
            threshold.ifPresent(t -> {
                if (percent >= t.percent()) {
                    throw new BadInput("--evict-to " + percent + " must be below --threshold " + t.percent()
                            + " (evict down to a low watermark under the point where pruning starts)");
                }
            });
            return new Settings(new Threshold(percent), Until.parse("--min-age", minAge));
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

        public int evictToPercent() {
            return evictTo.percent();
        }
    }

    /** The eviction options (a picocli mixin); --evict-to absent means eviction is off. */
    public static final class Options {
        @Option(names = "--evict-to", paramLabel = "PERCENT",
                description = "Low watermark: when the disk is still at or above --threshold after the phases, remove tagged images "
                        + "(and cached registry images) nothing uses, least recently used first, until the disk is below PERCENT "
                        + "(which must be below --threshold). Off unless given.")
        String evictTo;

        @Option(names = "--min-age", paramLabel = "AGE", defaultValue = DEFAULT_MIN_AGE,
                description = "Never evict an image used, pulled, tagged or created within this age (units s, m, h, d). Default: ${DEFAULT-VALUE}.")
        String minAge = DEFAULT_MIN_AGE; // also the field's value: prune's daily command line is parsed without picocli (FastArgs)

        public boolean enabled() {
            return evictTo != null;
        }

        /** Empty when --evict-to is not given; --min-age is still checked. */
        public Optional<Settings> settings(Optional<Threshold> threshold) {
            if (evictTo == null) {
                Until.parse("--min-age", minAge);
                return Optional.empty();
            }
            return Optional.of(Settings.parse(evictTo, minAge, threshold));
        }

        /** With a default watermark, for a view that only shows what eviction would do. */
        public Settings settingsOr(int defaultEvictTo) {
            return Settings.parse(evictTo != null ? evictTo : String.valueOf(defaultEvictTo), minAge, Optional.empty());
        }
    }

    /**
     * What eviction does with one image. evict: in the predicted run; candidate: nothing protects it
     * (it is in {@link Plan#order}, evicted or "not needed"); frees: its unique bytes.
     */
    public record Decision(HostSnapshot.Image image, LastUse.Seen lastUse, long frees, boolean candidate, boolean evict,
                           String reason) {
        /** Its fields as --json shows them, in cache and prune alike. */
        public Map<String, Object> fields() {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("id", image.id());
            fields.put("name", image.name());
            fields.put("lastUse", lastUse.at().toString());
            fields.put("lastUseSource", lastUse.source().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            fields.put("frees", frees);
            fields.put("evict", evict);
            fields.put("reason", reason);
            return fields;
        }
    }

    /**
     * order: every candidate, least recently used first, those the run is predicted to remove
     * first; kept: every other top-level image, with why. bytesNeeded: what must go for the disk to
     * be below the watermark (0 when it already is).
     */
    public record Plan(List<Decision> order, List<Decision> kept, Disk disk, Threshold evictTo, long bytesNeeded,
                       Disk predictedAfter) {
        public List<Decision> evicted() {
            return order.stream().filter(Decision::evict).toList();
        }

        public long bytesFreed() {
            return evicted().stream().mapToLong(Decision::frees).sum();
        }

        public int evictToPercent() {
            return evictTo.percent();
        }

        /** The disk reaches the watermark with the predicted removals. */
        public boolean reachesWatermark() {
            return !evictTo.reachedBy(predictedAfter);
        }
    }

    /** The LRU order: oldest last use first; ties: frees more first, then by image ID. */
    static final Comparator<Decision> LRU = Comparator.<Decision, Instant>comparing(d -> d.lastUse().at())
            .thenComparing(Comparator.comparingLong(Decision::frees).reversed())
            .thenComparing(d -> d.image().id());

    /** What eviction would do to the host's store, by its rules and the one definition of in use. */
    public static Plan plan(HostSnapshot host, InUse.Settings keep, LastUse record, Settings settings, Disk disk, Instant now) {
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

        long needed = settings.evictTo().bytesToGoBelow(disk);
        List<Decision> order = new ArrayList<>();
        long freed = 0;
        for (Decision d : candidates) {
            if (freed < needed) {
                freed += d.frees();
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, true,
                        "unused, last use " + InUse.ago(d.lastUse().at(), now) + " ago (" + d.lastUse().describe() + ")"));
            } else {
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, false,
                        "not needed: the disk is below " + settings.evictTo() + " without it"));
            }
        }
        Disk after = disk.freeing(freed);
        return new Plan(order, kept, disk, settings.evictTo(), needed, after);
    }
}
