package ccci;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ccci.sandbox.CommandResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The launcher, catalog, scripts and lib copied into a temp dir, with JBang state and a launcher
 * cache of its own: a test may edit this copy, never the real tree. Runs start in another directory,
 * with stdin from /dev/null and an engine address nothing listens on (no test here needs an engine).
 */
final class LauncherCopy {
    static final String NO_ENGINE = "unix:///nonexistent/ccci-launcher-test.sock";

    final Path root;
    final Path jbangDir;
    final Path cache;
    final Path elsewhere;
    /** Added to every run's environment (e.g. a shared JBANG_CACHE_DIR). */
    final Map<String, String> defaults = new LinkedHashMap<>();

    private LauncherCopy(Path temp) {
        this.root = temp.resolve("repo");
        this.jbangDir = temp.resolve("jbang-dir");
        this.cache = temp.resolve("launcher-cache");
        this.elsewhere = temp.resolve("elsewhere");
    }

    static LauncherCopy in(Path temp) {
        LauncherCopy copy = new LauncherCopy(temp);
        try {
            Files.createDirectories(copy.elsewhere);
            for (String part : List.of("jbang", "jbang-catalog.json", "scripts", "lib")) {
                copyTree(Repo.root().resolve(part), copy.root.resolve(part));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return copy;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(path, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    Path launcher() {
        return root.resolve("jbang");
    }

    Path lines() {
        return cache.resolve("lines");
    }

    /** The inherited environment without anything that steers JBang, the launcher or Docker, plus this copy's. */
    Map<String, String> environment(Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        System.getenv().forEach((name, value) -> {
            if (!name.startsWith("JBANG_") && !name.startsWith("CC_CI_") && !name.startsWith("DOCKER_")
                    && !name.equals("NO_COLOR") && !name.startsWith("CLICOLOR")) {
                env.put(name, value);
            }
        });
        env.put("JBANG_DIR", jbangDir.toString());
        env.put("CC_CI_LAUNCHER_CACHE", cache.toString());
        env.put("DOCKER_HOST", NO_ENGINE);
        env.putAll(defaults);
        env.putAll(extra);
        return env;
    }

    CommandResult run(Map<String, String> extra, String... args) {
        List<String> command = new ArrayList<>();
        command.add(launcher().toString());
        command.addAll(List.of(args));
        return Cmd.run(command, environment(extra), elsewhere);
    }

    CommandResult run(String... args) {
        return run(Map.of(), args);
    }

    /** A run that says on stderr whether the remembered line was used, and why not. */
    CommandResult debug(Map<String, String> extra, String... args) {
        Map<String, String> env = new LinkedHashMap<>(extra);
        env.put("CC_CI_LAUNCHER_DEBUG", "1");
        return run(env, args);
    }

    CommandResult debug(String... args) {
        return debug(Map.of(), args);
    }

    /**
     * JBang's compile cache shared with the other tests of the build (see Repo#jbangCacheDir): for a
     * copy whose lib and scripts stay as committed, each script compiles once per build.
     */
    LauncherCopy sharingJbangsCompileCache() {
        defaults.put("JBANG_CACHE_DIR", Repo.jbangCacheDir());
        return this;
    }

    static final String REMEMBERED = "jbang launcher: remembered the command line in ";
    static final String FROM_MEMORY = "jbang launcher: running the remembered command line (";

    /** Runs until JBang's line is remembered, then once from memory: that run. */
    CommandResult remembered(Map<String, String> env, String... args) {
        for (int i = 0; i < 3; i++) {
            CommandResult run = debug(env, args);
            if (run.err().contains(REMEMBERED) || run.err().contains(FROM_MEMORY)) {
                CommandResult again = debug(env, args);
                assertTrue(again.err().contains(FROM_MEMORY), "the next run uses the remembered line:\n" + again);
                return again;
            }
        }
        return fail("JBang's command line is never remembered for " + List.of(args));
    }

    /**
     * A script of this copy that prints how many arguments it got, then each one's UTF-8 bytes in
     * hex on a line of its own: what reached it, byte for byte.
     */
    Path argsEcho() {
        Path script = root.resolve("ArgsEcho.java");
        write("ArgsEcho.java", """
                ///usr/bin/env jbang "$0" "$@" ; exit $?
                //JAVA 17+
                import java.nio.charset.StandardCharsets;
                import java.util.HexFormat;

                class ArgsEcho {
                    public static void main(String[] args) {
                        System.out.println("args " + args.length);
                        for (String arg : args) {
                            System.out.println(HexFormat.of().formatHex(arg.getBytes(StandardCharsets.UTF_8)));
                        }
                    }
                }
                """);
        return script;
    }

    /** What ArgsEcho prints for these arguments. */
    static String echoed(List<String> args) {
        StringBuilder out = new StringBuilder("args " + args.size() + "\n");
        for (String arg : args) {
            out.append(java.util.HexFormat.of().formatHex(arg.getBytes(java.nio.charset.StandardCharsets.UTF_8))).append('\n');
        }
        return out.toString();
    }

    String read(String relative) {
        try {
            return Files.readString(root.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void write(String relative, String content) {
        try {
            Files.writeString(root.resolve(relative), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
