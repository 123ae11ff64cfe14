package ccci;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What prune looks at, read once from the engine: the objects its three phases may touch, and
 * volumes. allImageIds holds intermediate images too (image prune may remove untagged parents).
 */
public record PruneFacts(
        List<ContainerRow> containers,
        List<ImageRow> images,
        List<BuildCacheRow> buildCache,
        List<String> volumes,
        java.util.Set<String> allImageIds) {

    /** state is the engine's: created, running, paused, restarting, removing, exited, dead. */
    public record ContainerRow(String id, String name, String imageId, String state, Instant created) {}

    /** A top-level image (one without child images), as `docker images` lists them. */
    public record ImageRow(String id, List<String> tags, Instant created, long size) {
        public boolean dangling() {
            return tags.isEmpty();
        }
    }

    public record BuildCacheRow(String id, String type, String description, boolean inUse, boolean shared,
                                long size, Instant created, Optional<Instant> lastUsed) {}
}
