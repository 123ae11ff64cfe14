package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Image;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What prune looks at, read once from the engine: the objects its three phases may touch, and
 * volumes. allImageIds holds intermediate images too (image prune may remove untagged parents).
 * imageStore says how the engine ages an image (see {@link ImageRow#recorded()}).
 */
public record PruneFacts(
        List<ContainerRow> containers,
        List<ImageRow> images,
        List<BuildCacheRow> buildCache,
        List<String> volumes,
        Set<String> allImageIds,
        Engine.ImageStore imageStore) {

    /** Facts of an engine with the classic (graph driver) image store. */
    public PruneFacts(List<ContainerRow> containers, List<ImageRow> images, List<BuildCacheRow> buildCache,
                      List<String> volumes, Set<String> allImageIds) {
        this(containers, images, buildCache, volumes, allImageIds, Engine.ImageStore.GRAPH_DRIVER);
    }

    /** state is the engine's: created, running, paused, restarting, removing, exited, dead. */
    public record ContainerRow(String id, String name, String imageId, String state, Instant created) {}

    /**
     * A top-level image (one without child images), as `docker images` lists them. created is the
     * config's build time. recorded, read for dangling images on the containerd store only, is the
     * time of the engine's own record of the image, which is what that store's prune ages (for a
     * dangling image: when it became dangling, or arrived untagged): GET /images/{id}/json's
     * Metadata.LastTagTime; empty when the engine does not tell.
     */
    public record ImageRow(String id, List<String> tags, Instant created, long size, Optional<Instant> recorded) {
        public ImageRow(String id, List<String> tags, Instant created, long size) {
            this(id, tags, created, size, Optional.empty());
        }

        public boolean dangling() {
            return tags.isEmpty();
        }
    }

    public record BuildCacheRow(String id, String type, String description, boolean inUse, boolean shared,
                                long size, Instant created, Optional<Instant> lastUsed) {}

    /**
     * Reads the image store (GET /info), all containers, top-level images, build cache records and
     * volume names: six requests, plus on the containerd store one GET /images/{id}/json per
     * dangling image (its record time; tagged images are never pruned, so never asked about).
     */
    public static PruneFacts read(Engine engine) {
        Engine.ImageStore store = Engine.ImageStore.of(engine.info());
        List<ContainerRow> containers = engine.call("GET /containers/json",
                () -> engine.api().listContainersCmd().withShowAll(true).exec()).stream()
                .map(PruneFacts::container)
                .toList();
        List<ImageRow> images = engine.call("GET /images/json",
                () -> engine.api().listImagesCmd().exec()).stream()
                .map(PruneFacts::image)
                .map(i -> store == Engine.ImageStore.CONTAINERD && i.dangling() ? withRecordTime(engine, i) : i)
                .toList();
        List<String> volumes = Optional.ofNullable(engine.call("GET /volumes",
                () -> engine.api().listVolumesCmd().exec()).getVolumes()).orElse(List.of()).stream()
                .map(v -> v.getName())
                .sorted()
                .toList();
        // type= keeps newer engines from sizing every image and volume; older ones ignore it
        List<BuildCacheRow> cache = buildCache(engine.getJson("/system/df?type=build-cache").path("BuildCache"));
        return new PruneFacts(containers, images, cache, volumes, allImageIds(engine), store);
    }

    /** The image with its record time from GET /images/{id}/json, or as it was when the engine does not tell. */
    static ImageRow withRecordTime(Engine engine, ImageRow image) {
        JsonNode inspect;
        try {
            inspect = engine.getJson("/images/" + image.id() + "/json");
        } catch (Engine.Refused e) {
            if (e.status() == 404) {
                return image; // gone since the listing: nothing left to predict
            }
            throw e;
        }
        return new ImageRow(image.id(), image.tags(), image.created(), image.size(),
                recordTime(inspect.path("Metadata").path("LastTagTime")));
    }

    /** LastTagTime, unless absent or a zero value (Go's zero time, or the Unix epoch the containerd store starts from). */
    static Optional<Instant> recordTime(JsonNode lastTagTime) {
        return instant(lastTagTime).filter(t -> t.isAfter(Instant.EPOCH));
    }

    static Set<String> allImageIds(Engine engine) {
        return engine.call("GET /images/json?all=1", () -> engine.api().listImagesCmd().withShowAll(true).exec()).stream()
                .map(Image::getId)
                .collect(Collectors.toSet());
    }

    /** How many top-level images the store holds now. */
    public static int imageCount(Engine engine) {
        return engine.call("GET /images/json", () -> engine.api().listImagesCmd().exec()).size();
    }

    private static ContainerRow container(Container c) {
        String name = c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0].replaceFirst("^/", "");
        return new ContainerRow(c.getId(), name, c.getImageId(), String.valueOf(c.getState()),
                Instant.ofEpochSecond(c.getCreated() == null ? 0 : c.getCreated()));
    }

    private static ImageRow image(Image i) {
        List<String> tags = i.getRepoTags() == null ? List.of()
                : Arrays.stream(i.getRepoTags()).filter(t -> !t.equals("<none>:<none>")).toList();
        return new ImageRow(i.getId(), tags, Instant.ofEpochSecond(i.getCreated() == null ? 0 : i.getCreated()),
                i.getSize() == null ? 0 : i.getSize());
    }

    static List<BuildCacheRow> buildCache(JsonNode array) {
        List<BuildCacheRow> rows = new ArrayList<>();
        for (JsonNode b : array) {
            rows.add(new BuildCacheRow(
                    b.path("ID").asText(),
                    b.path("Type").asText(),
                    b.path("Description").asText(),
                    b.path("InUse").asBoolean(),
                    b.path("Shared").asBoolean(),
                    b.path("Size").asLong(),
                    instant(b.path("CreatedAt")).orElse(Instant.EPOCH),
                    instant(b.path("LastUsedAt"))));
        }
        return rows;
    }

    private static Optional<Instant> instant(JsonNode text) {
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
