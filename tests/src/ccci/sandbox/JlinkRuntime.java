package ccci.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A small Java runtime for the test image, made from the JDK running the tests: `jlink` of the
 * modules `jdeps` finds in the exported jars (plus jdk.unsupported, which reflection-heavy libraries
 * use without jdeps seeing it), and the host's shared libraries it loads, found with ldd. No default
 * class-data-sharing archive (a Temurin JRE has one): 20 MB more on every node's small disk for a
 * few hundred ms of start-up; -Xshare:auto runs without it.
 */
final class JlinkRuntime {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    /**
     * java.desktop's natives (AWT, fonts, sound, images): the module is needed for java.beans,
     * which Jackson uses, but these libraries only load with a GUI, so their X11 and font
     * dependencies stay out of the image.
     */
    private static final Pattern GUI_NATIVES =
            Pattern.compile("lib(awt.*|fontmanager|jawt|jsound|splashscreen|lcms|javajpeg|mlib_image|atk-wrapper)\\.so");
    private static final Pattern LDD_MISSING = Pattern.compile("^\\s*(\\S+) => not found$");
    private static final Pattern LDD_LINE = Pattern.compile("^\\s*(?:\\S+ => )?(/\\S+) \\(0x[0-9a-f]+\\)$");

    private JlinkRuntime() {}

    static Path jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name);
    }

    /** The JDK's `release` file: which runtime the image gets (part of the image's cache key). */
    static String jdkRelease() {
        try {
            return Files.readString(Path.of(System.getProperty("java.home"), "release"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> modules(Path app) {
        List<String> command = new ArrayList<>(List.of(jdkTool("jdeps").toString(),
                "--ignore-missing-deps", "--print-module-deps", "-q",
                "--multi-release", Integer.toString(Runtime.version().feature()),
                "--class-path", app.resolve("lib") + "/*"));
        command.addAll(files(app, "*.jar"));
        command.addAll(files(app.resolve("lib"), "*.jar"));
        String deps = ok(command).out().strip();
        TreeSet<String> modules = new TreeSet<>(List.of(deps.split(",")));
        modules.add("jdk.unsupported");
        return List.copyOf(modules);
    }

    static void link(List<String> modules, Path output) {
        ok(List.of(jdkTool("jlink").toString(), "--add-modules", String.join(",", modules),
                "--strip-debug", "--no-header-files", "--no-man-pages", "--compress=2",
                "--output", output.toString()));
    }

    /**
     * The host libraries (absolute paths as the dynamic loader looks them up, e.g.
     * /lib/x86_64-linux-gnu/libc.so.6 and the loader itself) that the runtime's launcher, JVM and
     * non-GUI natives need.
     */
    static List<Path> hostLibraries(Path runtime) {
        List<String> binaries = new ArrayList<>(List.of(runtime.resolve("bin/java").toString()));
        binaries.addAll(files(runtime.resolve("lib/server"), "*.so"));
        files(runtime.resolve("lib"), "*.so").stream()
                .filter(so -> !GUI_NATIVES.matcher(Path.of(so).getFileName().toString()).matches())
                .forEach(binaries::add);
        return libraries(binaries, runtime);
    }

    /** The host libraries a JDK's launcher and JVM need (the C and C++ runtimes): a cheap identity of them. */
    static List<Path> launcherLibraries(Path jdk) {
        return libraries(List.of(jdk.resolve("bin/java").toString(), jdk.resolve("lib/server/libjvm.so").toString()), jdk);
    }

    private static List<Path> libraries(List<String> binaries, Path runtime) {
        // libjava.so & co. name libjvm.so, which the JVM has loaded before them: not a host library
        Set<String> ownLibraries;
        try (Stream<Path> s = Files.walk(runtime.resolve("lib"))) {
            ownLibraries = s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TreeSet<Path> libraries = new TreeSet<>();
        for (String binary : binaries) {
            String out = ok(List.of("ldd", binary)).out();
            for (String line : out.lines().toList()) {
                Matcher missing = LDD_MISSING.matcher(line);
                if (missing.matches() && !ownLibraries.contains(missing.group(1))) {
                    throw new IllegalStateException("ldd " + binary + " misses a library:\n" + out);
                }
                Matcher m = LDD_LINE.matcher(line);
                if (m.matches() && !Path.of(m.group(1)).normalize().startsWith(runtime)) {
                    libraries.add(Path.of(m.group(1)).normalize());
                }
            }
        }
        return List.copyOf(libraries);
    }

    private static List<String> files(Path dir, String glob) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            var matcher = dir.getFileSystem().getPathMatcher("glob:" + glob);
            return s.filter(p -> matcher.matches(p.getFileName())).map(Path::toString).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CommandResult ok(List<String> command) {
        CommandResult r = Exec.run(command, Map.of(), null, TIMEOUT);
        if (r.exit() != 0) {
            throw new AssertionError(Exec.describeFailure(command, r));
        }
        return r;
    }
}
