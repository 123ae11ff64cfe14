//SOURCES Cli.java HostSnapshot.java ImageRef.java LastUse.java LocalImage.java Until.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Until;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Who needs an image: the one definition of "in use" that every prune phase, eviction and cache
 * decide by. An image is protected by
 * <ul>
 * <li>any container, in any state (running, paused, created, exited), made from it or naming one of its tags;</li>
 * <li>any swarm service whose spec names it, by tag or digest (scaled to 0 too), or whose previous
 *     spec does (the rollback target); any swarm task whose spec names it;</li>
 * <li>a user of one of its child images (a parent only loses its name while a child exists, and the
 *     next build FROM it would fetch it again);</li>
 * <li>a --keep pattern one of its tags matches, or a --keep-label it carries;</li>
 * <li>a use, pull, tag or creation within the age the deciding step gives ({@link Recency}).</li>
 * </ul>
 * Nothing it protects is removed or untagged, by any phase, ever. Pure: a function of the snapshot.
 */
public final class InUse {
    private InUse() {}

    public enum Kind {
        CONTAINER, SERVICE, PREVIOUS_SPEC, TASK, CHILD, KEEP, KEEP_LABEL, RECENT;

        /** A container, service, task or a child's user: something on the host needs the image now. */
        public boolean workload() {
            return this != KEEP && this != KEEP_LABEL && this != RECENT;
        }
    }

    /** One reason an image is protected, e.g. "container web (running)". */
    public record Reason(Kind kind, String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    /** --keep-label KEY or KEY=VALUE: images carrying the label (with that value) are never removed. */
    public record KeepLabel(String key, Optional<String> value) {
        static KeepLabel parse(String text) {
            int eq = text.indexOf('=');
            String key = (eq < 0 ? text : text.substring(0, eq)).strip();
            if (key.isEmpty()) {
                throw new BadInput("--keep-label '" + text + "' has no label key: give KEY or KEY=VALUE");
            }
            return new KeepLabel(key, eq < 0 ? Optional.empty() : Optional.of(text.substring(eq + 1)));
        }

        boolean matches(Map<String, String> labels) {
            String v = labels.get(key);
            return v != null && value.map(v::equals).orElse(true);
        }

        @Override
        public String toString() {
            return key + value.map(v -> "=" + v).orElse("");
        }
    }

    /** What the operator protects by name: --keep patterns (on repository:tag, found anywhere) and --keep-label. */
    public record Settings(List<Pattern> keep, List<KeepLabel> keepLabels) {
        public static final Settings NONE = new Settings(List.of(), List.of());

        public static Settings parse(List<String> keep, List<String> keepLabels) {
            List<Pattern> patterns = new ArrayList<>();
            for (String k : keep) {
                patterns.add(parseKeep(k));
            }
            return new Settings(List.copyOf(patterns), keepLabels.stream().map(KeepLabel::parse).toList());
        }

        static Pattern parseKeep(String text) {
            if (text.isEmpty()) {
                throw new BadInput("--keep is empty: it would match every image");
            }
            try {
                return Pattern.compile(text);
            } catch (PatternSyntaxException e) {
                throw new BadInput("--keep '" + text + "' is not a valid regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }
    }

    /** What the operator protects by name, for every command that removes or predicts removals (a picocli mixin). */
    public static final class Options {
        @picocli.CommandLine.Option(names = "--keep", paramLabel = "REGEX",
                description = "Never remove an image with a repository:tag this regular expression finds (Java syntax, found anywhere; "
                        + "anchor it). Repeatable.")
        List<String> keep = new ArrayList<>();

        @picocli.CommandLine.Option(names = "--keep-label", paramLabel = "KEY[=VALUE]",
                description = "Never remove an image carrying this label (with this value), e.g. one a CI runner manages. Repeatable.")
        List<String> keepLabels = new ArrayList<>();

        public Settings settings() {
            return Settings.parse(keep, keepLabels);
        }
    }

    /**
     * How recent a use protects: within the deciding step's age (the image phase's --until,
     * eviction's --min-age) of now, by the last-use record, the engine's tag time (a pull or tag of
     * a tagged image) or its creation.
     */
    public record Recency(LastUse record, Until within, Instant now) {
        Optional<Reason> of(HostSnapshot.Image image) {
            LastUse.Seen seen = lastUse(record, image);
            if (!seen.at().isAfter(now.minus(within.duration()))) {
                return Optional.empty();
            }
            String verb = switch (seen.source()) {
                case CREATED -> "created ";
                case TAGGED -> "pulled or tagged ";
                case GAP_END -> "seen ";
                default -> "used ";
            };
            return Optional.of(new Reason(Kind.RECENT, verb + ago(seen.at(), now) + " ago (" + seen.describe() + "), within " + within));
        }
    }

    /** The image's last use: the record (its own, else a tag's), the engine's tag time of a tagged image, or its creation, whichever is latest. */
    public static LastUse.Seen lastUse(LastUse record, HostSnapshot.Image image) {
        LastUse.Seen seen = record.lastUse(image.id(), image.tags(), image.created());
        if (!image.dangling() && image.lastTagTime().isPresent() && image.lastTagTime().get().isAfter(seen.at())) {
            return new LastUse.Seen(image.lastTagTime().get(), LastUse.Source.TAGGED, "");
        }
        return seen;
    }

    /** Every protected image of the snapshot's store, by image ID, with why; an image not in the map is not in use. */
    public static Map<String, List<Reason>> of(HostSnapshot host, Settings settings, Recency recency) {
        List<HostSnapshot.Image> images = host.requireStore().images();
        Map<String, List<Reason>> users = new LinkedHashMap<>();
        for (HostSnapshot.Image image : images) {
            List<Reason> direct = users(host, image);
            if (!direct.isEmpty()) {
                users.put(image.id(), direct);
            }
        }
        Map<String, List<Reason>> protectedBy = new LinkedHashMap<>();
        users.forEach((id, reasons) -> protectedBy.computeIfAbsent(id, k -> new ArrayList<>()).addAll(reasons));
        Map<String, List<HostSnapshot.Image>> ancestors = ancestors(images);
        users.forEach((id, reasons) -> {
            HostSnapshot.Image child = images.stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow();
            for (HostSnapshot.Image parent : ancestors.getOrDefault(id, List.of())) {
                protectedBy.computeIfAbsent(parent.id(), k -> new ArrayList<>()).add(new Reason(Kind.CHILD,
                        "its child image " + child.name() + " is used by " + reasons.get(0)));
            }
        });
        for (HostSnapshot.Image image : images) {
            List<Reason> own = new ArrayList<>();
            keepMatch(settings, image).ifPresent(own::add);
            keepLabel(settings, image).ifPresent(own::add);
            recency.of(image).ifPresent(own::add);
            if (!own.isEmpty()) {
                protectedBy.computeIfAbsent(image.id(), k -> new ArrayList<>()).addAll(own);
            }
        }
        return protectedBy;
    }

    /** The workloads that use the image itself: containers, services (and previous specs), tasks. */
    public static List<Reason> users(HostSnapshot host, HostSnapshot.Image image) {
        List<Reason> reasons = new ArrayList<>();
        for (HostSnapshot.Container c : host.containers()) {
            boolean byId = c.imageId().equals(image.id());
            if (byId || refersTo(c.image(), image)) {
                String detail = c.state() + (byId ? "" : ", by its name " + c.image());
                reasons.add(new Reason(Kind.CONTAINER, c.stack().map(s -> "stack " + s + " (container " + c.name() + ", " + detail + ")")
                        .orElse("container " + c.name() + " (" + detail + ")")));
            }
        }
        Map<String, HostSnapshot.Service> byId = new HashMap<>();
        for (HostSnapshot.Service s : host.services()) {
            byId.put(s.id(), s);
            String who = s.stack().map(st -> "stack " + st + " (service " + s.name()).orElse("service " + s.name() + " (");
            String sep = s.stack().isPresent() ? ", " : "";
            if (refersTo(s.image(), image)) {
                reasons.add(new Reason(Kind.SERVICE, who + sep + s.desiredTasks() + " desired, " + s.runningTasks() + " running)"));
            }
            if (s.previousImage().filter(p -> refersTo(p, image)).isPresent()) {
                reasons.add(new Reason(Kind.PREVIOUS_SPEC, who + sep + "its previous spec: the rollback target)"));
            }
        }
        for (HostSnapshot.Task t : host.tasks()) {
            if (refersTo(t.image(), image)) {
                HostSnapshot.Service s = byId.get(t.serviceId());
                reasons.add(new Reason(Kind.TASK, "task " + LocalImage.shortId(t.id()) + (s == null ? "" : " of service " + s.name())
                        + " (" + t.state() + ")"));
            }
        }
        return reasons;
    }

    /**
     * Whether an image reference names this image: by ID, by a digest it has in that repository, or
     * by one of its repository:tag names (swarm pins name:tag@digest; either half counts).
     */
    public static boolean refersTo(String reference, HostSnapshot.Image image) {
        if (reference == null || reference.isEmpty()) {
            return false;
        }
        if (reference.equals(image.id()) || (reference.matches("[0-9a-f]{12,64}") && image.id().startsWith("sha256:" + reference))) {
            return true;
        }
        Optional<ImageRef> ref = ImageRef.tryParse(reference);
        if (ref.isEmpty()) {
            return false;
        }
        ImageRef r = ref.get();
        if (r.digest().isPresent()) {
            for (String d : image.repoDigests()) {
                Optional<ImageRef> have = ImageRef.tryParse(d);
                if (have.isPresent() && have.get().canonicalName().equals(r.canonicalName())
                        && have.get().digest().equals(r.digest())) {
                    return true;
                }
            }
            // the containerd store lists one repository's digest only, but there the image's ID is
            // its manifest digest: the digest in any repository the image has names it
            if (r.digest().get().equals(image.id()) && image.repositories().contains(r.canonicalName())) {
                return true;
            }
        }
        if (r.tag().isPresent()) {
            for (String t : image.tags()) {
                Optional<ImageRef> have = ImageRef.tryParse(t);
                if (have.isPresent() && have.get().canonicalName().equals(r.canonicalName()) && have.get().tag().equals(r.tag())) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Each image's ancestors: by the engine's parent chain (images built here on the classic store),
     * and every image whose layers are a proper prefix of its own (a base image pulled or loaded
     * apart from it, on either store).
     */
    static Map<String, List<HostSnapshot.Image>> ancestors(List<HostSnapshot.Image> images) {
        Map<String, HostSnapshot.Image> byId = new HashMap<>();
        images.forEach(i -> byId.put(i.id(), i));
        Map<String, List<HostSnapshot.Image>> result = new HashMap<>();
        for (HostSnapshot.Image image : images) {
            List<HostSnapshot.Image> up = new ArrayList<>();
            Optional<String> parent = image.parentId();
            while (parent.isPresent() && byId.containsKey(parent.get()) && up.size() < images.size()) {
                HostSnapshot.Image p = byId.get(parent.get());
                up.add(p);
                parent = p.parentId();
            }
            for (HostSnapshot.Image other : images) {
                if (other != image && !up.contains(other) && isLayerPrefix(other.layers(), image.layers())) {
                    up.add(other);
                }
            }
            if (!up.isEmpty()) {
                result.put(image.id(), up);
            }
        }
        return result;
    }

    /** The images with a child in the store (their removal frees nothing while it exists). */
    public static Map<String, List<HostSnapshot.Image>> children(List<HostSnapshot.Image> images) {
        Map<String, List<HostSnapshot.Image>> result = new HashMap<>();
        ancestors(images).forEach((childId, parents) -> {
            HostSnapshot.Image child = images.stream().filter(i -> i.id().equals(childId)).findFirst().orElseThrow();
            parents.forEach(p -> result.computeIfAbsent(p.id(), k -> new ArrayList<>()).add(child));
        });
        return result;
    }

    static boolean isLayerPrefix(List<String> base, List<String> of) {
        return !base.isEmpty() && base.size() < of.size() && of.subList(0, base.size()).equals(base);
    }

    private static Optional<Reason> keepMatch(Settings settings, HostSnapshot.Image image) {
        for (Pattern p : settings.keep()) {
            for (String tag : image.tags()) {
                if (p.matcher(tag).find()) {
                    return Optional.of(new Reason(Kind.KEEP, "keep pattern: " + tag + " matches --keep " + p.pattern()));
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Reason> keepLabel(Settings settings, HostSnapshot.Image image) {
        for (KeepLabel label : settings.keepLabels()) {
            if (label.matches(image.labels())) {
                return Optional.of(new Reason(Kind.KEEP_LABEL, "keep label " + label.key() + "=" + image.labels().get(label.key())
                        + " (--keep-label " + label + ")"));
            }
        }
        return Optional.empty();
    }

    /** "3h", "2d 4h", "45m", "12s": how long ago, for people. */
    public static String ago(Instant then, Instant now) {
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

    /** One line for a list of reasons: the first few, then how many more. */
    public static String describe(List<Reason> reasons) {
        int shown = Math.min(3, reasons.size());
        String head = String.join(", ", reasons.subList(0, shown).stream().map(Reason::text).toList());
        return reasons.size() > shown ? head + " and " + (reasons.size() - shown) + " more" : head;
    }
}
