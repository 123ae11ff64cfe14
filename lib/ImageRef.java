//SOURCES Cli.java Text.java
package ccci;

import ccci.Cli.BadInput;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image reference as the docker CLI reads it: [registry/]path[:tag][@digest]. The first path
 * part is a registry when it has a '.' or a ':' or is "localhost"; otherwise the registry is
 * docker.io and a one-part path gets "library/" (redis:7-alpine is docker.io/library/redis:7-alpine).
 * Without tag and digest the tag is "latest".
 */
public final class ImageRef {
    public static final String DOCKER_HUB = "docker.io";

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}");
    private static final Pattern IMAGE_ID = Pattern.compile("sha256:[a-fA-F0-9]*|[a-f0-9]{64}");
    /** The docker CLI's limit on a reference's name part (registry and path, without tag). */
    static final int NAME_MAX = 255;

    private final String given;      // as the operator wrote it
    private final String domain;     // docker.io, localhost:5000, registry.example.org
    private final String path;       // library/redis, ccci/big
    private final String tag;        // null only with a digest and no tag
    private final String digest;     // null unless given
    private final String familiar;   // the name part as given, without tag or digest

    private ImageRef(String given, String domain, String path, String tag, String digest, String familiar) {
        this.given = given;
        this.domain = domain;
        this.path = path;
        this.tag = tag;
        this.digest = digest;
        this.familiar = familiar;
    }

    /** @throws BadInput naming the offending text when it is not a pullable reference */
    public static ImageRef parse(String text) {
        String value = text == null ? "" : text.strip();
        if (value.isEmpty()) {
            throw new BadInput("--image is empty: give a reference like redis:7-alpine");
        }
        if (IMAGE_ID.matcher(value).matches()) {
            throw new BadInput("--image '" + text + "' is an image ID: give a name to pull, like redis:7-alpine");
        }
        String rest = value;
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw bad(text, "its digest '" + digest + "' is not algorithm:hex");
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw bad(text, "its tag '" + tag + "' is not a valid tag");
            }
        }
        String familiar = rest;
        if (familiar.length() > NAME_MAX) {
            throw bad(Text.clip(text, 60), "its name is " + familiar.length() + " characters long (at most " + NAME_MAX + ")");
        }
        String domain = DOCKER_HUB;
        String path = rest;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                checkRegistry(first).ifPresent(why -> {
                    throw bad(text, "its registry " + why);
                });
                domain = first.toLowerCase(Locale.ROOT);
                path = rest.substring(slash + 1);
            } else if (!first.equals(first.toLowerCase(Locale.ROOT))) {
                throw bad(text, "'" + first + "' has upper-case letters (repository names are lower case)");
            }
        }
        if (domain.equals("index.docker.io") || domain.equals("registry-1.docker.io")) {
            domain = DOCKER_HUB;
        }
        if (path.isEmpty()) {
            throw bad(text, "it has no repository name");
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw bad(text, "'" + component + "' is not a valid repository name part (lower-case letters, digits, . _ -)");
            }
        }
        if (domain.equals(DOCKER_HUB) && !path.contains("/")) {
            path = "library/" + path;
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageRef(value, domain, path, tag, digest, familiar);
    }

    /** Why a registry host[:port] is not one (a bad host name, a port outside 1-65535), or empty when it is. */
    public static Optional<String> checkRegistry(String registry) {
        if (!DOMAIN.matcher(registry).matches()) {
            return Optional.of("'" + registry + "' is not a host name with an optional :port");
        }
        int colon = registry.lastIndexOf(':');
        if (colon >= 0) {
            String port = registry.substring(colon + 1);
            if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                return Optional.of("'" + registry + "' has a port outside 1-65535");
            }
        }
        return Optional.empty();
    }

    private static BadInput bad(String text, String why) {
        return new BadInput("--image '" + text + "' is not an image reference: " + why);
    }

    /** The registry host: docker.io, localhost:5000, ... */
    public String registry() {
        return domain;
    }

    /** What to pull: the name as given, without tag or digest (redis, localhost:5000/ccci/big). */
    public String repository() {
        return familiar;
    }

    /** The tag to pull, or the digest when there is no tag. */
    public String tagOrDigest() {
        return tag != null ? tag : digest;
    }

    public Optional<String> tag() {
        return Optional.ofNullable(tag);
    }

    public Optional<String> digest() {
        return Optional.ofNullable(digest);
    }

    /** The reference as the engine names it locally: redis:7-alpine, localhost:5000/ccci/big:1. */
    public String local() {
        return familiar + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }

    /** Fully qualified name without tag or digest: docker.io/library/redis. */
    public String canonicalName() {
        return domain + "/" + path;
    }

    /** The local reference pinned to a digest, as `docker service create` pins it: name:tag@sha256:... */
    public String pinned(String digestValue) {
        return familiar + (tag != null ? ":" + tag : "") + "@" + digestValue;
    }

    /**
     * Whether {@code other} names the same repository and tag, ignoring a digest the other carries
     * (swarm stores a service's image as name:tag@digest).
     */
    public boolean sameNameAndTag(ImageRef other) {
        return canonicalName().equals(other.canonicalName())
                && (tag != null ? tag.equals(other.tag) : digest.equals(other.digest));
    }

    /** Parses without throwing, e.g. for image names read from the engine. */
    public static Optional<ImageRef> tryParse(String text) {
        try {
            return Optional.of(parse(text));
        } catch (BadInput e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return given;
    }
}
