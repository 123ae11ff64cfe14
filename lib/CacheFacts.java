package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * What the local image store holds and who uses it, read with a constant number of requests
 * whatever the host's size: GET /info (data root, swarm role), GET /system/df (images with their
 * shared and unique bytes, every container running or stopped, build cache) and, on a swarm
 * manager, GET /services. Who uses an image ({@link #usersOf}) is a pure function of this snapshot.
 * layersSize is the engine's own total of the image layers on disk, each counted once.
 */
public record CacheFacts(
        String dockerRootDir,
        Engine.SwarmRole swarmRole,
        long layersSize,
        List<Image> images,
        List<Container> containers,
        List<Service> services,
        List<PruneFacts.BuildCacheRow> buildCache) {

    public static final String STACK_LABEL = GateFacts.STACK_LABEL;

    /** A top-level image as `docker system df -v` lists it; sharedSize is -1 when the engine did not compute it. */
    public record Image(String id, List<String> tags, List<String> repoDigests, Instant created,
                        long size, long sharedSize, long containers) {
        public boolean dangling() {
            return tags.isEmpty();
        }

        public long sharedBytes() {
            return Math.max(0, sharedSize);
        }

        /** What removing this image alone frees: the bytes no other image shares. */
        public long uniqueBytes() {
            return size - sharedBytes();
        }

        /** "app:1, app:latest" or "<none>:<none>". */
        public String name() {
            return dangling() ? "<none>:<none>" : String.join(", ", tags);
        }
    }

    /** Any container, running or stopped; image is the reference it was created from. */
    public record Container(String id, String name, String imageId, String image, String state, Instant created,
                            long sizeRw, Optional<String> stack) {}

    /** A swarm service and the image its task spec names (name:tag@digest as swarm stores it). */
    public record Service(String name, String image, Optional<String> stack) {}

    /** One user of an image, e.g. "container web (running)", "service api", "stack ci (service ci_web)". */
    public record User(String kind, String name, String detail) {
        @Override
        public String toString() {
            return kind + " " + name + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    public static CacheFacts read(Engine engine) {
        var info = engine.info();
        Engine.SwarmRole role = Engine.SwarmRole.of(info.getSwarm());
        // type= keeps newer engines from sizing volumes, which this view does not need; older ones ignore it
        JsonNode df = engine.getJson("/system/df?type=image&type=container&type=build-cache");
        List<Service> services = role == Engine.SwarmRole.MANAGER ? services(engine.getJson("/services")) : List.of();
        return new CacheFacts(info.getDockerRootDir(), role, df.path("LayersSize").asLong(), images(df.path("Images")), containers(df.path("Containers")),
                services, PruneFacts.buildCache(df.path("BuildCache")));
    }

    static List<Image> images(JsonNode array) {
        List<Image> images = new ArrayList<>();
        for (JsonNode i : array) {
            images.add(new Image(
                    i.path("Id").asText(),
                    strings(i.path("RepoTags")).stream().filter(t -> !t.equals("<none>:<none>")).toList(),
                    strings(i.path("RepoDigests")).stream().filter(d -> !d.startsWith("<none>@")).toList(),
                    Instant.ofEpochSecond(i.path("Created").asLong()),
                    i.path("Size").asLong(),
                    i.path("SharedSize").asLong(-1),
                    i.path("Containers").asLong(-1)));
        }
        return images;
    }

    static List<Container> containers(JsonNode array) {
        List<Container> containers = new ArrayList<>();
        for (JsonNode c : array) {
            List<String> names = strings(c.path("Names"));
            String id = c.path("Id").asText();
            String stack = c.path("Labels").path(STACK_LABEL).asText("");
            containers.add(new Container(id, names.isEmpty() ? id : names.get(0).replaceFirst("^/", ""),
                    c.path("ImageID").asText(), c.path("Image").asText(), c.path("State").asText(),
                    Instant.ofEpochSecond(c.path("Created").asLong()), c.path("SizeRw").asLong(0),
                    stack.isEmpty() ? Optional.empty() : Optional.of(stack)));
        }
        return containers;
    }

    static List<Service> services(JsonNode array) {
        List<Service> services = new ArrayList<>();
        for (JsonNode s : array) {
            JsonNode spec = s.path("Spec");
            String stack = spec.path("Labels").path(STACK_LABEL).asText("");
            services.add(new Service(spec.path("Name").asText(),
                    spec.path("TaskTemplate").path("ContainerSpec").path("Image").asText(""),
                    stack.isEmpty() ? Optional.empty() : Optional.of(stack)));
        }
        return services;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    /**
     * Everything that uses an image: any container made from it (by ID, or by a name that is one of
     * its tags now), any service whose task spec names it (by tag or by a digest it has). Erring
     * towards "in use" is the safe side: such an image is never evicted.
     */
    public List<User> usersOf(Image image) {
        List<User> users = new ArrayList<>();
        for (Container c : containers) {
            boolean byId = c.imageId().equals(image.id());
            boolean byName = !byId && namesTag(c.image(), image);
            if (byId || byName) {
                String detail = c.state() + (byName ? ", by its tag " + c.image() : "");
                users.add(c.stack().map(s -> new User("stack", s, "container " + c.name() + ", " + detail))
                        .orElse(new User("container", c.name(), detail)));
            }
        }
        for (Service s : services) {
            if (serviceUses(s.image(), image)) {
                users.add(s.stack().map(st -> new User("stack", st, "service " + s.name()))
                        .orElse(new User("service", s.name(), "")));
            }
        }
        return users;
    }

    /** Every image ID and tag in the store: records of anything else can go. */
    public LastUse.Presence presence() {
        Set<String> ids = new HashSet<>();
        Set<String> tags = new HashSet<>();
        images.forEach(i -> {
            ids.add(i.id());
            tags.addAll(i.tags());
        });
        return new LastUse.Presence(ids, tags);
    }

    /** The last use of an image, as the record knows it (else its creation time). */
    public static LastUse.Seen lastUse(LastUse record, Image image) {
        return record.lastUse(image.id(), image.tags(), image.created());
    }

    /** The images of running containers, and the names their users gave: what is in use right now. */
    public List<LastUse.InUse> inUseNow() {
        return containers.stream().filter(c -> c.state().equals("running"))
                .map(c -> new LastUse.InUse(c.imageId(), c.image())).toList();
    }

    private static boolean namesTag(String reference, Image image) {
        Optional<ImageRef> ref = ImageRef.tryParse(reference);
        return ref.isPresent() && image.tags().stream().map(ImageRef::tryParse).flatMap(Optional::stream)
                .anyMatch(tag -> tag.sameNameAndTag(ref.get()));
    }

    static boolean serviceUses(String serviceImage, Image image) {
        if (serviceImage.isEmpty()) {
            return false;
        }
        LocalImage local = new LocalImage(image.id(), image.repoDigests(), List.of(), List.of());
        List<String> names = new ArrayList<>(image.tags());
        image.repoDigests().forEach(d -> names.add(d));
        for (String name : names) {
            Optional<ImageRef> ref = ImageRef.tryParse(name);
            if (ref.isPresent() && LocalImage.serviceUses(serviceImage, ref.get(), Optional.of(local))) {
                return true;
            }
        }
        return false;
    }

    /** The same snapshot in the form the seed's prune policy reads ({@link PrunePolicy#plan}). */
    public PruneFacts asPruneFacts() {
        return new PruneFacts(
                containers.stream().map(c -> new PruneFacts.ContainerRow(c.id(), c.name(), c.imageId(), c.state(), c.created())).toList(),
                images.stream().map(i -> new PruneFacts.ImageRow(i.id(), i.tags(), i.created(), i.size())).toList(),
                buildCache, List.of(), Set.of());
    }
}
