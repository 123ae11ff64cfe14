//SOURCES Defaults.java Json.java SmallFile.java Text.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine.Option;

/**
 * When each local image was last used (a container created or started from it, a service naming
 * it, a pull), by image ID and by repository:tag, kept in a small JSON state file. The record is a
 * convenience, never needed for safety: a missing, unreadable or damaged file reads as empty and
 * an image without a record falls back to its creation time, saying so ({@link #lastUse}).
 * The file is only ever replaced whole through {@link SmallFile} (a new file in the same directory,
 * synced, then renamed; a symlink or anything else but a regular file at the path is refused, never
 * followed), under a lock file beside it, merging what is on disk, so
 * concurrent writers (watch, and every gates/prune/cache run) lose nothing and a kill -9 leaves
 * either the old or the new complete file.
 */
public final class LastUse {
    public static final Path DEFAULT_FILE = Path.of(Defaults.LAST_USE_FILE);
    /** Bounded size: beyond this many images (and as many tags) the least recently used records go. */
    public static final int MAX_ENTRIES = 10_000;
    private static final long MAX_FILE_BYTES = 8L << 20;

    /** At most this many gaps are kept (the latest). */
    public static final int MAX_GAPS = 50;

    private final Map<String, Instant> images = new TreeMap<>();
    private final Map<String, Instant> refs = new TreeMap<>();
    /** Images present when watch started again after a gap: used then, as far as anyone knows (by image ID). */
    private final Map<String, Instant> seenAfterGap = new TreeMap<>();
    /** Spans when nothing recorded uses (watch down, or the engine's events lost), oldest first. */
    private final List<Gap> gaps = new ArrayList<>();
    /** When watch last said it was following the engine's events (its heartbeat), if ever. */
    private Instant alive;

    /**
     * A span in which the record may have missed uses: from the last time watch was known to follow
     * the engine's events (empty: the record has no such time, watch had never run) to when it
     * followed them again. Every image present at its end counts as used then, never earlier.
     */
    public record Gap(Optional<Instant> from, Instant to) {
        /** "from 2026-12-01T10:00:00Z to 2026-12-03T08:00:00Z", or "until 2026-12-03T08:00:00Z (no record before)". */
        public String describe() {
            return from.map(f -> "from " + seconds(f) + " to " + seconds(to)).orElse("until " + seconds(to) + " (no record before)");
        }
    }

    /**
     * Where an image's last use comes from: the record by ID, the record of one of its tags, the end
     * of a gap in the record it was present at, the engine's tag time, or its creation time.
     */
    public enum Source {
        RECORD("record"), TAG_RECORD("record of its tag"), GAP_END("present when watch started again after a gap in the record"),
        TAGGED("the engine's pull or tag time"), CREATED("no record, its creation time");

        public final String text;

        Source(String text) {
            this.text = text;
        }
    }

    public record Seen(Instant at, Source source, String detail) {
        /** e.g. "record", "record of its tag app:1", "no record, its creation time". */
        public String describe() {
            return source.text + (detail.isEmpty() ? "" : " " + detail);
        }
    }

    public static LastUse empty() {
        return new LastUse();
    }

    /** Notes a use at {@code at} of an image and the references it was used by (later uses win). */
    public synchronized LastUse use(String imageId, Collection<String> references, Instant at) {
        if (imageId != null && !imageId.isEmpty()) {
            images.merge(imageId, at, LastUse::later);
        }
        for (String ref : references) {
            if (isTag(ref)) {
                refs.merge(ref, at, LastUse::later);
            }
        }
        return this;
    }

    /** A reference worth recording: a name with a tag, not an image ID or a bare digest. */
    static boolean isTag(String ref) {
        if (ref == null || ref.isEmpty() || ref.startsWith("sha256:") || ref.matches("[0-9a-f]{12,64}")) {
            return false;
        }
        String name = ref.contains("@") ? ref.substring(0, ref.indexOf('@')) : ref;
        return name.lastIndexOf(':') > name.lastIndexOf('/');
    }

    public synchronized LastUse merge(LastUse other) {
        Map<String, Instant> otherImages;
        Map<String, Instant> otherRefs;
        synchronized (other) {
            otherImages = new TreeMap<>(other.images);
            otherRefs = new TreeMap<>(other.refs);
        }
        Map<String, Instant> otherSeen;
        List<Gap> otherGaps;
        Instant otherAlive;
        synchronized (other) {
            otherSeen = new TreeMap<>(other.seenAfterGap);
            otherGaps = new ArrayList<>(other.gaps);
            otherAlive = other.alive;
        }
        otherImages.forEach((k, v) -> images.merge(k, v, LastUse::later));
        otherRefs.forEach((k, v) -> refs.merge(k, v, LastUse::later));
        otherSeen.forEach((k, v) -> seenAfterGap.merge(k, v, LastUse::later));
        otherGaps.forEach(this::addGap);
        if (otherAlive != null) {
            markAlive(otherAlive);
        }
        return this;
    }

    /** watch's heartbeat: it follows the engine's events at this time (later times win). */
    public synchronized LastUse markAlive(Instant at) {
        alive = alive == null ? at : later(alive, at);
        return this;
    }

    /**
     * A gap in the record, and the images present at its end: each counts as used at the gap's end
     * (never older), since a use within the gap would have gone unrecorded (kubelet read images as
     * unused after a restart and collected them).
     */
    public synchronized LastUse gap(Optional<Instant> from, Instant to, Collection<String> presentImageIds) {
        addGap(new Gap(from, to));
        for (String id : presentImageIds) {
            if (id != null && !id.isEmpty()) {
                seenAfterGap.merge(id, to, LastUse::later);
            }
        }
        return this;
    }

    private void addGap(Gap gap) {
        if (!gaps.contains(gap)) {
            gaps.add(gap);
            gaps.sort(Comparator.comparing(Gap::to));
            while (gaps.size() > MAX_GAPS) {
                gaps.remove(0);
            }
        }
    }

    /** watch's last heartbeat, if it ever ran. */
    public synchronized Optional<Instant> alive() {
        return Optional.ofNullable(alive);
    }

    /** The gaps the record knows, oldest first. */
    public synchronized List<Gap> gaps() {
        return List.copyOf(gaps);
    }

    /** When the image was present at the end of a gap (the latest), if it was. */
    public synchronized Optional<Instant> seenAfterGap(String imageId) {
        return Optional.ofNullable(seenAfterGap.get(imageId));
    }

    /** Drops the records of images and tags the store no longer holds. */
    public synchronized LastUse retainPresent(Set<String> imageIds, Set<String> tags) {
        images.keySet().retainAll(imageIds);
        seenAfterGap.keySet().retainAll(imageIds);
        refs.keySet().removeIf(r -> !tags.contains(stripDigest(r)));
        return this;
    }

    public synchronized void clear() {
        images.clear();
        refs.clear();
        seenAfterGap.clear();
        gaps.clear();
        alive = null;
    }

    /** Records of uses (images and tags) and of images seen after a gap. */
    public synchronized int size() {
        return images.size() + refs.size() + seenAfterGap.size();
    }

    public synchronized Optional<Instant> ofImage(String id) {
        return Optional.ofNullable(images.get(id));
    }

    public synchronized Optional<Instant> ofRef(String ref) {
        return Optional.ofNullable(refs.get(ref));
    }

    /**
     * The image's last use: its own record, else the latest record of one of its tags, else its
     * creation time; and never before the end of a gap in the record it was present at.
     */
    public synchronized Seen lastUse(String imageId, List<String> tags, Instant created) {
        Seen recorded = recorded(imageId, tags, created);
        Instant gapEnd = seenAfterGap.get(imageId);
        if (gapEnd != null && gapEnd.isAfter(recorded.at())) {
            return new Seen(gapEnd, Source.GAP_END, gapEnding(gapEnd).map(g -> "(the gap " + g.describe() + ")").orElse(""));
        }
        return recorded;
    }

    /** The gap that ended at this time, if the record still has it. */
    private Optional<Gap> gapEnding(Instant at) {
        return gaps.stream().filter(g -> g.to().equals(at)).reduce((a, b) -> b);
    }

    private Seen recorded(String imageId, List<String> tags, Instant created) {
        Instant own = images.get(imageId);
        if (own != null) {
            return new Seen(own, Source.RECORD, "");
        }
        String bestTag = null;
        Instant best = null;
        for (String tag : tags) {
            Instant t = refs.get(tag);
            if (t != null && (best == null || t.isAfter(best))) {
                best = t;
                bestTag = tag;
            }
        }
        if (best != null) {
            return new Seen(best, Source.TAG_RECORD, bestTag);
        }
        return new Seen(created, Source.CREATED, "");
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    static String seconds(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }

    private static String stripDigest(String ref) {
        int at = ref.indexOf('@');
        return at < 0 ? ref : ref.substring(0, at);
    }

    private static void cap(Map<String, Instant> map) {
        if (map.size() <= MAX_ENTRIES) {
            return;
        }
        List<Map.Entry<String, Instant>> oldest = new ArrayList<>(map.entrySet());
        oldest.sort(Map.Entry.comparingByValue(Comparator.naturalOrder()));
        oldest.subList(0, map.size() - MAX_ENTRIES).stream().map(Map.Entry::getKey).toList().forEach(map::remove);
    }

    // ---------------------------------------------------------------- the JSON form

    synchronized String toJson() {
        cap(images);
        cap(refs);
        cap(seenAfterGap);
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("version", 1);
        ObjectNode i = root.putObject("images");
        images.forEach((k, v) -> i.put(k, v.toString()));
        ObjectNode r = root.putObject("refs");
        refs.forEach((k, v) -> r.put(k, v.toString()));
        if (alive != null) {
            root.put("watchAlive", alive.toString());
        }
        if (!gaps.isEmpty()) {
            com.fasterxml.jackson.databind.node.ArrayNode g = root.putArray("gaps");
            for (Gap gap : gaps) {
                ObjectNode node = g.addObject();
                gap.from().ifPresentOrElse(f -> node.put("from", f.toString()), () -> node.putNull("from"));
                node.put("to", gap.to().toString());
            }
        }
        if (!seenAfterGap.isEmpty()) {
            ObjectNode seen = root.putObject("seenAfterGap");
            seenAfterGap.forEach((k, v) -> seen.put(k, v.toString()));
        }
        return root.toPrettyString() + "\n";
    }

    static LastUse fromJson(JsonNode root) {
        LastUse record = new LastUse();
        read(root.path("images"), record.images);
        read(root.path("refs"), record.refs);
        read(root.path("seenAfterGap"), record.seenAfterGap);
        instant(root.path("watchAlive")).ifPresent(t -> record.alive = t);
        for (JsonNode g : root.path("gaps")) {
            Optional<Instant> to = instant(g.path("to"));
            to.ifPresent(t -> record.addGap(new Gap(instant(g.path("from")), t)));
        }
        return record;
    }

    private static Optional<Instant> instant(JsonNode node) {
        if (!node.isTextual()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(node.asText()));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static void read(JsonNode object, Map<String, Instant> into) {
        object.properties().forEach(e -> {
            try {
                into.put(e.getKey(), Instant.parse(e.getValue().asText()));
            } catch (DateTimeParseException ignored) {
                // one bad entry does not spoil the others
            }
        });
    }

    // ---------------------------------------------------------------- the state file

    /** A record read from its file, or empty with the one-line reason it could not be read. */
    public record Loaded(LastUse record, Optional<String> problem) {}

    /** Never throws: a missing file is an empty record; anything else that is wrong is an empty record and a reason. */
    public static Loaded load(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                return new Loaded(empty(), Optional.of("last-use record " + file + " is not a regular file: ignored"));
            }
            if (attributes.size() > MAX_FILE_BYTES) {
                return new Loaded(empty(), Optional.of("last-use record " + file + " is larger than " + Text.bytes(MAX_FILE_BYTES) + ": ignored"));
            }
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                JsonNode root = Json.mapper().readTree(in.readNBytes((int) MAX_FILE_BYTES));
                if (root == null || !root.isObject()) {
                    return new Loaded(empty(), Optional.of("last-use record " + file + " is not a JSON object: ignored"));
                }
                return new Loaded(fromJson(root), Optional.empty());
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return new Loaded(empty(), Optional.empty());
        } catch (IOException | RuntimeException e) {
            return new Loaded(empty(), Optional.of("last-use record " + file + " cannot be read: " + Text.rootMessage(e)));
        }
    }

    /**
     * Merges this record into the file (what is there stays unless older), under the lock file
     * beside it, and replaces the file atomically. With {@code present}, records of images and tags
     * no longer in the store are dropped. Returns the merged record.
     */
    public static LastUse save(Path file, LastUse update, Optional<Presence> present) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path lockFile = dir.resolve(target.getFileName() + ".lock");
        FileChannel lock;
        try {
            lock = SmallFile.openLock(lockFile);
        } catch (SmallFile.Unusable e) {
            throw new IOException("its lock " + lockFile + " " + e.getMessage()); // the cause's message would hide the path
        }
        try (lock; FileLock ignored = lock.lock()) {
            LastUse merged = load(target).record().merge(update);
            present.ifPresent(p -> merged.retainPresent(p.imageIds(), p.tags()));
            SmallFile.writeAtomically(target, merged.toJson());
            return merged;
        }
    }

    /** What the store holds now: records of anything else can go. */
    public record Presence(Set<String> imageIds, Set<String> tags) {}

    /**
     * The cheap refresh every gates, prune and cache run makes: the images of running containers
     * are in use now. Only where the record's directory exists (watch or the installer creates
     * it); never throws, never blocks a run: returns the one-line reason when it could not write.
     */
    public static Optional<String> refresh(Path file, Collection<InUse> inUse, Instant now, Optional<Presence> present) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        LastUse update = empty();
        inUse.forEach(u -> update.use(u.imageId(), List.of(u.reference()), now));
        if (update.size() == 0 && present.isEmpty()) {
            return Optional.empty();
        }
        try {
            save(file, update, present);
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of("last-use record " + file + " not updated: " + Text.rootMessage(e));
        }
    }

    /** Where the record is (a picocli mixin for every command that reads or refreshes it). */
    public static final class FileOption {
        static final String DEFAULT_FILE = Defaults.LAST_USE_FILE;

        // the default is also the field's value: prune's daily command line is parsed without picocli (FastArgs)
        @Option(names = "--last-use", paramLabel = "FILE", defaultValue = DEFAULT_FILE,
                description = {"The last-use record (written by watch; refreshed by every run with the images in use now, "
                        + "when its directory exists).", "Default: ${DEFAULT-VALUE}."})
        Path file = Path.of(DEFAULT_FILE);

        public Path file() {
            return file;
        }
    }

    /** An image in use right now, and the reference its user named it by. */
    public record InUse(String imageId, String reference) {}
}
