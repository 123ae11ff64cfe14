package ccci.sandbox;

/**
 * A private engine whose docker client is logged in to a private htpasswd registry: the set-up of
 * every test about registry credentials. Closing it stops both.
 */
public record RegistryHost(SandboxEngine engine, SandboxRegistry registry) implements AutoCloseable {

    public static RegistryHost start(String user, String password, boolean swarm) {
        SandboxRegistry registry = SandboxRegistry.start(user, password);
        try {
            SandboxEngine engine = SandboxEngine.start(SandboxEngine.options().swarm(swarm));
            try {
                engine.login(registry.address(), user, password);
                return new RegistryHost(engine, registry);
            } catch (RuntimeException | Error e) {
                engine.close();
                throw e;
            }
        } catch (RuntimeException | Error e) {
            registry.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            registry.close();
        }
    }
}
