package ccci.sandbox;

/**
 * One swarm engine shared by all tests of a JVM: started on first use, closed at JVM exit.
 * Tests share its images and services: create what you need under names of your own, and do not
 * assume an otherwise empty engine.
 */
public final class Sandboxes {
    private static SandboxEngine sharedSwarm;

    private Sandboxes() {}

    public static synchronized SandboxEngine sharedSwarm() {
        if (sharedSwarm == null || !sharedSwarm.isRunning()) {
            // a test that stopped the shared engine (stopEngine) would break the ones after it
            if (sharedSwarm != null) {
                sharedSwarm.close();
            }
            sharedSwarm = SandboxEngine.start(new SandboxEngine.Options().swarm(true));
        }
        return sharedSwarm;
    }
}
