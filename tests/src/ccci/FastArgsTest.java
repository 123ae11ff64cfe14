package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * prune's fast path (FastArgs) against picocli, with prune's options read from picocli's own model
 * of scripts/prune.java at test time: every command line the fast path takes must leave every
 * option exactly as picocli's parse does, and every one it leaves to picocli must leave the command
 * untouched. Generated: subsets of the fast path's options (every one, or when they are many every
 * small and nearly full one and thousands more), in turn in each form and order;
 * the units' own ExecStart; values with spaces, '=', quotes and non-ASCII; and lines picocli
 * rejects or treats specially.
 */
class FastArgsTest {
    static final FastArgs FAST = FastArgs.PRUNE;

    static Object newPrune() {
        try {
            var constructor = Class.forName("Prune").getDeclaredConstructor();
            constructor.setAccessible(true);
            return constructor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static CommandSpec model(Object command) {
        return new CommandLine(command).getCommandSpec();
    }

    /** Every option of the command that is a field (not picocli's --help, --version): longest name -> field. */
    static Map<String, Field> optionFields(CommandSpec spec) {
        Map<String, Field> fields = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            if (option.userObject() instanceof Field field && !option.usageHelp() && !option.versionHelp()) {
                fields.put(option.longestName(), field);
            }
        }
        return fields;
    }

    /** The value of an option's field, on the command or on the mixin that declares it. */
    static Object valueOf(Object command, Field field) {
        try {
            Object owner = command;
            if (field.getDeclaringClass() != command.getClass()) {
                owner = null;
                for (Field mixin : command.getClass().getDeclaredFields()) {
                    if (mixin.getType() == field.getDeclaringClass()) {
                        mixin.setAccessible(true);
                        owner = mixin.get(command);
                    }
                }
                assertNotNull(owner, "no mixin of " + field.getDeclaringClass() + " made with the command");
            }
            field.setAccessible(true);
            return field.get(owner);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    static Map<String, Object> values(Object command, Map<String, Field> fields) {
        Map<String, Object> values = new LinkedHashMap<>();
        fields.forEach((name, field) -> values.put(name, valueOf(command, field)));
        return values;
    }

    /** picocli's parse (as Cli configures it) of args, or null when picocli rejects them. */
    static Map<String, Object> picocli(String[] args, Map<String, Field> fields) {
        Object command = newPrune();
        CommandLine cli = new CommandLine(command);
        cli.setExpandAtFiles(false);
        try {
            cli.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return null;
        }
        return values(command, fields);
    }

    /** Runs args through both; returns whether the fast path took them. */
    static boolean compare(String[] args, Map<String, Field> fields) {
        Object fast = newPrune();
        Map<String, Object> untouched = values(fast, fields);
        boolean taken = FAST.set(fast, args);
        if (!taken) {
            assertEquals(untouched, values(fast, fields), "left to picocli, yet changed: " + Arrays.toString(args));
            return false;
        }
        Map<String, Object> picocli = picocli(args, fields);
        assertNotNull(picocli, "the fast path took what picocli rejects: " + Arrays.toString(args));
        assertEquals(picocli, values(fast, fields), "the fast path and picocli disagree on " + Arrays.toString(args));
        return true;
    }

    @Test
    void eachFastOptionIsPicocliOptionOfTheSameFieldAndArity() {
        CommandSpec spec = model(newPrune());
        assertEquals(spec.name(), FAST.name());
        FAST.fields().forEach((name, path) -> {
            OptionSpec option = spec.findOption(name);
            assertNotNull(option, "FastArgs.PRUNE takes " + name + ", which prune does not have");
            assertTrue(option.userObject() instanceof Field, name + " is not a field");
            Field field = (Field) option.userObject();
            String[] steps = path.split("\\.");
            assertEquals(steps[steps.length - 1], field.getName(), name + ": FastArgs names " + path + ", picocli " + field);
            boolean flag = field.getType() == boolean.class;
            assertEquals(flag ? 0 : 1, option.arity().min(), name + "'s arity");
        });
    }

    /**
     * The fast path sets only what is given: the rest must already hold picocli's defaults, so every
     * option's default is its field's initial value, and every mixin is made with the command.
     */
    @Test
    void aNewCommandHoldsPicocliDefaultsInEveryOptionAndItsMixins() {
        CommandSpec spec = model(newPrune());
        Object command = newPrune();
        for (Field field : command.getClass().getDeclaredFields()) {
            if (field.isAnnotationPresent(CommandLine.Mixin.class)) {
                field.setAccessible(true);
                try {
                    assertNotNull(field.get(command), "prune's @Mixin " + field.getName() + " must be made with the command (= new ...())");
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        Map<String, Field> fields = optionFields(spec);
        Map<String, Object> defaults = picocli(new String[0], fields);
        Map<String, Object> initial = values(newPrune(), fields);
        defaults.forEach((name, value) -> assertEquals(value, initial.get(name),
                name + ": picocli's default must also be the field's initial value (the fast path relies on it)"));
    }

    @Test
    void everySubsetOfTheFastOptionsInEachFormAndOrderParsesAsPicocliDoes(@TempDir Path dir) {
        Map<String, Field> fields = optionFields(model(newPrune()));
        // one name per field (-H and --host set the same one), in FastArgs' order
        Map<String, List<String>> namesByField = new LinkedHashMap<>();
        FAST.fields().forEach((name, path) -> namesByField.computeIfAbsent(path, p -> new ArrayList<>()).add(name));
        List<List<String>> options = new ArrayList<>(namesByField.values());
        int n = options.size();
        assertTrue(n >= 7, "the fast path takes the units' options: " + FAST.fields());
        int taken = 0;
        int lines = 0;
        for (int subset : subsets(n)) {
            // each subset in one of the forms (all --name VALUE, all --name=VALUE, mixed) and orders
            for (int form = subset % 3; form == subset % 3; form++) {
                for (boolean reversed : new boolean[] {subset / 3 % 2 == 1}) {
                    List<String> args = new ArrayList<>();
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        if ((subset & 1 << i) != 0) {
                            order.add(reversed ? n - 1 - i : i);
                        }
                    }
                    for (int k = 0; k < order.size(); k++) {
                        List<String> names = options.get(order.get(k));
                        String name = names.get((subset + k) % names.size());
                        boolean flag = fields.get(longest(names)).getType() == boolean.class;
                        String value = dir.resolve("v" + k).toString();
                        int repeat = fields.get(longest(names)).getType() == List.class ? 2 : 1;
                        for (int r = 0; r < repeat; r++) {
                            if (flag) {
                                args.add(name);
                            } else if (form == 0 || form == 2 && k % 2 == 0) {
                                args.add(name);
                                args.add(value + r);
                            } else {
                                args.add(name + "=" + value + r);
                            }
                        }
                    }
                    lines++;
                    boolean took = compare(args.toArray(String[]::new), fields);
                    assertTrue(took, "the fast path must take " + args);
                    taken++;
                }
            }
        }
        assertEquals(lines, taken);
    }

    /**
     * The subsets of n options to try: every one while that stays small (2^14); beyond, every subset
     * of at most 2 options and of all but at most 2, and 1600 more drawn with a fixed seed (every
     * subset took 3.5 minutes with 16 options; each compare builds picocli's model twice).
     */
    static List<Integer> subsets(int n) {
        List<Integer> all = new ArrayList<>();
        if (n <= 14) {
            for (int subset = 0; subset < 1 << n; subset++) {
                all.add(subset);
            }
            return all;
        }
        java.util.Set<Integer> chosen = new java.util.LinkedHashSet<>();
        for (int subset = 0; subset < 1 << n; subset++) {
            int size = Integer.bitCount(subset);
            if (size <= 2 || size >= n - 2) {
                chosen.add(subset);
            }
        }
        java.util.Random random = new java.util.Random(20);
        int more = chosen.size() + 1600;
        while (chosen.size() < more) {
            chosen.add(random.nextInt(1 << n));
        }
        all.addAll(chosen);
        return all;
    }

    static String longest(List<String> names) {
        return names.stream().max((a, b) -> Integer.compare(a.length(), b.length())).orElseThrow();
    }

    @Test
    void unusualValuesParseAsPicocliDoesOrGoToPicocli() {
        Map<String, Field> fields = optionFields(model(newPrune()));
        List<String> values = List.of("a b", "x=y", "=lead", "\"quoted\"", "'single'", "caf\u00e9 \u00fc", "tab\there", "trail ",
                "24h", "0", "1d12h", "/", "//x/../y", "$HOME", "%n", "${DEFAULT-VALUE}", "-", "-1", "--json", "@file", "", " ");
        int taken = 0;
        for (String name : FAST.fields().keySet()) {
            if (fields.get(longestOf(name)).getType() == boolean.class) {
                continue;
            }
            for (String value : values) {
                taken += compare(new String[] {name, value}, fields) ? 1 : 0;
                taken += compare(new String[] {name + "=" + value, "--json"}, fields) ? 1 : 0;
            }
        }
        assertTrue(taken > values.size(), "most of these values are taken by the fast path: " + taken);
    }

    /** Resolves -H to the option's longest name, as picocli's model keys it. */
    static String longestOf(String name) {
        OptionSpec option = model(newPrune()).findOption(name);
        return option.longestName();
    }

    @Test
    void whatPicocliTreatsSpeciallyGoesToPicocli() {
        Map<String, Field> fields = optionFields(model(newPrune()));
        List<List<String>> lines = List.of(
                List.of("--help"), List.of("-h"), List.of("--version"), List.of("-V"),
                List.of("--until"), List.of("--until="), List.of("--until", "--json"), List.of("--until", "-1h"),
                List.of("--json=true"), List.of("--json", "--json"), List.of("--until", "1h", "--until", "2h"),
                List.of("-H", "unix:///a", "--host", "unix:///b"), List.of("-Hunix:///a"), List.of("--host:unix:///a"),
                List.of("--pathx", "/"), List.of("--PATH", "/"), List.of("--pat", "/"), List.of("extra"),
                List.of("--", "--json"), List.of("--lock-file", "@file"), List.of("@args"),
                List.of("--dry-run"), List.of("--path", "/", "--dry-run"), List.of("--lock-file", "a\u0000b"));
        for (List<String> line : lines) {
            assertFalse(compare(line.toArray(String[]::new), fields), "the fast path must leave " + line + " to picocli");
        }
    }

    /** The daily command lines themselves: the plain unit's ExecStart, with and without the metrics file. */
    @Test
    void theUnitsCommandLineTakesTheFastPath() {
        Map<String, Field> fields = optionFields(model(newPrune()));
        SystemdUnit unit = SystemdUnit.parse(Repo.read("deploy/systemd/ci-docker-prune.service"));
        List<String> argv = SystemdUnit.execArgs(unit.one("Service", "ExecStart"));
        String[] args = argv.subList(1, argv.size()).toArray(String[]::new);
        assertTrue(compare(args, fields), "the unit's ExecStart must take the fast path: " + argv);
        List<String> asInstalled = new ArrayList<>(Arrays.asList(args));
        asInstalled.addAll(List.of("--state-file", "/srv/cc-ci/state.json", "--evict-to", "75", "--keep", "^base/", "--last-use", "/srv/cc-ci/last-use.json"));
        assertTrue(compare(asInstalled.toArray(String[]::new), fields), "as install --prefix --evict-to writes it too");
    }

    /**
     * The daily no-op, run as the unit runs it (a fresh JVM, the test build's classes and jars):
     * no picocli, no engine client, no JSON mapper and no time-zone database is loaded.
     */
    @Test
    void theDiskOnlyNoOpLoadsNoPicocliEngineClientJsonMapperOrTimeZones(@TempDir Path dir) throws Exception {
        Path listing = Repo.root().resolve("tests/target/runtime-jars.txt");
        assertTrue(Files.exists(listing), listing + " is written by Maven's generate-test-resources phase: run the tests with mvn");
        List<String> classpath = new ArrayList<>(List.of(Repo.root().resolve("tests/target/classes").toString()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(":(?:compile|runtime):(/\\S+\\.jar)").matcher(Files.readString(listing));
        while (m.find()) {
            classpath.add(m.group(1));
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:stdout", "-cp", String.join(":", classpath), "Prune"));
        SystemdUnit unit = SystemdUnit.parse(Repo.read("deploy/systemd/ci-docker-prune.service"));
        List<String> argv = new ArrayList<>(SystemdUnit.execArgs(unit.one("Service", "ExecStart")));
        argv.set(argv.indexOf("--path") + 1, dir.toString());
        argv.set(argv.indexOf("--metrics-file") + 1, dir.resolve("ci-docker-prune.prom").toString());
        command.addAll(argv.subList(1, argv.size()));
        command.addAll(List.of("--threshold", "100", "--state-file", dir.resolve("state.json").toString(),
                "--lock-file", dir.resolve("lock").toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out").toFile()).start();
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the no-op did not finish");
        String out = Files.readString(dir.resolve("out"));
        assertEquals(0, process.exitValue(), out);
        assertTrue(out.contains("outcome=noop"), out);
        assertTrue(out.contains("ccci.FastArgs"), "the no-op took the fast path:\n" + out);
        List<String> loaded = out.lines().filter(l -> l.contains("class,load")).map(l -> l.split("\\s+")[1]).toList();
        // Jackson: PruneFormat's JSON code names a few node types the verifier loads (not initialized, and
        // kept in the installed command's archive); what must not happen is a mapper being made
        for (String prefix : List.of("picocli.", "com.github.dockerjava.", "com.fasterxml.jackson.databind.ObjectMapper",
                "com.fasterxml.jackson.core.JsonFactory", "java.time.zone.", "javax.net.ssl.")) {
            List<String> found = loaded.stream().filter(c -> c.startsWith(prefix)).toList();
            assertTrue(found.isEmpty(), "the disk-only no-op loaded " + found.size() + " " + prefix + " classes, e.g. "
                    + found.subList(0, Math.min(5, found.size())));
        }
        assertTrue(loaded.stream().anyMatch(Objects::nonNull));
    }
}
