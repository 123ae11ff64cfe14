package ccci.sandbox;

import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the product behaves differently on an engine and the fix is pending: each reason names the
 * difference and its issue, once, for {@link DisabledOnEngine} and {@link #abortOn}. Remove the
 * constant with the fix; the compiler then finds every test it skipped.
 */
public final class KnownEngineDifferences {
    private KnownEngineDifferences() {}

    /** For one invocation of a parameterized test: aborts it (reported as skipped) on these engines. */
    public static void abortOn(String reason, String... engineIds) {
        EngineKind current = EngineKind.current();
        Assumptions.assumeFalse(Arrays.stream(engineIds).map(EngineKind::of).anyMatch(current::equals),
                () -> "skipped on engine " + current + ": " + reason);
    }
}
