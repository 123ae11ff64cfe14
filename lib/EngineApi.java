//SOURCES Cli.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The seam between the toolkit and a Docker engine: every engine operation the toolkit uses, and
 * nothing more. Each answers with the engine's own JSON, in the shape its API documents for the
 * engine's version (the callers read every shape from API 1.41 to 1.52). {@link Engine} is the real
 * side; the tests' fake host is the other, and contract tests show on every engine and store of the
 * matrix that the real engine behaves as the fake assumes.
 *
 * <p>What the seam cannot express cannot happen: no force on a delete, no image prune (the image
 * phase deletes image by image what its plan lists), no volume or network prune ({@link PruneCall}
 * refuses every other endpoint). A failure is an {@link Unavailable}, an HTTP error an
 * {@link Refused} with the engine's status and message; every call is bounded in time.
 */
public interface EngineApi extends AutoCloseable {

    /** The engine's address as it may be shown (no userinfo). */
    String host();

    // ---------------------------------------------------------------- reading

    /** GET /info: DockerRootDir, Driver, DriverStatus (the image store), Swarm. */
    JsonNode info();

    /** GET /version: Version, ApiVersion, MinAPIVersion. */
    JsonNode version();

    /** GET /containers/json (all: also stopped and created ones): Id, Names, Image, ImageID, State, Created, Labels. */
    JsonNode containers(boolean all);

    /** GET /containers/{id}/json. */
    JsonNode inspectContainer(String id);

    /** GET /images/json?all=1: every image, intermediate ones too: Id, ParentId, RepoTags, RepoDigests, Created, Size, Labels. */
    JsonNode images();

    /** GET /images/{reference}/json (a name, name:tag, name@digest or ID); 404 when there is none. */
    JsonNode inspectImage(String reference);

    /** GET /system/df for these types (image, container, volume, build-cache): sizes the listings do not give. */
    JsonNode systemDf(Set<String> types);

    /** GET /services?status=true: Spec, PreviousSpec, ServiceStatus, UpdateStatus (a swarm manager only). */
    JsonNode services();

    /** GET /services/{id}. */
    JsonNode inspectService(String id);

    /** GET /tasks, of one service (by ID or name) or, when empty, of all. */
    JsonNode tasks(Optional<String> service);

    /** GET /nodes. */
    JsonNode nodes();

    /** GET /volumes: only ever listed, to say they are kept. */
    JsonNode volumes();

    // ---------------------------------------------------------------- changing (never forced, never widened)

    /** POST /containers/prune or /build/prune with its filters: the engine's answer (what it deleted, SpaceReclaimed). */
    JsonNode prune(PruneCall call);

    /**
     * DELETE /images/{reference}, never forced: a tag only untags (the image stays while it has other
     * references), an ID or the last reference deletes the image and its untagged parents; the engine
     * answers 409 for an image a container uses (and for an ID with references in several repositories).
     * The answer lists {Untagged} and {Deleted} entries.
     */
    JsonNode deleteImage(String reference);

    /** POST /images/{image}/tag: gives the image repository:tag (puts back a tag eviction took before a 409). */
    void tagImage(String image, String repository, String tag);

    /** POST /services/create (registryAuth: the X-Registry-Auth header); answers {ID}. */
    JsonNode createService(JsonNode spec, Optional<String> registryAuth);

    /** DELETE /services/{id}. */
    void removeService(String id);

    /** GET /tasks/{id}/logs: its stdout and stderr, at most maxBytes of them together (the rest is dropped). */
    Logs taskLogs(String taskId, int maxBytes);

    /** A task's output. */
    record Logs(String out, String err) {}

    // ---------------------------------------------------------------- registry

    /** POST /auth with an auth config: the engine logs in to the registry (nothing is stored). */
    JsonNode login(JsonNode authConfig);

    /** GET /distribution/{reference}/json: the registry's manifest descriptor, no layer downloaded. */
    JsonNode distribution(String reference, Optional<String> registryAuth);

    // ---------------------------------------------------------------- streams

    /**
     * POST /images/create?fromImage=REPO&tag=TAG-OR-DIGEST: each progress message as the engine sends it
     * (status, id, progressDetail, errorDetail), until the pull ends or the timeout passes (then
     * {@link Unavailable}).
     */
    void pull(String repository, String tagOrDigest, Optional<String> registryAuth, Duration timeout, Consumer<JsonNode> message);

    /**
     * GET /events since the given time, of these types (container, image, service): each event as the
     * engine sends it, until the stream ends (the engine went away) or this api is closed. Unbounded
     * in time: a follower waits for events.
     */
    void events(Instant since, List<String> types, Consumer<JsonNode> event);

    /**
     * GET /events?since=&until=: the events of these types the engine recorded between the two
     * times (its own clock: see info's SystemTime), then the answer ends; bounded like any request.
     * The engine keeps only its last 256 events for such a look back: keep the window short.
     */
    void events(Instant since, Instant until, List<String> types, Consumer<JsonNode> event);

    /** Another connection to the same engine, for a shutdown hook while the main thread may be closing this one. */
    EngineApi reconnect();

    @Override
    void close();

    /** The Docker engine could not be asked (unreachable, permission denied, timed out) or refused (see {@link Refused}). */
    class Unavailable extends Cli.Failure {
        public Unavailable(String message, Throwable cause) {
            super(Cli.ExitCodes.CANNOT_EVALUATE, message, cause);
        }
    }

    /** The engine answered, but with an HTTP error (e.g. 409 "a prune operation is already running"). */
    final class Refused extends Unavailable {
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

    /**
     * One prune request: the endpoint and its filters, as PrunePolicy states them beside their
     * prediction, and for the build cache a byte budget (params: reserved-space from API 1.48,
     * keep-storage before it; 1.52 has only reserved-space). Only container and build-cache prune
     * exist here: images are deleted one by one, volumes and networks never.
     */
    record PruneCall(String endpoint, Map<String, List<String>> filters, Map<String, String> params) {
        public static final String CONTAINERS = "/containers/prune";
        public static final String BUILD_CACHE = "/build/prune";
        /** The build-cache budget's query parameters: the engine keeps this many bytes of cache (API 1.48 and up; before: keep-storage). */
        public static final String RESERVED_SPACE = "reserved-space";
        public static final String KEEP_STORAGE = "keep-storage";

        public PruneCall(String endpoint, Map<String, List<String>> filters) {
            this(endpoint, filters, Map.of());
        }

        public PruneCall {
            if (!endpoint.equals(CONTAINERS) && !endpoint.equals(BUILD_CACHE)) {
                throw new IllegalArgumentException("no prune but of stopped containers and build cache: " + endpoint);
            }
            for (Map.Entry<String, String> p : params.entrySet()) {
                if (!endpoint.equals(BUILD_CACHE) || !(p.getKey().equals(RESERVED_SPACE) || p.getKey().equals(KEEP_STORAGE))
                        || !p.getValue().matches("[1-9][0-9]{0,18}")) {
                    throw new IllegalArgumentException("no prune parameter but a build-cache budget in bytes: " + p);
                }
            }
            filters = Map.copyOf(new TreeMap<>(filters));
            params = Map.copyOf(new TreeMap<>(params));
        }

        /** The budget's parameter for an engine answering in this API version: reserved-space from 1.48, keep-storage before. */
        public static String budgetParameter(String apiVersion) {
            String[] v = apiVersion.strip().split("\\.");
            try {
                int major = Integer.parseInt(v[0]);
                int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
                return major > 1 || (major == 1 && minor >= 48) ? RESERVED_SPACE : KEEP_STORAGE;
            } catch (NumberFormatException e) {
                throw new Unavailable("the engine's API version '" + apiVersion + "' is not a version like 1.47", e);
            }
        }

        /** The request line's path and query, filters as the engine's JSON map (sorted: one request, one text), then the params. */
        public String pathAndQuery() {
            StringBuilder query = new StringBuilder();
            if (!filters.isEmpty()) {
                StringBuilder json = new StringBuilder("{");
                new TreeMap<>(filters).forEach((key, values) -> {
                    json.append(json.length() > 1 ? "," : "").append('"').append(key).append("\":[");
                    for (int i = 0; i < values.size(); i++) {
                        json.append(i > 0 ? "," : "").append('"').append(values.get(i)).append('"');
                    }
                    json.append(']');
                });
                query.append("filters=").append(URLEncoder.encode(json.append('}').toString(), StandardCharsets.UTF_8));
            }
            new TreeMap<>(params).forEach((key, value) -> query.append(query.length() > 0 ? "&" : "").append(key).append('=').append(value));
            return query.length() == 0 ? endpoint : endpoint + "?" + query;
        }
    }
}
