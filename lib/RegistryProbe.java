package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Authenticated calls to a registry made by the engine itself (its registry client, its proxy and
 * TLS settings), so they show what a pull or a deploy on this host would get:
 * <ul>
 *   <li>{@link #login}: POST /auth, what `docker login` asks the engine;</li>
 *   <li>{@link #manifest}: GET /distribution/NAME/json with X-Registry-Auth, a manifest check that
 *       downloads no layer.</li>
 * </ul>
 * An engine that cannot be reached still throws {@link EngineUnavailable}; a registry that says no
 * (or cannot be reached by the engine) is an {@link Answer} with the engine's reason.
 */
public final class RegistryProbe {
    private RegistryProbe() {}

    /**
     * @param credentialsRejected the registry refused the credentials (or wants some and got none)
     * @param detail              the engine's one-line reason when not ok, else its status text
     */
    public record Answer(boolean ok, boolean credentialsRejected, String detail, Optional<String> digest) {}

    public static Answer login(DockerEngine engine, RegistryAuth.Credentials credentials) {
        try {
            JsonNode status = engine.postJson("/auth", credentials.loginBody());
            return new Answer(true, false, status.path("Status").asText("Login Succeeded"), Optional.empty());
        } catch (EngineRefused e) {
            return refused(e, credentials);
        }
    }

    public static Answer manifest(DockerEngine engine, ImageRef image, Optional<RegistryAuth.Credentials> credentials) {
        Map<String, String> headers = credentials.map(c -> Map.of("X-Registry-Auth", c.header())).orElse(Map.of());
        try {
            JsonNode answer = engine.getJson("/distribution/" + image.local() + "/json", headers);
            String digest = answer.path("Descriptor").path("digest").asText("");
            return new Answer(true, false, "manifest " + (digest.isEmpty() ? "found" : digest),
                    digest.isEmpty() ? Optional.empty() : Optional.of(digest));
        } catch (EngineRefused e) {
            return refused(e, credentials.orElse(null));
        }
    }

    private static Answer refused(EngineRefused e, RegistryAuth.Credentials credentials) {
        String message = e.engineMessage().isBlank() ? e.getMessage() : e.engineMessage();
        if (credentials != null) {
            message = credentials.redact(message);
        }
        return new Answer(false, e.status() == 401 || e.status() == 403 || isAuthProblem(message), message, Optional.empty());
    }

    /** The registry's ways of saying "who are you?" or "not you", as relayed by the engine. */
    static boolean isAuthProblem(String message) {
        String m = message.toLowerCase(Locale.ROOT);
        return m.contains("unauthorized") || m.contains("authentication required") || m.contains("no basic auth credentials")
                || m.contains("incorrect username or password") || m.contains("401 unauthorized") || m.contains("denied");
    }
}
