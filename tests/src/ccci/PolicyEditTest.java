package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every diff of docs/editing-the-policy.md still applies to the lib as it is, and each edits one lib file. */
class PolicyEditTest {
    static final String DOC = "docs/editing-the-policy.md";

    static List<String> edits() {
        Matcher m = Pattern.compile("(?s)```diff\\n(.*?)```").matcher(Repo.read(DOC));
        List<String> diffs = new ArrayList<>();
        while (m.find()) {
            diffs.add(m.group(1));
        }
        assertEquals(5, diffs.size(), DOC + " shows five edits");
        return diffs;
    }

    @ParameterizedTest
    @MethodSource("edits")
    void eachEditAppliesToOneLibFile(String diff, @TempDir Path tmp) throws Exception {
        Matcher target = Pattern.compile("(?m)^\\+\\+\\+ b/(.*)$").matcher(diff);
        assertTrue(target.find(), "a diff with a target file:\n" + diff);
        String file = target.group(1);
        assertTrue(file.matches("lib/[A-Za-z]+\\.java") && !target.find(), "the edit touches one lib file only:\n" + diff);
        Path patch = tmp.resolve("edit.diff");
        Files.writeString(patch, diff);
        Process check = new ProcessBuilder("git", "apply", "--check", "--verbose", patch.toString())
                .directory(Repo.root().toFile()).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.waitFor(), "git apply --check of " + DOC + "'s edit of " + file + ":\n" + output);
    }
}
