///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../lib/AuthCheckFormat.java ../lib/AuthCheckRun.java ../lib/Cli.java ../lib/ClientConfig.java
//SOURCES ../lib/Engine.java ../lib/ImageRef.java ../lib/Text.java

import ccci.AuthCheckFormat;
import ccci.AuthCheckRun;
import ccci.Cli;
import ccci.ClientConfig;
import ccci.Engine;
import ccci.ImageRef;
import ccci.Text;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "auth-check", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = {
            "Checks the registry login the local image cache depends on, as the engine uses it:",
            "  config       the docker client config exists (see --config)",
            "  mode         config.json (or the file it links to) is its owner's only: 0600",
            "  credentials  it holds an auths entry for the registry, as docker reads it",
            "  registry     the registry accepts them in a login made by the engine",
            "Prints the user name only, never the password or a token."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:credentials present, accepted by the registry, file readable by its owner only",
            "11:the engine cannot be reached",
            "12:bad input (option value)",
            "19:unexpected internal error",
            "22:no usable credentials for the registry (no config, no entry, unreadable), or the registry rejected them",
            "23:accepted, but the config file is readable or writable by group or others: chmod 600 it"},
        footerHeading = "%nDefaults:%n",
        footer = Engine.Options.HOST_DEFAULT_LINE)
class AuthCheck implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Engine.Options engine;
    @Mixin ClientConfig.DirOption config;

    @Option(names = "--registry", paramLabel = "HOST", defaultValue = ImageRef.DOCKER_HUB,
            description = {"Registry whose credentials to check (host[:port]; docker.io means Docker Hub).", "Default: ${DEFAULT-VALUE}"})
    String registry;

    @Option(names = "--json", description = "Print one JSON object (ok, user, mode, exposed, accepted, reason, checks[]) instead of text.")
    boolean json;

    @Override
    public Integer call() {
        String target = AuthCheckRun.registryOption(registry);
        try (Engine docker = engine.connect()) {
            AuthCheckRun.Report report = AuthCheckRun.run(docker, config.dir(), target);
            spec.commandLine().getOut().print(json ? AuthCheckFormat.json(report) : AuthCheckFormat.text(report));
            report.reason().ifPresent(reason -> spec.commandLine().getErr().println("auth-check: " + Text.safe(reason)));
            return report.exitCode();
        }
    }

    public static void main(String... args) {
        System.exit(Cli.run(new AuthCheck(), args));
    }
}
