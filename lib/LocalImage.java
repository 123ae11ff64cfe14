package ccci;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import java.util.List;
import java.util.Optional;

/** An image as the engine holds it locally: its ID and the registry digests it was pulled or pushed as. */
public record LocalImage(String id, List<String> repoDigests) {

    /** The engine's image under {@code ref}, or empty when it has none. */
    public static Optional<LocalImage> inspect(DockerEngine engine, ImageRef ref) {
        return engine.call("GET /images/" + ref.local() + "/json", () -> {
            try {
                InspectImageResponse image = engine.api().inspectImageCmd(ref.local()).exec();
                return Optional.of(new LocalImage(image.getId(),
                        image.getRepoDigests() == null ? List.of() : List.copyOf(image.getRepoDigests())));
            } catch (NotFoundException e) {
                return Optional.empty();
            }
        });
    }

    /** The digest this image has in {@code ref}'s repository (what `docker service create` pins), if known. */
    public Optional<String> digestIn(ImageRef ref) {
        for (String repoDigest : repoDigests) {
            int at = repoDigest.indexOf('@');
            if (at < 0) {
                continue;
            }
            Optional<ImageRef> named = ImageRef.tryParse(repoDigest);
            if (named.isPresent() && named.get().canonicalName().equals(ref.canonicalName())) {
                return Optional.of(repoDigest.substring(at + 1));
            }
        }
        return Optional.empty();
    }

    /** The short form the docker CLI prints: the first 12 hex digits. */
    public static String shortId(String id) {
        String hex = id.replaceFirst("^sha256:", "");
        return hex.substring(0, Math.min(12, hex.length()));
    }
}
