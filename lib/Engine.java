// -Xlint:none -XDsuppressNotes: no javac warning (docker-java-transport's immutables annotations) nor note (the deprecated SSLConfig) on a script's first run
//COMPILE_OPTIONS -Xlint:none -XDsuppressNotes
//DEPS com.github.docker-java:docker-java-core:3.7.1
//DEPS com.github.docker-java:docker-java-transport-zerodep:3.7.1
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.LocalNodeState;
import com.github.dockerjava.api.model.SwarmInfo;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import com.github.dockerjava.core.LocalDirectorySSLConfig;
import com.github.dockerjava.core.SSLConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/**
 * One connection to a Docker engine, found as the docker CLI finds it: the --host option, else
 * DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), else the default unix socket. The API
 * version is left to negotiation. Every failure becomes an {@link Unavailable} with one line.
 */
public final class Engine implements AutoCloseable {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

    /** The Docker engine could not be asked (unreachable, permission denied, timed out) or refused (see {@link Refused}). */
    public static class Unavailable extends Cli.Failure {
        public Unavailable(String message, Throwable cause) {
            super(ExitCodes.CANNOT_EVALUATE, message, cause);
        }
    }

    /** The engine answered, but with an HTTP error (e.g. 409 "a prune operation is already running"). */
    public static final class Refused extends Unavailable {
        private final int status;
        private final String engineMessage;

        /** @param engineMessage the engine's own one-line message, without what was asked (may be empty) */
        public Refused(int status, String message, String engineMessage) {
            super(message, null);
            this.status = status;
            this.engineMessage = engineMessage;
        }

        public int status() {
            return status;
        }

        /** The engine's own message, e.g. "unauthorized: authentication required". */
        public String engineMessage() {
            return engineMessage;
        }
    }

    /** One shared ObjectMapper, created on first use: text output and the disk-only no-op never load Jackson. */
    public static final class Json {
        private Json() {}

        private static final class Holder {
            static final ObjectMapper MAPPER = new ObjectMapper();
        }

        public static ObjectMapper mapper() {
            return Holder.MAPPER;
        }
    }

    /** Which Docker engine to talk to (a picocli mixin); the docker CLI's -H and DOCKER_HOST rules. */
    public static final class Options {
        @Option(names = {"-H", "--host"}, paramLabel = "URI",
                description = {"Docker engine to use (as docker -H).", "Default: $DOCKER_HOST, else", DEFAULT_SOCKET})
        String host;

        public Engine connect() {
            return Engine.connect(check(host));
        }

        /** The --host value once checked (null: DOCKER_HOST or the default socket), for a command that connects more than once. */
        public String checkedHost() {
            return check(host);
        }

        /** Connects on first use; the host's form is still checked now, so bad input never goes unnoticed. */
        public Lazy lazy() {
            return new Lazy(check(host));
        }

        static final String DEFAULT_SOCKET = "unix:///var/run/docker.sock";

        private static final Pattern HOST_FORM = Pattern.compile("(unix://.+|tcp://[^/?#]+/?)");

        static String check(String option) {
            if (option != null && option.isBlank()) {
                throw new BadInput("--host is empty: give unix:///path/to/docker.sock or tcp://host:port, or leave it out");
            }
            String given = option != null ? option : System.getenv("DOCKER_HOST");
            if (given == null || given.isBlank()) {
                return option; // the docker CLI treats an empty DOCKER_HOST as unset
            }
            if (given.startsWith("npipe://")) {
                throw new BadInput(what(option, given) + " is a Windows named pipe: this toolkit runs on Linux (use unix:// or tcp://)");
            }
            if (!HOST_FORM.matcher(given).matches()) {
                throw new BadInput(what(option, given) + " is not a Docker host URI this toolkit can use"
                        + " (expected unix:///path/to/docker.sock or tcp://host:port)");
            }
            return option;
        }

        // only on an error: Engine itself (and with it docker-java) stays unloaded on the disk-only no-op
        private static String what(String option, String given) {
            return (option != null ? "--host '" : "DOCKER_HOST '") + shown(given) + "'";
        }
    }

    private static final Pattern USERINFO = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)@");

    /** A host URI as it may be shown: any user:password@ part (userinfo) replaced by ***. */
    public static String shown(String host) {
        return host == null ? null : withoutUserinfo(host, host);
    }

    /** {@code text} without the userinfo of --host or DOCKER_HOST (e.g. inside an error message). */
    static String withoutUserinfo(String text, String hostOption) {
        String out = text;
        for (String host : new String[] {hostOption, System.getenv("DOCKER_HOST")}) {
            if (host == null) {
                continue;
            }
            var m = USERINFO.matcher(host);
            if (m.find() && !m.group(1).isEmpty()) {
                out = out.replace(m.group(1), "***");
            }
        }
        return out;
    }

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
    public static final class ConfigOption {
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

    /** A node's place in a swarm: the one swarm-manager check, from GET /info. */
    public enum SwarmRole {
        NOT_IN_SWARM, WORKER, MANAGER;

        public static SwarmRole of(SwarmInfo swarm) {
            if (swarm == null || swarm.getLocalNodeState() != LocalNodeState.ACTIVE) {
                return NOT_IN_SWARM;
            }
            return Boolean.TRUE.equals(swarm.getControlAvailable()) ? MANAGER : WORKER;
        }

        /** The engine's word for the node's swarm state: inactive, pending, active, error, locked. */
        public static String state(SwarmInfo swarm) {
            return swarm == null || swarm.getLocalNodeState() == null ? "unknown" : swarm.getLocalNodeState().getValue();
        }
    }

    /**
     * Where the engine keeps images: its graph driver (overlay2, the classic store) or containerd's
     * content store and snapshotter (the "containerd image store", default on new Docker 29
     * installs). Read from GET /info: that store reports driver-type io.containerd.snapshotter.v1.
     */
    public enum ImageStore {
        GRAPH_DRIVER, CONTAINERD;

        public static ImageStore of(Info info) {
            List<List<String>> status = info.getDriverStatuses();
            boolean snapshotter = status != null && status.stream().anyMatch(pair -> pair != null && pair.size() == 2
                    && "driver-type".equals(pair.get(0)) && "io.containerd.snapshotter.v1".equals(pair.get(1)));
            return snapshotter ? CONTAINERD : GRAPH_DRIVER;
        }
    }

    private final String hostOption;   // as given (may hold userinfo): only to connect again
    private final String host;         // as shown: userinfo redacted
    private final DockerHttpClient http;
    private final DockerClient api;
    private final ObjectMapper json = Json.mapper();

    private Engine(String hostOption, String host, DockerHttpClient http, DockerClient api) {
        this.hostOption = hostOption;
        this.host = host;
        this.http = http;
        this.api = api;
    }

    /** A new connection to the same engine (e.g. for a shutdown hook, while the main thread may close this one). */
    public Engine reconnect() {
        return connect(hostOption);
    }

    /** @param hostOption the --host value, or null to use DOCKER_HOST or the default socket */
    public static Engine connect(String hostOption) {
        return connect(hostOption, RESPONSE_TIMEOUT);
    }

    /** @param responseTimeout how long a response may stay silent; zero for none (a stream of events) */
    public static Engine connect(String hostOption, Duration responseTimeout) {
        Path configDir = configDir(null);
        Options.check(hostOption);
        // docker-java reads config.json (for the current context) itself: it must be safe to read first.
        // One this user may not read at all is skipped, as docker-java and the docker CLI skip it.
        Path configFile = configDir.resolve("config.json");
        if (Files.isReadable(configFile) || Files.notExists(configFile)) {
            readClientConfig(configFile);
        }
        Optional<SSLConfig> tls = tls(System.getenv(), configDir);
        try {
            DefaultDockerClientConfig.Builder builder = DefaultDockerClientConfig.createDefaultConfigBuilder()
                    .withDockerConfig(configDir.toString())
                    .withDockerTlsVerify(false)
                    .withCustomSslConfig(tls.orElse(null));
            if (hostOption != null) {
                builder.withDockerHost(hostOption);
            }
            DockerClientConfig config = builder.build();
            URI dockerHost = config.getDockerHost();
            if (tls.isPresent() && !"tcp".equals(dockerHost.getScheme()) && !"unix".equals(dockerHost.getScheme())) {
                throw new BadInput("DOCKER_TLS_VERIFY is set, but " + shown(dockerHost.toString()) + " cannot use TLS");
            }
            DockerHttpClient http = new ZerodepDockerHttpClient.Builder()
                    .dockerHost(dockerHost)
                    .sslConfig(tls.isPresent() ? tls.get() : NoTls.on(dockerHost))
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .responseTimeout(responseTimeout)
                    .build();
            return new Engine(hostOption, shown(dockerHost.toString()), http, DockerClientImpl.getInstance(config, http));
        } catch (Cli.Failure e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            JsonProcessingException badConfig = causeOf(e, JsonProcessingException.class);
            if (badConfig != null) {
                // docker-java reads the client config for the current docker context; the parser's
                // message quotes the file's content, which may be a secret: say only where
                var at = badConfig.getLocation();
                throw new BadInput("the docker client config " + configDir.resolve("config.json") + " is not valid JSON"
                        + (at != null ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : "")
                        + ": fix it, or point DOCKER_CONFIG elsewhere");
            }
            String given = hostOption != null ? "--host '" + shown(hostOption) + "'" : "DOCKER_HOST '" + shown(System.getenv("DOCKER_HOST")) + "'";
            throw new BadInput(given + " is not a usable Docker host (expected unix:///path/to/docker.sock or tcp://host:port): "
                    + withoutUserinfo(Text.rootMessage(e), hostOption));
        }
    }

    public String host() {
        return host;
    }

    /** Connects on first use only, so a run that needs no engine loads none of docker-java. */
    public static final class Lazy implements Supplier<Engine>, AutoCloseable {
        private final String hostOption;
        private Engine engine;

        public Lazy(String hostOption) {
            this.hostOption = hostOption;
        }

        @Override
        public synchronized Engine get() {
            if (engine == null) {
                engine = connect(hostOption);
            }
            return engine;
        }

        @Override
        public synchronized void close() {
            if (engine != null) {
                engine.close();
            }
        }
    }

    public DockerClient api() {
        return api;
    }

    /** GET /info: the data root, the swarm state and more. */
    public Info info() {
        return call("GET /info", () -> api.infoCmd().exec());
    }

    /** Runs one engine call; any failure becomes a one-line {@link Unavailable} naming the call. */
    public <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (Cli.Failure e) {
            throw e;
        } catch (DockerException e) {
            String text = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^Status \\d+: ", "");
            String message = Text.firstLine(engineMessage(text.getBytes(StandardCharsets.UTF_8)));
            throw new Refused(e.getHttpStatus(), "the Docker engine at " + host + " answered HTTP "
                    + e.getHttpStatus() + " to " + what + ": " + message, message);
        } catch (RuntimeException e) {
            throw new Unavailable(describe(what, e), e);
        }
    }

    /** A raw GET for what docker-java's model lacks (e.g. /services?status=true, API 1.41+). */
    public JsonNode getJson(String pathAndQuery) {
        return send(DockerHttpClient.Request.Method.GET, pathAndQuery, Map.of(), null);
    }

    /**
     * A raw POST for what docker-java's model lacks: its PruneResponse keeps only SpaceReclaimed,
     * while the engine also says which objects it removed.
     */
    public JsonNode postJson(String pathAndQuery) {
        return send(DockerHttpClient.Request.Method.POST, pathAndQuery, Map.of(), null);
    }

    /** A raw DELETE, e.g. DELETE /images/NAME (never with force=true: see EvictionRun). */
    public JsonNode deleteJson(String pathAndQuery) {
        return send(DockerHttpClient.Request.Method.DELETE, pathAndQuery, Map.of(), null);
    }

    /**
     * A raw GET with request headers, e.g. GET /distribution/NAME/json with X-Registry-Auth (a
     * manifest check through the engine's own registry client, which docker-java does not offer).
     */
    public JsonNode getJson(String pathAndQuery, Map<String, String> headers) {
        return send(DockerHttpClient.Request.Method.GET, pathAndQuery, headers, null);
    }

    /** A raw POST of a JSON body, e.g. POST /auth, whose docker-java command needs client-wide credentials. */
    public JsonNode postJson(String pathAndQuery, JsonNode body) {
        return send(DockerHttpClient.Request.Method.POST, pathAndQuery, Map.of("Content-Type", "application/json"), body);
    }

    /** A raw POST of a JSON body with request headers, e.g. POST /services/create with X-Registry-Auth. */
    public JsonNode postJson(String pathAndQuery, Map<String, String> headers, JsonNode body) {
        Map<String, String> all = new java.util.HashMap<>(headers);
        all.put("Content-Type", "application/json");
        return send(DockerHttpClient.Request.Method.POST, pathAndQuery, all, body);
    }

    private JsonNode send(DockerHttpClient.Request.Method method, String pathAndQuery, Map<String, String> headers, JsonNode payload) {
        String what = method + " " + pathAndQuery.replaceFirst("\\?.*", "");
        return call(what, () -> {
            DockerHttpClient.Request.Builder builder = DockerHttpClient.Request.builder()
                    .method(method)
                    .path(pathAndQuery)
                    .headers(headers);
            if (payload != null) {
                builder.bodyBytes(payload.toString().getBytes(StandardCharsets.UTF_8));
            }
            DockerHttpClient.Request request = builder.build();
            try (DockerHttpClient.Response response = http.execute(request); InputStream body = response.getBody()) {
                byte[] bytes = body.readAllBytes();
                if (response.getStatusCode() / 100 != 2) {
                    String message = Text.firstLine(engineMessage(bytes));
                    throw new Refused(response.getStatusCode(), "the Docker engine at " + host + " answered HTTP "
                            + response.getStatusCode() + " to " + what + ": " + message, message);
                }
                return bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private String engineMessage(byte[] body) {
        try {
            JsonNode node = json.readTree(body);
            if (node != null && node.hasNonNull("message")) {
                return node.get("message").asText();
            }
        } catch (IOException ignored) {
            // not JSON: show the text
        }
        return new String(body, StandardCharsets.UTF_8).strip();
    }

    private String describe(String what, Throwable e) {
        String root = withoutUserinfo(Text.rootMessage(e), hostOption);
        if (root.contains("Permission denied") || root.contains("EACCES")) {
            return "permission denied on the Docker engine socket " + host
                    + " (run as root or as a member of the docker group)";
        }
        if (causeOf(e, SocketTimeoutException.class) != null) {
            return "the Docker engine at " + host + " did not answer " + what + " in time: " + root;
        }
        return "cannot reach the Docker engine at " + host + ": " + root;
    }

    /** The first exception of {@code type} among e and its causes, or null. */
    static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            api.close();
        } catch (IOException ignored) {
            // closing a finished connection: nothing useful to report
        }
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
