package ccci.sandbox;

import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;

/** Closes every sandbox resource still open when the test JVM exits, newest first. */
final class Reaper {
    private static final Deque<AutoCloseable> OPEN = new ConcurrentLinkedDeque<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Reaper::closeAll, "sandbox-reaper"));
    }

    private Reaper() {}

    static void register(AutoCloseable resource) {
        OPEN.addFirst(resource);
    }

    static void unregister(AutoCloseable resource) {
        OPEN.remove(resource);
    }

    private static void closeAll() {
        AutoCloseable next;
        while ((next = OPEN.pollFirst()) != null) {
            try {
                next.close();
            } catch (Exception | AssertionError e) {
                System.err.println("[sandbox] closing " + next + " at JVM exit failed: " + e);
            }
        }
    }
}
