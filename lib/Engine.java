// -Xlint:none -XDsuppressNotes: no javac warning (docker-java-transport's immutables annotations) nor note (the deprecated SSLConfig) on a script's first run
//COMPILE_OPTIONS -Xlint:none -XDsuppressNotes
//DEPS com.github.docker-java:docker-java-core:3.7.1
//DEPS com.github.docker-java:docker-java-transport-zerodep:3.7.1
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//SOURCES Cli.java ClientConfig.java Defaults.java EngineApi.java Json.java Text.java
package ccci;

import ccci.Cli.BadInput;
import ccci.EngineApi.Refused;
import ccci.EngineApi.Unavailable;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.SSLConfig;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request.Method;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * The real side of {@link EngineApi}: one connection to a Docker engine, found as the docker CLI
 * finds it (the --host option, else DOCKER_HOST with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, else the
 * default unix socket), spoken to through docker-java's HTTP transport. Requests carry no API version:
 * the engine answers in its own, which is never below its minimum (Docker 29's is 1.44).
 *
 * <p>Every request is bounded as a whole (connect, headers, body): docker-java's response timeout
 * never fires on a unix socket whose engine stalls, so each request runs on a worker thread and the
 * caller waits at most its bound ({@link #timeout}; prune requests {@link #PRUNE_TIMEOUT}). A request
 * that takes longer is abandoned with one line, and the command goes on to report and exit.
 */
public final class Engine implements EngineApi {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A prune may walk a large build cache: its bound is longer than any other request's. */
    static final Duration PRUNE_TIMEOUT = Duration.ofMinutes(15);
    /** The environment variable that bounds every other engine request (whole seconds). */
    public static final String TIMEOUT_VARIABLE = "CC_CI_ENGINE_TIMEOUT";
    /** The most of an answer read into memory: a real one is far smaller. */
    private static final int MAX_ANSWER_BYTES = 256 << 20;

    /** Which Docker engine to talk to (a picocli mixin); the docker CLI's -H and DOCKER_HOST rules. */
    public static final class Options {
        @Option(names = {"-H", "--host"}, paramLabel = "URI",
                description = {"Docker engine to use (as docker -H).", "Default: under Defaults below"})
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

        static final String DEFAULT_SOCKET = Defaults.DOCKER_SOCKET;
        /** The help's footer line for -H's default, too wide for the option table. */
        public static final String HOST_DEFAULT_LINE = "  -H, --host $DOCKER_HOST, else " + Defaults.DOCKER_SOCKET;

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



    private final String hostOption;   // as given (may hold userinfo): only to connect again
    private final String host;         // as shown: userinfo redacted
    private final DockerHttpClient http;
    private final Duration timeout;
    private final ObjectMapper json = Json.mapper();
    private final ExecutorService requests = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "engine-request");
        t.setDaemon(true); // an abandoned request never keeps the JVM alive
        return t;
    });

    private Engine(String hostOption, String host, DockerHttpClient http, Duration timeout) {
        this.hostOption = hostOption;
        this.host = host;
        this.http = http;
        this.timeout = timeout;
    }

    @Override
    public Engine reconnect() {
        return connect(hostOption);
    }

    /** @param hostOption the --host value, or null to use DOCKER_HOST or the default socket */
    public static Engine connect(String hostOption) {
        Path configDir = ClientConfig.configDir(null);
        Options.check(hostOption);
        Duration timeout = timeout(System.getenv(TIMEOUT_VARIABLE));
        // docker-java reads config.json (for the current context) itself: it must be safe to read first.
        // One this user may not read at all is skipped, as docker-java and the docker CLI skip it.
        Path configFile = configDir.resolve("config.json");
        if (Files.isReadable(configFile) || Files.notExists(configFile)) {
            ClientConfig.readClientConfig(configFile);
        }
        Optional<SSLConfig> tls = ClientConfig.tls(System.getenv(), configDir);
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
                    .sslConfig(tls.isPresent() ? tls.get() : ClientConfig.NoTls.on(dockerHost))
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .build();
            return new Engine(hostOption, shown(dockerHost.toString()), http, timeout);
        } catch (Cli.Failure e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            JsonProcessingException badConfig = Text.causeOf(e, JsonProcessingException.class);
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

    /** The bound of one request: $CC_CI_ENGINE_TIMEOUT seconds when set (1-3600), else the default. */
    static Duration timeout(String variable) {
        if (variable == null || variable.isBlank()) {
            return Duration.ofSeconds(Defaults.ENGINE_TIMEOUT_SECONDS);
        }
        try {
            int seconds = Cli.wholeNumber(variable.strip());
            if (seconds >= 1 && seconds <= 3600) {
                return Duration.ofSeconds(seconds);
            }
        } catch (NumberFormatException ignored) {
            // said below
        }
        throw new BadInput(TIMEOUT_VARIABLE + " '" + variable + "' is not a whole number of seconds (1-3600)");
    }

    @Override
    public String host() {
        return host;
    }

    /** Connects on first use only, so a run that needs no engine loads none of docker-java. */
    public static final class Lazy implements Supplier<EngineApi>, AutoCloseable {
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

    // ---------------------------------------------------------------- the operations

    @Override
    public JsonNode info() {
        return get("/info");
    }

    @Override
    public JsonNode version() {
        return get("/version");
    }

    @Override
    public JsonNode containers(boolean all) {
        return get(all ? "/containers/json?all=1" : "/containers/json");
    }

    @Override
    public JsonNode inspectContainer(String id) {
        return get("/containers/" + segment(id) + "/json");
    }

    @Override
    public JsonNode images() {
        return get("/images/json?all=1");
    }

    @Override
    public JsonNode inspectImage(String reference) {
        return get("/images/" + segment(reference) + "/json");
    }

    @Override
    public JsonNode systemDf(Set<String> types) {
        // verbose=1: from API 1.52 the lists are the usage fields' items (older engines ignore it)
        StringBuilder query = new StringBuilder("?verbose=1");
        types.stream().sorted().forEach(t -> query.append("&type=").append(encode(t)));
        return get("/system/df" + query);
    }

    @Override
    public JsonNode services() {
        return get("/services?status=true");
    }

    @Override
    public JsonNode inspectService(String id) {
        return get("/services/" + segment(id));
    }

    @Override
    public JsonNode tasks(Optional<String> service) {
        return get(service.map(s -> "/tasks?filters=" + encode(json.createObjectNode()
                .set("service", json.createArrayNode().add(s)).toString())).orElse("/tasks"));
    }

    @Override
    public JsonNode nodes() {
        return get("/nodes");
    }

    @Override
    public JsonNode volumes() {
        return get("/volumes");
    }

    @Override
    public JsonNode prune(PruneCall call) {
        return send(Method.POST, call.pathAndQuery(), Map.of(), null, PRUNE_TIMEOUT);
    }

    @Override
    public JsonNode deleteImage(String reference) {
        return send(Method.DELETE, "/images/" + segment(reference), Map.of(), null, timeout);
    }

    @Override
    public void tagImage(String image, String repository, String tag) {
        send(Method.POST, "/images/" + segment(image) + "/tag?repo=" + encode(repository) + "&tag=" + encode(tag),
                Map.of(), null, timeout);
    }

    @Override
    public JsonNode createService(JsonNode spec, Optional<String> registryAuth) {
        Map<String, String> headers = new HashMap<>(Map.of("Content-Type", "application/json"));
        registryAuth.ifPresent(a -> headers.put("X-Registry-Auth", a));
        return send(Method.POST, "/services/create", headers, spec, timeout);
    }

    @Override
    public void removeService(String id) {
        send(Method.DELETE, "/services/" + segment(id), Map.of(), null, timeout);
    }

    @Override
    public Logs taskLogs(String taskId, int maxBytes) {
        String path = "/tasks/" + segment(taskId) + "/logs?stdout=1&stderr=1";
        return bounded("GET " + path.replaceFirst("\\?.*", ""), timeout, response -> {
            try (InputStream body = response.getBody()) {
                return demultiplex(body, maxBytes);
            }
        }, request(Method.GET, path, Map.of(), null));
    }

    @Override
    public JsonNode login(JsonNode authConfig) {
        return send(Method.POST, "/auth", Map.of("Content-Type", "application/json"), authConfig, timeout);
    }

    @Override
    public JsonNode distribution(String reference, Optional<String> registryAuth) {
        return send(Method.GET, "/distribution/" + segment(reference) + "/json",
                registryAuth.map(a -> Map.of("X-Registry-Auth", a)).orElse(Map.of()), null, timeout);
    }

    @Override
    public void pull(String repository, String tagOrDigest, Optional<String> registryAuth, Duration limit,
                     Consumer<JsonNode> message) {
        String path = "/images/create?fromImage=" + encode(repository) + "&tag=" + encode(tagOrDigest);
        bounded("POST /images/create (pull " + repository + ")", limit, response -> {
            stream(response, message);
            return null;
        }, request(Method.POST, path, registryAuth.map(a -> Map.of("X-Registry-Auth", a)).orElse(Map.of()), null));
    }

    @Override
    public void events(Instant since, List<String> types, Consumer<JsonNode> event) {
        String path = "/events?since=" + timestamp(since) + "&filters=" + typeFilter(types);
        // a follower: no bound on the whole, it ends when the engine ends the stream or this is closed
        call("GET /events", () -> {
            try (DockerHttpClient.Response response = http.execute(request(Method.GET, path, Map.of(), null))) {
                check(response, "GET /events");
                stream(response, event);
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Override
    public void events(Instant since, Instant until, List<String> types, Consumer<JsonNode> event) {
        String path = "/events?since=" + timestamp(since) + "&until=" + timestamp(until) + "&filters=" + typeFilter(types);
        bounded("GET /events", timeout, response -> {
            stream(response, event);
            return null;
        }, request(Method.GET, path, Map.of(), null));
    }

    /** The engine's form of a time: seconds.nanoseconds since the epoch. */
    private static String timestamp(Instant t) {
        return t.getEpochSecond() + "." + String.format(java.util.Locale.ROOT, "%09d", t.getNano());
    }

    private String typeFilter(List<String> types) {
        var filters = json.createObjectNode();
        var typeList = filters.putArray("type");
        types.forEach(typeList::add);
        return encode(filters.toString());
    }

    // ---------------------------------------------------------------- requests

    private JsonNode get(String pathAndQuery) {
        return send(Method.GET, pathAndQuery, Map.of(), null, timeout);
    }

    private JsonNode send(Method method, String pathAndQuery, Map<String, String> headers, JsonNode payload, Duration limit) {
        String what = method + " " + pathAndQuery.replaceFirst("\\?.*", "");
        return bounded(what, limit, response -> {
            try (InputStream body = response.getBody()) {
                byte[] bytes = body.readNBytes(MAX_ANSWER_BYTES + 1);
                if (bytes.length > MAX_ANSWER_BYTES) {
                    throw new Unavailable("the Docker engine at " + host + " answered " + what + " with more than "
                            + (MAX_ANSWER_BYTES >> 20) + " MiB", null);
                }
                return bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
            }
        }, request(method, pathAndQuery, headers, payload));
    }

    private interface Reader<T> {
        T read(DockerHttpClient.Response response) throws IOException;
    }

    /**
     * Runs one request on a worker thread and waits at most {@code limit} for the answer, read whole
     * by {@code reader}; an HTTP error becomes {@link Refused}, anything else {@link Unavailable}.
     */
    private <T> T bounded(String what, Duration limit, Reader<T> reader, DockerHttpClient.Request request) {
        AtomicReference<DockerHttpClient.Response> open = new AtomicReference<>();
        Future<T> answer = requests.submit(() -> call(what, () -> {
            try (DockerHttpClient.Response response = http.execute(request)) {
                open.set(response);
                check(response, what);
                return reader.read(response);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        try {
            return answer.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            closeQuietly(open.get());
            throw new Unavailable("the Docker engine at " + host + " did not answer " + what + " within "
                    + limit.toSeconds() + " s", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer.cancel(true);
            closeQuietly(open.get());
            throw new Unavailable("interrupted while waiting for the Docker engine at " + host + " (" + what + ")", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new Unavailable(describe(what, e.getCause()), e.getCause());
        }
    }

    private static void closeQuietly(DockerHttpClient.Response response) {
        if (response != null) {
            try {
                response.close();
            } catch (RuntimeException ignored) {
                // abandoned: the worker thread ends with the JVM at the latest
            }
        }
    }

    /** Any failure of one request becomes a one-line {@link Unavailable} naming it; Cli failures pass. */
    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (Cli.Failure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new Unavailable(describe(what, e), e);
        }
    }

    private void check(DockerHttpClient.Response response, String what) throws IOException {
        int status = response.getStatusCode();
        if (status / 100 == 2) {
            return;
        }
        byte[] bytes;
        try (InputStream body = response.getBody()) {
            bytes = body.readNBytes(64 << 10);
        }
        String message = Text.firstLine(engineMessage(bytes));
        throw new Refused(status, "the Docker engine at " + host + " answered HTTP " + status + " to " + what + ": " + message, message);
    }

    /** Each JSON object of a streamed answer (pull progress, events), in order. */
    private void stream(DockerHttpClient.Response response, Consumer<JsonNode> each) throws IOException {
        try (InputStream body = response.getBody();
             MappingIterator<JsonNode> items = json.readerFor(JsonNode.class).readValues(body)) {
            while (items.hasNextValue()) {
                each.accept(items.nextValue());
            }
        }
    }

    private static DockerHttpClient.Request request(Method method, String path, Map<String, String> headers, JsonNode payload) {
        DockerHttpClient.Request.Builder builder = DockerHttpClient.Request.builder().method(method).path(path).headers(headers);
        if (payload != null) {
            builder.bodyBytes(payload.toString().getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    /**
     * The stdout and stderr of a log stream, at most {@code max} bytes of them together: without a TTY
     * the engine frames them (8-byte headers: stream 1 or 2, three zero bytes, the size big-endian);
     * a stream that does not start like that is read as it is, as stdout.
     */
    static Logs demultiplex(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        byte[] header = in.readNBytes(8);
        boolean framed = header.length == 8 && (header[0] == 1 || header[0] == 2) && header[1] == 0 && header[2] == 0 && header[3] == 0;
        if (!framed) {
            out.write(header, 0, Math.min(header.length, max));
            out.write(in.readNBytes(Math.max(0, max - out.size())));
            return new Logs(out.toString(StandardCharsets.UTF_8), "");
        }
        while (header.length == 8 && out.size() + err.size() < max) {
            long size = ((header[4] & 0xffL) << 24) | ((header[5] & 0xff) << 16) | ((header[6] & 0xff) << 8) | (header[7] & 0xff);
            byte[] frame = in.readNBytes((int) Math.min(size, max - out.size() - err.size()));
            (header[0] == 2 ? err : out).write(frame);
            if (frame.length < size) {
                break; // the limit, or the stream ended mid-frame
            }
            header = in.readNBytes(8);
        }
        return new Logs(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A name or ID as one path segment: '/' ':' '@' kept (the engine's routes take them), everything else encoded. */
    static String segment(String value) {
        return encode(value).replace("%2F", "/").replace("%3A", ":").replace("%40", "@");
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
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
        if (Text.causeOf(e, java.net.SocketTimeoutException.class) != null) {
            return "the Docker engine at " + host + " did not answer " + what + " in time: " + root;
        }
        return "cannot reach the Docker engine at " + host + ": " + root;
    }

    @Override
    public void close() {
        requests.shutdownNow();
        try {
            http.close();
        } catch (IOException ignored) {
            // closing a finished connection: nothing useful to report
        }
    }
}
