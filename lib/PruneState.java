//SOURCES SmallFile.java
package ccci;

import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What prune remembers between runs (default /var/lib/cc-ci/state.json): when the gates last allowed
 * a run, since when the disk has been over the threshold with pruning blocked, and the last outcome.
 * Never needed for safety: a missing, unreadable or corrupt file is read as "no state" with a one-line
 * note, and a file that cannot be written only loses the memory. Written through {@link SmallFile}
 * (atomic, 0644, never through a link).
 *
 * <p>The format is one flat JSON object of strings and nulls, read here without a JSON library: the
 * daily no-op below the threshold reads and writes it, and loading Jackson would cost that run
 * hundreds of milliseconds (measured) for five fields.
 */
public record PruneState(
        Optional<Instant> gatesLastAllowed,   // the last real run in which every gate held
        Optional<Instant> blockedSince,       // first run of the current stretch: disk at or over the threshold, a gate blocking
        Optional<Instant> lastRun,
        Optional<String> lastOutcome) {

    public static final String DEFAULT_FILE = "/var/lib/cc-ci/state.json";
    public static final Path DEFAULT_PATH = Path.of(DEFAULT_FILE);
    static final int VERSION = 1;
    private static final int MAX_BYTES = 4096;

    public static PruneState empty() {
        return new PruneState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** This state after a run that ended now with this outcome (noop, pruned, insufficient...). */
    public PruneState ended(Instant now, String outcome) {
        return new PruneState(gatesLastAllowed, blockedSince, Optional.of(now), Optional.of(outcome));
    }

    /** What reading the file gave: a state, no file yet, or a file that cannot be used (the reason, one line). */
    public sealed interface Loaded {
        record Found(PruneState state) implements Loaded {}

        record Missing(Path file) implements Loaded {}

        record Unusable(String reason) implements Loaded {}

        /** The state to go on from: an unusable or missing file counts as no state. */
        default PruneState state() {
            return this instanceof Found found ? found.state() : PruneState.empty();
        }
    }

    public static Loaded load(Path file) {
        Optional<String> text;
        try {
            text = SmallFile.read(file, MAX_BYTES);
        } catch (SmallFile.Unusable e) {
            return new Loaded.Unusable(file + " " + e.getMessage());
        }
        if (text.isEmpty()) {
            return new Loaded.Missing(file);
        }
        try {
            return new Loaded.Found(parse(text.get()));
        } catch (IllegalArgumentException e) {
            return new Loaded.Unusable(file + " is corrupt (" + e.getMessage() + ")");
        }
    }

    /** @throws SmallFile.Unusable saying why (a clause to follow the file's name) when it cannot be written */
    public void save(Path file) throws SmallFile.Unusable {
        SmallFile.writeAtomically(file, render());
    }

    String render() {
        Map<String, Optional<?>> fields = new LinkedHashMap<>();
        fields.put("gatesLastAllowed", gatesLastAllowed);
        fields.put("blockedSince", blockedSince);
        fields.put("lastRun", lastRun);
        fields.put("lastOutcome", lastOutcome);
        StringBuilder out = new StringBuilder("{\n  \"version\": ").append(VERSION);
        fields.forEach((key, value) -> out.append(",\n  \"").append(key).append("\": ")
                .append(value.map(v -> "\"" + v + "\"").orElse("null")));
        return out.append("\n}\n").toString();
    }

    private static final Pattern OBJECT = Pattern.compile("\\s*\\{(.*)}\\s*", Pattern.DOTALL);
    private static final Pattern FIELD = Pattern.compile("\\s*\"([A-Za-z]+)\"\\s*:\\s*(\"[^\"\\\\\\p{Cntrl}]*\"|null|\\d+)\\s*(,|$)");

    /** @throws IllegalArgumentException saying what is wrong */
    static PruneState parse(String text) {
        Matcher object = OBJECT.matcher(text);
        if (!object.matches()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String body = object.group(1);
        Map<String, String> values = new LinkedHashMap<>();
        Matcher field = FIELD.matcher(body);
        int at = 0;
        while (at < body.length() && !body.substring(at).isBlank()) {
            if (!field.find(at) || field.start() != at) {
                throw new IllegalArgumentException("unexpected text at character " + at + " of the object");
            }
            String value = field.group(2);
            values.put(field.group(1), value.equals("null") ? null : value.replaceAll("^\"|\"$", ""));
            at = field.end();
            if (field.group(3).isEmpty()) {
                break;
            }
        }
        if (!body.substring(at).isBlank()) {
            throw new IllegalArgumentException("unexpected text at character " + at + " of the object");
        }
        String version = values.get("version");
        if (version == null || !version.equals(String.valueOf(VERSION))) {
            throw new IllegalArgumentException("version " + version + ", expected " + VERSION);
        }
        return new PruneState(instant(values, "gatesLastAllowed"), instant(values, "blockedSince"),
                instant(values, "lastRun"), Optional.ofNullable(values.get("lastOutcome")));
    }

    private static Optional<Instant> instant(Map<String, String> values, String key) {
        String text = values.get(key);
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(text));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(key + " is not a time: " + text);
        }
    }
}
