///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/Disks.java ../lib/Engine.java ../lib/Fleet.java ../lib/FleetFormat.java
//SOURCES ../lib/GateCheck.java ../lib/GatePolicy.java ../lib/LastUse.java ../lib/Text.java

import ccci.Cli;
import ccci.Disks;
import ccci.Engine;
import ccci.Fleet;
import ccci.FleetFormat;
import ccci.GateCheck;
import ccci.GatePolicy;
import ccci.LastUse;
import ccci.Text;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "gates", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Decides whether this Docker host may prune; all three gates must hold:",
            "  disk         the data root's filesystem is at least --threshold full",
            "  stack        no live run-app stack (service or running container)",
            "  convergence  no swarm service short of its tasks, updating or rolling back",
            "A gate that cannot be evaluated blocks (fail closed). Nothing is changed on the engine; the images of running containers are noted in the last-use record (--last-use) when its directory exists.",
            "On a swarm worker the cluster's gates are unknown: run it on a manager, or with --fleet on a manager (one line per node)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:all gates hold, pruning is allowed",
            "10:a gate blocks, pruning is not allowed",
            "11:a gate cannot be evaluated (engine unreachable, permission denied...): blocked",
            "12:bad input (value out of range, invalid pattern, missing path; --fleet on a non-manager)",
            "14:--fleet: another fleet run's job service exists: nothing started",
            "19:unexpected internal error",
            "25:--fleet: a node did not report in time, was down or drained, or its job failed (otherwise --fleet exits with the worst node's code)",
            "130:--fleet: stopped by Ctrl-C (its job service removed)",
            "143:--fleet: stopped by SIGTERM (its job service removed)"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = {GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE, Engine.Options.HOST_DEFAULT_LINE})
class Gates implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin GatePolicy.Options gates;
    @Mixin LastUse.FileOption lastUse;
    @Mixin Fleet.Options fleetOptions;

    @Option(names = "--json", description = "Print one JSON object (pruneAllowed, gates[] with figures) instead of text.")
    boolean json;

    @Override
    public Integer call() {
        var settings = gates.settings();
        var fleet = fleetOptions.settings();
        if (fleet != null) {
            try (Engine docker = engine.connect()) {
                Fleet.Report report = Fleet.run(docker, fleet, settings, Fleet.Command.gates(), listener());
                spec.commandLine().getOut().print(json ? FleetFormat.json(report) : FleetFormat.text(report));
                return report.exitCode();
            }
        }
        try (Engine docker = engine.connect()) {
            GatePolicy.Verdict verdict = GateCheck.check(docker, settings, Optional.of(lastUse.file()), Disks.REAL).verdict();
            spec.commandLine().getOut().print(json
                    ? GateCheck.jsonText(verdict, docker.host())
                    : GateCheck.text(verdict));
            verdict.problems().forEach(problem -> spec.commandLine().getErr().println("gates: " + Text.safe(problem)));
            return verdict.exitCode();
        }
    }

    private Fleet.Listener listener() {
        return new Fleet.Listener() {
            @Override
            public void started(String job, String image, java.util.List<Fleet.Node> targets, java.time.Duration timeout) {
                if (!json) {
                    spec.commandLine().getOut().println(FleetFormat.startLine(job, image, targets, timeout));
                    spec.commandLine().getOut().flush();
                }
            }

            @Override
            public void warning(String line) {
                System.err.println("gates: " + line);
            }
        };
    }

    public static void main(String... args) {
        System.exit(Fleet.nodeJobExit(args, Cli.run(new Gates(), args)));
    }
}
