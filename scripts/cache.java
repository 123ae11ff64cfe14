///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/CacheFacts.java ../lib/CacheFormat.java ../lib/CacheView.java ../lib/Cli.java ../lib/Disk.java
//SOURCES ../lib/Engine.java ../lib/EvictionPolicy.java ../lib/GateFacts.java ../lib/ImageRef.java ../lib/LastUse.java
//SOURCES ../lib/LocalImage.java ../lib/PruneFacts.java ../lib/PrunePolicy.java
//SOURCES ../lib/SmallFile.java ../lib/Text.java

import ccci.CacheFormat;
import ccci.CacheView;
import ccci.Cli;
import ccci.Engine;
import ccci.EvictionPolicy;
import ccci.LastUse;
import ccci.PrunePolicy;
import ccci.SmallFile;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cache", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Shows what the local image store holds, like docker system df -v, for this job: every image with its",
            "size, shared and unique bytes, who uses it (containers running or stopped, services, stacks) and its",
            "last use; what prune would remove now (the seed's policy, --until); and what eviction down to the low",
            "watermark (--evict-to, default 75) would remove, least recently used first. Changes nothing on the",
            "engine; refreshes the last-use record with the images in use now (when its directory exists)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:shown",
            "11:the engine cannot be reached (or refused a read), or the disk cannot be measured",
            "12:bad input (value out of range, invalid pattern or age, missing path)",
            "19:unexpected internal error",
            "24:shown, but the --metrics-file could not be written"})
class Cache implements Callable<Integer> {
    static final int DEFAULT_EVICT_TO = 75;

    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin EvictionPolicy.Options eviction;
    @Mixin LastUse.FileOption lastUse;

    @Option(names = "--path", paramLabel = "DIR",
            description = "Filesystem to measure. Default: the engine's data root (DockerRootDir), or / when that path is not on this host.")
    Path path;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = "24h",
            description = "The age prune's phases use, for 'what prune would remove now' (units s, m, h, d). Default: ${DEFAULT-VALUE}.")
    String until;

    @Option(names = "--json", description = "Print one JSON object (disk, totals, images[], prune, eviction) instead of text.")
    boolean json;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "Also write the same figures as node_exporter textfile-collector metrics (ci_docker_cache_*) to FILE, atomically.")
    Path metricsFile;

    @Override
    public Integer call() {
        var settings = eviction.settingsOr(DEFAULT_EVICT_TO);
        var age = PrunePolicy.Until.parse(until);
        if (path != null && !path.toFile().exists()) {
            throw new Cli.BadInput("--path '" + path + "' does not exist");
        }
        if (metricsFile != null) {
            SmallFile.checkTarget("--metrics-file", metricsFile);
        }
        try (Engine docker = engine.connect()) {
            CacheView view = CacheView.read(docker, Optional.ofNullable(path), lastUse.file(), age, settings, Instant.now());
            spec.commandLine().getOut().print(json ? CacheFormat.json(view) : CacheFormat.text(view));
            if (metricsFile != null) {
                CacheFormat.writeMetrics(metricsFile, view, Instant.now());
            }
            return Cli.ExitCodes.OK;
        }
    }

    public static void main(String... args) {
        System.exit(Cli.run(new Cache(), args));
    }
}
