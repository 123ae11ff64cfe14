package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Rules that keep the scripts runnable by JBang anywhere: from a remote catalog, under any locale. */
class ScriptSourcesTest {

    static List<Path> javaFiles(String dir) throws IOException {
        try (Stream<Path> files = Files.list(Repo.root().resolve(dir))) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** javac reads sources in the platform encoding on JDK 17: a systemd unit's POSIX locale is ASCII. */
    @Test
    void libAndScriptsAreAsciiSoTheyCompileUnderAnyLocale() throws IOException {
        for (String dir : List.of("lib", "scripts")) {
            for (Path file : javaFiles(dir)) {
                List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
                for (int i = 0; i < lines.size(); i++) {
                    int line = i + 1;
                    assertTrue(lines.get(i).chars().allMatch(c -> c < 128),
                            () -> file + ":" + line + " has a non-ASCII character: use a \\uXXXX escape");
                }
            }
        }
    }

    /** Globs in //SOURCES are dropped when a script runs from a remote catalog: every file is listed. */
    @Test
    void everySourcesEntryIsAnExistingFileAndNoGlob() throws IOException {
        Pattern sources = Pattern.compile("(?m)^//SOURCES (.+)$");
        for (Path script : javaFiles("scripts")) {
            Matcher m = sources.matcher(Files.readString(script));
            boolean any = false;
            while (m.find()) {
                for (String entry : m.group(1).trim().split("\\s+")) {
                    any = true;
                    assertFalse(entry.contains("*"), script + ": glob in //SOURCES " + entry);
                    assertTrue(Files.isRegularFile(script.getParent().resolve(entry)), script + ": missing " + entry);
                }
            }
            assertTrue(any, script + " lists its lib files in //SOURCES");
        }
    }

    /*
     * JBang compiles a script with the files its //SOURCES lines name and, recursively, the files
     * their own //SOURCES lines name, while the test build compiles the whole lib: a missing entry
     * would only show when an operator runs the script. Each script and each lib file names exactly
     * the lib classes it uses itself (found by name in the code, with comments and strings left
     * out), so JBang's closure is what the script needs, and a script's header says what it uses
     * directly, not the whole lib.
     */
    static final Pattern SOURCES = Pattern.compile("(?m)^//SOURCES\\s+(.+)$");
    static final Pattern COMMENTS_AND_STRINGS = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*|\"(?:\\\\.|[^\"\\\\])*\"");
    static final Pattern WORD = Pattern.compile("\\b[A-Z][A-Za-z0-9]*\\b");
    static final Pattern DECLARED = Pattern.compile("\\b(?:class|record|enum|interface)\\s+([A-Z][A-Za-z0-9]*)");

    static Stream<Path> scripts() throws IOException {
        return Files.list(Repo.root().resolve("scripts")).filter(p -> p.toString().endsWith(".java")).sorted();
    }

    static Map<String, Path> libClasses() throws IOException {
        Map<String, Path> classes = new TreeMap<>();
        try (Stream<Path> files = Files.list(Repo.root().resolve("lib"))) {
            files.filter(p -> p.toString().endsWith(".java"))
                    .forEach(p -> classes.put(p.getFileName().toString().replace(".java", ""), p));
        }
        return classes;
    }

    static Set<String> namesUsedIn(Path file, Set<String> candidates) {
        try {
            String code = COMMENTS_AND_STRINGS.matcher(Files.readString(file)).replaceAll(" ");
            // a nested type of the same simple name (e.g. ReuseProofRun.Verdict) shadows a lib class
            Set<String> shadowed = new TreeSet<>();
            Matcher d = DECLARED.matcher(code);
            while (d.find()) {
                shadowed.add(d.group(1));
            }
            Set<String> used = new TreeSet<>();
            Matcher m = WORD.matcher(code);
            while (m.find()) {
                // Outer.Name is a nested type, not the lib class Name (but ccci.Name is the lib class)
                boolean nested = m.start() > 0 && code.charAt(m.start() - 1) == '.'
                        && !code.substring(0, m.start() - 1).endsWith("ccci");
                if (candidates.contains(m.group()) && !shadowed.contains(m.group()) && !nested) {
                    used.add(m.group());
                }
            }
            return used;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Path> scriptsAndLib() throws IOException {
        return Stream.concat(scripts(), libClasses().values().stream());
    }

    @ParameterizedTest
    @MethodSource("scriptsAndLib")
    void sourcesListExactlyTheLibFilesTheFileUses(Path file) throws IOException {
        Map<String, Path> lib = libClasses();
        Set<String> listed = new TreeSet<>();
        Matcher m = SOURCES.matcher(Files.readString(file));
        while (m.find()) {
            for (String source : m.group(1).trim().split("\\s+")) {
                assertFalse(source.contains("*"), file + ": no globs in //SOURCES: " + source);
                Path listedFile = file.getParent().resolve(source).normalize();
                assertTrue(Files.isRegularFile(listedFile), file + ": //SOURCES names a missing file " + source);
                listed.add(listedFile.getFileName().toString().replace(".java", ""));
            }
        }
        Set<String> needed = new TreeSet<>(namesUsedIn(file, lib.keySet()));
        needed.remove(file.getFileName().toString().replace(".java", ""));
        assertEquals(String.join(" ", needed), String.join(" ", listed),
                file.getFileName() + ": //SOURCES must list exactly the lib files it uses itself");
    }

    /** What JBang compiles for a script: its //SOURCES and theirs, recursively; every lib class it needs is among them. */
    @ParameterizedTest
    @MethodSource("scripts")
    void jbangsClosureOfEachScriptHoldsEveryClassItNeeds(Path script) throws IOException {
        Map<String, Path> lib = libClasses();
        Set<String> compiled = new TreeSet<>();
        Deque<Path> todo = new ArrayDeque<>(Set.of(script));
        while (!todo.isEmpty()) {
            Path file = todo.pop();
            Matcher m = SOURCES.matcher(Files.readString(file));
            while (m.find()) {
                for (String source : m.group(1).trim().split("\\s+")) {
                    String name = file.getParent().resolve(source).normalize().getFileName().toString().replace(".java", "");
                    if (compiled.add(name)) {
                        todo.push(lib.get(name));
                    }
                }
            }
        }
        for (String name : compiled) {
            assertTrue(compiled.containsAll(namesUsedIn(lib.get(name), lib.keySet()).stream()
                    .filter(n -> !n.equals(name)).collect(Collectors.toSet())), script + ": " + name + " needs more than JBang compiles");
        }
    }
}
