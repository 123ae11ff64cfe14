//SOURCES Cli.java EngineApi.java ImageRef.java Registry.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The seed's PC2 check: the docker client config holds credentials for the registry, the file is
 * readable by its owner only (0600, or a link to such a file), and the registry accepts the
 * credentials in a real login made by the engine (POST /auth). Only the user name is ever shown.
 */
public final class AuthCheckRun {
    private AuthCheckRun() {}

    /** A check's state, in the words every command uses for checks: pass, warn, fail, skipped. */
    public enum State {
        PASS, WARN, FAIL, SKIPPED;

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public record Check(String name, State state, String detail) {}

    public record Report(String registry, Path configFile, Optional<String> user, Optional<Registry.FileMode> mode,
                         Optional<Boolean> accepted, List<Check> checks, Optional<String> reason, int exitCode, String host) {
        public boolean ok() {
            return exitCode == ExitCodes.OK;
        }

        /** pass, warn (accepted, but the file is exposed) or fail. */
        public String verdict() {
            return ok() ? "pass" : exitCode == ExitCodes.AUTH_CONFIG_EXPOSED ? "warn" : "fail";
        }
    }

    /** The --registry value, checked at the edge: a host[:port], no spaces. */
    public static String registryOption(String registry) {
        String host = registry.strip();
        String bare = host.replaceFirst("^https?://", "").replaceFirst("/.*$", "");
        Optional<String> why = bare.isEmpty() ? Optional.of("it is empty") : ImageRef.checkRegistry(bare);
        if (why.isPresent()) {
            throw new BadInput("--registry '" + registry + "' is not a registry host like docker.io or localhost:5000: " + why.get());
        }
        return host;
    }

    public static Report run(EngineApi engine, Path configDir, String registry) {
        String host = Registry.hostOf(registry);
        Path file = configDir.resolve(Registry.CONFIG_FILE);
        List<Check> checks = new ArrayList<>();
        Optional<Registry.Lookup> lookup;
        try {
            lookup = Optional.of(Registry.lookup(configDir, host));
        } catch (BadInput e) {
            lookup = Optional.empty();
            checks.add(new Check("config", State.FAIL, e.getMessage()));
        }
        Optional<Registry.FileMode> mode = Optional.empty();
        if (lookup.isPresent()) {
            if (!lookup.get().fileExists()) {
                checks.add(new Check("config", State.FAIL, lookup.get().whyNone().orElseThrow()));
            } else {
                checks.add(new Check("config", State.PASS, file.toString()));
            }
        }
        if (lookup.map(Registry.Lookup::fileExists).orElse(java.nio.file.Files.exists(file))) {
            try {
                mode = Optional.of(Registry.mode(file));
                checks.add(new Check("mode", mode.get().exposed() ? State.WARN : State.PASS, mode.get().describe()));
            } catch (IOException e) {
                checks.add(new Check("mode", State.FAIL, "cannot read the permissions of " + file + ": " + e.getClass().getSimpleName()));
            }
        } else {
            checks.add(new Check("mode", State.SKIPPED, "no file"));
        }
        Optional<Registry.Credentials> credentials = lookup.flatMap(Registry.Lookup::credentials);
        if (credentials.isPresent()) {
            checks.add(new Check("credentials", State.PASS, "user " + credentials.get().user() + " for " + credentials.get().serverAddress()));
        } else {
            checks.add(new Check("credentials", State.FAIL, lookup.flatMap(Registry.Lookup::whyNone)
                    .orElse("no credentials for " + host + " (the config cannot be read)")));
        }
        Optional<Boolean> accepted = Optional.empty();
        boolean unreachable = false;
        if (credentials.isPresent()) {
            try {
                Registry.Answer answer = Registry.login(engine, credentials.get());
                accepted = Optional.of(answer.ok());
                checks.add(answer.ok()
                        ? new Check("registry", State.PASS, host + " accepted them in a login made by the engine at " + engine.host()
                                + " (" + answer.detail() + ")")
                        : new Check("registry", State.FAIL, (answer.credentialsRejected()
                                ? host + " rejected the credentials of " + credentials.get().user()
                                : "the engine could not log in to " + host) + ": " + answer.detail()));
            } catch (EngineApi.Unavailable e) {
                unreachable = true;
                checks.add(new Check("registry", State.FAIL, credentials.get().redact(e.getMessage())));
            }
        } else {
            checks.add(new Check("registry", State.SKIPPED, "no credentials to try"));
        }
        Optional<Check> failed = checks.stream().filter(c -> c.state() == State.FAIL).findFirst();
        Optional<Check> warned = checks.stream().filter(c -> c.state() == State.WARN).findFirst();
        int exit = unreachable ? ExitCodes.CANNOT_EVALUATE
                : failed.isPresent() ? ExitCodes.AUTH_FAILED
                : warned.isPresent() ? ExitCodes.AUTH_CONFIG_EXPOSED
                : ExitCodes.OK;
        Optional<String> reason = failed.or(() -> warned).map(c -> c.name() + ": " + c.detail());
        return new Report(host, file, credentials.map(Registry.Credentials::user), mode, accepted, List.copyOf(checks),
                reason, exit, engine.host());
    }
}
