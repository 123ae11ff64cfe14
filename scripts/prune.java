///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/CacheFacts.java ../lib/Cli.java ../lib/Disk.java ../lib/Engine.java ../lib/EvictionPolicy.java
//SOURCES ../lib/EvictionRun.java ../lib/GateCheck.java ../lib/GateFacts.java ../lib/GatePolicy.java ../lib/ImageRef.java
//SOURCES ../lib/LastUse.java ../lib/LocalImage.java ../lib/PruneFacts.java ../lib/PruneFormat.java ../lib/PruneLock.java
//SOURCES ../lib/PruneMetrics.java ../lib/PrunePolicy.java ../lib/PruneRun.java ../lib/Signals.java ../lib/StateFile.java
//SOURCES ../lib/Text.java

import ccci.Cli;
import ccci.Engine;
import ccci.EvictionPolicy;
import ccci.GatePolicy;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PruneLock;
import ccci.PruneMetrics;
import ccci.PrunePolicy;
import ccci.PruneRun;
import ccci.Signals;
import ccci.Text;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
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
            "When a gate does not hold it prints 'keeping local image cache, nothing to do' and the reason.",
            "Opt-in (--evict-to): when the disk is still at or above --threshold after the phases, remove tagged",
            "images nothing uses (no container running or stopped, service or stack task), none matching --keep,",
            "none used within --min-age, least recently used first, until the disk is below the low watermark;",
            "the gates are checked again before each removal, and each removal is a plain (never forced) delete."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:pruned, dry run done, or the gates do not hold (nothing to do)",
            "11:a gate cannot be evaluated (engine unreachable, permission denied...): nothing removed",
            "12:bad input (value out of range, invalid pattern or age, missing path)",
            "13:the gates closed between phases (a CI run started): stopped before the next phase",
            "14:another prune holds the lock file: nothing removed (the summary says outcome=locked)",
            "15:the engine is already running a prune (HTTP 409, another tool)",
            "16:the engine failed or went away during a phase",
            "19:unexpected internal error",
            "24:the run finished, but --metrics-file could not be written (the summary says metrics=failed)",
            "130:stopped by Ctrl-C (SIGINT): the summary says which phases completed",
            "143:stopped by SIGTERM: the summary says which phases completed"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE)
class Prune implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin GatePolicy.Options gates;
    @Mixin EvictionPolicy.Options eviction;
    @Mixin LastUse.FileOption lastUse;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = "24h",
            description = {"Only objects older than this (units s, m, h, d, as in 24h, 7d or 1d12h).", "Default: ${DEFAULT-VALUE}"})
    String until;

    @Option(names = "--dry-run", description = "Remove nothing; list what a real run would remove and keep, with reasons.")
    boolean dryRun;

    @Option(names = "--json", description = "Print one JSON object (ran, reclaimedBytes, phases, removed, kept...).")
    boolean json;

    @Option(names = "--lock-file", paramLabel = "FILE",
            description = {"Lock that keeps prunes from overlapping: a regular file of ours, never followed through a link.",
                "Default: " + PruneLock.WHERE + "."})
    Path lockFile;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "Also write node_exporter textfile-collector metrics to FILE, in the collector's directory (a new file, mode 0644, renamed over FILE, which must be absent or a regular file).")
    Path metricsFile;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        var settings = gates.settings();
        var age = PrunePolicy.Until.parse(until);
        var evict = eviction.settings(Optional.of(settings.thresholdPercent()));
        if (metricsFile != null) {
            PruneMetrics.checkTarget(metricsFile);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PruneLock lock = null;
        Signals.install();
        try {
            if (!dryRun) {
                lock = PruneLock.acquire(lockFile != null ? lockFile : PruneLock.defaultPath());
            }
            try (Engine.Lazy docker = engine.lazy()) {
                PruneRun.Progress progress = new PruneRun.Progress(new PruneRun.Listener() {
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
                });
                try (Signals.Report signalled = Signals.onSignal(stop -> report(progress.stoppedBy(stop), out, err))) {
                    PruneRun.Report report = PruneRun.run(docker, settings, age, evict, Optional.of(lastUse.file()), dryRun,
                            progress, Clock.systemUTC());
                    signalled.claim();
                    return report(report, out, err);
                }
            }
        } catch (PruneLock.AlreadyLocked e) {
            PruneRun.Report report = PruneRun.Report.locked(e.getMessage(), start);
            out.print(json ? PruneFormat.json(report) : PruneFormat.text(report));
            err.println("prune: " + Text.safe(e.getMessage()));
            return report.exitCode();
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }

    /** Writes the metrics when asked, then prints the report (text or JSON) and its problems; returns the exit code. */
    private int report(PruneRun.Report ran, PrintWriter out, PrintWriter err) {
        PruneRun.Report report = metricsFile == null ? ran : PruneMetrics.record(metricsFile, ran, Instant.now());
        out.print(json ? PruneFormat.json(report) : PruneFormat.text(report));
        out.flush();
        report.verdict().problems().forEach(p -> err.println("prune: " + Text.safe(p)));
        boolean failed = report.outcome() == PruneRun.Outcome.FAILED || report.outcome() == PruneRun.Outcome.STOPPED;
        if (failed && report.verdict().problems().isEmpty()) {
            report.problem().ifPresent(p -> err.println("prune: " + Text.safe(p)));
        }
        report.metrics().flatMap(PruneRun.Report.Metrics::problem).ifPresent(p -> err.println("prune: " + Text.safe(p)));
        err.flush();
        return report.exitCode();
    }

    public static void main(String... args) {
        System.exit(Cli.run(new Prune(), args));
    }
}
