///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/ClientConfig.java ../lib/Engine.java ../lib/ImagePull.java
//SOURCES ../lib/ReuseProofFormat.java ../lib/ReuseProofRun.java ../lib/Signals.java ../lib/Text.java

import ccci.Cli;
import ccci.ClientConfig;
import ccci.Engine;
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
            "Proves that deploy -> teardown -> redeploy reuses the local image cache (the seed's PC3):",
            "  1. check     refuse if a container or service uses the image; the registry",
            "               must serve it",
            "  2. remove    remove the image, so that the next pull is cold",
            "  3. cold-pull pull it, timed, counting layers downloaded and already present",
            "  4. deploy    a one-replica swarm service of it, until its task runs",
            "  5. teardown  remove the service and wait until its container is gone",
            "  6. retained  the image is still here with the same ID",
            "  7. warm-pull pull again, timed: it must download no layer, say 'up to date'",
            "The proof's service (ccci-reuse-proof-*, label ccci.reuse-proof) is removed on every path, also on SIGTERM or Ctrl-C; an image that was not here before is removed again at the end.",
            "Registry credentials come from the docker client config, as the docker CLI reads them, and are never printed."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:PASS: the image was retained and the warm pull downloaded no layer",
            "11:the engine cannot be reached (or refused a read) before anything changed",
            "12:bad input (option value, image reference, unreadable client config)",
            "19:unexpected internal error",
            "20:FAIL: the proof ran or stopped and did not show reuse; the reason says why",
            "21:refused: a container or service uses the image; nothing was changed",
            "130:stopped by Ctrl-C (SIGINT): the service is removed; the summary says what else is left changed",
            "143:stopped by SIGTERM: the service is removed; the summary says what else is left changed"})
class ReuseProof implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin ClientConfig.DirOption config;

    @Option(names = "--image", paramLabel = "REF", defaultValue = ReuseProofRun.DEFAULT_IMAGE,
            description = {"Image to prove with (name[:tag]).", "Default: ${DEFAULT-VALUE}"})
    String image;

    @Option(names = "--deploy-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = {"Wait this long for the service to run, and for its container to go.", "Default: ${DEFAULT-VALUE}"})
    String deployTimeout;

    @Option(names = "--pull-timeout", paramLabel = "SECONDS", defaultValue = "900",
            description = {"Give up a pull after this long.", "Default: ${DEFAULT-VALUE}"})
    String pullTimeout;

    @Option(names = "--hold", paramLabel = "SECONDS", defaultValue = "0",
            description = {"Keep the service running this long before tearing it down (to watch it).", "Default: ${DEFAULT-VALUE}"})
    String hold;

    @Option(names = "--command", paramLabel = "'CMD ARGS'",
            description = {"What the proof's service runs, instead of the image's entrypoint and command (split at spaces).",
                "Default: the image's own; an image with neither needs one, e.g. 'sleep 3600'"})
    String command;

    @Option(names = "--json", description = "Print one JSON object (verdict, coldMs, warmMs, warmLayersDownloaded, retained, reason...) instead of text.")
    boolean json;

    @Override
    public Integer call() {
        var settings = ReuseProofRun.Settings.parse(image, config.option(), deployTimeout, pullTimeout, hold, command);
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
