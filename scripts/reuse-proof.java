///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/ClientConfig.java ../lib/Defaults.java ../lib/Engine.java
//SOURCES ../lib/GatePolicy.java ../lib/ImagePull.java ../lib/ReuseProofFormat.java ../lib/ReuseProofRun.java
//SOURCES ../lib/Signals.java ../lib/Text.java

import ccci.Cli;
import ccci.ClientConfig;
import ccci.Defaults;
import ccci.Engine;
import ccci.GatePolicy;
import ccci.ImagePull;
import ccci.ReuseProofFormat;
import ccci.ReuseProofRun;
import ccci.Signals;
import ccci.Text;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "reuse-proof", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Proves on this host that a redeploy downloads no layer, the way a CI host really gets and keeps an image: a stack deploy brings it by digest, the stack is torn down, the daily prune runs, the stack comes back.",
            "  1. check      changes nothing; refuses an image in use or sharing a name",
            "  2. remove     removes the image, so that the deploy is cold",
            "  3. deploy     one replica on this node, pinned name:tag@digest: a pull",
            "  4. teardown   removes the service, waits until its container is gone",
            "  5. prune      the toolkit's own prune, for real, its gates holding",
            "  6. retained   the image is still here by its digest, with the same ID",
            "  7. redeploy   the same service again: the engine must pull nothing",
            "  8. warm-pull  a pull by digest: no layer downloaded, 'up to date'",
            "  9. cleanup    services removed; the image as found (its tags put back)",
            "In use means a container (any state), a service (scaled to 0 too) or a task; the registry must serve the image to these credentials. The proof's prune holds its disk gate at 1%% and keeps the other gates (--stack-pattern's stack and convergence), --until and the prune lock. An image that was not here before is removed again at the end.",
            "The services (ccci-reuse-proof-*, label ccci.reuse-proof) are removed on every path, also on SIGTERM or Ctrl-C. Registry credentials come from the docker client config, as the docker CLI reads them, and are never printed."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:PASS: the image stayed through teardown and prune, the redeploy pulled nothing and the warm pull downloaded no layer",
            "11:the engine cannot be reached (or refused a read) before anything changed",
            "12:bad input (option value, image reference, unreadable client config)",
            "19:unexpected internal error",
            "20:FAIL: the proof did not show reuse or could not complete (e.g. a live CI run kept prune from running); or, with nothing changed, another name shares the image; the reason says why",
            "21:refused: a container, service or task uses the image; nothing was changed",
            "130:stopped by Ctrl-C (SIGINT): the services are removed; the summary says what else is left changed",
            "143:stopped by SIGTERM: the services are removed; the summary says what else is left changed"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = {GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE, Engine.Options.HOST_DEFAULT_LINE})
class ReuseProof implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin ClientConfig.DirOption config;

    @Option(names = "--image", paramLabel = "REF", defaultValue = ReuseProofRun.DEFAULT_IMAGE,
            description = {"Image to prove with (name[:tag]).", "Default: ${DEFAULT-VALUE}"})
    String image;

    @Option(names = "--deploy-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = {"Wait this long for a service to run (the cold deploy: also --pull-timeout), and for its container to go.",
                "Default: ${DEFAULT-VALUE}"})
    String deployTimeout;

    @Option(names = "--pull-timeout", paramLabel = "SECONDS", defaultValue = "900",
            description = {"Give the cold deploy's pull, and the warm pull, this long.", "Default: ${DEFAULT-VALUE}"})
    String pullTimeout;

    @Option(names = "--hold", paramLabel = "SECONDS", defaultValue = "0",
            description = {"Keep the service running this long before tearing it down (to watch it).", "Default: ${DEFAULT-VALUE}"})
    String hold;

    @Option(names = "--command", paramLabel = "'CMD ARGS'",
            description = {"What the proof's service runs, instead of the image's entrypoint and command (split at spaces).",
                "Default: the image's own; an image with neither needs one, e.g. 'sleep 3600'"})
    String command;

    @Option(names = "--stack-pattern", paramLabel = "REGEX", defaultValue = Defaults.STACK_PATTERN,
            description = {"The prune step's stack gate, as prune's: a service or running container whose name or stack label "
                + "matches is a live CI run, which keeps prune and so the proof from running: run it when no CI run is live.",
                "Default: under Defaults below"})
    String stackPattern;

    @Option(names = "--until", paramLabel = "AGE", defaultValue = Defaults.UNTIL,
            description = {"The prune step's age, as prune's --until.", "Default: ${DEFAULT-VALUE}"})
    String until;

    @Option(names = "--lock-file", paramLabel = "FILE",
            description = {"The lock the prune step holds, as prune's --lock-file.", "Default: prune's own."})
    String lockFile;

    @Option(names = "--json", description = "Print one JSON object (verdict, coldDeploy, prune, retained, redeploy, warmLayersDownloaded, reason...) instead of text.")
    boolean json;

    @Override
    public Integer call() {
        var settings = ReuseProofRun.Settings.parse(image, config.option(), deployTimeout, pullTimeout, hold, command,
                stackPattern, until, lockFile);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Signals.install();
        try (Engine docker = engine.connect()) {
            ReuseProofRun.Listener progress = new ReuseProofRun.Listener() {
                @Override
                public void stepDone(ReuseProofRun.StepResult result) {
                    if (!json && Signals.received().isEmpty()) {
                        out.println(ReuseProofFormat.stepLine(result));
                        out.flush();
                    }
                }

                @Override
                public void progress(ReuseProofRun.Step step, ImagePull.Progress pull) {
                    if (!json && Signals.received().isEmpty()) {
                        out.println(ReuseProofFormat.progressLine(step, pull));
                        out.flush();
                    }
                }

                @Override
                public void deployProgress(ReuseProofRun.Step step, String task, java.time.Duration elapsed) {
                    if (!json && Signals.received().isEmpty()) {
                        out.println(ReuseProofFormat.deployProgressLine(step, task, elapsed));
                        out.flush();
                    }
                }

                @Override
                public void signal(String line) {
                    err.println("reuse-proof: " + Text.safe(line));
                    err.flush();
                }

                @Override
                public void stopped(ReuseProofRun.Report report) {
                    print(report, out, err);
                }
            };
            return print(ReuseProofRun.run(docker, settings, progress), out, err);
        }
    }

    private int print(ReuseProofRun.Report report, PrintWriter out, PrintWriter err) {
        out.print(json ? ReuseProofFormat.json(report) : ReuseProofFormat.ending(report));
        out.flush();
        report.reason().ifPresent(reason -> err.println("reuse-proof: " + Text.safe(reason)));
        err.flush();
        return report.exitCode();
    }

    public static void main(String... args) {
        System.exit(Cli.run(new ReuseProof(), args));
    }
}
