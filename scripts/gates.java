///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/Cli.java ../lib/Disk.java ../lib/Engine.java ../lib/GateCheck.java ../lib/GateFacts.java
//SOURCES ../lib/GatePolicy.java ../lib/LastUse.java ../lib/StateFile.java ../lib/Text.java

import ccci.Cli;
import ccci.Engine;
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
            "Decides whether this Docker host may prune: all three gates must hold.",
            "  disk         the data root's filesystem is at least --threshold full",
            "  stack        no live run-app stack (service or running container)",
            "  convergence  no swarm service short of its tasks, updating or rolling back",
            "A gate that cannot be evaluated blocks (fail closed). Nothing is changed on the engine; the images of",
            "running containers are noted in the last-use record (--last-use) when its directory exists."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:all gates hold, pruning is allowed",
            "10:a gate blocks, pruning is not allowed",
            "11:a gate cannot be evaluated (engine unreachable, permission denied...): blocked",
            "12:bad input (value out of range, invalid pattern, missing path)",
            "19:unexpected internal error"},
        footerHeading = GatePolicy.Options.DEFAULTS_FOOTER_HEADING,
        footer = GatePolicy.Options.STACK_PATTERN_DEFAULT_LINE)
class Gates implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin GatePolicy.Options gates;
    @Mixin LastUse.FileOption lastUse;

    @Option(names = "--json", description = "Print one JSON object (pruneAllowed, gates[] with figures) instead of text.")
    boolean json;

    @Override
    public Integer call() {
        var settings = gates.settings();
        try (Engine docker = engine.connect()) {
            GatePolicy.Verdict verdict = GateCheck.run(docker, settings, Optional.of(lastUse.file()));
            spec.commandLine().getOut().print(json
                    ? GateCheck.jsonText(verdict, docker.host())
                    : GateCheck.text(verdict));
            verdict.problems().forEach(problem -> spec.commandLine().getErr().println("gates: " + Text.safe(problem)));
            return verdict.exitCode();
        }
    }

    public static void main(String... args) {
        System.exit(Cli.run(new Gates(), args));
    }
}
