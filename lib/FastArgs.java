package ccci;

import java.lang.reflect.Field;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The daily command line without picocli. picocli builds its whole model before it parses anything,
 * and on the daily no-op that costs more than the rest of the run (its Java 5 class files are not
 * kept in a class-data-sharing archive, and it reflects on every annotation). A command line made
 * only of the options listed here, as --name VALUE or --name=VALUE, each once (or again, when its
 * field is a list), sets the command's fields directly. Anything else (--help, a typo, a missing
 * value, a value that starts with - or @, a flag given a value, a repeated option) is left to
 * picocli, which parses it as always. A {@link Cli.Fast} command calls {@link #set}. FastArgsTest
 * proves that each command line taken here sets exactly what picocli sets; for that the command
 * makes its mixins itself and keeps each option's default in its field's initial value too (the
 * test checks both).
 */
public final class FastArgs {
    /** prune's daily options: those the units pass (eviction too, when installed with it), a lock, a host, --json. */
    public static final FastArgs PRUNE = new FastArgs("prune", Map.ofEntries(
            Map.entry("--path", "gates.paths"),
            Map.entry("--containerd-root", "gates.containerdRoot"),
            Map.entry("--threshold", "gates.threshold"),
            Map.entry("--stack-pattern", "gates.stackPattern"),
            Map.entry("--until", "until"),
            Map.entry("--metrics-file", "metricsFile"),
            Map.entry("--lock-file", "lockFile"),
            Map.entry("-H", "engine.host"),
            Map.entry("--host", "engine.host"),
            Map.entry("--evict-to", "eviction.evictTo"),
            Map.entry("--keep", "keep.keep"),
            Map.entry("--min-age", "eviction.minAge"),
            Map.entry("--max-unused-age", "eviction.maxUnusedAge"),
            Map.entry("--evict-max", "eviction.evictMax"),
            Map.entry("--min-free", "gates.minFree"),
            Map.entry("--build-cache-max", "buildCacheMax"),
            Map.entry("--last-use", "lastUse.file"),
            Map.entry("--state-file", "shortfall.stateFile"),
            Map.entry("--blocked-limit", "shortfall.blockedLimit")),
            // --check-options (deploy/systemd/install): the unit's line checked on the path the daily run takes
            Map.of("--json", "json", "--check-options", "checkOptions"));

    private final String name;
    private final Map<String, String> values;
    private final Map<String, String> flags;

    /**
     * @param values option name -> its field, as a path from the command: "until" is the command's
     *               field, "gates.path" the field path of the mixin in the command's field gates
     * @param flags  option name -> its boolean field, the same way
     */
    FastArgs(String name, Map<String, String> values, Map<String, String> flags) {
        this.name = name;
        this.values = values;
        this.flags = flags;
    }

    /** The command's name, as picocli's @Command says it (for error lines). */
    public String name() {
        return name;
    }

    /** Option name -> field path of every option taken here (for the test). */
    Map<String, String> fields() {
        Map<String, String> all = new LinkedHashMap<>(values);
        all.putAll(flags);
        return all;
    }

    /**
     * Sets the command's fields from args when every argument is one taken here.
     *
     * @return false, with nothing set, when picocli must parse args
     */
    public boolean set(Object command, String[] args) {
        List<String[]> assignments = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            int equals = arg.indexOf('=');
            String option = equals > 0 ? arg.substring(0, equals) : arg;
            if (flags.containsKey(option) && equals < 0) {
                assignments.add(new String[] {flags.get(option), null});
                continue;
            }
            if (!values.containsKey(option)) {
                return false;
            }
            String value = equals > 0 ? arg.substring(equals + 1) : i + 1 < args.length ? args[++i] : null;
            if (value == null || value.isEmpty() || value.startsWith("-") || value.startsWith("@")) {
                return false;
            }
            assignments.add(new String[] {values.get(option), value});
        }
        try {
            // resolve and check every assignment before setting any: a command line left to picocli
            // must find the command as it was
            List<Field[]> targets = new ArrayList<>();
            Set<Field> given = new HashSet<>();
            for (String[] assignment : assignments) {
                Field[] target = resolve(command.getClass(), assignment[0]);
                Field field = target[target.length - 1];
                Class<?> type = field.getType();
                boolean fits = assignment[1] == null ? type == boolean.class
                        : type == String.class || type == Path.class || type == List.class;
                if (!fits) {
                    throw new IllegalStateException("FastArgs cannot set " + field + " of type " + type.getName());
                }
                if (!given.add(field) && type != List.class) {
                    return false;
                }
                if (type == Path.class && !isPath(assignment[1])) {
                    return false;
                }
                targets.add(target);
            }
            Set<Field> set = new HashSet<>();
            for (int i = 0; i < assignments.size(); i++) {
                assign(command, targets.get(i), assignments.get(i)[1], set);
            }
            return true;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(name + ": FastArgs names a field the command lacks: " + e.getMessage(), e);
        }
    }

    /** The fields along a path such as "gates.path", from the command's class. */
    private static Field[] resolve(Class<?> type, String path) throws NoSuchFieldException {
        String[] steps = path.split("\\.");
        Field[] fields = new Field[steps.length];
        for (int i = 0; i < steps.length; i++) {
            fields[i] = field(type, steps[i]);
            type = fields[i].getType();
        }
        return fields;
    }

    private static boolean isPath(String value) {
        try {
            Path.of(value);
            return true;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static void assign(Object command, Field[] target, String value, Set<Field> set) throws ReflectiveOperationException {
        Object owner = command;
        for (int i = 0; i < target.length - 1; i++) {
            owner = target[i].get(owner);
            if (owner == null) {
                throw new IllegalStateException("FastArgs needs the mixin " + target[i] + " made with the command");
            }
        }
        Field field = target[target.length - 1];
        boolean first = set.add(field);
        Class<?> type = field.getType();
        if (value == null) {
            field.setBoolean(owner, true);
        } else if (type == List.class) {
            @SuppressWarnings("unchecked")
            List<String> list = first ? new ArrayList<>() : (List<String>) field.get(owner);
            list.add(value);
            field.set(owner, list);
        } else {
            field.set(owner, type == String.class ? value : Path.of(value));
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
