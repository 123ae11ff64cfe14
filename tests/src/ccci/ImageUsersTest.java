package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which references name an image: the pure matching behind the one definition of in use. */
class ImageUsersTest {
    static final String DIGEST = "sha256:" + "d".repeat(64);
    static final HostSnapshot.Image REDIS = image("sha256:" + "e".repeat(64), List.of("redis:7-alpine"), List.of("redis@" + DIGEST));

    static HostSnapshot.Image image(String id, List<String> tags, List<String> digests) {
        return new HostSnapshot.Image(id, Optional.empty(), tags, digests, Instant.EPOCH, 0, -1, Map.of(), true, List.of(),
                Optional.empty());
    }

    @Test
    void aServiceNamesTheImageByNameAndTagWhateverDigestSwarmPinned() {
        assertTrue(InUse.refersTo("redis:7-alpine@sha256:" + "f".repeat(64), REDIS));
        assertTrue(InUse.refersTo("docker.io/library/redis:7-alpine", REDIS));
        assertFalse(InUse.refersTo("redis:7", REDIS));
        assertFalse(InUse.refersTo("localhost:5000/redis:7-alpine", REDIS));
        assertFalse(InUse.refersTo(null, REDIS));
    }

    @Test
    void aDigestReferenceNamesTheImageThatHasThatDigestInThatRepository() {
        assertTrue(InUse.refersTo("redis@" + DIGEST, REDIS));
        assertTrue(InUse.refersTo("redis:any@" + DIGEST, REDIS), "swarm's name:tag@digest: the digest counts");
        assertFalse(InUse.refersTo("redis@sha256:" + "0".repeat(64), REDIS));
        assertFalse(InUse.refersTo("other/redis@" + DIGEST, REDIS), "the same digest in another repository is another name");
    }

    @Test
    void anUntaggedImagePulledByDigestIsNamedByItsDigestOnly() {
        HostSnapshot.Image pulled = image("sha256:" + "a".repeat(64), List.of(), List.of("localhost:5000/acc/app@" + DIGEST));
        assertTrue(InUse.refersTo("localhost:5000/acc/app:1@" + DIGEST, pulled), "a stack service's pinned reference");
        assertFalse(InUse.refersTo("localhost:5000/acc/app:1", pulled), "no tag here: only the digest names it");
    }

    @Test
    void anIdOrItsShortFormNamesTheImage() {
        assertTrue(InUse.refersTo(REDIS.id(), REDIS));
        assertTrue(InUse.refersTo("e".repeat(12), REDIS));
        assertFalse(InUse.refersTo("f".repeat(12), REDIS));
    }

    @Test
    void theLocalImagesDigestInTheRepositoryIsWhatADeployPins() {
        LocalImage big = new LocalImage("sha256:1", List.of(), List.of("other/big@sha256:" + "1".repeat(64), "localhost:5000/ccci/big@" + DIGEST),
                List.of(), List.of("sleep", "3600"), List.of());
        assertEquals(DIGEST, big.digestIn(ImageRef.parse("localhost:5000/ccci/big:1")).orElseThrow());
        assertTrue(big.digestIn(ImageRef.parse("localhost:5000/ccci/small:1")).isEmpty());
    }
}
