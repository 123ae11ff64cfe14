//SOURCES Cli.java Defaults.java Disk.java GatePolicy.java PrunePolicy.java PruneState.java Threshold.java
//SOURCES Until.java
package ccci;

import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Item;
import ccci.PrunePolicy.Plan;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/**
 * When the conservative prune is not enough, as pure decisions: the disk still at or above the
 * threshold after the phases (insufficient, exit 17), or the disk over the threshold while a gate has
 * kept pruning blocked for longer than the limit (blocked-too-long, exit 18); the dry run's estimate;
 * and what the policy keeps that takes the space, counted from what prune already read.
 *
 * <p>The blocked clock runs only while pruning is needed: a stretch starts at the first real run that
 * finds the disk at or above the threshold and a gate blocking, and ends at a run that finds the disk
 * below the threshold or every gate holding. (Counting from the gates' last "allowed" alone would
 * raise the alarm on the first day a rarely-full disk crosses the threshold.)
 */
public final class PruneShortfall {
    private PruneShortfall() {}

    public static final String DEFAULT_BLOCKED_LIMIT = Defaults.BLOCKED_LIMIT;
    static final String CLOCK_STARTS_NOTE = "state: no state yet in ";

    /** Where the state lives (none: nothing remembered, e.g. in-process runs) and how long a block may last. */
    public record Settings(Optional<Path> stateFile, Until blockedLimit) {
        public static Settings withoutState() {
            return new Settings(Optional.empty(), Until.parse("--blocked-limit", DEFAULT_BLOCKED_LIMIT));
        }

        public PruneState.Loaded load() {
            return stateFile.map(PruneState::load).orElseGet(() -> new PruneState.Loaded.Found(PruneState.empty()));
        }
    }

    /** prune's options for the state file and the blocked limit (a picocli mixin). */
    public static final class Options {
        @Option(names = "--state-file", paramLabel = "FILE", defaultValue = PruneState.DEFAULT_FILE,
                description = {"Where prune remembers when the gates last allowed a run and since when pruning is blocked "
                        + "(small, replaced atomically; missing or corrupt: ignored, with a note).", "Default: ${DEFAULT-VALUE}"})
        String stateFile = PruneState.DEFAULT_FILE;

        @Option(names = "--blocked-limit", paramLabel = "AGE", defaultValue = DEFAULT_BLOCKED_LIMIT,
                description = {"With the disk at or above the threshold, a gate blocking pruning for longer than this "
                        + "is an alarm: a WARN line and exit 18 (units s, m, h, d).", "Default: ${DEFAULT-VALUE}"})
        String blockedLimit = DEFAULT_BLOCKED_LIMIT;

        /** Whether either option differs from its default: they are per host, so a fleet run refuses them. */
        public boolean given() {
            return !stateFile.equals(PruneState.DEFAULT_FILE) || !blockedLimit.equals(DEFAULT_BLOCKED_LIMIT);
        }

        public Settings settings() {
            if (stateFile.isBlank()) {
                throw new Cli.BadInput("--state-file is empty: name a file, e.g. " + PruneState.DEFAULT_PATH);
            }
            return new Settings(Optional.of(Path.of(stateFile)), Until.parse("--blocked-limit", blockedLimit));
        }
    }

    // ---------------------------------------------------------------- what the policy keeps

    /**
     * Images the conservative policy (and eviction, when it ran or would run) keeps, by why, with
     * their unique bytes: tagged ones nothing uses, ones in use, the local cache of registry images,
     * untagged ones younger than until (or of unknown age).
     */
    public record Kept(Count taggedUnused, Count inUse, Count cache, Count youngDangling, Until until) {
        public record Count(int images, long bytes) {}
    }

    /**
     * Counted from the plan prune already has (no engine request).
     *
     * @param evicted the IDs of the images eviction removed (or, for a dry run, would remove): not kept
     */
    public static Kept kept(Plan plan, Until until, Set<String> evicted) {
        List<Item> images = plan.images().stream().filter(i -> !i.remove() && !evicted.contains(i.id())).toList();
        return new Kept(count(images, Set.of(PrunePolicy.Why.TAGGED)), count(images, Set.of(PrunePolicy.Why.IN_USE)),
                count(images, Set.of(PrunePolicy.Why.CACHE)),
                count(images, Set.of(PrunePolicy.Why.YOUNG, PrunePolicy.Why.UNKNOWN_AGE)), until);
    }

    private static Kept.Count count(List<Item> images, Set<PrunePolicy.Why> why) {
        List<Item> these = images.stream().filter(i -> why.contains(i.why())).toList();
        return new Kept.Count(these.size(), these.stream().mapToLong(Item::size).sum());
    }

    // ---------------------------------------------------------------- insufficient

    /** What a real run ended with, or what a dry run expects, when the disk stays at or above the threshold. */
    public sealed interface Shortfall {
        String kind();

        /** The phases ran and the disk is still at or above the threshold. */
        record Insufficient(Disk after, Threshold threshold, long reclaimedBytes, Kept kept) implements Shortfall {
            public String kind() {
                return "insufficient";
            }
        }

        /**
         * Dry run: the plan's listed sizes (and what eviction would free, when asked) cannot bring the
         * disk below the threshold (an estimate). wouldFreeBytes includes evictionBytes.
         */
        record PredictedInsufficient(Disk now, Threshold threshold, long wouldFreeBytes, long evictionBytes, long bytesToFree,
                                     Kept kept) implements Shortfall {
            public String kind() {
                return "insufficient-predicted";
            }
        }

        /** The disk is at or above the threshold and gates have blocked pruning for longer than the limit. */
        record BlockedTooLong(List<GateResult> blocking, Instant since, Duration blockedFor, Until limit,
                              Optional<Instant> gatesLastAllowed, Disk disk, Threshold threshold) implements Shortfall {
            public String kind() {
                return "blocked-too-long";
            }
        }
    }

    /** After the phases: insufficient when the disk, measured again, is still at or above the threshold. */
    public static Optional<Shortfall> afterPhases(Disk after, Threshold threshold, long reclaimedBytes, Kept kept) {
        return threshold.reachedBy(after)
                ? Optional.of(new Shortfall.Insufficient(after, threshold, reclaimedBytes, kept))
                : Optional.empty();
    }

    /**
     * Dry run: insufficient is predicted when the disk is at or above the threshold and what the plan
     * removes (listed sizes: an estimate, shared layers free less) plus what eviction would free
     * (its unique bytes; 0 without eviction) is less than what must go.
     */
    public static Optional<Shortfall> predict(Optional<Disk> now, Threshold threshold, Plan plan, long evictionBytes, Kept kept) {
        if (now.isEmpty() || !threshold.reachedBy(now.get())) {
            return Optional.empty();
        }
        long wouldFree = plan.removed().stream().mapToLong(Item::size).sum() + evictionBytes;
        long needed = threshold.bytesToGoBelow(now.get());
        return wouldFree < needed
                ? Optional.of(new Shortfall.PredictedInsufficient(now.get(), threshold, wouldFree, evictionBytes, needed, kept))
                : Optional.empty();
    }

    // ---------------------------------------------------------------- the blocked clock

    /**
     * What this run means for the blocked clock: the state to remember, whether the block has lasted
     * too long, and a note about the state file when there is something to say (one line each).
     */
    public record Blocked(PruneState next, Optional<Shortfall> tooLong, List<String> notes) {}

    public static Blocked blocked(PruneState.Loaded loaded, Verdict verdict, Threshold threshold, Instant now, Until limit) {
        PruneState previous = loaded.state();
        Map<String, GateResult> gates = verdict.gates().stream().collect(Collectors.toMap(GateResult::name, Function.identity()));
        GateResult disk = gates.get("disk");
        if (verdict.pruneAllowed()) {
            return new Blocked(new PruneState(Optional.of(now), Optional.empty(), previous.lastRun(), previous.lastOutcome()),
                    Optional.empty(), notes(loaded, false));
        }
        if (disk == null || disk.state() != GateResult.State.HOLDS || verdict.disk().isEmpty()) {
            // below the threshold nothing is needed, so nothing is blocked; an unmeasured disk changes nothing
            Optional<Instant> since = disk != null && disk.state() == GateResult.State.BLOCKS ? Optional.empty() : previous.blockedSince();
            return new Blocked(new PruneState(previous.gatesLastAllowed(), since, previous.lastRun(), previous.lastOutcome()),
                    Optional.empty(), notes(loaded, false));
        }
        boolean unknown = verdict.gates().stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
        if (unknown && previous.blockedSince().isEmpty()) {
            // a gate that cannot be evaluated is exit 11's business: it starts no clock (one already running keeps running)
            return new Blocked(previous, Optional.empty(), notes(loaded, false));
        }
        Instant since = previous.blockedSince().orElse(now);
        List<String> notes = notes(loaded, previous.blockedSince().isEmpty());
        PruneState next = new PruneState(previous.gatesLastAllowed(), Optional.of(since), previous.lastRun(), previous.lastOutcome());
        List<GateResult> blocking = verdict.notHolding().stream().filter(g -> !g.name().equals("disk")).toList();
        Duration blockedFor = Duration.between(since, now);
        Optional<Shortfall> tooLong = !unknown && blockedFor.compareTo(limit.duration()) > 0
                ? Optional.of(new Shortfall.BlockedTooLong(blocking, since, blockedFor, limit, previous.gatesLastAllowed(),
                        verdict.disk().get(), threshold))
                : Optional.empty();
        return new Blocked(next, tooLong, notes);
    }

    /** One line about the state file when it was unusable, or missing when the clock starts from it. */
    private static List<String> notes(PruneState.Loaded loaded, boolean clockStarts) {
        if (loaded instanceof PruneState.Loaded.Unusable unusable) {
            return List.of("state: " + unusable.reason() + ": ignored" + (clockStarts ? "; the blocked clock starts now" : ""));
        }
        if (loaded instanceof PruneState.Loaded.Missing missing && clockStarts) {
            return List.of(CLOCK_STARTS_NOTE + missing.file() + ": the blocked clock starts now");
        }
        return List.of();
    }
}
