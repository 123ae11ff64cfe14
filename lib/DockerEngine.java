// -Xlint:none: docker-java-transport's immutables annotations make javac warn on every first run of a script
//COMPILE_OPTIONS -Xlint:none
//DEPS com.github.docker-java:docker-java-core:3.7.1
//DEPS com.github.docker-java:docker-java-transport-zerodep:3.7.1
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
package ccci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One connection to a Docker engine, found as the docker CLI finds it: the --host option, else
 * DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), else the default unix socket. The API
 * version is left to negotiation. Every failure becomes an {@link EngineUnavailable} with one line.
 */
public final class DockerEngine implements AutoCloseable {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

    private final String host;
    private final DockerHttpClient http;
    private final DockerClient api;
    private final ObjectMapper json = Json.mapper();

    private DockerEngine(String host, DockerHttpClient http, DockerClient api) {
        this.host = host;
        this.http = http;
        this.api = api;
    }

    /** @param hostOption the --host value, or null to use DOCKER_HOST or the default socket */
    public static DockerEngine connect(String hostOption) {
        try {
            DefaultDockerClientConfig.Builder builder = DefaultDockerClientConfig.createDefaultConfigBuilder();
            if (hostOption != null) {
                builder.withDockerHost(hostOption);
            }
            DockerClientConfig config = builder.build();
            DockerHttpClient http = new ZerodepDockerHttpClient.Builder()
                    .dockerHost(config.getDockerHost())
                    .sslConfig(config.getSSLConfig())
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .responseTimeout(RESPONSE_TIMEOUT)
                    .build();
            return new DockerEngine(config.getDockerHost().toString(), http, DockerClientImpl.getInstance(config, http));
        } catch (RuntimeException e) {
            JsonProcessingException badConfig = causeOf(e, JsonProcessingException.class);
            if (badConfig != null) {
                // docker-java reads the client config for the current docker context; the parser's
                // message quotes the file's content, which may be a secret: say only where
                var at = badConfig.getLocation();
                throw new BadInput("the docker client config " + clientConfigFile() + " is not valid JSON"
                        + (at != null ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : "")
                        + ": fix it, or point DOCKER_CONFIG elsewhere");
            }
            String given = hostOption != null ? "--host '" + hostOption + "'" : "DOCKER_HOST '" + System.getenv("DOCKER_HOST") + "'";
            throw new BadInput(given + " is not a usable Docker host (expected unix:///path/to/docker.sock or tcp://host:port): " + rootMessage(e));
        }
    }

    public String host() {
        return host;
    }

    /** Connects on first use only, so a run that needs no engine loads none of docker-java. */
    public static final class Lazy implements Supplier<DockerEngine>, AutoCloseable {
        private final String hostOption;
        private DockerEngine engine;

        public Lazy(String hostOption) {
            this.hostOption = hostOption;
        }

        @Override
        public synchronized DockerEngine get() {
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

    /** Runs one engine call; any failure becomes a one-line {@link EngineUnavailable} naming the call. */
    public <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (BadInput | EngineUnavailable e) {
            throw e;
        } catch (DockerException e) {
            String text = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^Status \\d+: ", "");
            String message = firstLine(engineMessage(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            throw new EngineRefused(e.getHttpStatus(), "the Docker engine at " + host + " answered HTTP "
                    + e.getHttpStatus() + " to " + what + ": " + message, message);
        } catch (RuntimeException e) {
            throw new EngineUnavailable(describe(what, e), e);
        }
    }

    /** A raw GET for what docker-java's model lacks (e.g. /services?status=true, API 1.41+). */
    public JsonNode getJson(String pathAndQuery) {
        return send(DockerHttpClient.Request.Method.GET, pathAndQuery);
    }

    /**
     * A raw POST for what docker-java's model lacks: its PruneResponse keeps only SpaceReclaimed,
     * while the engine also says which objects it removed.
     */
    public JsonNode postJson(String pathAndQuery) {
        return send(DockerHttpClient.Request.Method.POST, pathAndQuery);
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

    private JsonNode send(DockerHttpClient.Request.Method method, String pathAndQuery) {
        return send(method, pathAndQuery, Map.of(), null);
    }

    private JsonNode send(DockerHttpClient.Request.Method method, String pathAndQuery, Map<String, String> headers, JsonNode payload) {
        String what = method + " " + pathAndQuery.replaceFirst("\\?.*", "");
        return call(what, () -> {
            DockerHttpClient.Request.Builder builder = DockerHttpClient.Request.builder()
                    .method(method)
                    .path(pathAndQuery)
                    .headers(headers);
            if (payload != null) {
                builder.bodyBytes(payload.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            DockerHttpClient.Request request = builder.build();
            try (DockerHttpClient.Response response = http.execute(request); InputStream body = response.getBody()) {
                byte[] bytes = body.readAllBytes();
                if (response.getStatusCode() / 100 != 2) {
                    String message = firstLine(engineMessage(bytes));
                    throw new EngineRefused(response.getStatusCode(), "the Docker engine at " + host + " answered HTTP "
                            + response.getStatusCode() + " to " + what + ": " + message, message);
                }
                return bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    public ObjectMapper json() {
        return json;
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
        return new String(body, java.nio.charset.StandardCharsets.UTF_8).strip();
    }

    private String describe(String what, Throwable e) {
        String root = rootMessage(e);
        if (root.contains("Permission denied") || root.contains("EACCES")) {
            return "permission denied on the Docker engine socket " + host
                    + " (run as root or as a member of the docker group)";
        }
        if (hasCause(e, SocketTimeoutException.class)) {
            return "the Docker engine at " + host + " did not answer " + what + " in time: " + root;
        }
        return "cannot reach the Docker engine at " + host + ": " + root;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
            t = t.getCause();
        }
        return firstLine(message != null ? message : e.getClass().getSimpleName());
    }

    private static String clientConfigFile() {
        String dir = System.getenv("DOCKER_CONFIG");
        return java.nio.file.Path.of(dir != null && !dir.isBlank() ? dir : System.getProperty("user.home") + "/.docker", "config.json").toString();
    }

    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String text) {
        String line = text.strip();
        int newline = line.indexOf('\n');
        return newline < 0 ? line : line.substring(0, newline).strip();
    }

    @Override
    public void close() {
        try {
            api.close();
        } catch (IOException ignored) {
            // closing a finished connection: nothing useful to report
        }
    }
}
