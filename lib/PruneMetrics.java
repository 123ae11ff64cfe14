//SOURCES Cli.java EvictionPolicy.java EvictionRun.java GateCheck.java GatePolicy.java PrunePolicy.java
//SOURCES PruneRun.java SmallFile.java Text.java
package ccci;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.PrunePolicy.Phase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * prune's outcome as node_exporter textfile-collector metrics. The file is replaced atomically
 * (temp file in the same directory, then rename) so the collector never reads half a file; the last
 * success time is carried over from the previous file when this run did not succeed.
 */
public final class PruneMetrics {
    private PruneMetrics() {}

    static final String PREFIX = "ci_docker_prune_";
    private static final Pattern LAST_SUCCESS = Pattern.compile(
            "(?m)^" + PREFIX + "last_success_timestamp_seconds (\\S+)$");

    /** The metrics file could not be written after the run: the run's outcome stands, the exit code says so (24). */
    public static final class NotWritten extends Cli.Failure {
        public NotWritten(String message, Throwable cause) {
            super(ExitCodes.METRICS_NOT_WRITTEN, message, cause);
        }
    }

    /**
     * Replaces the file atomically through {@link SmallFile} (a new file in the same directory, synced,
     * mode 0644, renamed over the target; a link, FIFO, device or directory there is refused).
     *
     * @throws NotWritten one line on why the file could not be written
     */
    public static void write(Path file, PruneRun.Report report, Instant finishedAt) {
        Optional<String> previousSuccess = previousSuccess(file.toAbsolutePath());
        try {
            SmallFile.writeAtomically(file, render(report, finishedAt, previousSuccess));
        } catch (SmallFile.Unusable e) {
            throw new NotWritten("--metrics-file '" + file + "' " + e.getMessage(), e);
        }
    }

    /** Writes the file for this report and returns the report saying whether it was written (exit 24 if not, after a success). */
    public static PruneRun.Report record(Path file, PruneRun.Report report, Instant finishedAt) {
        try {
            write(file, report, finishedAt);
            return report.withMetrics(true, null);
        } catch (NotWritten e) {
            return report.withMetrics(false, e.getMessage());
        }
    }

    static String render(PruneRun.Report r, Instant finishedAt, Optional<String> previousSuccess) {
        Text.Gauges out = new Text.Gauges(PREFIX);
        String now = seconds(finishedAt);
        out.gauge("last_run_timestamp_seconds", "Unix time the last prune run finished.", "", now);
        String success = r.exitCode() == ExitCodes.OK ? now : previousSuccess.orElse(null);
        if (success != null) {
            out.gauge("last_success_timestamp_seconds", "Unix time of the last prune run that exited 0.", "", success);
        }
        out.gauge("exit_code", "Exit code of the last prune run (see prune --help).", "", String.valueOf(r.exitCode()));
        out.help("outcome", "Outcome of the last run: 1 for the one that happened.");
        for (PruneRun.Outcome o : PruneRun.Outcome.values()) {
            out.sample("outcome", "{outcome=\"" + o.name().toLowerCase(Locale.ROOT).replace('_', '-') + "\"}",
                    r.outcome() == o ? "1" : "0");
        }
        out.gauge("insufficient", "1 when the last run pruned and the disk was still at or above the threshold (outcome insufficient, exit 17), else 0.",
                "", r.outcome() == PruneRun.Outcome.INSUFFICIENT ? "1" : "0");
        r.state().flatMap(s -> s.state().gatesLastAllowed()).ifPresent(t -> out.gauge("gates_last_allowed_timestamp_seconds",
                "Unix time of the last run in which every gate held (from the state file).", "", seconds(t)));
        r.state().flatMap(s -> s.state().blockedSince()).ifPresent(t -> out.gauge("blocked_since_timestamp_seconds",
                "Unix time since which the disk has been at or above the threshold with a gate blocking pruning (absent when not blocked).",
                "", seconds(t)));
        out.help("gate_holds", "1 when the gate held at the start of the last run, else 0.");
        for (GateResult g : r.verdict().gates()) {
            out.sample("gate_holds", "{gate=\"" + g.name() + "\"}", g.holds() ? "1" : "0");
        }
        out.help("gate_state", "State of each gate at the start of the last run: 1 for its state (unknown = could not be evaluated, fail closed; skipped = not asked, the disk gate already blocked).");
        for (GateResult g : r.verdict().gates()) {
            for (GateResult.State state : GateResult.State.values()) {
                out.sample("gate_state", "{gate=\"" + g.name() + "\",state=\"" + GateCheck.word(state) + "\"}",
                        g.state() == state ? "1" : "0");
            }
        }
        out.help("reclaimed_bytes", "Bytes the engine reclaimed in the last run, by phase (0 for a phase that did not run).");
        for (Phase p : Phase.values()) {
            out.sample("reclaimed_bytes", "{phase=\"" + p.key + "\"}",
                    String.valueOf(phase(r, p).map(PruneRun.PhaseResult::reclaimedBytes).orElse(0L)));
        }
        out.help("removed_objects", "Objects removed in the last run, by phase.");
        for (Phase p : Phase.values()) {
            out.sample("removed_objects", "{phase=\"" + p.key + "\"}",
                    String.valueOf(phase(r, p).map(d -> d.removedIds().size()).orElse(0)));
        }
        out.gauge("evicted_images", "Images the opt-in eviction (--evict-to) removed in the last run.", "",
                String.valueOf(r.evictedImages()));
        out.gauge("evicted_bytes", "Bytes the opt-in eviction (--evict-to) freed in the last run: the unique bytes of the images it removed.",
                "", String.valueOf(r.evictedBytes()));
        removedByReason(out, r);
        if (!r.keptImages().isEmpty()) {
            out.help("kept_images", "Top-level images the last run left, by the first reason that keeps each: in-use (a container, service, "
                    + "task or a child's user), keep (--keep, --keep-label), young (used or made within the protecting age), cache (the newest "
                    + "registry image of its repository), tagged (nothing but its name).");
            for (String reason : PruneRun.KEPT_REASONS) {
                out.sample("kept_images", "{reason=\"" + reason + "\"}", String.valueOf(r.keptImages().getOrDefault(reason, 0)));
            }
        }
        out.gauge("nothing_removable", "1 when the last run found the disk at or above the threshold and nothing it may remove "
                + "(see kept_images for what holds the space), else 0.", "", r.nothingRemovable() ? "1" : "0");
        if (r.imagesBefore().isPresent() || r.imagesAfter().isPresent()) {
            out.help("images", "Top-level images in the store before and after the last run.");
            r.imagesBefore().ifPresent(v -> out.sample("images", "{when=\"before\"}", String.valueOf(v)));
            r.imagesAfter().ifPresent(v -> out.sample("images", "{when=\"after\"}", String.valueOf(v)));
        }
        if (r.diskBefore().isPresent() || r.diskAfter().isPresent()) {
            out.help("disk_used_percent", "Used % (as df shows it) of the measured filesystem before and after the last run.");
            r.diskBefore().ifPresent(v -> out.sample("disk_used_percent", "{when=\"before\"}", String.valueOf(v)));
            r.diskAfter().ifPresent(v -> out.sample("disk_used_percent", "{when=\"after\"}", String.valueOf(v)));
        }
        out.gauge("duration_seconds", "Wall time of the last run.", "",
                String.format(Locale.ROOT, "%.3f", r.elapsed().toMillis() / 1000.0));
        return out.toString();
    }

    /** The reasons removed_by_reason counts by: debris (untagged images of the image phase), build cache, eviction for space, by age. */
    static final List<String> REMOVAL_REASONS = List.of("dangling", "build-cache", "space", "age");

    /**
     * What the last run removed, by why: dangling (the image phase's debris), build-cache (phase 3
     * and its budget), space (eviction down to the watermark), age (--max-unused-age). A dry run removes nothing.
     */
    private static void removedByReason(Text.Gauges out, PruneRun.Report r) {
        long[] objects = new long[REMOVAL_REASONS.size()];
        long[] bytes = new long[REMOVAL_REASONS.size()];
        phase(r, Phase.IMAGES).ifPresent(p -> {
            objects[0] = p.removedIds().size();
            bytes[0] = p.reclaimedBytes();
        });
        phase(r, Phase.BUILD_CACHE).ifPresent(p -> {
            objects[1] = p.removedIds().size();
            bytes[1] = p.reclaimedBytes();
        });
        r.eviction().filter(e -> !e.predicted()).ifPresent(e -> {
            for (EvictionRun.Removal removal : e.removed()) {
                int i = removal.decision().cause().orElse(EvictionPolicy.Cause.SPACE) == EvictionPolicy.Cause.AGE ? 3 : 2;
                objects[i]++;
                bytes[i] += removal.decision().frees();
            }
        });
        out.help("removed_by_reason", "Objects the last run removed, by why: dangling (untagged images the image phase removed), "
                + "build-cache (build cache records, --until and --build-cache-max), space (images evicted for the low watermark), "
                + "age (images evicted by --max-unused-age).");
        for (int i = 0; i < REMOVAL_REASONS.size(); i++) {
            out.sample("removed_by_reason", "{reason=\"" + REMOVAL_REASONS.get(i) + "\"}", String.valueOf(objects[i]));
        }
        out.help("removed_bytes_by_reason", "Bytes the last run freed, by why (as removed_by_reason; images by their unique bytes).");
        for (int i = 0; i < REMOVAL_REASONS.size(); i++) {
            out.sample("removed_bytes_by_reason", "{reason=\"" + REMOVAL_REASONS.get(i) + "\"}", String.valueOf(bytes[i]));
        }
    }

    /**
     * Fails before the lock and before the engine is asked when the file could never be written:
     * the path must be absent or a regular file (never followed: not a link, FIFO, device or
     * directory), in an existing directory this process may write.
     */
    public static void checkTarget(Path file) {
        SmallFile.checkTarget("--metrics-file", file);
    }

    /** The last success time from the previous file: read only when it is a regular file, and at most 1 MiB of it. */
    static Optional<String> previousSuccess(Path file) {
        try {
            if (SmallFile.notRegular(file).isPresent() || !Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            byte[] bytes;
            try (var in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                bytes = in.readNBytes(1 << 20);
            }
            Matcher m = LAST_SUCCESS.matcher(new String(bytes, StandardCharsets.UTF_8));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<PruneRun.PhaseResult> phase(PruneRun.Report r, Phase p) {
        return r.phases().stream().filter(x -> x.phase() == p).findFirst();
    }

    private static String seconds(Instant t) {
        return String.format(Locale.ROOT, "%d.%03d", t.getEpochSecond(), t.getNano() / 1_000_000);
    }
}
