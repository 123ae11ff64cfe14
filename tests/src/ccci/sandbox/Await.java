package ccci.sandbox;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for a condition instead of sleeping a fixed time: the one polling loop of the tests. */
public final class Await {
    private static final long POLL_MILLIS = 10;

    private Await() {}

    /**
     * Polls {@code condition} until it holds; throws an AssertionError naming {@code description}
     * once {@code timeout} has passed without it.
     */
    public static void await(BooleanSupplier condition, Duration timeout, String description) {
        if (!within(condition, timeout)) {
            throw new AssertionError("timed out after " + timeout + " waiting until " + description);
        }
    }

    /** Polls {@code condition} until it holds (true) or {@code timeout} passes (false). */
    public static boolean within(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", e);
            }
        }
        return true;
    }
}
