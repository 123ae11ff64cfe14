//SOURCES EngineApi.java HostSnapshot.java ImageRef.java InUse.java Text.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One image as the engine holds it locally, looked up by a reference (reuse-proof's image): its ID,
 * its names (tags, and the registry digests it was pulled or pushed as), its layers, and whether
 * its config says what to run.
 */
public record LocalImage(String id, List<String> repoTags, List<String> repoDigests, List<String> entrypoint, List<String> cmd,
                         List<String> layers) {

    /** Whether the image's config says what to run (an ENTRYPOINT or a CMD). */
    public boolean hasCommand() {
        return !entrypoint.isEmpty() || !cmd.isEmpty();
    }

    /** The engine's image under {@code reference}, or empty when it has none. */
    public static Optional<LocalImage> inspect(EngineApi engine, String reference) {
        JsonNode image;
        try {
            image = engine.inspectImage(reference);
        } catch (EngineApi.Refused e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
        return Optional.of(new LocalImage(image.path("Id").asText(), strings(image.path("RepoTags")), strings(image.path("RepoDigests")),
                strings(image.path("Config").path("Entrypoint")), strings(image.path("Config").path("Cmd")),
                strings(image.path("RootFS").path("Layers"))));
    }

    public static Optional<LocalImage> inspect(EngineApi engine, ImageRef ref) {
        return inspect(engine, ref.local());
    }

    /** The digest this image has in {@code ref}'s repository (what `docker service create` pins), if known. */
    public Optional<String> digestIn(ImageRef ref) {
        for (String repoDigest : repoDigests) {
            Optional<ImageRef> named = ImageRef.tryParse(repoDigest);
            if (named.isPresent() && named.get().canonicalName().equals(ref.canonicalName()) && named.get().digest().isPresent()) {
                return named.get().digest();
            }
        }
        return Optional.empty();
    }

    /**
     * Its names besides {@code ref}'s own: other tags (of any repository), and names in other
     * repositories. Removing {@code ref} from an image that has any only untags it: the image and its
     * layers stay. Ours ({@link #isOurs}): {@code ref}'s repository:tag, and its repository at a digest
     * (the containerd store keeps what a deploy or a pull by digest brings as name:tag@digest and
     * name@digest, the classic store as a RepoDigest).
     */
    public List<String> otherNames(ImageRef ref) {
        List<String> others = new ArrayList<>();
        for (String name : repoTags) {
            if (!isOurs(name, ref)) {
                others.add(name);
            }
        }
        for (String name : repoDigests) {
            if (!isOurs(name, ref)) {
                others.add(name);
            }
        }
        return others;
    }

    /** Its names that are {@code ref}'s own (see {@link #otherNames}): tags first, then digests. */
    public List<String> ourNames(ImageRef ref) {
        List<String> ours = new ArrayList<>();
        repoTags.stream().filter(n -> isOurs(n, ref)).forEach(ours::add);
        repoDigests.stream().filter(n -> isOurs(n, ref) && !ours.contains(n)).forEach(ours::add);
        return ours;
    }

    /** A name in {@code ref}'s repository with {@code ref}'s tag, or with a digest and no tag. */
    static boolean isOurs(String name, ImageRef ref) {
        Optional<ImageRef> named = ImageRef.tryParse(name);
        if (named.isEmpty() || !named.get().canonicalName().equals(ref.canonicalName())) {
            return false;
        }
        Optional<String> tag = named.get().tag();
        return tag.isEmpty() ? named.get().digest().isPresent() : tag.equals(ref.tag());
    }

    /** Whether it has {@code ref}'s repository:tag (with or without a digest). */
    public boolean taggedAs(ImageRef ref) {
        return ref.tag().isPresent() && repoTags.stream().map(ImageRef::tryParse)
                .anyMatch(t -> t.isPresent() && t.get().sameNameAndTag(ref));
    }

    /** This image as the one definition of in use sees it (names and layers; no sizes). */
    public HostSnapshot.Image asImage() {
        return new HostSnapshot.Image(id, Optional.empty(), repoTags, repoDigests, Instant.EPOCH, 0, -1, Map.of(), true, layers,
                Optional.empty());
    }

    /** Who uses this image now: the one definition of in use, on the host's workloads as they are. */
    public List<InUse.Reason> users(EngineApi engine) {
        return InUse.users(HostSnapshot.read(engine, HostSnapshot.Depth.WORKLOADS, Instant.now()), asImage());
    }

    /**
     * Who uses an image that is not here, by its names: {@code ref} and {@code ref}'s repository at
     * {@code digest} (a service scaled to 0, a container left from an image since removed).
     */
    public static List<InUse.Reason> usersOfAbsent(EngineApi engine, ImageRef ref, Optional<String> digest) {
        List<String> tags = ref.tag().isPresent() ? List.of(ref.local().replaceFirst("@.*", "")) : List.of();
        List<String> digests = digest.map(d -> List.of(ref.repository() + "@" + d)).orElse(List.of());
        HostSnapshot.Image byName = new HostSnapshot.Image("sha256:absent", Optional.empty(), tags, digests, Instant.EPOCH, 0, -1,
                Map.of(), true, List.of(), Optional.empty());
        return InUse.users(HostSnapshot.read(engine, HostSnapshot.Depth.WORKLOADS, Instant.now()), byName);
    }

    /** The short form the docker CLI prints: the first 12 hex digits. */
    public static String shortId(String id) {
        return Text.shortId(id);
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return List.copyOf(values);
    }
}
