package ccci;

import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerSpec;
import com.github.dockerjava.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Who uses an image: any container (running or stopped) made from it, and any swarm service whose
 * image names it (swarm stores name:tag@digest; a digest-only reference matches the local image's
 * digests). Reads the engine once; the matching is pure.
 */
public final class ImageUsers {
    private ImageUsers() {}

    public record User(String kind, String name, String state) {
        @Override
        public String toString() {
            return kind + " " + name + (state.isEmpty() ? "" : " (" + state + ")");
        }
    }

    public static List<User> of(DockerEngine engine, ImageRef image, Optional<LocalImage> local) {
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
