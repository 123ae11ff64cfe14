package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.PrunePolicy.Phase;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
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
     * Replaces the file atomically: a new file (O_EXCL, mode 0644) in the same directory, written
     * and synced, then renamed over the target, which is checked again right before the rename (a
     * link, FIFO, device or directory put there meanwhile is refused, never replaced or followed).
     *
     * @throws NotWritten one line on why the file could not be written
     */
    public static void write(Path file, PruneRun.Report report, Instant finishedAt) {
        Path target = file.toAbsolutePath();
        Optional<String> previousSuccess = previousSuccess(target);
        byte[] text = render(report, finishedAt, previousSuccess).getBytes(StandardCharsets.UTF_8);
        Path temp = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
                ByteBuffer buffer = ByteBuffer.wrap(text);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--")); // whatever the umask
            Optional<String> notRegular = notRegular(target);
            if (notRegular.isPresent()) {
                throw new NotWritten("--metrics-file '" + file + "' " + notRegular.get() + " now: not replaced", null);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new NotWritten("--metrics-file '" + file + "' could not be written: " + Text.rootMessage(e), e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // nothing more to do: the message above says what failed
            }
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Writes the file for this report and returns the report saying whether it was written (exit 24 if not, after a success). */
    public static PruneRun.Report record(Path file, PruneRun.Report report, Instant finishedAt) {
        try {
            write(file, report, finishedAt);
            return report.withMetrics(true, null);
        } catch (NotWritten e) {
            return report.withMetrics(false, e.getMessage());
        }
    }

    /** Why the path is not a regular file (a link, directory, FIFO or device), or empty when it is one or is absent. */
    static Optional<String> notRegular(Path file) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? Optional.empty() : Optional.of("is " + Text.fileKind(a));
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
    }

    static String render(PruneRun.Report r, Instant finishedAt, Optional<String> previousSuccess) {
        StringBuilder out = new StringBuilder();
        String now = seconds(finishedAt);
        gauge(out, "last_run_timestamp_seconds", "Unix time the last prune run finished.", "", now);
        String success = r.exitCode() == ExitCodes.OK ? now : previousSuccess.orElse(null);
        if (success != null) {
            gauge(out, "last_success_timestamp_seconds", "Unix time of the last prune run that exited 0.", "", success);
        }
        gauge(out, "exit_code", "Exit code of the last prune run (see prune --help).", "", String.valueOf(r.exitCode()));
        help(out, "outcome", "Outcome of the last run: 1 for the one that happened.");
        for (PruneRun.Outcome o : PruneRun.Outcome.values()) {
            sample(out, "outcome", "{outcome=\"" + o.name().toLowerCase(Locale.ROOT).replace('_', '-') + "\"}",
                    r.outcome() == o ? "1" : "0");
        }
        help(out, "gate_holds", "1 when the gate held at the start of the last run, else 0.");
        for (GateResult g : r.verdict().gates()) {
            sample(out, "gate_holds", "{gate=\"" + g.name() + "\"}", g.holds() ? "1" : "0");
        }
        help(out, "gate_state", "State of each gate at the start of the last run: 1 for its state (unknown = could not be evaluated, fail closed; skipped = not asked, the disk gate already blocked).");
        for (GateResult g : r.verdict().gates()) {
            for (GateResult.State state : GateResult.State.values()) {
                sample(out, "gate_state", "{gate=\"" + g.name() + "\",state=\"" + GateCheck.word(state) + "\"}",
                        g.state() == state ? "1" : "0");
            }
        }
        help(out, "reclaimed_bytes", "Bytes the engine reclaimed in the last run, by phase (0 for a phase that did not run).");
        for (Phase p : Phase.values()) {
            sample(out, "reclaimed_bytes", "{phase=\"" + p.key + "\"}",
                    String.valueOf(phase(r, p).map(PruneRun.PhaseResult::reclaimedBytes).orElse(0L)));
        }
        help(out, "removed_objects", "Objects removed in the last run, by phase.");
        for (Phase p : Phase.values()) {
            sample(out, "removed_objects", "{phase=\"" + p.key + "\"}",
                    String.valueOf(phase(r, p).map(d -> d.removedIds().size()).orElse(0)));
        }
        gauge(out, "evicted_images", "Tagged images the opt-in eviction (--evict-to) removed in the last run.", "",
                String.valueOf(r.evictedImages()));
        if (r.imagesBefore().isPresent() || r.imagesAfter().isPresent()) {
            help(out, "images", "Top-level images in the store before and after the last run.");
            r.imagesBefore().ifPresent(v -> sample(out, "images", "{when=\"before\"}", String.valueOf(v)));
            r.imagesAfter().ifPresent(v -> sample(out, "images", "{when=\"after\"}", String.valueOf(v)));
        }
        if (r.diskBefore().isPresent() || r.diskAfter().isPresent()) {
            help(out, "disk_used_percent", "Used % (as df shows it) of the measured filesystem before and after the last run.");
            r.diskBefore().ifPresent(v -> sample(out, "disk_used_percent", "{when=\"before\"}", String.valueOf(v)));
            r.diskAfter().ifPresent(v -> sample(out, "disk_used_percent", "{when=\"after\"}", String.valueOf(v)));
        }
        gauge(out, "duration_seconds", "Wall time of the last run.", "",
                String.format(Locale.ROOT, "%.3f", r.elapsed().toMillis() / 1000.0));
        return out.toString();
    }

    /**
     * Fails before the lock and before the engine is asked when the file could never be written:
     * the path must be absent or a regular file (never followed: not a link, FIFO, device or
     * directory), in an existing directory this process may write.
     */
    public static void checkTarget(Path file) {
        if (file.toString().isEmpty()) {
            throw new BadInput("--metrics-file is empty: give a file path, or leave the option out");
        }
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || target.getFileName() == null) {
            throw new BadInput("--metrics-file '" + file + "' is not a file path");
        }
        try {
            Optional<String> notRegular = notRegular(target);
            if (notRegular.isPresent()) {
                throw new BadInput("--metrics-file '" + file + "' " + notRegular.get()
                        + ": it must be a regular file or not exist yet (it is replaced by a new file)");
            }
        } catch (AccessDeniedException e) {
            throw new BadInput("--metrics-file '" + file + "': permission denied");
        } catch (IOException e) {
            throw new BadInput("--metrics-file '" + file + "' cannot be checked: " + Text.rootMessage(e));
        }
        if (!Files.isDirectory(dir)) {
            throw new BadInput("--metrics-file '" + file + "': directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new BadInput("--metrics-file '" + file + "': directory " + dir + " is not writable");
        }
    }

    /** The last success time from the previous file: read only when it is a regular file, and at most 1 MiB of it. */
    static Optional<String> previousSuccess(Path file) {
        try {
            if (notRegular(file).isPresent() || !Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
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

    private static void gauge(StringBuilder out, String name, String help, String labels, String value) {
        help(out, name, help);
        sample(out, name, labels, value);
    }

    private static void help(StringBuilder out, String name, String help) {
        out.append("# HELP ").append(PREFIX).append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(PREFIX).append(name).append(" gauge\n");
    }

    private static void sample(StringBuilder out, String name, String labels, String value) {
        out.append(PREFIX).append(name).append(labels).append(' ').append(value).append('\n');
    }

    private static Optional<PruneRun.PhaseResult> phase(PruneRun.Report r, Phase p) {
        return r.phases().stream().filter(x -> x.phase() == p).findFirst();
    }

    private static String seconds(Instant t) {
        return String.format(Locale.ROOT, "%d.%03d", t.getEpochSecond(), t.getNano() / 1_000_000);
    }
}
