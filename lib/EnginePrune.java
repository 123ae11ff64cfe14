package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One prune phase, run by the engine's own prune endpoint: the very calls behind `docker container
 * prune`, `docker image prune` and `docker builder prune` with `--filter until=...`. The engine checks
 * "in use" at the moment it deletes, so an image that gets used after we looked is never removed.
 * Image prune always sends dangling=true: the API's default differed between engine versions.
 */
public final class EnginePrune {
    private EnginePrune() {}

    public record PhaseResult(PrunePlan.Phase phase, List<String> removedIds, long reclaimedBytes, Duration elapsed) {}

    /** The exact query each phase sends; nothing else can widen it (no "all", no volumes, no networks). */
    static String request(PrunePlan.Phase phase, Until until) {
        String untilFilter = "\"until\":[\"" + until.engineFilter() + "\"]";
        return switch (phase) {
            case CONTAINERS -> "/containers/prune?filters=" + encode("{" + untilFilter + "}");
            case IMAGES -> "/images/prune?filters=" + encode("{\"dangling\":[\"true\"]," + untilFilter + "}");
            case BUILD_CACHE -> "/build/prune?filters=" + encode("{" + untilFilter + "}");
        };
    }

    /**
     * @param imageIds every image ID in the store before the phase: the engine's ImagesDeleted also
     *                 lists the layers it removed, which are not images and must not be counted as such
     */
    public static PhaseResult run(DockerEngine engine, PrunePlan.Phase phase, Until until, java.util.Set<String> imageIds) {
        long start = System.nanoTime();
        JsonNode response = engine.postJson(request(phase, until));
        List<String> removed = new ArrayList<>();
        switch (phase) {
            case CONTAINERS -> response.path("ContainersDeleted").forEach(id -> removed.add(id.asText()));
            case IMAGES -> response.path("ImagesDeleted").forEach(entry -> {
                if (entry.hasNonNull("Deleted") && imageIds.contains(entry.get("Deleted").asText())) {
                    removed.add(entry.get("Deleted").asText());
                }
            });
            case BUILD_CACHE -> response.path("CachesDeleted").forEach(id -> removed.add(id.asText()));
        }
        return new PhaseResult(phase, removed, response.path("SpaceReclaimed").asLong(),
                Duration.ofNanos(System.nanoTime() - start));
    }

    private static String encode(String json) {
        return URLEncoder.encode(json, StandardCharsets.UTF_8);
    }
}
