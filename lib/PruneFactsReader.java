package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Image;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Reads {@link PruneFacts}: all containers, top-level images, build cache records and volume names. */
public final class PruneFactsReader {
    private PruneFactsReader() {}

    public static PruneFacts read(DockerEngine engine) {
        List<PruneFacts.ContainerRow> containers = engine.call("GET /containers/json",
                () -> engine.api().listContainersCmd().withShowAll(true).exec()).stream()
                .map(PruneFactsReader::container)
                .toList();
        List<PruneFacts.ImageRow> images = engine.call("GET /images/json",
                () -> engine.api().listImagesCmd().exec()).stream()
                .map(PruneFactsReader::image)
                .toList();
        List<String> volumes = Optional.ofNullable(engine.call("GET /volumes",
                () -> engine.api().listVolumesCmd().exec()).getVolumes()).orElse(List.of()).stream()
                .map(v -> v.getName())
                .sorted()
                .toList();
        // type= keeps newer engines from sizing every image and volume; older ones ignore it
        List<PruneFacts.BuildCacheRow> cache = buildCache(engine.getJson("/system/df?type=build-cache").path("BuildCache"));
        return new PruneFacts(containers, images, cache, volumes, allImageIds(engine));
    }

    static java.util.Set<String> allImageIds(DockerEngine engine) {
        return engine.call("GET /images/json?all=1", () -> engine.api().listImagesCmd().withShowAll(true).exec()).stream()
                .map(Image::getId)
                .collect(java.util.stream.Collectors.toSet());
    }

    public static int imageCount(DockerEngine engine) {
        return engine.call("GET /images/json", () -> engine.api().listImagesCmd().exec()).size();
    }

    private static PruneFacts.ContainerRow container(Container c) {
        String name = c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0].replaceFirst("^/", "");
        return new PruneFacts.ContainerRow(c.getId(), name, c.getImageId(), String.valueOf(c.getState()),
                Instant.ofEpochSecond(c.getCreated() == null ? 0 : c.getCreated()));
    }

    private static PruneFacts.ImageRow image(Image i) {
        List<String> tags = i.getRepoTags() == null ? List.of()
                : Arrays.stream(i.getRepoTags()).filter(t -> !t.equals("<none>:<none>")).toList();
        return new PruneFacts.ImageRow(i.getId(), tags, Instant.ofEpochSecond(i.getCreated() == null ? 0 : i.getCreated()),
                i.getSize() == null ? 0 : i.getSize());
    }

    static List<PruneFacts.BuildCacheRow> buildCache(JsonNode array) {
        List<PruneFacts.BuildCacheRow> rows = new ArrayList<>();
        for (JsonNode b : array) {
            rows.add(new PruneFacts.BuildCacheRow(
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
        return Optional.of(Instant.parse(text.asText()));
    }
}
