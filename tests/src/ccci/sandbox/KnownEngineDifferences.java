package ccci.sandbox;

import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the product behaves differently on an engine and the fix is pending: each reason names the
 * difference and its issue, once, for {@link DisabledOnEngine} and {@link #abortOn}. Remove the
 * constant with the fix; the compiler then finds every test it skipped.
 */
public final class KnownEngineDifferences {
    /** The containerd image store's own age of an image, which prune's dry run does not know yet. */
    public static final String CONTAINERD_AGES_IMAGES_BY_RECORD = "product fix pending: issue 11:"
            + " on the containerd image store the engine ages an image by its own record (Metadata.LastTagTime,"
            + " when it arrived or became dangling), not by the config's created: the dry run lists old-config"
            + " dangling images that the real run with the same --until keeps";

    /** reuse-proof reads the pull's progress messages, which the containerd image store words differently. */
    public static final String CONTAINERD_PULL_PROGRESS = "product fix pending: issue 11:"
            + " on the containerd image store reuse-proof's cold pull counts 1 layer downloaded, 0 already present"
            + " where the classic store reports the local busybox base layer as already present";

    private KnownEngineDifferences() {}

    /** For one invocation of a parameterized test: aborts it (reported as skipped) on these engines. */
    public static void abortOn(String reason, String... engineIds) {
        EngineKind current = EngineKind.current();
        Assumptions.assumeFalse(Arrays.stream(engineIds).map(EngineKind::of).anyMatch(current::equals),
                () -> "skipped on engine " + current + ": " + reason);
    }
}
