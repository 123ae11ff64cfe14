package ccci.scenario;

import ccci.EvictionPolicy;
import ccci.EvictionRun;
import ccci.GatePolicy;
import ccci.InUse;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.PruneShortfall;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * What the scenarios of issue 20's "what peers have" settings share (--max-unused-age,
 * --evict-max, --min-free, --build-cache-max, why nothing was freed, gaps in the last-use record):
 * a fake host, prune's settings built as the command builds them, a run in this JVM.
 */
final class Peers {
    private Peers() {}

    static final long MB = 1_000_000;
    static final long GB = 1_000_000_000L;
    static final String ROOT = "/var/lib/docker";

    /** A tagged image (or untagged, tag null) of {@code mb} MB of its own, built at {@code created}. */
    static FakeState.Image image(FakeState s, String tag, long mb, Instant created) {
        FakeState.Image i = tag == null ? s.image() : s.image(tag);
        i.created(created);
        return mb > 1 ? i.layer(i.id.substring(7, 19) + "-data", (mb - 1) * MB) : i;
    }

    /** The data root's disk: {@code capacityMb} MB, {@code usedMb} of them in use now (the store's bytes and other files). */
    static void diskAt(FakeHost host, long usedMb, long capacityMb) throws Exception {
        FakeState s = host.state();
        s.disk(capacityMb * MB, 0);
        long store = host.measure(Path.of(ROOT)).usedBytes();
        s.disk(capacityMb * MB, usedMb * MB - store);
    }

    /** prune's options, each null when not given (as the command line leaves them). */
    static final class Options {
        int threshold = 80;
        String evictTo;
        String minAge = "24h";
        String maxUnusedAge;
        String evictMax;
        long minFree;
        OptionalLong buildCacheMax = OptionalLong.empty();
        /** An explicit --path: the daily disk-first no-op asks the engine nothing when the disk alone blocks. */
        boolean explicitPath;
        Optional<Path> lastUse = Optional.empty();
        InUse.Settings keep = InUse.Settings.NONE;
        String until = "24h";

        Options threshold(int v) {
            threshold = v;
            return this;
        }

        Options evictTo(int v) {
            evictTo = String.valueOf(v);
            return this;
        }

        Options minAge(String v) {
            minAge = v;
            return this;
        }

        Options maxUnusedAge(String v) {
            maxUnusedAge = v;
            return this;
        }

        Options evictMax(int v) {
            evictMax = String.valueOf(v);
            return this;
        }

        Options minFree(long v) {
            minFree = v;
            return this;
        }

        Options buildCacheMax(long v) {
            buildCacheMax = OptionalLong.of(v);
            return this;
        }

        Options explicitPath() {
            explicitPath = true;
            return this;
        }

        Options lastUse(Path v) {
            lastUse = Optional.of(v);
            return this;
        }

        Options keep(InUse.Settings v) {
            keep = v;
            return this;
        }

        PruneRun.Settings settings() {
            GatePolicy.Settings gates = new GatePolicy.Settings(threshold, Pattern.compile(GatePolicy.Settings.DEFAULT_STACK_PATTERN),
                    explicitPath ? List.of(Path.of(ROOT)) : List.of(), Optional.empty(), Optional.empty(), minFree);
            Optional<EvictionPolicy.Settings> eviction = evictTo == null && maxUnusedAge == null ? Optional.empty()
                    : Optional.of(EvictionPolicy.Settings.parse(evictTo, minAge, maxUnusedAge, evictMax, Optional.of(gates.threshold()),
                            minFree));
            return new PruneRun.Settings(gates, Until.parse(until), eviction, keep, lastUse, PruneShortfall.Settings.withoutState(),
                    buildCacheMax);
        }
    }

    static Options options() {
        return new Options();
    }

    static PruneRun.Report prune(FakeHost host, Options options, boolean dryRun) {
        host.clearRequests(); // the set-up's requests are not the run's
        return PruneRun.run(() -> host, host, options.settings(), dryRun, new PruneRun.Listener() {}, host.state().clock());
    }

    static EvictionRun.Result eviction(PruneRun.Report report) {
        return report.eviction().orElseThrow(() -> new AssertionError("no eviction:\n" + PruneFormat.text(report)));
    }

    /** The names of the images eviction removed (or, for a dry run, would remove), in order. */
    static List<String> evicted(PruneRun.Report report) {
        return eviction(report).removed().stream().map(r -> r.decision().image().name()).toList();
    }

    /** The eviction reason the plan gives an image, by name. */
    static String reason(PruneRun.Report report, String name) {
        EvictionPolicy.Plan plan = eviction(report).plan();
        return java.util.stream.Stream.concat(plan.order().stream(), plan.kept().stream()).filter(d -> d.image().name().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not in the plan\n" + PruneFormat.text(report))).reason();
    }

    /** A record of one use of each image (by ID and tag) at the given time. */
    static LastUse used(FakeHost host, Instant at, String... tags) {
        LastUse record = LastUse.empty();
        for (String tag : tags) {
            record.use(host.inspectImage(tag).path("Id").asText(), List.of(tag), at);
        }
        return record;
    }
}
