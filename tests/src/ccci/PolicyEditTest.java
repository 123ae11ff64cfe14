package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Editing the policy" diff must still apply to lib/PrunePolicy.java as it is. */
class PolicyEditTest {
    @Test
    void theReadmesPolicyEditAppliesToPrunePolicy(@TempDir Path tmp) throws Exception {
        Matcher m = Pattern.compile("(?s)## Editing the policy.*?```diff\\n(.*?)```").matcher(Repo.read("README.md"));
        assertTrue(m.find(), "README has an 'Editing the policy' section with a diff");
        String diff = m.group(1);
        assertTrue(diff.contains("+++ b/lib/PrunePolicy.java") && !diff.replaceAll("(?m)^[+-]{3} .*$", "").contains("+++"),
                "the edit touches lib/PrunePolicy.java only:\n" + diff);
        Path patch = tmp.resolve("edit.diff");
        Files.writeString(patch, diff);
        Process check = new ProcessBuilder("git", "apply", "--check", "--verbose", patch.toString())
                .directory(Repo.root().toFile()).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.waitFor(), "git apply --check of the README's diff:\n" + output);
    }
}
