///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/Defaults.java ../lib/Disks.java ../lib/Engine.java ../lib/EvictionPolicy.java
//SOURCES ../lib/FastArgs.java ../lib/Fleet.java ../lib/FleetFormat.java ../lib/GatePolicy.java
//SOURCES ../lib/InUse.java ../lib/LastUse.java ../lib/PruneFormat.java ../lib/PruneLock.java
//SOURCES ../lib/PruneMetrics.java ../lib/PrunePolicy.java ../lib/PruneRun.java ../lib/PruneShortfall.java
//SOURCES ../lib/Signals.java ../lib/Text.java ../lib/Threshold.java ../lib/Until.java

import ccci.Cli;
import ccci.Defaults;
import ccci.Disks;
import ccci.Engine;
import ccci.InUse;
import ccci.Until;
import ccci.EvictionPolicy;
import ccci.FastArgs;
import ccci.Fleet;
import ccci.FleetFormat;
import ccci.GatePolicy;
import ccci.LastUse;
import ccci.PruneFormat;
import ccci.PruneLock;
import ccci.PruneMetrics;
import ccci.PrunePolicy;
import ccci.PruneRun;
import ccci.PruneShortfall;
import ccci.Signals;
import ccci.Text;
import ccci.Threshold;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prune", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Prunes this Docker host conservatively, and only when all gates hold (see gates --help), in three phases, each limited to objects older than --until, the gates checked again before each:",
            "  1. stopped containers",
            "  2. untagged images, but not the newest of each registry repository here",
            "  3. build cache",
            "The newest untagged image of a registry repository is the cache a redeploy needs (a stack deploy brings its images by digest, untagged). Never removes a tagged image, an image anything uses (a container in any state, a service or its previous spec, a task, a user of a child image), a volume or a network, and never forces. When a gate does not hold it prints 'keeping local image cache, nothing to do' and why.",
            "Opt-in, when the conservative phases are not enough: --evict-to removes tagged and cached registry images nothing uses, least recently used first, until the disk is below a low watermark; --max-unused-age removes those unused for longer than an age even below the threshold; --evict-max caps how many go per run; --min-free is a second trigger and target in bytes; --build-cache-max keeps the build cache within a budget.",
            "When the disk stays at or above the threshold after the phases (and eviction) prune warns and exits 17; when a gate has blocked pruning for longer than --blocked-limit with the disk over the threshold, it warns and exits 18.",
            "With --fleet (on a swarm manager) the same runs on every node as one swarm global job, one line per node."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:pruned, dry run done, or the gates do not hold (nothing to do)",
            "11:a gate cannot be evaluated (engine unreachable, permission denied...): nothing removed",
            "12:bad input (value out of range, invalid pattern or age, missing path)",
            "13:the gates closed between phases (a CI run started): stopped before the next phase",
            "14:another prune holds the lock file: nothing removed (the summary says outcome=locked); --fleet: another fleet run's job service exists: nothing started",
            "15:the engine is already running a prune (HTTP 409, another tool)",
            "16:the engine failed or went away during a phase",
            "17:insufficient: the phases (and eviction, when asked) ran, the disk is still at or above the threshold (WARN line)",
            "18:blocked too long: disk at or above the threshold, a gate blocking longer than --blocked-limit (WARN line)",
            "19:unexpected internal error",
            "24:the run finished, but --metrics-file could not be written (the summary says metrics=failed)",
            "25:--fleet: a node did not report in time, was down or drained, or its job failed (otherwise --fleet exits with the worst node's code)",
            "130:stopped by Ctrl-C (SIGINT): the summary says which phases completed (--fleet: its job service removed)",
            "143:stopped by SIGTERM: the summary says which phases completed (--fleet: its job service removed)"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = {GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE, Engine.Options.HOST_DEFAULT_LINE,
            "  --evict-to, --max-unused-age, --evict-max, --min-free, --build-cache-max: off"})
class Prune implements Cli.Fast {
    static final String DEFAULT_UNTIL = Defaults.UNTIL;

    // made here, and each default also the field's value: the daily command line is parsed without picocli (FastArgs)
    @Mixin Engine.Options engine = new Engine.Options();
    @Mixin GatePolicy.Options gates = new GatePolicy.Options();
    @Mixin PruneShortfall.Options shortfall = new PruneShortfall.Options();
    @Mixin InUse.Options keep = new InUse.Options();
    @Mixin EvictionPolicy.Options eviction = new EvictionPolicy.Options();
    @Mixin LastUse.FileOption lastUse = new LastUse.FileOption();
    @Mixin Fleet.Options fleetOptions = new Fleet.Options();
    PrintWriter out;
    PrintWriter err;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = DEFAULT_UNTIL,
            description = {"Only objects older than this (units s, m, h, d, as in 24h, 7d or 1d12h).", "Default: ${DEFAULT-VALUE}"})
    String until = DEFAULT_UNTIL;

    @Option(names = "--build-cache-max", paramLabel = "BYTES",
            description = "After phase 3, the engine's own build-cache prune down to this budget: the least recently used build cache "
                    + "goes first until the cache is below BYTES (Docker's decimal units: 2G = 2*10^9 bytes). Off unless given.")
    String buildCacheMax;

    @Option(names = "--dry-run", description = "Remove nothing; list what a real run would remove and keep, with reasons.")
    boolean dryRun;

    @Option(names = {"-v", "--verbose"}, description = "List every object the run keeps, with why (by default it lists what goes and counts what stays).")
    boolean verbose;

    @Option(names = "--json", description = "Print one JSON object (ran, reclaimedBytes, phases, removed, kept...).")
    boolean json;

    @Option(names = "--lock-file", paramLabel = "FILE",
            description = {"Lock that keeps prunes from overlapping: a regular file of ours, never followed through a link.",
                "Default: " + PruneLock.WHERE + "."})
    Path lockFile;

    // for deploy/systemd/install: the unit's arguments checked as a run checks them, nothing else done
    @Option(names = "--check-options", hidden = true)
    boolean checkOptions;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "Also write node_exporter textfile-collector metrics to FILE, in the collector's directory (a new file, mode 0644, renamed over FILE, which must be absent or a regular file).")
    Path metricsFile;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        var settings = gates.settings();
        var age = Until.parse(until);
        var notEnough = shortfall.settings();
        var protect = keep.settings();
        var evict = eviction.settings(Optional.of(settings.threshold()));
        var buildCacheBudget = buildCacheMax == null ? java.util.OptionalLong.empty()
                : java.util.OptionalLong.of(Threshold.parseBytes("--build-cache-max", buildCacheMax));
        if (metricsFile != null) {
            PruneMetrics.checkTarget(metricsFile);
        }
        var fleet = fleetOptions.settings();
        if (fleet != null && (metricsFile != null || eviction.given() != null || shortfall.given() || buildCacheMax != null)) {
            throw new Cli.BadInput((metricsFile != null ? "--metrics-file" : eviction.given() != null ? eviction.given()
                    : buildCacheMax != null ? "--build-cache-max" : "--state-file/--blocked-limit") + " is per host: not with --fleet");
        }
        if (checkOptions) {
            return Cli.ExitCodes.OK;
        }
        if (fleet != null) {
            return fleet(fleet, settings, age);
        }
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
                    PruneRun.Settings run = new PruneRun.Settings(settings, age, evict, protect, Optional.of(lastUse.file()), notEnough,
                            buildCacheBudget);
                    PruneRun.Report report = PruneRun.run(docker, Disks.REAL, run, dryRun, progress, Clock.systemUTC());
                    signalled.claim();
                    return report(report, out, err);
                }
            }
        } catch (PruneLock.AlreadyLocked e) {
            PruneRun.Report report = PruneRun.Report.locked(e.getMessage(), start);
            out.print(json ? PruneFormat.json(report) : PruneFormat.text(report, verbose));
            err.println("prune: " + Text.safe(e.getMessage()));
            return report.exitCode();
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }

    /** --fleet: every node of the swarm, as one global job (per host options are refused in call()). */
    private int fleet(Fleet.Settings fleet, GatePolicy.Settings settings, Until age) {
        try (Engine docker = engine.connect()) {
            var command = Fleet.Command.prune(age.text(), dryRun, lockFile != null ? lockFile : PruneLock.defaultPath());
            Fleet.Report report = Fleet.run(docker, fleet, settings, command, new Fleet.Listener() {
                @Override
                public void started(String job, String image, java.util.List<Fleet.Node> targets, java.time.Duration timeout) {
                    if (!json) {
                        out.println(FleetFormat.startLine(job, image, targets, timeout));
                        out.flush();
                    }
                }

                @Override
                public void warning(String line) {
                    err.println("prune: " + Text.safe(line));
                    err.flush();
                }
            });
            out.print(json ? FleetFormat.json(report) : FleetFormat.text(report));
            return report.exitCode();
        }
    }

    /** Writes the metrics when asked, then prints the report (text or JSON) and its problems; returns the exit code. */
    private int report(PruneRun.Report ran, PrintWriter out, PrintWriter err) {
        PruneRun.Report report = metricsFile == null ? ran : PruneMetrics.record(metricsFile, ran, Instant.now());
        out.print(json ? PruneFormat.json(report) : PruneFormat.text(report, verbose));
        out.flush();
        report.verdict().problems().forEach(p -> err.println("prune: " + Text.safe(p)));
        report.state().ifPresent(st -> st.notes().forEach(n -> err.println("prune: " + Text.safe(n))));
        boolean failed = report.outcome() == PruneRun.Outcome.FAILED || report.outcome() == PruneRun.Outcome.STOPPED;
        if (failed && report.verdict().problems().isEmpty()) {
            report.problem().ifPresent(p -> err.println("prune: " + Text.safe(p)));
        }
        report.metrics().flatMap(PruneRun.Report.Metrics::problem).ifPresent(p -> err.println("prune: " + Text.safe(p)));
        err.flush();
        return report.exitCode();
    }

    @Override
    public void printTo(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public boolean setWithoutPicocli(String[] args) {
        return FastArgs.PRUNE.set(this, args);
    }

    @Override
    public String name() {
        return FastArgs.PRUNE.name();
    }

    public static void main(String... args) {
        System.exit(Fleet.nodeJobExit(args, Cli.run(new Prune(), args)));
    }
}
