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

    /** This image as the one definition of in use sees it (names and layers; no sizes). */
    public HostSnapshot.Image asImage() {
        return new HostSnapshot.Image(id, Optional.empty(), repoTags, repoDigests, Instant.EPOCH, 0, -1, Map.of(), true, layers,
                Optional.empty());
    }

    /** Who uses this image now: the one definition of in use, on the host's workloads as they are. */
    public List<InUse.Reason> users(EngineApi engine) {
        return InUse.users(HostSnapshot.read(engine, HostSnapshot.Depth.WORKLOADS, Instant.now()), asImage());
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
