package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * apt-get with a sources list, package lists and cache of its own under {@code stateDir}: it
 * downloads packages of another Debian suite without touching the host's apt configuration or
 * state. The mirror is the one the host already uses for its own Debian release (or
 * $CCCI_DEBIAN_MIRROR), so no registry address is written here.
 */
final class PrivateApt {
    private static final Path ETC_APT = Path.of("/etc/apt");
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final Path stateDir;

    private PrivateApt(Path stateDir) {
        this.stateDir = stateDir;
    }

    /** Writes the private sources list for {@code suite} (main) and updates its package lists. */
    static PrivateApt update(Path stateDir, String suite) {
        PrivateApt apt = new PrivateApt(stateDir);
        HostSource host = HostSource.find();
        try {
            Files.createDirectories(stateDir.resolve("lists/partial"));
            Files.createDirectories(stateDir.resolve("cache/archives/partial"));
            String options = host.signedBy().map(k -> "[signed-by=" + k + "] ").orElse("");
            Files.writeString(stateDir.resolve("sources.list"), "deb " + options + host.uri() + " " + suite + " main\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        apt.run(stateDir, "update");
        return apt;
    }

    /** `apt-get download NAME=VERSION...` into {@code dir}; apt checks each file against the signed index. */
    void download(Path dir, List<String> nameEqualsVersion) {
        List<String> args = new ArrayList<>(List.of("download"));
        args.addAll(nameEqualsVersion);
        run(dir, args.toArray(String[]::new));
    }

    private void run(Path workingDir, String... args) {
        List<String> command = new ArrayList<>(List.of("apt-get", "-q",
                "-o", "Dir::Etc::sourcelist=" + stateDir.resolve("sources.list"),
                "-o", "Dir::Etc::sourceparts=-",
                "-o", "Dir::State::Lists=" + stateDir.resolve("lists"),
                "-o", "Dir::Cache=" + stateDir.resolve("cache"),
                // the files land in root-owned dirs the _apt user cannot write
                "-o", "APT::Sandbox::User=root"));
        command.addAll(Arrays.asList(args));
        CommandResult r = Exec.run(command, java.util.Map.of(), null, TIMEOUT, workingDir);
        if (!r.ok()) {
            throw new IllegalStateException(Exec.describeFailure(command, r));
        }
    }

    /** The host's own Debian mirror: the first deb source of its release (VERSION_CODENAME) with main. */
    record HostSource(String uri, Optional<String> signedBy) {
        static HostSource find() {
            String override = System.getenv("CCCI_DEBIAN_MIRROR");
            if (override != null && !override.isBlank()) {
                return new HostSource(override.strip(), Optional.empty());
            }
            String release = codename();
            List<Path> files = new ArrayList<>();
            files.add(ETC_APT.resolve("sources.list"));
            try (Stream<Path> parts = Files.list(ETC_APT.resolve("sources.list.d"))) {
                parts.sorted().forEach(files::add);
            } catch (IOException e) {
                // no sources.list.d
            }
            for (Path f : files) {
                Optional<HostSource> found = Optional.empty();
                if (f.toString().endsWith(".sources")) {
                    found = fromDeb822(read(f), release);
                } else if (f.toString().endsWith(".list")) {
                    found = fromOneLine(read(f), release);
                }
                if (found.isPresent()) {
                    return found.get();
                }
            }
            throw new IllegalStateException("no Debian source for " + release + " main in " + files
                    + ": set CCCI_DEBIAN_MIRROR to a Debian mirror's URI");
        }

        static Optional<HostSource> fromDeb822(String text, String release) {
            for (String stanza : text.split("\\n\\s*\\n")) {
                List<String> types = field(stanza, "Types");
                List<String> suites = field(stanza, "Suites");
                List<String> uris = field(stanza, "URIs");
                if (types.contains("deb") && suites.contains(release) && field(stanza, "Components").contains("main")
                        && !uris.isEmpty()) {
                    Optional<String> key = field(stanza, "Signed-By").stream().filter(k -> k.startsWith("/")).findFirst();
                    return Optional.of(new HostSource(uris.get(0), key));
                }
            }
            return Optional.empty();
        }

        static Optional<HostSource> fromOneLine(String text, String release) {
            for (String line : text.lines().map(String::strip).toList()) {
                if (!line.startsWith("deb ")) {
                    continue;
                }
                Optional<String> key = Optional.empty();
                String rest = line.substring(4).strip();
                if (rest.startsWith("[")) {
                    int end = rest.indexOf(']');
                    for (String option : rest.substring(1, end).strip().split("\\s+")) {
                        if (option.startsWith("signed-by=")) {
                            key = Optional.of(option.substring("signed-by=".length()));
                        }
                    }
                    rest = rest.substring(end + 1).strip();
                }
                List<String> words = List.of(rest.split("\\s+"));
                if (words.size() >= 3 && words.get(1).equals(release) && words.subList(2, words.size()).contains("main")) {
                    return Optional.of(new HostSource(words.get(0), key));
                }
            }
            return Optional.empty();
        }

        private static List<String> field(String stanza, String name) {
            return stanza.lines()
                    .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                    .findFirst()
                    .map(l -> List.of(l.substring(name.length() + 1).strip().split("\\s+")))
                    .orElse(List.of());
        }

        private static String codename() {
            return read(Path.of("/etc/os-release")).lines()
                    .filter(l -> l.startsWith("VERSION_CODENAME="))
                    .map(l -> l.substring("VERSION_CODENAME=".length()).replace("\"", "").strip())
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no VERSION_CODENAME in /etc/os-release"));
        }

        private static String read(Path file) {
            try {
                return Files.readString(file);
            } catch (IOException e) {
                return "";
            }
        }
    }
}
