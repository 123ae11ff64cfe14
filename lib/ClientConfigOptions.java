package ccci;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the docker client config (registry credentials) is: a picocli mixin with the docker CLI's --config rule. */
public final class ClientConfigOptions {
    @Option(names = "--config", paramLabel = "DIR",
            description = "Docker client config dir holding config.json, like the docker CLI's --config. Default: $DOCKER_CONFIG, else ~/.docker.")
    String dir;

    /** The raw option value, or null. */
    public String option() {
        return dir;
    }

    public Path dir() {
        return RegistryAuth.configDir(dir);
    }
}
