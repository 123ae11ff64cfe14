package ccci;

import picocli.CommandLine.Option;

/** The gate options shared by every script that evaluates the gates (a picocli mixin). */
public final class GateOptions {
    @Option(names = "--threshold", paramLabel = "PERCENT", defaultValue = "80",
            description = "Disk use (df's Use%%) at or above which pruning may run. Default: ${DEFAULT-VALUE}.")
    String threshold;

    @Option(names = "--path", paramLabel = "DIR",
            description = "Filesystem to measure. Default: the engine's data root (DockerRootDir), or / when that path is not on this host.")
    String path;

    @Option(names = "--stack-pattern", paramLabel = "REGEX",
            defaultValue = GateSettings.DEFAULT_STACK_PATTERN,
            description = "A swarm service or running container whose name or com.docker.stack.namespace label matches is a live run-app stack. Default: ${DEFAULT-VALUE}")
    String stackPattern;

    public GateSettings settings() {
        return GateSettings.parse(threshold, stackPattern, path);
    }
}
