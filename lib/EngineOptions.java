package ccci;

import picocli.CommandLine.Option;

/** Which Docker engine to talk to (a picocli mixin); the docker CLI's -H and DOCKER_HOST rules. */
public final class EngineOptions {
    @Option(names = {"-H", "--host"}, paramLabel = "URI",
            description = "Docker engine to use, e.g. unix:///var/run/docker.sock. Default: $DOCKER_HOST, else the default socket.")
    String host;

    public DockerEngine connect() {
        return DockerEngine.connect(host);
    }
}
