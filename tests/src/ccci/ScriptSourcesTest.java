package ccci;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

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
}
