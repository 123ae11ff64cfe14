package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1:&lt;free port&gt; with htpasswd auth and
 * filesystem storage in its own dir under /tmp. Engines reach it as "localhost:PORT", which needs
 * no TLS (loopback registries are insecure-allowed by default).
 */
public final class SandboxRegistry implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final String user;
    private final String password;
    private final Path dir;
    private final int port;
    private final Watchdog watchdog;
    private Daemon registry;
    private boolean closed;

    private SandboxRegistry(String user, String password, Path dir, int port) {
        this.user = user;
        this.password = password;
        this.dir = dir;
        this.port = port;
        this.watchdog = Watchdog.guard(dir, List.of(pidFile()));
    }

    public static SandboxRegistry start(String user, String password) {
        Provision.ensureInstalled();
        long t0 = System.nanoTime();
        SandboxRegistry r;
        try {
            r = new SandboxRegistry(user, password, Files.createTempDirectory(Path.of("/tmp"), "sbx-reg-"),
                    FreePorts.next());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Reaper.register(r);
        try {
            r.writeConfig();
            r.launch();
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
        System.err.printf("[sandbox] registry %s up in %d ms%n", r.address(), (System.nanoTime() - t0) / 1_000_000);
        return r;
    }

    /** "localhost:PORT" */
    public String address() {
        return "localhost:" + port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** Where the registry keeps blobs and manifests. */
    public Path storageDir() {
        return dir.resolve("storage");
    }

    /** The registry process's pid, e.g. to freeze it (SIGSTOP) so that a pull hangs. */
    public long pid() {
        return registry.pid();
    }

    public boolean isRunning() {
        return registry != null && registry.isAlive();
    }

    /** Kills the registry by pid and keeps its data. */
    public void stop() {
        if (registry != null) {
            registry.stop(STOP_GRACE);
        }
    }

    /** Starts it again on the same port and data (stops it first if it runs). */
    public void restart() {
        stop();
        launch();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Reaper.unregister(this);
        try {
            stop();
        } finally {
            watchdog.dismiss();
        }
        Exec.ok(List.of("rm", "-rf", "--one-file-system", dir.toString()));
    }

    @Override
    public String toString() {
        return "SandboxRegistry[" + address() + ", " + dir + "]";
    }

    private Path pidFile() {
        return dir.resolve("registry.pid");
    }

    private Path log() {
        return dir.resolve("registry.log");
    }

    private void writeConfig() {
        String htpasswd = Exec.ok(List.of(Provision.binary("htpasswd").toString(), "-Bbn", user, password)).out();
        String config = """
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                  secret: ccci-sandbox
                auth:
                  htpasswd:
                    realm: ccci-sandbox
                    path: %s
                """.formatted(storageDir(), port, dir.resolve("htpasswd"));
        try {
            Files.createDirectories(storageDir());
            Files.writeString(dir.resolve("htpasswd"), htpasswd);
            Files.writeString(dir.resolve("config.yml"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch() {
        registry = Daemon.start("docker-registry",
                List.of(Provision.binary("docker-registry").toString(), "serve", dir.resolve("config.yml").toString()),
                Map.of(), log(), pidFile());
        boolean answered = Await.within(() -> !registry.isAlive() || answers(), START_TIMEOUT);
        if (!registry.isAlive()) {
            throw new IllegalStateException("docker-registry exited before answering\n" + LogTail.of(log(), 30));
        }
        if (!answered) {
            throw new IllegalStateException("docker-registry did not answer within " + START_TIMEOUT
                    + "\n" + LogTail.of(log(), 30));
        }
    }

    /** /v2/ answers 401 without credentials once the registry serves. */
    private boolean answers() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            try {
                int code = c.getResponseCode();
                return code == 401 || code == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }
}
