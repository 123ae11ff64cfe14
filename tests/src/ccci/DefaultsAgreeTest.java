package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * lib/Defaults.java is the one place for every default (issue 18 item 7): changing one is one edit
 * there. The commands take their option defaults from it; the NixOS module reads it (nix/defaults.nix)
 * and passes nothing for what the command defaults; deploy/systemd/install reads it too and its
 * units pass only what the commands do not default. Where a value must still be written out (the
 * units' paths, option tables and help texts of the documentation), this test holds it to the
 * compiled class ccci.Defaults, by reflection, and names the file and line that differs.
 */
class DefaultsAgreeTest {
    static final String DEFAULTS = "lib/Defaults.java";

    /** The options whose default is the command's own, and the constant it is: the units leave them out. */
    static final Map<String, String> COMMAND_DEFAULTS = new LinkedHashMap<>();
    static {
        COMMAND_DEFAULTS.put("--threshold", "THRESHOLD_PERCENT");
        COMMAND_DEFAULTS.put("--until", "UNTIL");
        COMMAND_DEFAULTS.put("--stack-pattern", "STACK_PATTERN");
        COMMAND_DEFAULTS.put("--min-age", "MIN_AGE");
        COMMAND_DEFAULTS.put("--blocked-limit", "BLOCKED_LIMIT");
        COMMAND_DEFAULTS.put("--state-file", "STATE_FILE");
        COMMAND_DEFAULTS.put("--fleet-timeout", "FLEET_TIMEOUT");
        COMMAND_DEFAULTS.put("--last-use", "LAST_USE_FILE");
    }

    /** The module's options for them (nix/module.nix), and the units' paths. */
    static final Map<String, String> MODULE_OPTIONS = Map.of("threshold", "THRESHOLD_PERCENT", "until", "UNTIL",
            "stackPattern", "STACK_PATTERN", "minAge", "MIN_AGE", "blockedLimit", "BLOCKED_LIMIT", "stateFile", "STATE_FILE",
            "fleetTimeout", "FLEET_TIMEOUT", "dataRoot", "DATA_ROOT", "metricsFile", "METRICS_FILE");

    /** Every public static final field of ccci.Defaults, read from the compiled class. */
    static Map<String, Object> defaults() throws ReflectiveOperationException {
        Map<String, Object> defaults = new TreeMap<>();
        for (Field field : Class.forName("ccci.Defaults").getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && Modifier.isFinal(field.getModifiers())) {
                defaults.put(field.getName(), field.get(null));
            }
        }
        assertTrue(defaults.keySet().containsAll(COMMAND_DEFAULTS.values()), defaults.toString());
        return defaults;
    }

    /** Where a constant is declared: "lib/Defaults.java:LINE NAME = VALUE". */
    static String declared(String name, Object value) {
        List<String> lines = Repo.read(DEFAULTS).lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("\\s*public static final \\S+ " + name + " = .*")) {
                return DEFAULTS + ":" + (i + 1) + " " + name + " = " + value;
            }
        }
        return DEFAULTS + " " + name + " = " + value;
    }

    static String text(Object value) {
        return String.valueOf(value);
    }

    /** nix/defaults.nix reads every constant of lib/Defaults.java, each with the compiled class's value. */
    @Test
    void theNixModuleReadsEveryDefaultFromDefaultsJava() throws Exception {
        JsonNode nix = Nix.eval(Repo.root().resolve("nix/defaults.nix"));
        List<String> problems = new ArrayList<>();
        defaults().forEach((name, value) -> {
            JsonNode read = nix.path(name);
            if (read.isMissingNode() || !read.asText().equals(text(value))) {
                problems.add("nix/defaults.nix reads " + name + " as " + (read.isMissingNode() ? "nothing" : read.asText())
                        + ", but " + declared(name, value));
            }
        });
        assertEquals(List.of(), problems);
    }

    /** Each command's option default is the constant (picocli's model of prune, gates, cache, watch, reuse-proof). */
    @Test
    void theCommandsOptionDefaultsAreDefaultsJava() throws Exception {
        Map<String, Object> defaults = defaults();
        Map<String, Map<String, String>> options = new LinkedHashMap<>();
        options.put("Prune", COMMAND_DEFAULTS);
        options.put("Gates", Map.of("--threshold", "THRESHOLD_PERCENT", "--stack-pattern", "STACK_PATTERN"));
        options.put("Cache", Map.of("--until", "UNTIL", "--min-age", "MIN_AGE", "--last-use", "LAST_USE_FILE"));
        options.put("Watch", Map.of("--last-use", "LAST_USE_FILE"));
        options.put("ReuseProof", Map.of("--image", "PROOF_IMAGE"));
        List<String> problems = new ArrayList<>();
        for (var command : options.entrySet()) {
            var constructor = Class.forName(command.getKey()).getDeclaredConstructor();
            constructor.setAccessible(true);
            CommandLine.Model.CommandSpec spec = new CommandLine(constructor.newInstance()).getCommandSpec();
            command.getValue().forEach((option, name) -> {
                CommandLine.Model.OptionSpec o = spec.findOption(option);
                String given = o == null ? null : o.defaultValue();
                if (!text(defaults.get(name)).equals(given)) {
                    problems.add(spec.name() + " " + option + " defaults to " + given + ", but " + declared(name, defaults.get(name)));
                }
            });
        }
        assertEquals(List.of(), problems);
    }

    /**
     * The shipped units and the module's default units pass none of the options the commands
     * default (so the command's own default applies), and the paths they do pass are the constants.
     */
    @Test
    void theUnitsPassOnlyWhatTheCommandsDoNotDefault() throws Exception {
        Map<String, Object> defaults = defaults();
        List<String> problems = new ArrayList<>();
        Map<String, String> paths = Map.of("--path", "DATA_ROOT", "--metrics-file", "METRICS_FILE");
        for (String unit : List.of("deploy/systemd/ci-docker-prune.service", "deploy/systemd/ci-docker-watch.service")) {
            List<String> lines = Repo.read(unit).lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String at = unit + ":" + (i + 1);
                if (line.startsWith("ExecStart=")) {
                    List<String> args = SystemdUnit.execArgs(line.substring("ExecStart=".length()));
                    problems.addAll(passed(at, args, defaults, paths));
                }
                if (line.startsWith("StateDirectory=") && !("/var/lib/" + line.substring("StateDirectory=".length())).equals(defaults.get("STATE_DIR"))) {
                    problems.add(at + " makes /var/lib/" + line.substring("StateDirectory=".length()) + ", but "
                            + declared("STATE_DIR", defaults.get("STATE_DIR")));
                }
            }
        }
        String scenario = "{\"d\":{\"settings\":{\"enable\":true,\"watch\":{\"enable\":true}}}}";
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", scenario), "scenarios.d.systemd.services");
        for (String service : List.of("ci-docker-prune", "ci-docker-watch")) {
            problems.addAll(passed("nix/module.nix (" + service + "'s ExecStart, default settings)",
                    NixTest.execStart(nix.path(service)), defaults, paths));
            String stateDirectory = nix.path(service).path("serviceConfig").path("StateDirectory").asText();
            if (!("/var/lib/" + stateDirectory).equals(defaults.get("STATE_DIR"))) {
                problems.add("nix/module.nix: " + service + " makes /var/lib/" + stateDirectory + ", but " + declared("STATE_DIR", defaults.get("STATE_DIR")));
            }
        }
        JsonNode options = Nix.eval(NixTest.EVAL, Map.of(), "options");
        MODULE_OPTIONS.forEach((option, name) -> {
            JsonNode declaredDefault = options.path(option).path("default");
            boolean leftToCommand = COMMAND_DEFAULTS.containsValue(name);
            if (leftToCommand ? !declaredDefault.isNull() : !declaredDefault.asText().equals(text(defaults.get(name)))) {
                problems.add("nix/module.nix: option " + option + " defaults to " + declaredDefault + ", but "
                        + (leftToCommand ? "it is the command's own default (null), " : "") + declared(name, defaults.get(name)));
            }
            String description = options.path(option).path("description").asText().replace("\n", " ");
            if (leftToCommand && !description.contains("`" + text(defaults.get(name)) + "`")) {
                problems.add("nix/module.nix: option " + option + "'s description does not name " + declared(name, defaults.get(name)));
            }
        });
        assertEquals(List.of(), problems);
    }

    private static List<String> passed(String at, List<String> args, Map<String, Object> defaults, Map<String, String> paths) {
        List<String> problems = new ArrayList<>();
        for (int i = 1; i < args.size(); i++) {
            String name = COMMAND_DEFAULTS.get(args.get(i));
            if (name != null) {
                problems.add(at + " passes " + args.get(i) + " " + args.get(i + 1) + ": leave it to the command, whose default is "
                        + declared(name, defaults.get(name)));
            }
            String path = paths.get(args.get(i));
            if (path != null && !args.get(i + 1).equals(defaults.get(path)) && !at.contains("containerd")) {
                problems.add(at + " passes " + args.get(i) + " " + args.get(i + 1) + ", but " + declared(path, defaults.get(path)));
            }
        }
        return problems;
    }

    /**
     * Where the documentation and install --help state a default, it is the constant's value: option
     * table rows (`| `--min-age AGE` | `24h` |`, the module's options table), "default ..." after an
     * option on the same line, and the runbooks' "below N% disk".
     */
    @Test
    void theDocsAndInstallsHelpStateTheDefaultsOfDefaultsJava() throws Exception {
        Map<String, Object> defaults = defaults();
        Map<String, String> byName = new LinkedHashMap<>(COMMAND_DEFAULTS);
        byName.put("--data-root", "DATA_ROOT");
        byName.put("--metrics-file", "METRICS_FILE");
        MODULE_OPTIONS.forEach((option, name) -> byName.put("`" + option + "`", name));

        Map<String, String> texts = new LinkedHashMap<>();
        List<String> docs = new ArrayList<>(Repo.documents());
        docs.addAll(List.of("nix/README.md", "deploy/systemd/README.md", "nix/module.nix"));
        for (String doc : docs) {
            texts.put(doc, Repo.read(doc));
        }
        CommandResult help = Cmd.run(List.of(Repo.root().resolve("deploy/systemd/install").toString(), "--help"), null, null);
        assertEquals(0, help.exit(), help.toString());
        texts.put("deploy/systemd/install --help", help.out());

        // a table row's cells (a \\| inside a cell is a |); the default is the second cell, in the module's
        // options table (option, type, default, description) the third
        Pattern cellSeparator = Pattern.compile("(?<!\\\\)\\|");
        Pattern optionCell = Pattern.compile("`(--[a-z-]+|[a-zA-Z]+)[^`]*`");
        Pattern quoted = Pattern.compile("`\"?([^`\"]+)\"?`");
        Pattern stated = Pattern.compile("\\b[Dd]efault(?: is|:)?,? `?\"?(?<v>[^`\"),;\\s]+)");
        Pattern option = Pattern.compile("--[a-z-]+|`[a-zA-Z]+`");
        Pattern belowDisk = Pattern.compile("below (?<v>\\d+)% disk");
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (var doc : texts.entrySet()) {
            int defaultCell = doc.getKey().equals("nix/README.md") ? 3 : 2;
            List<String> lines = doc.getValue().lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String at = doc.getKey() + ":" + (i + 1);
                Matcher below = belowDisk.matcher(line);
                while (below.find()) {
                    checked++;
                    problems.addAll(differs(at, below.group("v"), "THRESHOLD_PERCENT", defaults));
                }
                if (line.startsWith("| `")) {
                    String[] cells = cellSeparator.split(line);
                    Matcher first = optionCell.matcher(cells[1].strip());
                    if (cells.length > defaultCell && first.matches()) {
                        String token = first.group(1).startsWith("--") ? first.group(1) : "`" + first.group(1) + "`";
                        String name = byName.get(token);
                        // the cell's last quoted value that is not null (the module's table: "`null`: prune's `80`")
                        Matcher value = quoted.matcher(cells[defaultCell]);
                        String last = null;
                        while (value.find()) {
                            if (!value.group(1).equals("null")) {
                                last = value.group(1);
                            }
                        }
                        if (name != null && last != null) {
                            checked++;
                            problems.addAll(differs(at, last, name, defaults));
                        }
                    }
                    continue;
                }
                // "default VALUE" after an option on the same line: the option is the last one before it
                Matcher prose = stated.matcher(line);
                if (prose.find()) {
                    Matcher before = option.matcher(line.substring(0, prose.start()));
                    String token = null;
                    while (before.find()) {
                        token = before.group();
                    }
                    if (token != null && byName.containsKey(token)) {
                        checked++;
                        problems.addAll(differs(at, prose.group("v"), byName.get(token), defaults));
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(checked >= 20, "the statements of defaults found: " + checked);
    }

    private static List<String> differs(String at, String stated, String name, Map<String, Object> defaults) {
        String value = text(defaults.get(name));
        return stated.equals(value) || stated.replace("\\|", "|").equals(value) ? List.of()
                : List.of(at + " states " + stated + ", but " + declared(name, value));
    }

    /** The installer's help reads its defaults from lib/Defaults.java, not from a copy of its own. */
    @Test
    void installReadsItsDefaultsFromDefaultsJava() throws Exception {
        String install = Repo.read("deploy/systemd/install");
        List<String> problems = new ArrayList<>();
        defaults().forEach((name, value) -> {
            if (value instanceof String s && s.length() > 3 && !s.equals("/var/lib/cc-ci")) {
                List<String> lines = install.lines().toList();
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains(s) && !lines.get(i).strip().startsWith("#")) {
                        problems.add("deploy/systemd/install:" + (i + 1) + " writes " + s + " itself: use $(default " + name + ") ("
                                + declared(name, value) + ")");
                    }
                }
            }
        });
        assertEquals(List.of(), problems);
        assertFalse(install.contains("--threshold 80"), "install compares with no threshold of its own: prune checks --evict-to");
    }
}
