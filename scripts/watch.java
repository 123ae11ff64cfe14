///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/Engine.java ../lib/LastUse.java ../lib/LastUseWatch.java

import ccci.Cli;
import ccci.Engine;
import ccci.LastUse;
import ccci.LastUseWatch;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "watch", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Records the last use of each local image, for prune's eviction and cache: follows the engine's events (containers created and started, swarm tasks included; services created and updated; images pulled, loaded, imported and tagged) and keeps, by image ID and by repository:tag, the time of the latest in --last-use.",
            "The file is replaced whole (never half-written, even after kill -9), at most every --flush-interval; records of images no longer in the store are dropped. When the engine goes away it reconnects with backoff, one line per attempt, and marks the gap. Runs until stopped (SIGTERM writes what is pending): run it as its own unit."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 12:bad input (a value out of range, the record's directory missing)",
            " 19:unexpected internal error",
            "143:stopped by SIGTERM (what was pending is written)"},
        footerHeading = "%nDefaults:%n",
        footer = Engine.Options.HOST_DEFAULT_LINE)
class Watch implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin LastUse.FileOption lastUse;

    @Option(names = "--flush-interval", paramLabel = "SECONDS", defaultValue = "5",
            description = "Write the record at most this often (1-3600). Default: ${DEFAULT-VALUE}.")
    int flushSeconds;

    @Option(names = "--max-backoff", paramLabel = "SECONDS", defaultValue = "60",
            description = "Longest wait between reconnection attempts (1-3600). Default: ${DEFAULT-VALUE}.")
    int maxBackoffSeconds;

    // for deploy/systemd/install: the unit's arguments checked as a run checks them, nothing else done
    @Option(names = "--check-options", hidden = true)
    boolean checkOptions;

    @Override
    public Integer call() {
        if (flushSeconds < 1 || flushSeconds > 3600) {
            throw new Cli.BadInput("--flush-interval " + flushSeconds + " is outside 1-3600 (seconds)");
        }
        if (maxBackoffSeconds < 1 || maxBackoffSeconds > 3600) {
            throw new Cli.BadInput("--max-backoff " + maxBackoffSeconds + " is outside 1-3600 (seconds)");
        }
        var dir = lastUse.file().toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Cli.BadInput("--last-use '" + lastUse.file() + "': directory " + dir + " does not exist (the unit's StateDirectory= creates it)");
        }
        if (checkOptions) {
            return Cli.ExitCodes.OK;
        }
        new LastUseWatch(engine.checkedHost(), lastUse.file(), Duration.ofSeconds(flushSeconds),
                Duration.ofSeconds(maxBackoffSeconds), spec.commandLine().getErr()).run();
        return Cli.ExitCodes.OK;
    }

    public static void main(String... args) {
        System.exit(Cli.run(new Watch(), args));
    }
}
