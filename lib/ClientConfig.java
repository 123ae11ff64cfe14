//SOURCES Cli.java Text.java
package ccci;

import ccci.Cli.BadInput;
import com.github.dockerjava.core.LocalDirectorySSLConfig;
import com.github.dockerjava.core.SSLConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/**
 * The docker client's own settings, found as the docker CLI finds them: the config dir (--config,
 * DOCKER_CONFIG, ~/.docker) with its config.json (registry credentials, the current context), and
 * TLS for a tcp:// engine (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). Never a silent downgrade to plain
 * HTTP, never a secret in an error.
 */
public final class ClientConfig {
    private ClientConfig() {}

    /** The largest docker client config (config.json) read: a real one is a few KB. */
    public static final int CONFIG_MAX_BYTES = 1 << 20;

    /**
     * The bytes of a docker client config file, or empty when there is none. Reads only a regular
     * file (a link is followed, but a FIFO, a device or a directory is refused: reading one would
     * hang or never end) of at most {@link #CONFIG_MAX_BYTES}.
     *
     * @throws BadInput one line, never file content, when the file exists but cannot be used
     */
    public static Optional<byte[]> readClientConfig(Path file) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (AccessDeniedException e) {
            throw new BadInput("cannot read the docker client config " + file + ": permission denied");
        } catch (IOException e) {
            throw new BadInput("cannot read the docker client config " + file + ": " + Text.rootMessage(e));
        }
        if (!attributes.isRegularFile()) {
            throw new BadInput("the docker client config " + file + " is not a regular file (" + Text.fileKind(attributes)
                    + "): refusing to read it");
        }
        if (attributes.size() > CONFIG_MAX_BYTES) {
            throw new BadInput("the docker client config " + file + " is larger than " + CONFIG_MAX_BYTES / 1024
                    + " KiB: refusing to read it");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(CONFIG_MAX_BYTES + 1);
            if (bytes.length > CONFIG_MAX_BYTES) {
                throw new BadInput("the docker client config " + file + " grew past " + CONFIG_MAX_BYTES / 1024
                        + " KiB while being read: refusing it");
            }
            return Optional.of(bytes);
        } catch (AccessDeniedException e) {
            throw new BadInput("cannot read the docker client config " + file + ": permission denied");
        } catch (IOException e) {
            throw new BadInput("cannot read the docker client config " + file + ": " + Text.rootMessage(e));
        }
    }

    /**
     * The docker CLI's TLS rule: any non-empty DOCKER_TLS_VERIFY means verify, with ca.pem, cert.pem
     * and key.pem from DOCKER_CERT_PATH (default: the client config dir). docker-java alone reads
     * only "1"/"true" and falls back to plain HTTP when a file is missing: never here.
     *
     * @return the TLS settings to use, or empty when TLS was not asked for
     * @throws BadInput before any request when TLS was asked for and a file is missing
     */
    static Optional<SSLConfig> tls(Map<String, String> env, Path configDir) {
        String verify = env.get("DOCKER_TLS_VERIFY");
        if (verify == null || verify.isEmpty()) {
            return Optional.empty();
        }
        String certPath = env.get("DOCKER_CERT_PATH");
        Path dir = certPath != null && !certPath.isEmpty() ? Path.of(certPath) : configDir;
        List<String> missing = new ArrayList<>();
        for (String name : List.of("ca.pem", "cert.pem", "key.pem")) {
            Path file = dir.resolve(name);
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new BadInput("DOCKER_TLS_VERIFY is set, but " + String.join(", ", missing) + " "
                    + (missing.size() == 1 ? "is" : "are") + " missing or unreadable in " + dir
                    + " (DOCKER_CERT_PATH" + (certPath == null || certPath.isEmpty() ? " unset: the client config dir" : "")
                    + "): no request sent");
        }
        LocalDirectorySSLConfig files = new LocalDirectorySSLConfig(dir.toString());
        return Optional.of(() -> {
            SSLContext context = files.getSSLContext();
            if (context == null) { // docker-java's way of saying "no TLS": never a silent downgrade
                throw new IllegalStateException("TLS was asked for (DOCKER_TLS_VERIFY) but " + dir + " gave no TLS context");
            }
            return context;
        });
    }

    /** Where the docker client config (registry credentials) is: a picocli mixin with the docker CLI's --config rule. */
    public static final class DirOption {
        @Option(names = "--config", paramLabel = "DIR",
                description = {"Docker client config dir holding config.json, like the docker CLI's --config.",
                    "Default: $DOCKER_CONFIG, else ~/.docker"})
        String dir;

        /** The raw option value, or null. */
        public String option() {
            return dir;
        }

        public Path dir() {
            return configDir(dir);
        }
    }

    /** The docker client config dir, as the docker CLI finds it: --config, else $DOCKER_CONFIG, else $HOME/.docker. */
    public static Path configDir(String option) {
        if (option != null && !option.isBlank()) {
            return Path.of(option);
        }
        String env = System.getenv("DOCKER_CONFIG");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String home = System.getenv("HOME");
        return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".docker");
    }


    /**
     * The TLS context for a socket that never uses TLS. Given none, docker-java's zerodep transport
     * builds the JVM's default TLS context (security providers, the system's CA store) even for a
     * unix socket, where it is never used: a measurable share of every engine-asking run. For tcp://
     * it must stay null (null is how the transport picks plain HTTP there), and with
     * DOCKER_TLS_VERIFY the real context from {@link #tls} is used, unchanged.
     */
    static final class NoTls extends javax.net.ssl.SSLContextSpi {
        static SSLConfig on(URI dockerHost) {
            if (!"unix".equals(dockerHost.getScheme()) && !"npipe".equals(dockerHost.getScheme())) {
                return null;
            }
            SSLContext none = new SSLContext(new NoTls(), null, "none") {};
            return () -> none;
        }

        private static IllegalStateException unused() {
            return new IllegalStateException("no TLS on a local socket");
        }

        @Override
        protected void engineInit(javax.net.ssl.KeyManager[] km, javax.net.ssl.TrustManager[] tm, java.security.SecureRandom random) {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLSocketFactory engineGetSocketFactory() {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLServerSocketFactory engineGetServerSocketFactory() {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLEngine engineCreateSSLEngine() {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLEngine engineCreateSSLEngine(String host, int port) {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetServerSessionContext() {
            throw unused();
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetClientSessionContext() {
            throw unused();
        }
    }
}
