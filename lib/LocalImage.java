package ccci;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerSpec;
import com.github.dockerjava.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An image as the engine holds it locally: its ID and the registry digests it was pulled or pushed
 * as, and how many layers it has; and who uses it: any container (running or stopped) made from it, and any swarm service whose
 * image names it (swarm stores name:tag@digest; a digest-only reference matches the local image's
 * digests). {@link #users} reads the engine once; the matching is pure.
 */
public record LocalImage(String id, List<String> repoDigests, List<String> entrypoint, List<String> cmd, int layers) {

    public LocalImage(String id, List<String> repoDigests) {
        this(id, repoDigests, List.of(), List.of(), 0);
    }

    public LocalImage(String id, List<String> repoDigests, List<String> entrypoint, List<String> cmd) {
        this(id, repoDigests, entrypoint, cmd, 0);
    }

    /** Whether the image's config says what to run (an ENTRYPOINT or a CMD). */
    public boolean hasCommand() {
        return !entrypoint.isEmpty() || !cmd.isEmpty();
    }

    /** The engine's image under {@code ref}, or empty when it has none. */
    public static Optional<LocalImage> inspect(Engine engine, ImageRef ref) {
        return engine.call("GET /images/" + ref.local() + "/json", () -> {
            try {
                InspectImageResponse image = engine.api().inspectImageCmd(ref.local()).exec();
                var config = image.getConfig();
                return Optional.of(new LocalImage(image.getId(),
                        image.getRepoDigests() == null ? List.of() : List.copyOf(image.getRepoDigests()),
                        config == null || config.getEntrypoint() == null ? List.of() : List.of(config.getEntrypoint()),
                        config == null || config.getCmd() == null ? List.of() : List.of(config.getCmd()),
                        image.getRootFS() == null || image.getRootFS().getLayers() == null ? 0 : image.getRootFS().getLayers().size()));
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

    public record User(String kind, String name, String state) {
        @Override
        public String toString() {
            return kind + " " + name + (state.isEmpty() ? "" : " (" + state + ")");
        }
    }

    public static List<User> users(Engine engine, ImageRef image, Optional<LocalImage> local) {
        List<User> users = new ArrayList<>();
        List<Container> containers = engine.call("GET /containers/json",
                () -> engine.api().listContainersCmd().withShowAll(true).exec());
        for (Container c : containers) {
            if (containerUses(c.getImageId(), c.getImage(), image, local)) {
                String name = c.getNames() != null && c.getNames().length > 0 ? c.getNames()[0].replaceFirst("^/", "") : c.getId();
                users.add(new User("container", name, c.getState() == null ? "" : c.getState()));
            }
        }
        List<Service> services = engine.call("GET /services", () -> engine.api().listServicesCmd().exec());
        for (Service s : services) {
            String serviceImage = Optional.ofNullable(s.getSpec())
                    .map(spec -> spec.getTaskTemplate())
                    .map(task -> task.getContainerSpec())
                    .map(ContainerSpec::getImage)
                    .orElse(null);
            if (serviceUses(serviceImage, image, local)) {
                users.add(new User("service", s.getSpec().getName(), ""));
            }
        }
        return users;
    }

    static boolean containerUses(String imageId, String imageName, ImageRef image, Optional<LocalImage> local) {
        if (local.isPresent() && local.get().id().equals(imageId)) {
            return true;
        }
        return imageName != null && ImageRef.tryParse(imageName).map(image::sameNameAndTag).orElse(false);
    }

    static boolean serviceUses(String serviceImage, ImageRef image, Optional<LocalImage> local) {
        if (serviceImage == null) {
            return false;
        }
        Optional<ImageRef> used = ImageRef.tryParse(serviceImage);
        if (used.isEmpty()) {
            return false;
        }
        if (used.get().tag().isPresent() && image.tag().isPresent()) {
            return image.sameNameAndTag(used.get());
        }
        // a digest-only reference on either side: compare digests in the same repository
        Optional<String> digest = used.get().digest();
        if (digest.isPresent() && used.get().canonicalName().equals(image.canonicalName())) {
            return image.digest().map(digest.get()::equals).orElse(false)
                    || local.flatMap(l -> l.digestIn(image)).map(digest.get()::equals).orElse(false);
        }
        return false;
    }
}
