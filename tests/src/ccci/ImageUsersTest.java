package ccci;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which containers and services use an image: the pure matching. */
class ImageUsersTest {
    static final String DIGEST = "sha256:" + "d".repeat(64);
    static final ImageRef REDIS = ImageRef.parse("redis:7-alpine");
    static final Optional<LocalImage> LOCAL = Optional.of(new LocalImage("sha256:" + "e".repeat(64),
            List.of("redis@" + DIGEST), List.of("docker-entrypoint.sh"), List.of("redis-server")));

    @Test
    void aServiceUsesTheImageByNameAndTagWhateverDigestSwarmPinned() {
        assertTrue(LocalImage.serviceUses("redis:7-alpine@sha256:" + "f".repeat(64), REDIS, LOCAL));
        assertTrue(LocalImage.serviceUses("docker.io/library/redis:7-alpine", REDIS, Optional.empty()));
        assertFalse(LocalImage.serviceUses("redis:7", REDIS, LOCAL));
        assertFalse(LocalImage.serviceUses("localhost:5000/redis:7-alpine", REDIS, LOCAL));
        assertFalse(LocalImage.serviceUses(null, REDIS, LOCAL));
    }

    @Test
    void aDigestOnlyServiceUsesTheImageWhenTheLocalImageHasThatDigest() {
        assertTrue(LocalImage.serviceUses("redis@" + DIGEST, REDIS, LOCAL));
        assertFalse(LocalImage.serviceUses("redis@sha256:" + "0".repeat(64), REDIS, LOCAL));
        assertFalse(LocalImage.serviceUses("redis@" + DIGEST, REDIS, Optional.empty()));
    }

    @Test
    void aContainerUsesTheImageByIdOrByName() {
        assertTrue(LocalImage.containerUses(LOCAL.get().id(), "sha256:" + "e".repeat(64), REDIS, LOCAL));
        assertTrue(LocalImage.containerUses("sha256:other", "redis:7-alpine", REDIS, Optional.empty()));
        assertFalse(LocalImage.containerUses("sha256:other", "busybox:1", REDIS, LOCAL));
    }

    @Test
    void theLocalImagesDigestInTheRepositoryIsWhatADeployPins() {
        LocalImage big = new LocalImage("sha256:1", List.of("other/big@sha256:" + "1".repeat(64), "localhost:5000/ccci/big@" + DIGEST),
                List.of(), List.of("sleep", "3600"));
        assertTrue(big.digestIn(ImageRef.parse("localhost:5000/ccci/big:1")).orElseThrow().equals(DIGEST));
        assertTrue(big.digestIn(ImageRef.parse("localhost:5000/ccci/small:1")).isEmpty());
    }
}
