package ccci;

import ccci.Cli.BadInput;
import ccci.PrunePolicy.Until;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Option;

/**
 * Opt-in LRU eviction of tagged images, like kubelet's image GC: a pure order over a snapshot of
 * the store. Never an image used by any container (running or stopped), service or stack task;
 * never one with a tag matching a keep pattern; never one used within the minimum age; dangling
 * images are left to prune's image phase. The others go least recently used first (ties: the
 * one that frees more bytes first, then by image ID), and only as many as bring the disk below
 * the low watermark.
 */
public final class EvictionPolicy {
    private EvictionPolicy() {}

    public static final String DEFAULT_MIN_AGE = "24h";

    /** Eviction's knobs, validated once at the edge; errors quote the offending input. */
    public record Settings(int evictToPercent, List<Pattern> keep, Until minAge) {

        /** @param thresholdPercent the disk gate's threshold, which the low watermark must be below (empty: not checked) */
        public static Settings parse(String evictTo, List<String> keep, String minAge, Optional<Integer> thresholdPercent) {
            int percent = parsePercent(evictTo);
            thresholdPercent.ifPresent(t -> {
                if (percent >= t) {
                    throw new BadInput("--evict-to " + percent + " must be below --threshold " + t
                            + " (evict down to a low watermark under the point where pruning starts)");
                }
            });
            List<Pattern> patterns = new ArrayList<>();
            for (String k : keep) {
                patterns.add(parseKeep(k));
            }
            return new Settings(percent, List.copyOf(patterns), Until.parse("--min-age", minAge));
        }

        static int parsePercent(String text) {
            int value;
            try {
                value = Integer.parseInt(text.strip().replaceFirst("%$", ""));
            } catch (NumberFormatException e) {
                throw new BadInput("--evict-to '" + text + "' is not a whole number of percent (1-100)");
            }
            if (value < 1 || value > 100) {
                throw new BadInput("--evict-to " + value + " is outside 1-100 (percent of the disk in use)");
            }
            return value;
        }

        static Pattern parseKeep(String text) {
            if (text.isEmpty()) {
                throw new BadInput("--keep is empty: it would match every image (to keep everything, leave out --evict-to)");
            }
            try {
                return Pattern.compile(text);
            } catch (PatternSyntaxException e) {
                throw new BadInput("--keep '" + text + "' is not a valid regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }

        /** The first keep pattern one of the image's repository:tag names matches (found anywhere; anchor it), if any. */
        public Optional<String> keepMatch(CacheFacts.Image image) {
            for (Pattern p : keep) {
                for (String tag : image.tags()) {
                    if (p.matcher(tag).find()) {
                        return Optional.of(tag + " matches --keep " + p.pattern());
                    }
                }
            }
            return Optional.empty();
        }
    }

    /** The eviction options (a picocli mixin); --evict-to absent means eviction is off. */
    public static final class Options {
        @Option(names = "--evict-to", paramLabel = "PERCENT",
                description = "Low watermark: eviction removes tagged images nothing uses, least recently used first, until the disk is below PERCENT. prune: opt-in, off unless given, runs after the phases when the disk is still at or above --threshold (PERCENT must be below it); cache: shows what it would do, default 75.")
        String evictTo;

        @Option(names = "--keep", paramLabel = "REGEX",
                description = "Never evict an image with a repository:tag this regular expression finds (Java syntax, found anywhere; anchor it). Repeatable.")
        List<String> keep = new ArrayList<>();

        @Option(names = "--min-age", paramLabel = "AGE", defaultValue = DEFAULT_MIN_AGE,
                description = "Never evict an image used (or, without a last-use record, created) within this age (units s, m, h, d). Default: ${DEFAULT-VALUE}.")
        String minAge = DEFAULT_MIN_AGE; // also the field's value: prune's daily command line is parsed without picocli (FastArgs)

        public boolean enabled() {
            return evictTo != null;
        }

        /** Empty when --evict-to is not given; --keep and --min-age are still checked. */
        public Optional<Settings> settings(Optional<Integer> thresholdPercent) {
            if (evictTo == null) {
                keep.forEach(Settings::parseKeep);
                Until.parse("--min-age", minAge);
                return Optional.empty();
            }
            return Optional.of(Settings.parse(evictTo, keep, minAge, thresholdPercent));
        }

        /** With a default watermark for a view that only shows what eviction would do. */
        public Settings settingsOr(int defaultEvictTo) {
            return Settings.parse(evictTo != null ? evictTo : String.valueOf(defaultEvictTo), keep, minAge, Optional.empty());
        }
    }

    /**
     * What eviction does with one image. evict: in the predicted run; candidate: nothing protects it
     * (it is in {@link Plan#order}, evicted or "not needed"); frees: its unique bytes.
     */
    public record Decision(CacheFacts.Image image, LastUse.Seen lastUse, long frees, boolean candidate, boolean evict,
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
     * first; kept: every protected image, with why. bytesNeeded: what must go for the disk to be
     * below the watermark (0 when it already is).
     */
    public record Plan(List<Decision> order, List<Decision> kept, Disk disk, int evictToPercent, long bytesNeeded,
                       Disk predictedAfter) {
        public List<Decision> evicted() {
            return order.stream().filter(Decision::evict).toList();
        }

        public long bytesFreed() {
            return evicted().stream().mapToLong(Decision::frees).sum();
        }

        /** The disk reaches the watermark with the predicted removals. */
        public boolean reachesWatermark() {
            return predictedAfter.usedPercent() < evictToPercent;
        }
    }

    /** The LRU order: oldest last use first; ties: frees more first, then by image ID. */
    static final Comparator<Decision> LRU = Comparator.<Decision, Instant>comparing(d -> d.lastUse().at())
            .thenComparing(Comparator.comparingLong(Decision::frees).reversed())
            .thenComparing(d -> d.image().id());

    public static Plan plan(CacheFacts facts, LastUse record, Settings settings, Disk disk, Instant now) {
        List<Decision> candidates = new ArrayList<>();
        List<Decision> kept = new ArrayList<>();
        Instant recent = now.minus(settings.minAge().duration());
        for (CacheFacts.Image image : facts.images()) {
            LastUse.Seen seen = CacheFacts.lastUse(record, image);
            long frees = image.uniqueBytes();
            List<CacheFacts.User> users = facts.usersOf(image);
            Optional<String> keep = settings.keepMatch(image);
            String reason = null;
            if (image.dangling()) {
                reason = "dangling: left to prune's image phase";
            } else if (!users.isEmpty()) {
                reason = "in use by " + String.join(", ", users.stream().map(CacheFacts.User::toString).toList());
            } else if (keep.isPresent()) {
                reason = "keep pattern: " + keep.get();
            } else if (seen.at().isAfter(recent)) {
                reason = (seen.source() == LastUse.Source.CREATED ? "created " : "used ") + age(seen.at(), now)
                        + " ago (" + seen.describe() + "), within --min-age " + settings.minAge();
            }
            if (reason != null) {
                kept.add(new Decision(image, seen, frees, false, false, reason));
            } else {
                candidates.add(new Decision(image, seen, frees, true, false, ""));
            }
        }
        candidates.sort(LRU);

        long needed = bytesNeeded(disk, settings.evictToPercent());
        List<Decision> order = new ArrayList<>();
        long freed = 0;
        for (Decision d : candidates) {
            if (freed < needed) {
                freed += d.frees();
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, true,
                        "unused, last use " + age(d.lastUse().at(), now) + " ago (" + d.lastUse().describe() + ")"));
            } else {
                order.add(new Decision(d.image(), d.lastUse(), d.frees(), true, false,
                        "not needed: the disk is below " + settings.evictToPercent() + "% without it"));
            }
        }
        long moved = Math.min(freed, disk.usedBytes());
        Disk after = new Disk(disk.path(), disk.usedBytes() - moved, disk.availableBytes() + moved);
        return new Plan(order, kept, disk, settings.evictToPercent(), needed, after);
    }

    /** The fewest bytes whose removal brings df's Use% below the watermark (0 when it is already below). */
    static long bytesNeeded(Disk disk, int evictToPercent) {
        if (disk.usedPercent() < evictToPercent) {
            return 0;
        }
        long total = disk.usedBytes() + disk.availableBytes();
        // Use% = ceil(used * 100 / total) < p  <=>  used * 100 <= (p - 1) * total; floor without overflow
        long p = evictToPercent - 1;
        long allowed = p * (total / 100) + p * (total % 100) / 100;
        long needed = disk.usedBytes() - allowed;
        return Math.max(0, needed);
    }

    /** "3h", "2d 4h", "45m", "12s": how long ago, for people. */
    public static String age(Instant then, Instant now) {
        Duration d = Duration.between(then, now);
        if (d.isNegative()) {
            return "0s";
        }
        long days = d.toDays();
        if (days > 0) {
            long hours = d.minusDays(days).toHours();
            return days + "d" + (hours > 0 ? " " + hours + "h" : "");
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + "m";
        }
        return d.toSeconds() + "s";
    }
}
