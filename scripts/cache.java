///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/CacheFormat.java ../lib/CacheView.java ../lib/Cli.java ../lib/Defaults.java ../lib/Disks.java
//SOURCES ../lib/Engine.java ../lib/EvictionPolicy.java ../lib/InUse.java ../lib/LastUse.java
//SOURCES ../lib/SmallFile.java ../lib/Threshold.java ../lib/Until.java

import ccci.CacheFormat;
import ccci.CacheView;
import ccci.Cli;
import ccci.Defaults;
import ccci.Disks;
import ccci.Engine;
import ccci.InUse;
import ccci.Until;
import ccci.EvictionPolicy;
import ccci.LastUse;
import ccci.SmallFile;
import ccci.Threshold;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cache", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Shows what the local image store holds, like docker system df -v, for this job: every image with its size, shared and unique bytes, who uses it (containers in any state, services, stacks) and its last use.",
            "Below that: what prune would remove now (--until), and what eviction would remove, least recently used first: down to the low watermark (--evict-to, default 75; with --min-free, until that much is free too), by age (--max-unused-age), and what --evict-max leaves for the next run; gaps in the last-use record (watch down).",
            "Changes nothing on the engine; refreshes the last-use record with the images in use now (when its directory exists)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:shown",
            "11:the engine cannot be reached (or refused a read), or the disk cannot be measured",
            "12:bad input (value out of range, invalid pattern or age, missing path)",
            "19:unexpected internal error",
            "24:shown, but the --metrics-file could not be written"},
        footerHeading = "%nDefaults:%n",
        footer = {"  --evict-to " + Defaults.EVICT_TO_VIEW_PERCENT + " (the view of eviction; prune evicts only when asked)",
            Engine.Options.HOST_DEFAULT_LINE})
class Cache implements Callable<Integer> {
    static final int DEFAULT_EVICT_TO = Defaults.EVICT_TO_VIEW_PERCENT;

    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin InUse.Options keep;
    @Mixin EvictionPolicy.Options eviction;
    @Mixin LastUse.FileOption lastUse;

    @Option(names = "--path", paramLabel = "DIR",
            description = "Filesystem to measure. Default: the engine's data root (DockerRootDir), or / when that path is not on this host.")
    Path path;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = Defaults.UNTIL,
            description = "The age prune's phases use, for 'what prune would remove now' (units s, m, h, d). Default: ${DEFAULT-VALUE}.")
    String until;

    @Option(names = "--min-free", paramLabel = "BYTES",
            description = "As prune's: eviction's view goes on until at least BYTES is available too (Docker's decimal units: 5G = 5*10^9 bytes).")
    String minFree;

    @Option(names = "--build-cache-max", paramLabel = "BYTES",
            description = "As prune's: what its budget prune of the build cache would remove (Docker's decimal units: 2G = 2*10^9 bytes).")
    String buildCacheMax;

    @Option(names = "--json", description = "Print one JSON object (disk, totals, images[], prune, eviction) instead of text.")
    boolean json;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "Also write the same figures as node_exporter textfile-collector metrics (ci_docker_cache_*) to FILE, atomically.")
    Path metricsFile;

    @Override
    public Integer call() {
        long floor = minFree == null ? 0 : Threshold.parseBytes("--min-free", minFree);
        var settings = eviction.settingsOr(DEFAULT_EVICT_TO, floor);
        var budget = buildCacheMax == null ? OptionalLong.empty() : OptionalLong.of(Threshold.parseBytes("--build-cache-max", buildCacheMax));
        var age = Until.parse(until);
        var protect = keep.settings();
        if (path != null && !path.toFile().exists()) {
            throw new Cli.BadInput("--path '" + path + "' does not exist");
        }
        if (metricsFile != null) {
            SmallFile.checkTarget("--metrics-file", metricsFile);
        }
        try (Engine docker = engine.connect()) {
            CacheView view = CacheView.read(docker, Disks.REAL, Optional.ofNullable(path), lastUse.file(), age, protect, settings, Instant.now(),
                    budget);
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
