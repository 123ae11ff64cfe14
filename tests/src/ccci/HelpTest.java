package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Each command's --help, in a JVM of its own as an operator starts it: laid out at COLUMNS, never
 * wider; every default value whole on one line (never broken mid-token); every exit code the
 * README's table gives the command listed.
 */
class HelpTest {
    static final List<String> COMMANDS = List.of("gates", "prune", "reuse-proof", "auth-check");

    static String help(String mainClass, String columns) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass, "--help")
                .redirectErrorStream(true);
        builder.environment().put("COLUMNS", columns);
        Process p = builder.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), mainClass + " --help did not end");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** Per command, the codes the README's exit-code table gives it (a cell other than a dash). */
    static Map<String, List<String>> readmeExitCodes() {
        String readme = Repo.read("README.md");
        String table = readme.substring(readme.indexOf("| code | gates | prune | reuse-proof | auth-check |"));
        Map<String, List<String>> codes = new LinkedHashMap<>();
        COMMANDS.forEach(c -> codes.put(c, new ArrayList<>()));
        Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\|(.*)\\|$").matcher(table.substring(0, table.indexOf("\n\n")));
        while (row.find()) {
            String[] cells = row.group(2).split("\\|");
            for (int i = 0; i < COMMANDS.size(); i++) {
                if (!cells[i].strip().equals("\u2014")) {
                    codes.get(COMMANDS.get(i)).add(row.group(1));
                }
            }
        }
        return codes;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gates, Gates", "prune, Prune", "reuse-proof, ReuseProof", "auth-check, AuthCheck"})
    void helpFitsEightyColumnsWithEveryDefaultWholeAndEveryExitCode(String command, String mainClass) throws Exception {
        String help = help(mainClass, "80");
        for (String line : help.lines().toList()) {
            assertTrue(line.length() <= 80, "wider than COLUMNS=80: " + line + "\n" + help);
        }

        var constructor = Class.forName(mainClass).getDeclaredConstructor();
        constructor.setAccessible(true);
        List<String> defaults = new ArrayList<>(List.of("$DOCKER_HOST, else unix:///var/run/docker.sock"));
        for (OptionSpec option : new CommandLine(constructor.newInstance()).getCommandSpec().options()) {
            if (option.defaultValue() != null) {
                defaults.add(option.defaultValue());
            }
        }
        assertTrue(defaults.size() >= 2, "the command has defaults to show: " + defaults);
        for (String value : defaults) {
            assertTrue(help.lines().anyMatch(l -> l.contains("Default: " + value) || l.endsWith(" " + value)),
                    command + ": the default " + value + " is not whole on one line of\n" + help);
        }

        List<String> listed = help.lines().map(l -> l.matches("^ {1,3}(\\d+) {2,}\\S.*") ? l.strip().split(" ")[0] : null)
                .filter(c -> c != null).toList();
        List<String> expected = readmeExitCodes().get(command);
        assertFalse(expected.isEmpty(), "the README's table has codes for " + command);
        for (String code : expected) {
            assertTrue(listed.contains(code), command + " --help does not list exit code " + code + " (README does)\n" + help);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"prune, Prune"})
    void aWiderTerminalGetsAWiderLayout(String command, String mainClass) throws Exception {
        String wide = help(mainClass, "150");
        assertTrue(wide.lines().anyMatch(l -> l.length() > 80), command + " --help at COLUMNS=150 stays at 80:\n" + wide);
        assertTrue(wide.lines().allMatch(l -> l.length() <= 150), wide);
    }

    /**
     * Issue 21 item 6: help reads as prose wrapped by the terminal. No internal option is listed, no
     * word from the project's history; a paragraph is one element (a line that goes on a sentence
     * starts lower-case only after a line of the same paragraph, never after a list item), and an
     * option's description is not broken into elements mid-sentence.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"gates, Gates", "prune, Prune", "reuse-proof, ReuseProof", "auth-check, AuthCheck", "cache, Cache", "watch, Watch"})
    void helpReadsAsProseWithoutInternalOptionsOrHistory(String command, String mainClass) throws Exception {
        String help = help(mainClass, "80");
        for (String word : List.of("--cluster-verdict", "seed", "PC1", "PC2", "PC3")) {
            assertFalse(help.contains(word), command + " --help says " + word + ":\n" + help);
        }
        List<String> lines = help.lines().toList();
        int options = 0;
        while (options < lines.size() && !lines.get(options).matches("^ {2,6}-.*")) {
            options++;
        }
        for (int i = 1; i < options; i++) {
            String line = lines.get(i);
            if (!line.isEmpty() && Character.isLowerCase(line.charAt(0))) {
                assertFalse(lines.get(i - 1).startsWith("  "), command + ": a list item wraps onto a line of its own: " + line + "\n" + help);
            }
        }
        int column = Integer.MAX_VALUE;
        Matcher firstText = Pattern.compile("^( +-\\S.*?\\s{2,})\\S").matcher(options < lines.size() ? lines.get(options) : "");
        if (firstText.find()) {
            column = firstText.group(1).length();
        }
        for (int i = options; i < lines.size() && !lines.get(i).isEmpty(); i++) {
            String line = lines.get(i);
            if (line.length() > column && line.substring(0, column).isBlank() && line.charAt(column) != ' ') {
                char first = line.charAt(column);
                assertFalse(Character.isLowerCase(first) || first == '(',
                        command + ": an option's description goes on in a new element mid-sentence: " + line + "\n" + help);
            }
        }
    }
}
