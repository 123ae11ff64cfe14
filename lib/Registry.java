//SOURCES Cli.java ClientConfig.java EngineApi.java ImageRef.java Text.java
package ccci;

import ccci.Cli.BadInput;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerConfigFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A registry as this host sees it. Credentials are read as the docker CLI reads them: the config
 * dir is {@link ClientConfig#configDir}, the file is config.json, the entry is the `auths` key of the
 * image's registry (docker.io is "https://index.docker.io/v1/"; keys written as URLs match their
 * host); the file is parsed by docker-java's own {@link DockerConfigFile}. Secrets never leave this
 * class except inside the engine request that needs them: {@link Credentials#toString()} shows the
 * user only, and {@link Credentials#redact(String)} blanks them out of any text.
 *
 * <p>Calls to the registry are made by the engine itself (its registry client, its proxy and TLS
 * settings), so they show what a pull or a deploy on this host would get: {@link #login} is POST
 * /auth, what `docker login` asks the engine; {@link #manifest} is GET /distribution/NAME/json with
 * X-Registry-Auth, a manifest check that downloads no layer. An engine that cannot be reached throws
 * {@link EngineApi.Unavailable}; a registry that says no (or cannot be reached by the engine) is an
 * {@link Answer} with the engine's reason.
 */
public final class Registry {
    public static final String CONFIG_FILE = "config.json";
    /** The `auths` key the docker CLI uses for Docker Hub. */
    public static final String DOCKER_HUB_KEY = AuthConfig.DEFAULT_SERVER_ADDRESS;

    private Registry() {}

    /** What the docker client config holds for one registry. */
    public record Lookup(Path file, boolean fileExists, String registry, String key,
                         Optional<Credentials> credentials, Optional<String> helper) {

        /** One line on why there is nothing usable, or empty when there are credentials. */
        public Optional<String> whyNone() {
            if (credentials.isPresent()) {
                return Optional.empty();
            }
            if (!fileExists) {
                return Optional.of("no docker client config at " + file + " (docker login writes it; --config or DOCKER_CONFIG choose another dir)");
            }
            if (helper.isPresent()) {
                return Optional.of("credentials for " + registry + " are kept by the credential helper docker-credential-"
                        + helper.get() + " (config " + file + "), which this toolkit does not call: use an `auths` entry");
            }
            return Optional.of(file + " holds no credentials for " + registry + " (no `auths` entry \"" + key
                    + "\"; run docker login" + (key.equals(DOCKER_HUB_KEY) ? "" : " " + registry) + ")");
        }
    }

    /** The `auths` key for a registry host: Docker Hub's is a URL, every other registry's is its host[:port]. */
    public static String key(String registry) {
        String host = hostOf(registry);
        return host.equals(ImageRef.DOCKER_HUB) || host.equals("index.docker.io") || host.equals("registry-1.docker.io")
                ? DOCKER_HUB_KEY : host;
    }

    /** The host of a registry written as a host, host:port or a URL (https://host/v1/). */
    public static String hostOf(String registry) {
        String s = registry.strip();
        s = s.replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "");
        int slash = s.indexOf('/');
        return (slash < 0 ? s : s.substring(0, slash)).toLowerCase(Locale.ROOT);
    }

    /**
     * Reads the config dir's config.json for {@code registry}.
     *
     * @throws BadInput (one safe line, never file content) when the file exists but cannot be read or parsed
     */
    public static Lookup lookup(Path dir, String registry) {
        Path file = dir.resolve(CONFIG_FILE);
        String host = hostOf(registry);
        String key = key(host);
        Optional<byte[]> bytes = ClientConfig.readClientConfig(file); // a regular file of sane size, or BadInput
        if (bytes.isEmpty()) {
            return new Lookup(file, false, host, key, Optional.empty(), Optional.empty());
        }
        ObjectMapper mapper = DockerClientConfig.getDefaultObjectMapper();
        JsonNode tree;
        DockerConfigFile config;
        try {
            tree = mapper.readTree(bytes.get());
            config = DockerConfigFile.loadConfig(mapper, dir.toString());
        } catch (AccessDeniedException e) {
            throw new BadInput("cannot read the docker client config " + file + ": permission denied");
        } catch (IOException | RuntimeException e) {
            throw new BadInput(unreadable(file, e));
        }
        if (tree == null || !tree.isObject()) {
            throw new BadInput("the docker client config " + file + " is not a JSON object");
        }
        Optional<String> helper = helper(tree, key);
        if (helper.isPresent()) {
            return new Lookup(file, true, host, key, Optional.empty(), helper);
        }
        AuthConfig entry = config.resolveAuthConfig(key);
        Optional<Credentials> credentials = Optional.ofNullable(entry)
                .filter(a -> notBlank(a.getUsername()) && (notBlank(a.getPassword()) || notBlank(a.getIdentitytoken())))
                .map(a -> new Credentials(a, serverAddress(key, a)));
        return new Lookup(file, true, host, key, credentials, Optional.empty());
    }

    private static String serverAddress(String key, AuthConfig entry) {
        // the engine picks the registry from serveraddress: the entry's own key (a URL for Docker Hub)
        return entry.getRegistryAddress() != null ? entry.getRegistryAddress() : key;
    }

    private static Optional<String> helper(JsonNode tree, String key) {
        JsonNode helpers = tree.path("credHelpers");
        for (String candidate : List.of(key, hostOf(key))) {
            if (helpers.hasNonNull(candidate) && !helpers.get(candidate).asText().isBlank()) {
                return Optional.of(helpers.get(candidate).asText());
            }
        }
        String store = tree.path("credsStore").asText("");
        return store.isBlank() ? Optional.empty() : Optional.of(store);
    }

    /** Messages from the parser may quote file content (a secret): say only where and what kind. */
    private static String unreadable(Path file, Exception e) {
        JsonProcessingException json = Text.causeOf(e, JsonProcessingException.class);
        if (json != null) {
            return notJson(file, json);
        }
        if ("Invalid auth configuration file".equals(e.getMessage()) || Text.causeOf(e, IllegalArgumentException.class) != null) {
            return "the docker client config " + file + " has an `auth` value that is not base64 of user:password";
        }
        return "cannot read the docker client config " + file + ": " + e.getClass().getSimpleName();
    }

    private static String notJson(Path file, JsonProcessingException e) {
        var at = e.getLocation();
        return "the docker client config " + file + " is not valid JSON"
                + (at != null ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : "");
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    /** The permissions of the config file (following a link, as the seed host's points to a rendered secret). */
    public record FileMode(Path file, Optional<Path> linkTarget, int mode, String owner) {
        /** Group or others may read or write it. */
        public boolean exposed() {
            return (mode & 0066) != 0;
        }

        public String octal() {
            return String.format("%04o", mode);
        }

        public String describe() {
            String where = file + linkTarget.map(t -> " -> " + t).orElse("");
            return where + ": mode " + octal() + ", owner " + owner + (exposed()
                    ? ": readable or writable by " + who() + " (run: chmod 600 " + linkTarget.orElse(file) + ")"
                    : ", readable by its owner only");
        }

        private String who() {
            boolean group = (mode & 0060) != 0;
            boolean others = (mode & 0006) != 0;
            return group && others ? "group and others" : group ? "group" : "others";
        }
    }

    public static FileMode mode(Path file) throws IOException {
        Optional<Path> target = Files.isSymbolicLink(file) ? Optional.of(file.toRealPath()) : Optional.empty();
        PosixFileAttributes attributes = Files.readAttributes(target.orElse(file), PosixFileAttributes.class);
        return new FileMode(file, target, bits(attributes.permissions()), attributes.owner().getName());
    }

    static int bits(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 0040;
                case GROUP_WRITE -> 0020;
                case GROUP_EXECUTE -> 0010;
                case OTHERS_READ -> 0004;
                case OTHERS_WRITE -> 0002;
                case OTHERS_EXECUTE -> 0001;
            };
        }
        return mode;
    }

    /** One registry login. Its text forms never contain the password or a token. */
    public static final class Credentials {
        private final AuthConfig auth;
        private final String serverAddress;
        private final List<String> secrets = new ArrayList<>();

        Credentials(AuthConfig auth, String serverAddress) {
            this.auth = new AuthConfig()
                    .withUsername(auth.getUsername())
                    .withPassword(auth.getPassword())
                    .withIdentityToken(auth.getIdentitytoken())
                    .withRegistryAddress(serverAddress);
            this.serverAddress = serverAddress;
            for (String secret : new String[] {auth.getPassword(), auth.getIdentitytoken(), auth.getRegistrytoken()}) {
                if (notBlank(secret)) {
                    secrets.add(secret);
                }
            }
            if (notBlank(auth.getPassword())) {
                secrets.add(Base64.getEncoder().encodeToString(
                        (auth.getUsername() + ":" + auth.getPassword()).getBytes(StandardCharsets.UTF_8)));
            }
            secrets.add(header());
        }

        public String user() {
            return auth.getUsername();
        }

        /** The registry as the engine is told it (the `auths` key). */
        public String serverAddress() {
            return serverAddress;
        }

        /** For docker-java commands that take credentials (pull). */
        public AuthConfig authConfig() {
            return auth;
        }

        /** The JSON body of the engine's POST /auth. */
        public ObjectNode loginBody() {
            ObjectNode body = DockerClientConfig.getDefaultObjectMapper().createObjectNode();
            body.put("username", auth.getUsername());
            if (notBlank(auth.getPassword())) {
                body.put("password", auth.getPassword());
            }
            if (notBlank(auth.getIdentitytoken())) {
                body.put("identitytoken", auth.getIdentitytoken());
            }
            body.put("serveraddress", serverAddress);
            return body;
        }

        /** The X-Registry-Auth header value: base64url of the same JSON, as the docker CLI sends it. */
        public String header() {
            return Base64.getUrlEncoder().encodeToString(loginBody().toString().getBytes(StandardCharsets.UTF_8));
        }

        /** {@code text} with every secret of these credentials replaced by ***. */
        public String redact(String text) {
            if (text == null) {
                return null;
            }
            String out = text;
            for (String secret : secrets) {
                out = out.replace(secret, "***");
            }
            return out;
        }

        @Override
        public String toString() {
            return "credentials of user " + user() + " for " + serverAddress;
        }
    }

    /**
     * @param credentialsRejected the registry refused the credentials (or wants some and got none)
     * @param detail              the engine's one-line reason when not ok, else its status text
     */
    public record Answer(boolean ok, boolean credentialsRejected, String detail, Optional<String> digest) {}

    public static Answer login(EngineApi engine, Credentials credentials) {
        try {
            JsonNode status = engine.login(credentials.loginBody());
            return new Answer(true, false, status.path("Status").asText("Login Succeeded"), Optional.empty());
        } catch (EngineApi.Refused e) {
            return refused(e, credentials);
        }
    }

    public static Answer manifest(EngineApi engine, ImageRef image, Optional<Credentials> credentials) {
        try {
            JsonNode answer = engine.distribution(image.local(), credentials.map(Credentials::header));
            String digest = answer.path("Descriptor").path("digest").asText("");
            return new Answer(true, false, "manifest " + (digest.isEmpty() ? "found" : digest),
                    digest.isEmpty() ? Optional.empty() : Optional.of(digest));
        } catch (EngineApi.Refused e) {
            return refused(e, credentials.orElse(null));
        }
    }

    private static Answer refused(EngineApi.Refused e, Credentials credentials) {
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
