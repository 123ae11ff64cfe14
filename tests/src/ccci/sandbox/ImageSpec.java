package ccci.sandbox;

import java.time.Instant;
import java.util.Objects;

/**
 * Spec for a crafted image: one layer holding one file of {@code layerBytes} seeded pseudo-random
 * bytes (incompressible, deterministic), and a config whose "created" is {@code created}.
 * Same spec, same image ID.
 *
 * @param ref "name:tag" (":latest" is added when there is no tag), or null for an untagged
 *            (dangling) image
 */
public record ImageSpec(String ref, Instant created, long layerBytes, long seed) {

    public ImageSpec {
        Objects.requireNonNull(created, "created");
        if (layerBytes < 0) {
            throw new IllegalArgumentException("layerBytes < 0: " + layerBytes);
        }
        if (ref != null && !hasTag(ref)) {
            ref = ref + ":latest";
        }
    }

    /** The seed derives from the ref, so two refs with equal sizes and dates still differ. */
    public static ImageSpec tagged(String ref, Instant created, long layerBytes) {
        Objects.requireNonNull(ref, "ref");
        return new ImageSpec(ref, created, layerBytes, ref.hashCode());
    }

    /** An image loaded without any tag: shown as &lt;none&gt;:&lt;none&gt; and matched by dangling=true. */
    public static ImageSpec dangling(Instant created, long layerBytes, long seed) {
        return new ImageSpec(null, created, layerBytes, seed);
    }

    public boolean isDangling() {
        return ref == null;
    }

    private static boolean hasTag(String ref) {
        int slash = ref.lastIndexOf('/');
        return ref.indexOf(':', slash + 1) >= 0 || ref.contains("@");
    }
}
