///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/Disk.java ../lib/Engine.java ../lib/GateCheck.java ../lib/GateFacts.java
//SOURCES ../lib/GatePolicy.java ../lib/PruneFacts.java ../lib/PruneFormat.java ../lib/PruneLock.java
//SOURCES ../lib/PruneMetrics.java ../lib/PrunePolicy.java ../lib/PruneRun.java ../lib/Text.java

import ccci.Cli;
import ccci.Engine;
import ccci.GatePolicy;
import ccci.PruneFormat;
import ccci.PruneLock;
import ccci.PruneMetrics;
import ccci.PrunePolicy;
import ccci.PruneRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "prune", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Prunes this Docker host conservatively, and only when all gates hold (see gates --help).",
            "Phases, each limited to objects older than --until, the gates checked before each:",
            "  1. stopped containers   2. dangling images only   3. build cache",
            "Never removes tagged images, images used by any container, volumes or networks, and never forces.",
            "When a gate does not hold it prints 'keeping local image cache, nothing to do' and the reason."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:pruned, dry run done, or the gates do not hold (nothing to do)",
            "11:a gate cannot be evaluated (engine unreachable, permission denied...): nothing removed",
            "12:bad input (value out of range, invalid pattern or age, missing path)",
            "13:the gates closed between phases (a CI run started): stopped before the next phase",
            "14:another prune holds the lock file: nothing removed (the summary says outcome=locked)",
            "15:the engine is already running a prune (HTTP 409, another tool)",
            "16:the engine failed or went away during a phase",
            "19:unexpected internal error"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE)
class Prune implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin GatePolicy.Options gates;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = "24h",
            description = {"Only objects older than this (units s, m, h, d, as in 24h, 7d or 1d12h).", "Default: ${DEFAULT-VALUE}"})
    String until;

    @Option(names = "--dry-run", description = "Remove nothing; list what a real run would remove and keep, with reasons.")
    boolean dryRun;

    @Option(names = "--json", description = "Print one JSON object (ran, reclaimedBytes, phases, removed, kept...).")
    boolean json;

    @Option(names = "--lock-file", paramLabel = "FILE",
            description = {"Lock that keeps prunes from overlapping.", "Default: /run/ci-docker-prune.lock",
                "(the temp dir when /run is not writable)"})
    Path lockFile;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "Also write node_exporter textfile-collector metrics to FILE, in the collector's directory (atomically, mode 0644).")
    Path metricsFile;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        var settings = gates.settings();
        var age = PrunePolicy.Until.parse(until);
        if (metricsFile != null) {
            PruneMetrics.checkTarget(metricsFile);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PruneLock lock = null;
        try {
            if (!dryRun) {
                lock = PruneLock.acquire(lockFile != null ? lockFile : PruneLock.defaultPath());
            }
            try (Engine.Lazy docker = engine.lazy()) {
                PruneRun.Listener progress = new PruneRun.Listener() {
                    @Override
                    public void planned(GatePolicy.Verdict verdict, PrunePolicy.Plan plan) {
                        if (!json) {
                            out.println(PruneFormat.intentLine(verdict, plan));
                            out.flush();
                        }
                    }

                    @Override
                    public void phaseDone(PruneRun.PhaseResult result) {
                        if (!json) {
                            out.println(PruneFormat.phaseLine(result));
                            out.flush();
                        }
                    }
                };
                PruneRun.Report report = PruneRun.run(docker, settings, age, dryRun, progress, Clock.systemUTC());
                out.print(json ? PruneFormat.json(report) : PruneFormat.text(report));
                if (metricsFile != null) {
                    PruneMetrics.write(metricsFile, report, Instant.now());
                }
                report.verdict().problems().forEach(p -> err.println("prune: " + p));
                boolean failed = report.outcome() == PruneRun.Outcome.FAILED || report.outcome() == PruneRun.Outcome.STOPPED;
                if (failed && report.verdict().problems().isEmpty()) {
                    report.problem().ifPresent(p -> err.println("prune: " + p));
                }
                return report.exitCode();
            }
        } catch (PruneLock.AlreadyLocked e) {
            PruneRun.Report report = PruneRun.Report.locked(e.getMessage(), start);
            out.print(json ? PruneFormat.json(report) : PruneFormat.text(report));
            err.println("prune: " + e.getMessage());
            return report.exitCode();
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }

    public static void main(String... args) {
        System.exit(Cli.run(new Prune(), args));
    }
}
