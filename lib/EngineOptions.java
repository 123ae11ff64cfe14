package ccci;

import picocli.CommandLine.Option;

/** Which Docker engine to talk to (a picocli mixin); the docker CLI's -H and DOCKER_HOST rules. */
public final class EngineOptions {
    @Option(names = {"-H", "--host"}, paramLabel = "URI",
            description = "Docker engine to use, e.g. unix:///var/run/docker.sock. Default: $DOCKER_HOST, else the default socket.")
    String host;

    public DockerEngine connect() {
        return DockerEngine.connect(check(host));
    }

    /** Connects on first use; the host's form is still checked now, so bad input never goes unnoticed. */
    public DockerEngine.Lazy lazy() {
        return new DockerEngine.Lazy(check(host));
    }

    private static final java.util.regex.Pattern HOST_FORM = java.util.regex.Pattern.compile("(unix|tcp|npipe|ssh|http|https)://.+");

    static String check(String option) {
        String given = option != null ? option : System.getenv("DOCKER_HOST");
        if (given != null && !given.isEmpty() && !HOST_FORM.matcher(given).matches()) {
            throw new BadInput((option != null ? "--host '" : "DOCKER_HOST '") + given
                    + "' is not a Docker host URI (expected unix:///path/to/docker.sock or tcp://host:port)");
        }
        return option;
    }
}
