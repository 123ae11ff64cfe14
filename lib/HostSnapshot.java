//SOURCES EngineApi.java EngineInfo.java ImageRef.java LastUse.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One picture of the host, read once through the engine seam: what runs (services with their
 * previous specs, tasks, containers in every state) and, read with the store, what is kept (images
 * with parents, tags, digests, labels, layers and record times; build cache; volumes; sizes). Gates,
 * prune, eviction, cache and a fleet node all decide from it, and {@link InUse} says who needs
 * which image; nothing here decides.
 *
 * <p>{@link Depth#WORKLOADS} costs three requests (info, services and tasks on a manager, all
 * containers): the gates and their re-checks. {@link Depth#STORE} adds the images (every one, with
 * parents), the sizes (GET /system/df) and volumes, and one inspection per top-level image (its
 * layers and the engine's record time).
 */
public record HostSnapshot(Instant readAt, EngineInfo engine, List<Service> services, List<Task> tasks,
                           List<Container> containers, Optional<Store> store) {

    public static final String STACK_LABEL = "com.docker.stack.namespace";

    public enum Depth { WORKLOADS, STORE }

    /**
     * A swarm service with the engine's own task counts; image is what its task spec names
     * (name:tag@digest as swarm pins it), previousImage that of its previous spec (the rollback target).
     */
    public record Service(String id, String name, Map<String, String> labels, String mode, long runningTasks,
                          long desiredTasks, Optional<String> updateState, String image, Optional<String> previousImage) {
        public Optional<String> stack() {
            return Optional.ofNullable(labels.get(STACK_LABEL)).filter(s -> !s.isEmpty());
        }
    }

    /** A swarm task: the image its spec names, its service, and what swarm wants of it and has. */
    public record Task(String id, String serviceId, String image, String desiredState, String state) {}

    /** Any container, in any state; image is the reference it was created from; sizeRw is known at depth STORE. */
    public record Container(String id, String name, String imageId, String image, String state, Instant created,
                            Map<String, String> labels, long sizeRw) {
        public boolean running() {
            return state.equals("running");
        }

        public Optional<String> stack() {
            return Optional.ofNullable(labels.get(STACK_LABEL)).filter(s -> !s.isEmpty());
        }
    }

    /**
     * An image. topLevel: listed by `docker images` (tagged, or without child images); the others are
     * intermediate images a build left, removed with their last child. layers: its RootFS diff IDs
     * (top-level images only). lastTagTime: the engine's record of when it was last tagged (a pull
     * or load by name, a tag; on the containerd store, for an untagged image, when it became so).
     * sharedSize is -1 when the engine did not compute it.
     */
    public record Image(String id, Optional<String> parentId, List<String> tags, List<String> repoDigests, Instant created,
                        long size, long sharedSize, Map<String, String> labels, boolean topLevel, List<String> layers,
                        Optional<Instant> lastTagTime) {
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

        /** "app:1, app:latest", or for an untagged image "<none>:<none>" (with its repository when it came from a registry). */
        public String name() {
            if (!dangling()) {
                return String.join(", ", tags);
            }
            return repoDigests.isEmpty() ? "<none>:<none>" : repository(repoDigests.get(0)) + ":<none>";
        }

        /** Every repository it has a tag or digest in (canonical: docker.io/library/redis). */
        public Set<String> repositories() {
            Set<String> names = new HashSet<>();
            for (String ref : tags) {
                ImageRef.tryParse(ref).ifPresent(r -> names.add(r.canonicalName()));
            }
            for (String ref : repoDigests) {
                ImageRef.tryParse(ref).ifPresent(r -> names.add(r.canonicalName()));
            }
            return names;
        }

        static String repository(String reference) {
            int at = reference.indexOf('@');
            return at < 0 ? reference : reference.substring(0, at);
        }
    }

    public record BuildCacheRecord(String id, String type, String description, boolean inUse, boolean shared,
                                   long size, Instant created, Optional<Instant> lastUsed) {}

    /** What the store keeps; layersSize is the engine's total of image layers on disk, each counted once. */
    public record Store(List<Image> images, List<BuildCacheRecord> buildCache, List<String> volumes, long layersSize) {
        /** The images `docker images` lists. */
        public List<Image> topLevel() {
            return images.stream().filter(Image::topLevel).toList();
        }

        public Optional<Image> image(String id) {
            return images.stream().filter(i -> i.id().equals(id)).findFirst();
        }
    }

    /** The store; the snapshot was read at depth STORE. */
    public Store requireStore() {
        return store.orElseThrow(() -> new IllegalStateException("the snapshot was read without the store"));
    }

    public List<Container> runningContainers() {
        return containers.stream().filter(Container::running).toList();
    }

    /** The images of running containers, and the names their users gave: in use right now (for the last-use record). */
    public List<LastUse.InUse> inUseNow() {
        return runningContainers().stream().map(c -> new LastUse.InUse(c.imageId(), c.image())).toList();
    }

    /** Every image ID and tag in the store: records of anything else can go. */
    public LastUse.Presence presence() {
        Set<String> ids = new HashSet<>();
        Set<String> tags = new HashSet<>();
        requireStore().images().forEach(i -> {
            ids.add(i.id());
            tags.addAll(i.tags());
        });
        return new LastUse.Presence(ids, tags);
    }

    // ---------------------------------------------------------------- reading

    public static HostSnapshot read(EngineApi engine, Depth depth, Instant now) {
        EngineInfo info = EngineInfo.of(engine.info());
        boolean manager = info.swarmRole() == EngineInfo.SwarmRole.MANAGER;
        List<Service> services = manager ? services(engine.services()) : List.of();
        List<Task> tasks = manager ? tasks(engine.tasks(Optional.empty())) : List.of();
        if (depth == Depth.WORKLOADS) {
            return new HostSnapshot(now, info, services, tasks, containers(engine.containers(true)), Optional.empty());
        }
        JsonNode df = diskUsage(engine, Set.of("image", "container", "build-cache"));
        List<Container> containers = containers(legacyOrItems(df, "Containers", "ContainersUsage"));
        Map<String, JsonNode> sized = new HashMap<>();
        legacyOrItems(df, "Images", "ImagesUsage").forEach(i -> sized.put(i.path("Id").asText(), i));
        List<Image> images = new ArrayList<>();
        for (JsonNode i : engine.images()) {
            String id = i.path("Id").asText();
            JsonNode withSize = sized.get(id);
            boolean topLevel = withSize != null;
            JsonNode inspected = topLevel ? inspect(engine, id) : null;
            if (topLevel && inspected == null) {
                continue; // gone since the listing
            }
            images.add(image(i, withSize, inspected));
        }
        List<String> volumes = new ArrayList<>();
        engine.volumes().path("Volumes").forEach(v -> volumes.add(v.path("Name").asText()));
        volumes.sort(null);
        Store store = new Store(images, buildCache(legacyOrItems(df, "BuildCache", "BuildCacheUsage")), volumes,
                df.has("LayersSize") ? df.path("LayersSize").asLong() : df.path("ImagesUsage").path("TotalSize").asLong());
        return new HostSnapshot(now, info, services, tasks, containers, Optional.of(store));
    }

    /** How often GET /system/df is asked again after the containerd store's race, and how long apart. */
    public static final int DF_TRIES = 4;
    static final long DF_PAUSE_MS = 250;

    /**
     * GET /system/df, asked again a few times when the containerd store answers that a container's
     * snapshot is missing: it does while a container is being removed (moby 28.5, HTTP 500 "rw layer
     * snapshot not found" or 404 "snapshot ... does not exist"), which on a busy CI host is often.
     */
    public static JsonNode diskUsage(EngineApi engine, Set<String> types) {
        for (int attempt = 1; ; attempt++) {
            try {
                return engine.systemDf(types);
            } catch (EngineApi.Refused e) {
                boolean race = (e.status() == 500 || e.status() == 404) && e.engineMessage().contains("snapshot");
                if (!race || attempt >= DF_TRIES) {
                    throw e;
                }
                try {
                    Thread.sleep(DF_PAUSE_MS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** How many top-level images a GET /system/df answer lists. */
    public static int topLevelCount(JsonNode df) {
        return legacyOrItems(df, "Images", "ImagesUsage").size();
    }

    /**
     * GET /system/df's list of one kind: the legacy field (API up to 1.52), else the items of its
     * usage field (1.52 with verbose=1, and from 1.53, where the legacy fields are gone).
     */
    static JsonNode legacyOrItems(JsonNode df, String legacy, String usage) {
        return df.has(legacy) && !df.path(legacy).isNull() ? df.path(legacy) : df.path(usage).path("Items");
    }

    private static JsonNode inspect(EngineApi engine, String id) {
        try {
            return engine.inspectImage(id);
        } catch (EngineApi.Refused e) {
            if (e.status() == 404) {
                return null;
            }
            throw e;
        }
    }

    static List<Service> services(JsonNode array) {
        List<Service> result = new ArrayList<>();
        for (JsonNode service : array) {
            JsonNode spec = service.path("Spec");
            JsonNode status = service.path("ServiceStatus");
            String name = spec.path("Name").asText();
            if (status.isMissingNode()) {
                throw new EngineApi.Unavailable("the engine did not report task counts for service " + name
                        + " (ServiceStatus needs Docker API 1.41 or newer)", null);
            }
            JsonNode update = service.path("UpdateStatus").path("State");
            String previous = service.path("PreviousSpec").path("TaskTemplate").path("ContainerSpec").path("Image").asText("");
            result.add(new Service(service.path("ID").asText(), name, labels(spec.path("Labels")), mode(spec.path("Mode")),
                    status.path("RunningTasks").asLong(), status.path("DesiredTasks").asLong(),
                    update.isTextual() && !update.asText().isEmpty() ? Optional.of(update.asText()) : Optional.empty(),
                    spec.path("TaskTemplate").path("ContainerSpec").path("Image").asText(""),
                    previous.isEmpty() ? Optional.empty() : Optional.of(previous)));
        }
        return result;
    }

    static List<Task> tasks(JsonNode array) {
        List<Task> result = new ArrayList<>();
        for (JsonNode t : array) {
            result.add(new Task(t.path("ID").asText(), t.path("ServiceID").asText(),
                    t.path("Spec").path("ContainerSpec").path("Image").asText(""), t.path("DesiredState").asText(""),
                    t.path("Status").path("State").asText("")));
        }
        return result;
    }

    private static String mode(JsonNode mode) {
        if (mode.has("Global")) return "global";
        if (mode.has("ReplicatedJob")) return "replicated-job";
        if (mode.has("GlobalJob")) return "global-job";
        return "replicated";
    }

    static List<Container> containers(JsonNode array) {
        List<Container> result = new ArrayList<>();
        for (JsonNode c : array) {
            String id = c.path("Id").asText();
            String name = c.path("Names").path(0).asText(id).replaceFirst("^/", "");
            result.add(new Container(id, name, c.path("ImageID").asText(""), c.path("Image").asText(""),
                    c.path("State").asText(""), Instant.ofEpochSecond(c.path("Created").asLong()), labels(c.path("Labels")),
                    c.path("SizeRw").asLong(0)));
        }
        return result;
    }

    /** One image from GET /images/json?all=1, with its sizes from /system/df and its inspection (top-level images). */
    static Image image(JsonNode listed, JsonNode sized, JsonNode inspected) {
        String parent = listed.path("ParentId").asText("");
        List<String> layers = new ArrayList<>();
        if (inspected != null) {
            inspected.path("RootFS").path("Layers").forEach(l -> layers.add(l.asText()));
        }
        JsonNode sizes = sized != null ? sized : listed;
        return new Image(listed.path("Id").asText(), parent.isEmpty() ? Optional.empty() : Optional.of(parent),
                strings(listed.path("RepoTags")).stream().filter(t -> !t.equals("<none>:<none>")).toList(),
                strings(listed.path("RepoDigests")).stream().filter(d -> !d.startsWith("<none>@")).toList(),
                Instant.ofEpochSecond(listed.path("Created").asLong()), sizes.path("Size").asLong(),
                sizes.path("SharedSize").asLong(-1), labels(listed.path("Labels")), sized != null, List.copyOf(layers),
                inspected == null ? Optional.empty() : instant(inspected.path("Metadata").path("LastTagTime"))
                        .filter(t -> t.isAfter(Instant.EPOCH)));
    }

    static List<BuildCacheRecord> buildCache(JsonNode array) {
        List<BuildCacheRecord> rows = new ArrayList<>();
        for (JsonNode b : array) {
            rows.add(new BuildCacheRecord(b.path("ID").asText(), b.path("Type").asText(), b.path("Description").asText(),
                    b.path("InUse").asBoolean(), b.path("Shared").asBoolean(), b.path("Size").asLong(),
                    instant(b.path("CreatedAt")).orElse(Instant.EPOCH), instant(b.path("LastUsedAt"))));
        }
        return rows;
    }

    private static Map<String, String> labels(JsonNode node) {
        Map<String, String> labels = new LinkedHashMap<>();
        node.properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return labels;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    /** An RFC 3339 time, unless absent or Go's zero time. */
    static Optional<Instant> instant(JsonNode text) {
        if (!text.isTextual() || text.asText().isEmpty() || text.asText().startsWith("0001-")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(text.asText()));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
