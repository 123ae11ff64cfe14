package ccci.fake;

import ccci.Disk;
import ccci.ImageRef;
import ccci.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The fake host's state and its engine semantics (see {@link FakeHost}); tests build a host with
 * the builder methods ({@link #image}, {@link #container}, {@link #service}, {@link #registryImage}...)
 * and read it back. Engine behaviour that differs between the image stores follows moby's
 * daemon/images (classic) and daemon/containerd (containerd store) code, as the contract tests show it.
 */
public final class FakeState {
    public enum Swarm { NONE, WORKER, MANAGER }

    final FakeHost.Store store;
    private Instant now;
    String engineVersion = "28.5.2";
    String apiVersion = "1.51";
    String minApiVersion = "1.24";
    public String dataRoot = "/var/lib/docker";
    Swarm swarm = Swarm.MANAGER;
    String nodeId = "fakenode0000000000000000a";
    boolean pruneRunning;
    long diskCapacity = 10_000_000_000L;
    long diskBaseline = 1_000_000_000L;
    final Map<Path, Disk> otherDisks = new LinkedHashMap<>();
    final Map<String, Long> layerSize = new LinkedHashMap<>();
    final LinkedHashMap<String, Image> images = new LinkedHashMap<>();
    final LinkedHashMap<String, Container> containers = new LinkedHashMap<>();
    final LinkedHashMap<String, Service> services = new LinkedHashMap<>();
    final List<Task> tasks = new ArrayList<>();
    final List<BuildCache> buildCache = new ArrayList<>();
    final List<String> volumes = new ArrayList<>();
    final Registry registry = new Registry();
    final List<ObjectNode> events = new ArrayList<>();
    private int counter;

    FakeState(FakeHost.Store store, Clock clock) {
        this.store = store;
        this.now = clock.instant();
    }

    // ---------------------------------------------------------------- building a host

    public Instant now() {
        return now;
    }

    /** Time passes on the host (its clock is the fake's own). */
    public FakeState advance(Duration d) {
        now = now.plus(d);
        return this;
    }

    /** The host's own clock, for a run: it reads the time the scenario has advanced the host to. */
    public Clock clock() {
        return clock(Duration.ZERO);
    }

    /** The host's clock, advanced by step at each reading (a run's event windows then never overlap). */
    public Clock clock(Duration step) {
        FakeState state = this;
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneId.of("UTC");
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                synchronized (state) {
                    return state.advance(step).now();
                }
            }
        };
    }

    public FakeState at(Instant t) {
        now = t;
        return this;
    }

    /** The engine's version and the API it answers in (1.52 and up: events without status/id/from, df's usage fields). */
    public FakeState api(String version, String minVersion) {
        apiVersion = version;
        minApiVersion = minVersion;
        return this;
    }

    public FakeState swarm(Swarm role) {
        swarm = role;
        return this;
    }

    /** The data root's disk: its size, and what it holds besides images, containers and build cache. */
    public FakeState disk(long capacity, long baseline) {
        diskCapacity = capacity;
        diskBaseline = baseline;
        return this;
    }

    /** Another filesystem the host has (e.g. containerd's root), with a fixed use. */
    public FakeState otherDisk(Path path, long used, long available) {
        otherDisks.put(path, new Disk(path, used, available));
        return this;
    }

    /** Another tool's container (or network, volume) prune runs: the engine answers a container prune 409; a build-cache prune goes on. */
    public FakeState pruneRunning(boolean running) {
        pruneRunning = running;
        return this;
    }

    public FakeState volume(String name) {
        volumes.add(name);
        return this;
    }

    private String nextId(String kind) {
        return sha256(kind + "-" + (++counter));
    }

    static String sha256(String text) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new image, built an hour ago, with one layer of its own (1 MB) and these tags (none: dangling). */
    public Image image(String... tags) {
        Image i = new Image(nextId("image"), now.minus(Duration.ofHours(1)));
        images.put(i.id, i);
        i.layer(i.id.substring(7, 19) + "-own", 1_000_000);
        for (String tag : tags) {
            tag(i, tag);
        }
        if (tags.length == 0 && store == FakeHost.Store.CONTAINERD) {
            i.lastTagTime = Optional.of(now); // its dangling record's time
        }
        return i;
    }

    /** A container of the image, created now, in this state (running, exited, created, paused...). */
    public Container container(String name, Image image, String state) {
        Container c = new Container(nextId("container").substring(7), name, image.id, image.tags.isEmpty() ? image.id : image.tags.iterator().next(),
                state, now);
        image.labels.forEach(c.labels::put); // a container carries its image's labels, and its own over them
        containers.put(c.id, c);
        event("container", "create", c.id, Map.of("image", c.imageRef, "name", name));
        if (state.equals("running")) {
            event("container", "start", c.id, Map.of("image", c.imageRef, "name", name));
        }
        return c;
    }

    /** A swarm service naming this image reference; one replica, converged (its task and container running). */
    public Service service(String name, String imageRef) {
        Service s = new Service(nextId("service").substring(7, 32), name, imageRef, now);
        services.put(s.id, s);
        event("service", "create", s.id, Map.of("name", name));
        s.replicas(1);
        return s;
    }

    /**
     * A task of the service whose spec named another image, shut down (one of an earlier spec, kept
     * in swarm's task history); add it after the service's replicas are set (that replaces its tasks).
     */
    public Task task(Service service, String imageRef, String state) {
        Task t = new Task(nextId("task").substring(7, 32), service.id, imageRef, now);
        t.desiredState = "shutdown";
        t.state = state;
        tasks.add(t);
        return t;
    }

    public BuildCache buildCache(String type, long size, Optional<Instant> lastUsed) {
        BuildCache b = new BuildCache(nextId("cache").substring(7, 32), type, size, now, lastUsed);
        buildCache.add(b);
        return b;
    }

    /** An image the fake registry serves under repository:tag (a digest of its own); its layers as given. */
    public RegistryImage registryImage(String reference, Instant created, Map<String, Long> layers) {
        ImageRef ref = ImageRef.parse(reference);
        String digest = sha256("manifest-" + reference + created);
        // the image ID: the config's digest on the classic store, the manifest's on the containerd store
        String id = store == FakeHost.Store.CONTAINERD ? digest : sha256("config-" + reference + created);
        RegistryImage r = new RegistryImage(ref.canonicalName(), ref.repository(), ref.tag().orElse("latest"), digest, id, created,
                new LinkedHashMap<>(layers));
        registry.images.add(r);
        return r;
    }

    // ---------------------------------------------------------------- the model

    public final class Image {
        public final String id;
        Optional<String> parentId = Optional.empty();
        Instant created;
        final Map<String, String> labels = new LinkedHashMap<>();
        final List<String> layers = new ArrayList<>();
        final LinkedHashSet<String> tags = new LinkedHashSet<>();
        final LinkedHashSet<String> digests = new LinkedHashSet<>();
        Optional<Instant> lastTagTime = Optional.empty();
        List<String> cmd = List.of("sh");

        Image(String id, Instant created) {
            this.id = id;
            this.created = created;
        }

        public Image layer(String diffId, long size) {
            layerSize.putIfAbsent(diffId, size);
            layers.add(diffId);
            return this;
        }

        /** Built FROM the parent here (the classic store's parent chain): its layers first. */
        public Image parent(Image parent) {
            parentId = Optional.of(parent.id);
            List<String> own = new ArrayList<>(layers);
            layers.clear();
            layers.addAll(parent.layers);
            layers.addAll(own);
            return this;
        }

        /** Exactly the other image's layers, none of its own (the same root file system imported twice). */
        public Image sameLayersAs(Image other) {
            layers.clear();
            layers.addAll(other.layers);
            return this;
        }

        /** Shares the other image's layers first (a base pulled or loaded apart, no parent chain). */
        public Image basedOn(Image base) {
            List<String> own = new ArrayList<>(layers);
            layers.clear();
            layers.addAll(base.layers);
            layers.addAll(own);
            return this;
        }

        public Image created(Instant t) {
            created = t;
            return this;
        }

        public Image label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        /**
         * A registry digest reference it has (repository@sha256:...), as after a push or pull; on the
         * containerd store a record of that name (an image pulled by digest), listed among its RepoTags.
         */
        public Image digest(String repoDigest) {
            if (store == FakeHost.Store.CONTAINERD) {
                tags.add(repoDigest); // the containerd store keeps it as a record, listed among RepoTags
            } else {
                digests.add(repoDigest);
            }
            return this;
        }

        /**
         * Arrived by `docker load`: the classic store records no tag time for it (LastTagTime zero,
         * as for a pull by digest), the containerd store its record's, now.
         */
        public Image loaded() {
            lastTagTime = store == FakeHost.Store.CLASSIC ? Optional.empty() : Optional.of(now);
            return this;
        }

        /** What its config says to run (CMD); none: an image made with docker import, which cannot run as a service. */
        public Image cmd(String... command) {
            cmd = List.of(command);
            return this;
        }

        public Image lastTagTime(Instant t) {
            lastTagTime = Optional.of(t);
            return this;
        }

        public List<String> tags() {
            return List.copyOf(tags);
        }

        /** Its RepoDigests as the engine lists them. */
        public List<String> digests() {
            return repoDigests(this);
        }

        public long size() {
            return layers.stream().mapToLong(layerSize::get).sum();
        }
    }

    public final class Container {
        public final String id;
        public final String name;
        final String imageId;
        String imageRef;
        String state;
        Instant created;
        final Map<String, String> labels = new LinkedHashMap<>();
        long sizeRw;

        Container(String id, String name, String imageId, String imageRef, String state, Instant created) {
            this.id = id;
            this.name = name;
            this.imageId = imageId;
            this.imageRef = imageRef;
            this.state = state;
            this.created = created;
        }

        public Container created(Instant t) {
            created = t;
            return this;
        }

        public Container label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        /** The name it was created from (docker run NAME), when not the image's first tag. */
        public Container ref(String reference) {
            imageRef = reference;
            return this;
        }

        public Container sizeRw(long bytes) {
            sizeRw = bytes;
            return this;
        }

        public Container state(String s) {
            state = s;
            return this;
        }
    }

    public final class Service {
        public final String id;
        public final String name;
        final Map<String, String> labels = new LinkedHashMap<>();
        String image;
        Optional<String> previousImage = Optional.empty();
        String mode = "Replicated";
        long replicas = 1;
        long running;
        Optional<String> updateState = Optional.empty();
        final Instant createdAt;

        Service(String id, String name, String image, Instant createdAt) {
            this.id = id;
            this.name = name;
            this.image = image;
            this.createdAt = createdAt;
        }

        public Service label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        /**
         * Scaled to n replicas, converged: n running tasks, each with a running container of its
         * image (the running ones it had are gone: swarm deletes a scaled-down task once stopped;
         * shut-down tasks of earlier specs stay listed).
         */
        public Service replicas(long n) {
            replicas = n;
            tasks.removeIf(t -> t.serviceId.equals(id) && t.desiredState.equals("running"));
            containers.values().removeIf(c -> id.equals(c.labels.get("com.docker.swarm.service.id")));
            Optional<Image> local = resolve(image);
            if (local.isEmpty() && n > 0 && registry.find(image).isPresent()) {
                pull(image, (status, text) -> new IllegalStateException(text)); // the node brings it, as a deploy does
                local = resolve(image);
            }
            for (long k = 1; k <= n; k++) {
                Task t = new Task(nextId("task").substring(7, 32), id, image, now);
                tasks.add(t);
                if (local.isPresent()) {
                    Container c = container(name + "." + k + "." + t.id, local.get(), "running").ref(image)
                            .label("com.docker.swarm.service.id", id).label("com.docker.swarm.task.id", t.id);
                    labels.forEach(c::label);
                }
            }
            running = local.isPresent() ? n : 0;
            return this;
        }

        /**
         * `docker service update --image`: the spec names the new image, the previous spec the old
         * one; converged (update completed, the old tasks shut down and listed).
         */
        public Service update(String imageRef) {
            event("service", "update", id, Map.of("name", name));
            previousImage = Optional.of(image);
            image = imageRef;
            updateState = Optional.of("completed");
            tasks.stream().filter(t -> t.serviceId.equals(id) && t.desiredState.equals("running")).forEach(t -> {
                t.desiredState = "shutdown"; // replaced: swarm keeps the task in its history
                t.state = "shutdown";
            });
            return replicas(replicas);
        }

        /** `docker service scale`: a spec update too, so the previous spec becomes the one before (its image); converged. */
        public Service scale(long n) {
            previousImage = Optional.of(image);
            updateState = Optional.empty(); // no rolling update: the engine then reports no UpdateStatus
            return replicas(n);
        }

        /** Its previous spec named this image: the rollback target. */
        public Service previous(String imageRef) {
            previousImage = Optional.of(imageRef);
            return this;
        }

        /** Short of its tasks (running 0 of its replicas): swarm is converging it. */
        public Service converging() {
            running = 0;
            return this;
        }

        public Service updateState(String state) {
            updateState = Optional.of(state);
            return this;
        }
    }

    public final class Task {
        public final String id;
        final String serviceId;
        final String image;
        String desiredState = "running";
        String state = "running";
        String stdout = "";
        String stderr = "";
        final Instant createdAt;

        Task(String id, String serviceId, String image, Instant createdAt) {
            this.id = id;
            this.serviceId = serviceId;
            this.image = image;
            this.createdAt = createdAt;
        }
    }

    public final class BuildCache {
        public final String id;
        final String type;
        final long size;
        final Instant created;
        final Optional<Instant> lastUsed;
        boolean inUse;
        boolean shared;

        BuildCache(String id, String type, long size, Instant created, Optional<Instant> lastUsed) {
            this.id = id;
            this.type = type;
            this.size = size;
            this.created = created;
            this.lastUsed = lastUsed;
        }
    }

    /** An image a registry serves: canonical repository, the name as written, tag, manifest digest, config (image ID), layers. */
    public record RegistryImage(String repository, String familiar, String tag, String digest, String imageId, Instant created,
                                Map<String, Long> layers) {}

    final class Registry {
        String host = "localhost:5000";
        String user = "ci";
        String password = "secret";
        final List<RegistryImage> images = new ArrayList<>();

        boolean accepts(String u, String p) {
            return user.equals(u) && password.equals(p);
        }

        Optional<RegistryImage> find(String reference) {
            Optional<ImageRef> ref = ImageRef.tryParse(reference);
            if (ref.isEmpty()) {
                return Optional.empty();
            }
            return images.stream().filter(r -> r.repository().equals(ref.get().canonicalName()))
                    .filter(r -> ref.get().digest().map(r.digest()::equals).orElse(ref.get().tag().map(r.tag()::equals).orElse(false)))
                    .findFirst();
        }
    }

    // ---------------------------------------------------------------- what the engine answers

    Optional<Disk> disk(Path path) {
        if (path.equals(Path.of(dataRoot))) {
            long used = diskBaseline + usedBytes();
            return Optional.of(new Disk(path, used, Math.max(0, diskCapacity - used)));
        }
        return Optional.ofNullable(otherDisks.get(path));
    }

    /** Bytes the store holds: each layer once, containers' writable layers, build cache. */
    long usedBytes() {
        Set<String> present = new HashSet<>();
        images.values().forEach(i -> present.addAll(i.layers));
        return present.stream().mapToLong(layerSize::get).sum()
                + containers.values().stream().mapToLong(c -> c.sizeRw).sum()
                + buildCache.stream().mapToLong(b -> b.size).sum();
    }

    boolean api152() {
        String[] v = apiVersion.split("\\.");
        return Integer.parseInt(v[0]) > 1 || Integer.parseInt(v[1]) >= 52;
    }

    ObjectNode infoJson() {
        ObjectNode info = Json.mapper().createObjectNode();
        info.put("DockerRootDir", dataRoot);
        info.put("Driver", store == FakeHost.Store.CONTAINERD ? "overlayfs" : "overlay2");
        ArrayNode status = info.putArray("DriverStatus");
        if (store == FakeHost.Store.CONTAINERD) {
            status.addArray().add("driver-type").add("io.containerd.snapshotter.v1");
        } else {
            status.addArray().add("Backing Filesystem").add("extfs");
        }
        ObjectNode s = info.putObject("Swarm");
        s.put("LocalNodeState", swarm == Swarm.NONE ? "inactive" : "active");
        s.put("ControlAvailable", swarm == Swarm.MANAGER);
        s.put("NodeID", swarm == Swarm.NONE ? "" : nodeId);
        return info;
    }

    Set<String> withChildren() {
        Set<String> parents = new HashSet<>();
        images.values().forEach(i -> i.parentId.ifPresent(parents::add));
        return parents;
    }

    boolean topLevel(Image i) {
        return !i.tags.isEmpty() || !withChildren().contains(i.id);
    }

    /**
     * An image as GET /images/json and /system/df list it. Below API 1.44 the classic store shows an
     * image without tags and digests as &lt;none&gt;:&lt;none&gt; / &lt;none&gt;@&lt;none&gt; and
     * leaves an empty list out (null); from 1.44 the lists are empty. Labels are null when the
     * image's config has none (a loaded or imported image).
     */
    ObjectNode imageSummary(Image i, boolean sized) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("Id", i.id);
        node.put("ParentId", i.parentId.orElse(""));
        boolean legacy = apiBelow(1, 44);
        List<String> tagList = List.copyOf(i.tags);
        List<String> digestList = repoDigests(i);
        if (store == FakeHost.Store.CLASSIC && legacy && tagList.isEmpty() && digestList.isEmpty()) {
            tagList = List.of("<none>:<none>");
            digestList = List.of("<none>@<none>");
        }
        strings(node, "RepoTags", tagList, legacy);
        strings(node, "RepoDigests", digestList, legacy);
        node.put("Created", i.created.getEpochSecond());
        node.put("Size", i.size());
        node.put("SharedSize", sized ? sharedSize(i) : -1);
        labels(node, "Labels", i.labels);
        node.put("Containers", sized ? containers.values().stream().filter(c -> c.imageId.equals(i.id)).count() : -1);
        return node;
    }

    private static void strings(ObjectNode node, String field, List<String> values, boolean nullWhenEmpty) {
        if (values.isEmpty() && nullWhenEmpty) {
            node.putNull(field);
            return;
        }
        ArrayNode array = node.putArray(field);
        values.forEach(array::add);
    }

    private static void labels(ObjectNode node, String field, Map<String, String> labels) {
        if (labels.isEmpty()) {
            node.putNull(field);
            return;
        }
        ObjectNode object = node.putObject(field);
        labels.forEach(object::put);
    }

    boolean apiBelow(int major, int minor) {
        String[] v = apiVersion.split("\\.");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma < major || (ma == major && mi < minor);
    }

    private long sharedSize(Image i) {
        Set<String> elsewhere = new HashSet<>();
        images.values().stream().filter(o -> o != i).forEach(o -> elsewhere.addAll(o.layers));
        return i.layers.stream().filter(elsewhere::contains).mapToLong(layerSize::get).sum();
    }

    ObjectNode imageInspect(Image i) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("Id", i.id);
        ArrayNode tags = node.putArray("RepoTags");
        i.tags.forEach(tags::add);
        ArrayNode digests = node.putArray("RepoDigests");
        repoDigests(i).forEach(digests::add);
        node.put("Parent", i.parentId.orElse(""));
        node.put("Created", i.created.toString());
        node.put("Size", i.size());
        ObjectNode config = node.putObject("Config");
        ArrayNode cmd = config.putArray("Cmd");
        i.cmd.forEach(cmd::add);
        labels(config, "Labels", i.labels);
        ObjectNode rootfs = node.putObject("RootFS");
        rootfs.put("Type", "layers");
        ArrayNode layers = rootfs.putArray("Layers");
        i.layers.forEach(layers::add);
        node.putObject("Metadata").put("LastTagTime", i.lastTagTime.map(Instant::toString).orElse("0001-01-01T00:00:00Z"));
        return node;
    }

    ObjectNode containerJson(Container c, boolean sized) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("Id", c.id);
        node.putArray("Names").add("/" + c.name);
        node.put("Image", c.imageRef);
        node.put("ImageID", c.imageId);
        node.put("State", c.state);
        node.put("Created", c.created.getEpochSecond());
        ObjectNode labels = node.putObject("Labels");
        c.labels.forEach(labels::put);
        if (sized && c.sizeRw > 0) {
            node.put("SizeRw", c.sizeRw); // left out when zero, as the engine does
        }
        return node;
    }

    ObjectNode df(Set<String> types) {
        ObjectNode df = Json.mapper().createObjectNode();
        ArrayNode imageList = Json.mapper().createArrayNode();
        images.values().stream().filter(this::topLevel).forEach(i -> imageList.add(imageSummary(i, true)));
        ArrayNode containerList = Json.mapper().createArrayNode();
        containers.values().forEach(c -> containerList.add(containerJson(c, true)));
        ArrayNode cacheList = Json.mapper().createArrayNode();
        for (BuildCache b : buildCache) {
            ObjectNode node = cacheList.addObject();
            node.put("ID", b.id);
            node.put("Type", b.type);
            node.put("Description", b.type + " record");
            node.put("InUse", b.inUse);
            node.put("Shared", b.shared);
            node.put("Size", b.size);
            node.put("CreatedAt", b.created.toString());
            b.lastUsed.ifPresentOrElse(t -> node.put("LastUsedAt", t.toString()), () -> node.putNull("LastUsedAt"));
        }
        Set<String> present = new HashSet<>();
        images.values().forEach(i -> present.addAll(i.layers));
        long layersSize = present.stream().mapToLong(layerSize::get).sum();
        if (api152()) {
            // verbose=1 from API 1.52: the legacy fields are not filled in, the usage fields carry the items
            if (types.contains("image")) {
                ObjectNode u = df.putObject("ImagesUsage");
                u.put("TotalSize", layersSize);
                u.put("TotalCount", imageList.size());
                u.set("Items", imageList);
            }
            if (types.contains("container")) {
                df.putObject("ContainersUsage").set("Items", containerList);
            }
            if (types.contains("build-cache")) {
                df.putObject("BuildCacheUsage").set("Items", cacheList);
            }
        } else {
            if (types.contains("image")) {
                df.put("LayersSize", layersSize);
                df.set("Images", imageList);
            }
            if (types.contains("container")) {
                df.set("Containers", containerList);
            }
            if (types.contains("build-cache")) {
                df.set("BuildCache", cacheList);
            }
        }
        return df;
    }

    Optional<Service> service(String idOrName) {
        return services.values().stream().filter(s -> s.id.equals(idOrName) || s.name.equals(idOrName)).findFirst();
    }

    ObjectNode serviceJson(Service s) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("ID", s.id);
        node.put("CreatedAt", s.createdAt.toString());
        ObjectNode spec = node.putObject("Spec");
        specOf(spec, s, s.image);
        s.previousImage.ifPresent(p -> specOf(node.putObject("PreviousSpec"), s, p));
        ObjectNode status = node.putObject("ServiceStatus");
        status.put("RunningTasks", s.running);
        status.put("DesiredTasks", s.replicas);
        s.updateState.ifPresent(u -> node.putObject("UpdateStatus").put("State", u));
        return node;
    }

    private void specOf(ObjectNode spec, Service s, String image) {
        spec.put("Name", s.name);
        ObjectNode labels = spec.putObject("Labels");
        s.labels.forEach(labels::put);
        spec.putObject("TaskTemplate").putObject("ContainerSpec").put("Image", image);
        if (s.mode.equals("Replicated")) {
            spec.putObject("Mode").putObject("Replicated").put("Replicas", s.replicas);
        } else {
            spec.putObject("Mode").putObject(s.mode);
        }
    }

    ObjectNode taskJson(Task t) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("ID", t.id);
        node.put("ServiceID", t.serviceId);
        node.put("NodeID", nodeId);
        node.put("CreatedAt", t.createdAt.toString());
        node.putObject("Spec").putObject("ContainerSpec").put("Image", t.image);
        node.put("DesiredState", t.desiredState);
        node.putObject("Status").put("State", t.state);
        return node;
    }

    ArrayNode nodesJson() {
        ArrayNode nodes = Json.mapper().createArrayNode();
        ObjectNode n = nodes.addObject();
        n.put("ID", nodeId);
        n.putObject("Spec").put("Availability", "active").put("Role", "manager");
        n.putObject("Status").put("State", "ready");
        n.putObject("Description").put("Hostname", "fake");
        return nodes;
    }

    // ---------------------------------------------------------------- semantics

    /**
     * An image by ID, ID prefix, repository:tag (":latest" when none) or repository@digest. A name
     * resolves on the classic store by its tag (a digest: by the image's digest references); on the
     * containerd store by the record of exactly that name, or with a digest by the image that digest
     * (the manifest's, the image's ID) names.
     */
    Optional<Image> resolve(String reference) {
        if (reference.startsWith("sha256:") && reference.length() == 71) {
            return Optional.ofNullable(images.get(reference));
        }
        if (reference.matches("(sha256:)?[0-9a-f]{4,64}")) {
            String hex = reference.replaceFirst("^sha256:", "");
            List<Image> hits = images.values().stream().filter(i -> i.id.substring(7).startsWith(hex)).toList();
            if (hits.size() == 1) {
                return Optional.of(hits.get(0));
            }
        }
        Optional<ImageRef> ref = ImageRef.tryParse(reference);
        if (ref.isEmpty()) {
            return Optional.empty();
        }
        if (store == FakeHost.Store.CONTAINERD) {
            Optional<Image> exact = images.values().stream().filter(i -> i.tags.stream().anyMatch(t -> sameRecord(t, ref.get()))).findFirst();
            if (exact.isPresent() || ref.get().digest().isEmpty()) {
                return exact;
            }
            return Optional.ofNullable(images.get(ref.get().digest().get()));
        }
        for (Image i : images.values()) {
            if (ref.get().digest().isPresent()) {
                for (String d : i.digests) {
                    Optional<ImageRef> have = ImageRef.tryParse(d);
                    if (have.isPresent() && have.get().canonicalName().equals(ref.get().canonicalName())
                            && have.get().digest().equals(ref.get().digest())) {
                        return Optional.of(i);
                    }
                }
            } else {
                for (String t : i.tags) {
                    Optional<ImageRef> have = ImageRef.tryParse(t);
                    if (have.isPresent() && have.get().sameNameAndTag(ref.get())) {
                        return Optional.of(i);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** A containerd record's name is exactly this reference (name, tag and digest alike). */
    private static boolean sameRecord(String record, ImageRef ref) {
        return ImageRef.tryParse(record).map(r -> r.canonicalName().equals(ref.canonicalName()) && r.tag().equals(ref.tag())
                && r.digest().equals(ref.digest())).orElse(false);
    }

    /** A record's full name as containerd keeps (and orders) it: docker.io/library/redis:7. */
    private static String fullName(String record) {
        ImageRef r = ImageRef.parse(record);
        return r.canonicalName() + r.tag().map(t -> ":" + t).orElse("") + r.digest().map(d -> "@" + d).orElse("");
    }

    /**
     * RepoDigests as the engine lists them: on the classic store the image's digest references; on
     * the containerd store one, made of one record's repository (the last in name order) and the
     * image's ID, which is its manifest's digest.
     */
    List<String> repoDigests(Image i) {
        if (store == FakeHost.Store.CLASSIC) {
            return List.copyOf(i.digests);
        }
        return i.tags.stream().max(java.util.Comparator.comparing(FakeState::fullName))
                .map(t -> List.of(ImageRef.parse(t).repository() + "@" + i.id)).orElse(List.of());
    }

    /** Gives the image repository:tag, taking it from any image that had it (which may be left dangling). */
    void tag(Image target, String reference) {
        tag(target, reference, true);
    }

    /**
     * The tag moves: on the containerd store an image that loses its last record gets a dangling
     * one, dated now (its LastTagTime); a pull tags without a tag event of its own.
     */
    private void tag(Image target, String reference, boolean event) {
        ImageRef ref = ImageRef.parse(reference);
        String tag = ref.repository() + ref.tag().map(t -> ":" + t).orElse("") + ref.digest().map(d -> "@" + d).orElse("");
        ImageRef wanted = ImageRef.parse(tag);
        for (Image other : images.values()) {
            if (other != target && other.tags.removeIf(t -> store == FakeHost.Store.CONTAINERD ? sameRecord(t, wanted)
                    : ImageRef.tryParse(t).map(wanted::sameNameAndTag).orElse(false))
                    && store == FakeHost.Store.CONTAINERD && other.tags.isEmpty()) {
                other.lastTagTime = Optional.of(now);
            }
        }
        target.tags.add(tag);
        target.lastTagTime = Optional.of(now);
        if (event) {
            this.event("image", "tag", target.id, Map.of("name", tag));
        }
    }

    private boolean usedByContainer(Image i, boolean runningOnly) {
        return containers.values().stream().anyMatch(c -> c.imageId.equals(i.id) && (!runningOnly || c.state.equals("running")));
    }

    private Optional<Container> userOf(Image i) {
        return containers.values().stream().filter(c -> c.imageId.equals(i.id)).findFirst();
    }

    private Optional<Container> userOf(Image i, boolean running) {
        return containers.values().stream().filter(c -> c.imageId.equals(i.id) && c.state.equals("running") == running).findFirst();
    }

    private List<String> refs(Image i) {
        List<String> all = new ArrayList<>(i.tags);
        all.addAll(i.digests);
        return all;
    }

    /** moby's isSingleReference: at most one tag, and every reference in one repository. */
    private boolean singleReference(Image i) {
        if (i.tags.size() > 1) {
            return false;
        }
        Set<String> repositories = new HashSet<>();
        refs(i).forEach(r -> repositories.add(FakeHost.repositoryOf(r)));
        return repositories.size() <= 1 && !refs(i).isEmpty();
    }

    /** DELETE /images/{reference}, never forced: the store's own rules (moby daemon/images, daemon/containerd). */
    ArrayNode delete(String reference, BiFunction<Integer, String, RuntimeException> http) {
        Image image = resolve(reference).orElseThrow(() -> http.apply(404, "No such image: " + reference));
        boolean byId = image.id.equals(reference) || reference.matches("(sha256:)?[0-9a-f]{4,64}");
        return store == FakeHost.Store.CLASSIC ? classicDelete(image, reference, byId, http) : containerdDelete(image, reference, byId, http);
    }

    /** moby daemon/images/image_delete.go, not forced, prune (untagged parents go too). */
    private ArrayNode classicDelete(Image image, String reference, boolean byId, BiFunction<Integer, String, RuntimeException> http) {
        ArrayNode records = Json.mapper().createArrayNode();
        String shortId = image.id.substring(7, 19);
        if (!byId) {
            Optional<Container> user = userOf(image);
            if (singleReference(image) && user.isPresent()) {
                throw http.apply(409, "conflict: unable to remove repository reference \"" + reference
                        + "\" (must force) - container " + user.get().id.substring(0, 12) + " is using its referenced image " + shortId);
            }
            untag(image, reference, records);
            if (!refs(image).isEmpty()) {
                return records;
            }
            // the image itself goes quietly: a conflict (a child) keeps it, untagged, without a word
            if (classicConflict(image, true, true).isPresent()) {
                return records;
            }
            remove(image, records);
            return records;
        }
        if (singleReference(image)) {
            // every reference goes with it: no "multiple repositories" conflict
            Optional<String> conflict = classicConflict(image, false, true);
            if (conflict.isPresent()) {
                throw http.apply(409, "conflict: unable to delete " + shortId + " " + conflict.get());
            }
            for (String r : refs(image)) {
                records.addObject().put("Untagged", r);
                event("image", "untag", image.id, Map.of("name", image.id));
            }
            image.tags.clear();
            image.digests.clear();
        }
        Optional<String> conflict = classicConflict(image, true, true);
        if (conflict.isPresent()) {
            throw http.apply(409, "conflict: unable to delete " + shortId + " " + conflict.get());
        }
        remove(image, records);
        return records;
    }

    /** checkImageDeleteConflict: children, a running container, references (when asked), a stopped container, in this order. */
    private Optional<String> classicConflict(Image image, boolean activeReference, boolean stoppedContainer) {
        if (withChildren().contains(image.id)) {
            return Optional.of("(cannot be forced) - image has dependent child images");
        }
        Optional<Container> running = userOf(image, true);
        if (running.isPresent()) {
            return Optional.of("(cannot be forced) - image is being used by running container " + running.get().id.substring(0, 12));
        }
        if (activeReference && !refs(image).isEmpty()) {
            return Optional.of("(must be forced) - image is referenced in multiple repositories");
        }
        Optional<Container> stopped = userOf(image, false);
        if (stoppedContainer && stopped.isPresent()) {
            return Optional.of("(must be forced) - image is being used by stopped container " + stopped.get().id.substring(0, 12));
        }
        return Optional.empty();
    }

    /**
     * moby daemon/containerd/image_delete.go, not forced, prune. The image's records are its
     * names (tags, name:tag@digest, name@digest), or one dangling record when it has none; no
     * parent chain blocks a delete, but an image whose last record goes while a child names it as
     * parent stays as a dangling record (the answer still says Deleted).
     */
    private ArrayNode containerdDelete(Image image, String reference, boolean byId, BiFunction<Integer, String, RuntimeException> http) {
        ArrayNode records = Json.mapper().createArrayNode();
        String shortId = image.id.substring(7, 19);
        List<String> all = List.copyOf(image.tags); // empty: the dangling record alone
        int count = Math.max(1, all.size());
        Optional<ImageRef> named = byId ? Optional.empty() : ImageRef.tryParse(reference);
        boolean exactRecord = named.isPresent() && all.stream().anyMatch(t -> sameRecord(t, named.get()));
        List<String> same = sameReferences(named, all);
        boolean activeReference = true;
        if (!exactRecord) {
            if (named.isPresent() && same.isEmpty()) {
                throw http.apply(404, "No such image: " + reference);
            }
            if (same.size() == all.size()) {
                activeReference = false;
            }
            if (named.isPresent() && !same.isEmpty() && same.size() != all.size()) {
                untagRecords(image, same, records);
                return records;
            }
        } else {
            if (same.size() != all.size()) {
                untagRecords(image, same, records);
                return records;
            } else if (all.size() > 1) {
                activeReference = false;
            }
            Optional<Container> user = userOf(image);
            if (user.isPresent()) {
                String record = all.stream().filter(t -> sameRecord(t, named.get())).findFirst().orElseThrow();
                throw http.apply(409, "conflict: unable to delete " + record + " (must be forced) - container "
                        + user.get().id.substring(0, 12) + " is using its referenced image " + shortId);
            }
        }
        // deleteAll: each record's own check (running, stopped, and several records when that counts)
        Optional<Container> running = userOf(image, true);
        if (running.isPresent()) {
            throw http.apply(409, "conflict: unable to delete " + shortId + " (cannot be forced) - image is being used by running container "
                    + running.get().id.substring(0, 12));
        }
        Optional<Container> stopped = userOf(image, false);
        if (stopped.isPresent()) {
            throw http.apply(409, "conflict: unable to delete " + shortId + " (must be forced) - image is being used by stopped container "
                    + stopped.get().id.substring(0, 12));
        }
        if (activeReference && count > 1) {
            throw http.apply(409, "conflict: unable to delete " + shortId + " (must be forced) - image is referenced in multiple repositories");
        }
        boolean keepDangling = !all.isEmpty() && all.size() == 1 && activeReference && withChildren().contains(image.id);
        untagRecords(image, all, records);
        records.addObject().put("Deleted", image.id);
        event("image", "delete", image.id, Map.of("name", image.id));
        if (keepDangling) {
            image.lastTagTime = Optional.of(now);
            return records;
        }
        images.remove(image.id);
        pruneParents(image, records);
        return records;
    }

    private void untagRecords(Image image, List<String> names, ArrayNode records) {
        for (String r : names) {
            image.tags.remove(r);
            records.addObject().put("Untagged", r);
            event("image", "untag", image.id, Map.of("name", r));
        }
        if (image.tags.isEmpty()) {
            image.lastTagTime = Optional.of(now); // the dangling record it gets
        }
    }

    /**
     * containerd's getSameReferences: the records naming the same repository and tag as the
     * reference (with a digest: every record of the repository; without a reference: as the first
     * record), and the repository's digest-only records when no other tag of it stays.
     */
    private static List<String> sameReferences(Optional<ImageRef> named, List<String> records) {
        String tag = named.flatMap(ImageRef::tag).orElse("");
        boolean allTags = named.isPresent() && named.get().tag().isEmpty() && named.get().digest().isPresent();
        Optional<ImageRef> name = named;
        List<String> same = new ArrayList<>();
        List<String> digestRecords = new ArrayList<>();
        boolean otherTag = false;
        for (String record : records) {
            ImageRef r = ImageRef.parse(record);
            if (name.isEmpty()) {
                name = Optional.of(r);
                tag = r.tag().orElse("");
            } else if (!name.get().canonicalName().equals(r.canonicalName())) {
                continue;
            } else if (!allTags) {
                if (r.tag().isPresent()) {
                    if (tag.isEmpty()) {
                        tag = r.tag().get();
                    } else if (!tag.equals(r.tag().get())) {
                        otherTag = true;
                        continue;
                    }
                } else {
                    digestRecords.add(record);
                    continue;
                }
            }
            same.add(record);
        }
        if (!otherTag) {
            same.addAll(digestRecords);
        }
        return same;
    }

    /** The classic store's untag: the tag, and the repository's digests when no other tag of it stays. */
    private void untag(Image image, String reference, ArrayNode records) {
        ImageRef ref = ImageRef.parse(reference);
        if (ref.digest().isPresent()) {
            image.digests.removeIf(d -> ImageRef.tryParse(d).map(h -> h.canonicalName().equals(ref.canonicalName())
                    && h.digest().equals(ref.digest())).orElse(false));
            records.addObject().put("Untagged", reference);
            event("image", "untag", image.id, Map.of("name", image.id));
            return;
        }
        image.tags.removeIf(t -> {
            boolean match = ImageRef.parse(t).sameNameAndTag(ref);
            if (match) {
                records.addObject().put("Untagged", t);
                event("image", "untag", image.id, Map.of("name", image.id));
            }
            return match;
        });
        boolean otherTagInRepo = image.tags.stream().anyMatch(t -> ImageRef.parse(t).canonicalName().equals(ref.canonicalName()));
        if (!otherTagInRepo) {
            image.digests.removeIf(d -> {
                boolean same = FakeHost.repositoryOf(d).equals(ref.canonicalName());
                if (same) {
                    records.addObject().put("Untagged", d);
                }
                return same;
            });
        }
    }

    /**
     * Deletes the image (the classic store's answer then names each layer it freed, by a chain ID),
     * then its untagged parents that nothing else holds (noprune=false).
     */
    private void remove(Image image, ArrayNode records) {
        images.remove(image.id);
        records.addObject().put("Deleted", image.id);
        event("image", "delete", image.id, Map.of("name", image.id));
        if (store == FakeHost.Store.CLASSIC) {
            Set<String> kept = new HashSet<>();
            images.values().forEach(i -> kept.addAll(i.layers));
            image.layers.stream().filter(l -> !kept.contains(l)).distinct()
                    .forEach(l -> records.addObject().put("Deleted", sha256("layer-" + l)));
        }
        pruneParents(image, records);
    }

    /** The parent goes too when it is untagged and nothing else holds it (quietly kept otherwise). */
    private void pruneParents(Image image, ArrayNode records) {
        Optional<Image> parent = image.parentId.map(images::get);
        if (parent.isPresent() && parent.get().tags.isEmpty() && parent.get().digests.isEmpty()
                && !withChildren().contains(parent.get().id) && !usedByContainer(parent.get(), false)) {
            remove(parent.get(), records);
        }
    }

    /** POST /containers/prune: stopped containers older than until (and matching label filters). */
    ObjectNode pruneContainers(Map<String, List<String>> filters) {
        Instant cutoff = until(filters).orElse(null);
        ObjectNode out = Json.mapper().createObjectNode();
        ArrayNode deleted = out.putArray("ContainersDeleted");
        long reclaimed = 0;
        for (Container c : List.copyOf(containers.values())) {
            boolean stopped = !Set.of("running", "paused", "restarting", "removing").contains(c.state);
            boolean old = cutoff == null || !c.created.isAfter(cutoff); // the engine keeps what was created after until
            if (stopped && old && labelsMatch(c.labels, filters)) {
                containers.remove(c.id);
                deleted.add(c.id);
                reclaimed += c.sizeRw;
            }
        }
        if (deleted.isEmpty()) {
            out.putNull("ContainersDeleted"); // as the engine answers when it deleted none
        }
        out.put("SpaceReclaimed", reclaimed);
        return out;
    }

    /**
     * POST /build/prune: records unused since until (never used: whatever their age), not in use, not
     * shared, not internal. With a budget (reserved-space from API 1.48, keep-storage before 1.52; an
     * engine ignores the parameter its API does not take, and then prunes every unused record):
     * BuildKit's gc mode, one record at a time, the least recently used first (never used first),
     * while the cache not shared with an image holds the budget or more.
     */
    ObjectNode pruneBuildCache(Map<String, List<String>> filters, Map<String, String> params) {
        Optional<Instant> until = until(filters);
        Instant cutoff = until.orElse(now);
        ObjectNode out = Json.mapper().createObjectNode();
        ArrayNode deleted = out.putArray("CachesDeleted");
        long reclaimed = 0;
        Optional<Long> budget = Optional.empty();
        if (params.containsKey("reserved-space") && apiAtLeast(1, 48)) {
            budget = Optional.of(Long.parseLong(params.get("reserved-space")));
        } else if (params.containsKey("keep-storage") && !apiAtLeast(1, 52)) {
            budget = Optional.of(Long.parseLong(params.get("keep-storage")));
        }
        List<BuildCache> candidates = new ArrayList<>();
        for (BuildCache b : buildCache) {
            boolean removable = !b.inUse && !b.shared && !Set.of("internal", "frontend").contains(b.type)
                    && (until.isEmpty() || b.lastUsed.isEmpty() || b.lastUsed.get().isBefore(cutoff));
            if (removable) {
                candidates.add(b);
            }
        }
        if (budget.isPresent()) {
            long total = buildCache.stream().filter(b -> !b.shared).mapToLong(b -> b.size).sum();
            candidates.sort(java.util.Comparator.comparing((BuildCache b) -> b.lastUsed.orElse(Instant.MIN)).thenComparing(b -> b.id));
            List<BuildCache> over = new ArrayList<>();
            for (BuildCache b : candidates) {
                if (total < budget.get()) {
                    break;
                }
                over.add(b);
                total -= b.size;
            }
            candidates = over;
        }
        for (BuildCache b : candidates) {
            buildCache.remove(b);
            deleted.add(b.id);
            reclaimed += b.size;
        }
        out.put("SpaceReclaimed", reclaimed);
        return out;
    }

    boolean apiAtLeast(int major, int minor) {
        String[] v = apiVersion.split("\\.");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    private Optional<Instant> until(Map<String, List<String>> filters) {
        List<String> values = filters.getOrDefault("until", List.of());
        if (values.isEmpty()) {
            return Optional.empty();
        }
        String v = values.get(0);
        if (v.matches("\\d+s")) {
            return Optional.of(now.minusSeconds(Long.parseLong(v.substring(0, v.length() - 1))));
        }
        if (v.matches("\\d+h")) {
            return Optional.of(now.minus(Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)))));
        }
        if (v.matches("\\d+\\.\\d{1,9}")) {
            String[] parts = v.split("\\.");
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong((parts[1] + "000000000").substring(0, 9))));
        }
        return Optional.of(Instant.ofEpochSecond(Long.parseLong(v)));
    }

    private static boolean labelsMatch(Map<String, String> labels, Map<String, List<String>> filters) {
        for (String wanted : filters.getOrDefault("label", List.of())) {
            String[] kv = wanted.split("=", 2);
            if (!labels.containsKey(kv[0]) || (kv.length == 2 && !kv[1].equals(labels.get(kv[0])))) {
                return false;
            }
        }
        for (String unwanted : filters.getOrDefault("label!", List.of())) {
            String[] kv = unwanted.split("=", 2);
            if (labels.containsKey(kv[0]) && (kv.length == 1 || kv[1].equals(labels.get(kv[0])))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A pull from the fake registry: layers already here are "Already exists", the others "Pull
     * complete". By tag the image gets the tag and its digest; by digest only the digest on the
     * classic store (the containerd store keeps a tag given with the digest).
     */
    List<JsonNode> pull(String reference, BiFunction<Integer, String, RuntimeException> http) {
        RegistryImage r = registry.find(reference).orElseThrow(() -> http.apply(404,
                "manifest for " + reference + " not found: manifest unknown"));
        List<JsonNode> messages = new ArrayList<>();
        ImageRef ref = ImageRef.parse(reference);
        Set<String> here = new HashSet<>();
        images.values().forEach(i -> here.addAll(i.layers));
        messages.add(status((ref.tag().orElse(r.tag())) + ": Pulling from " + r.familiar(), null));
        Image image = images.get(r.imageId());
        String digestRef = r.familiar() + "@" + r.digest();
        boolean upToDate = image != null && (store == FakeHost.Store.CONTAINERD ? resolve(reference).isPresent()
                : ref.digest().isPresent() ? image.digests.contains(digestRef) : image.tags.contains(r.familiar() + ":" + r.tag()));
        for (String layer : r.layers().keySet()) {
            messages.add(status(here.contains(layer) ? "Already exists" : "Pull complete", layer.substring(0, Math.min(12, layer.length()))));
        }
        if (image == null) {
            image = new Image(r.imageId(), r.created());
            images.put(image.id, image);
            for (Map.Entry<String, Long> l : r.layers().entrySet()) {
                image.layer(l.getKey(), l.getValue());
            }
        }
        if (store == FakeHost.Store.CONTAINERD) {
            // the record is named as pulled: name:tag, name:tag@digest (a service's pull) or name@digest
            tag(image, r.familiar() + ref.tag().map(t -> ":" + t).orElse("") + ref.digest().map(d -> "@" + d).orElse(""), false);
        } else {
            // the classic store keeps the digest, and a tag only when pulled by tag alone
            image.digests.add(digestRef);
            if (ref.digest().isEmpty()) {
                Optional<Instant> before = image.lastTagTime;
                tag(image, r.familiar() + ":" + ref.tag().orElse(r.tag()), false);
                image.lastTagTime = before; // nor a tag time: LastTagTime stays zero after a pull (seen on 26.1 and 28.5)
            }
        }
        event("image", "pull", reference, Map.of("name", r.familiar()));
        messages.add(status("Digest: " + r.digest(), null));
        messages.add(status(upToDate ? "Status: Image is up to date for " + reference : "Status: Downloaded newer image for " + reference, null));
        return messages;
    }

    private static ObjectNode status(String text, String id) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("status", text);
        if (id != null) {
            node.put("id", id);
        }
        return node;
    }

    /** POST /services/create: the node brings the image when it is not here (a service names it name:tag@digest). */
    JsonNode createService(JsonNode spec, boolean withAuth) {
        String image = spec.path("TaskTemplate").path("ContainerSpec").path("Image").asText();
        if (resolve(image).isEmpty() && registry.find(image).isPresent()) {
            pull(image, (status, text) -> new IllegalStateException(text));
        }
        Service s = new Service(nextId("service").substring(7, 32), spec.path("Name").asText(), image, now);
        spec.path("Labels").properties().forEach(e -> s.labels.put(e.getKey(), e.getValue().asText()));
        services.put(s.id, s);
        event("service", "create", s.id, Map.of("name", s.name));
        JsonNode mode = spec.path("Mode");
        if (mode.has("GlobalJob")) {
            s.mode = "GlobalJob";
            s.replicas(1);
        } else {
            s.replicas(mode.path("Replicated").path("Replicas").asLong(1));
        }
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("ID", s.id);
        return out;
    }

    boolean removeService(String idOrName) {
        Optional<Service> s = service(idOrName);
        if (s.isEmpty()) {
            return false;
        }
        services.remove(s.get().id);
        tasks.removeIf(t -> t.serviceId.equals(s.get().id));
        containers.values().removeIf(c -> s.get().id.equals(c.labels.get("com.docker.swarm.service.id")));
        return true;
    }

    /** An event as the engine sends it: API 1.52 without status, id and from; older with them. */
    void event(String type, String action, String actorId, Map<String, String> attributes) {
        ObjectNode e = Json.mapper().createObjectNode();
        e.put("Type", type);
        e.put("Action", action);
        ObjectNode actor = e.putObject("Actor");
        actor.put("ID", actorId);
        ObjectNode attrs = actor.putObject("Attributes");
        attributes.forEach(attrs::put);
        e.put("scope", "local");
        e.put("time", now.getEpochSecond());
        e.put("timeNano", now.getEpochSecond() * 1_000_000_000L + now.getNano());
        if (!api152()) {
            e.put("status", action);
            e.put("id", actorId);
            if (type.equals("container")) {
                e.put("from", attributes.getOrDefault("image", ""));
            }
        }
        events.add(e);
    }

    /** The images as `docker images` lists them (top-level), for assertions. */
    public List<Image> topLevelImages() {
        return images.values().stream().filter(this::topLevel).toList();
    }

    public Optional<Image> imageById(String id) {
        return Optional.ofNullable(images.get(id));
    }

    public Optional<Service> serviceNamed(String name) {
        return services.values().stream().filter(x -> x.name.equals(name)).findFirst();
    }

    public Optional<Container> containerNamed(String name) {
        return containers.values().stream().filter(c -> c.name.equals(name)).findFirst();
    }

    public Task taskOf(Service s) {
        return tasks.stream().filter(t -> t.serviceId.equals(s.id))
                .min(java.util.Comparator.comparing((Task t) -> !t.desiredState.equals("running"))).orElseThrow();
    }

    public Task output(Task t, String stdout, String stderr, String state) {
        t.stdout = stdout;
        t.stderr = stderr;
        t.state = state;
        return t;
    }

    static String zone(Instant t) {
        return t.atZone(ZoneId.of("UTC")).toString();
    }
}
