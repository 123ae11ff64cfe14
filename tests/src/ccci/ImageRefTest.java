package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.BadInput;
import org.junit.jupiter.api.Test;

class ImageRefTest {
    @Test
    void aDockerHubOfficialImageIsLibraryOnDockerIo() {
        ImageRef redis = ImageRef.parse("redis:7-alpine");
        assertEquals("docker.io", redis.registry());
        assertEquals("docker.io/library/redis", redis.canonicalName());
        assertEquals("redis", redis.repository());
        assertEquals("7-alpine", redis.tagOrDigest());
        assertEquals("redis:7-alpine", redis.local());
        assertEquals("redis:7-alpine@sha256:abc", redis.pinned("sha256:abc"));
    }

    @Test
    void theFirstPartIsARegistryOnlyWithADotAColonOrLocalhost() {
        assertEquals("localhost:5000", ImageRef.parse("localhost:5000/ccci/big:1").registry());
        assertEquals("localhost", ImageRef.parse("localhost/big").registry());
        assertEquals("ghcr.io", ImageRef.parse("ghcr.io/org/app:2").registry());
        ImageRef user = ImageRef.parse("someuser/app");
        assertEquals("docker.io", user.registry());
        assertEquals("docker.io/someuser/app", user.canonicalName());
        assertEquals("latest", user.tagOrDigest());
        assertEquals("docker.io", ImageRef.parse("index.docker.io/library/redis").registry());
    }

    @Test
    void noTagMeansLatestAndADigestIsKept() {
        assertEquals("latest", ImageRef.parse("busybox").tagOrDigest());
        String digest = "sha256:" + "a".repeat(64);
        ImageRef pinned = ImageRef.parse("busybox@" + digest);
        assertTrue(pinned.tag().isEmpty());
        assertEquals(digest, pinned.tagOrDigest());
        assertEquals("busybox:1@" + digest, ImageRef.parse("busybox:1@" + digest).local());
    }

    @Test
    void aServiceImagePinnedToADigestIsTheSameNameAndTag() {
        ImageRef image = ImageRef.parse("redis:7-alpine");
        assertTrue(image.sameNameAndTag(ImageRef.parse("docker.io/library/redis:7-alpine@sha256:" + "b".repeat(64))));
        assertFalse(image.sameNameAndTag(ImageRef.parse("redis:7")));
        assertFalse(image.sameNameAndTag(ImageRef.parse("localhost:5000/redis:7-alpine")));
    }

    @Test
    void badReferencesAreBadInputQuotingTheValue() {
        BadInput upper = assertThrows(BadInput.class, () -> ImageRef.parse("Redis:7"));
        assertTrue(upper.getMessage().startsWith("--image 'Redis:7' is not an image reference"), upper.getMessage());
        assertThrows(BadInput.class, () -> ImageRef.parse(""));
        assertThrows(BadInput.class, () -> ImageRef.parse("redis:bad tag"));
        assertThrows(BadInput.class, () -> ImageRef.parse("redis@sha256:xyz"));
        BadInput id = assertThrows(BadInput.class, () -> ImageRef.parse("sha256:" + "c".repeat(64)));
        assertTrue(id.getMessage().contains("is an image ID"), id.getMessage());
        assertTrue(ImageRef.tryParse("not valid!").isEmpty());
    }
}
