package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A unit file as far as these tests read one: sections of repeated keys, and the splitting of an
 * Exec line into arguments. Also renders the NixOS module's evaluated unit as a unit file, the way
 * NixOS writes one, so systemd-analyze can check its directives. A model of systemd, not systemd.
 */
record SystemdUnit(Map<String, Map<String, List<String>>> sections) {

    static SystemdUnit parse(String text) {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.endsWith("\\")) {
                throw new AssertionError("line continuations are not modelled here: " + line);
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                current = sections.computeIfAbsent(line.substring(1, line.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            if (current == null || eq < 0) {
                throw new AssertionError("not a unit file line: " + line);
            }
            current.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>()).add(line.substring(eq + 1).strip());
        }
        return new SystemdUnit(sections);
    }

    Map<String, List<String>> section(String name) {
        return sections.getOrDefault(name, Map.of());
    }

    /** The single value of a key (fails when it is missing or repeated). */
    String one(String section, String key) {
        List<String> values = section(section).getOrDefault(key, List.of());
        if (values.size() != 1) {
            throw new AssertionError("[" + section + "] " + key + ": expected one value, found " + values);
        }
        return values.get(0);
    }

    /** Environment=K=V lines (one unquoted assignment each, as the units here write them). */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String assignment : section("Service").getOrDefault("Environment", List.of())) {
            String unquoted = assignment.startsWith("\"") && assignment.endsWith("\"")
                    ? assignment.substring(1, assignment.length() - 1) : assignment;
            int eq = unquoted.indexOf('=');
            env.put(unquoted.substring(0, eq), unquoted.substring(eq + 1));
        }
        return env;
    }

    /**
     * An Exec line split into arguments: whitespace separates, double quotes group, C-style
     * backslash escapes, and $$ and %% stand for $ and %. A lone $NAME or %x (a variable or a
     * specifier, which systemd would expand) fails: these units mean every character literally.
     */
    static List<String> execArgs(String line) {
        List<String> args = new ArrayList<>();
        StringBuilder arg = null;
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (!quoted && Character.isWhitespace(c)) {
                if (arg != null) {
                    args.add(arg.toString());
                    arg = null;
                }
                continue;
            }
            if (arg == null) {
                arg = new StringBuilder();
            }
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\') {
                char e = line.charAt(++i);
                switch (e) {
                    case 'n' -> arg.append('\n');
                    case 't' -> arg.append('\t');
                    case 'u' -> {
                        arg.append((char) Integer.parseInt(line.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    default -> arg.append(e);
                }
            } else if ((c == '$' || c == '%') && i + 1 < line.length() && line.charAt(i + 1) == c) {
                arg.append(c);
                i++;
            } else if (c == '$' || c == '%') {
                throw new AssertionError("unescaped " + c + " at " + i + " would be expanded by systemd: " + line);
            } else {
                arg.append(c);
            }
        }
        if (quoted) {
            throw new AssertionError("unbalanced quotes: " + line);
        }
        if (arg != null) {
            args.add(arg.toString());
        }
        return args;
    }

    /** The service and timer of the evaluated NixOS module, as unit files (NixOS renders them alike). */
    static Map<String, String> renderNixUnits(String name, JsonNode service, JsonNode timer) {
        StringBuilder s = new StringBuilder("[Unit]\n");
        s.append("Description=").append(service.path("description").asText()).append('\n');
        service.path("after").forEach(u -> s.append("After=").append(u.asText()).append('\n'));
        service.path("requires").forEach(u -> s.append("Requires=").append(u.asText()).append('\n'));
        // NixOS writes onFailure as one OnFailure= line, and none when the list is empty
        List<String> onFailure = new ArrayList<>();
        service.path("onFailure").forEach(u -> onFailure.add(u.asText()));
        if (!onFailure.isEmpty()) {
            s.append("OnFailure=").append(String.join(" ", onFailure)).append('\n');
        }
        service.path("unitConfig").fields().forEachRemaining(f -> s.append(f.getKey()).append('=').append(value(f.getValue())).append('\n'));
        s.append("\n[Service]\n");
        service.path("environment").fields().forEachRemaining(f ->
                s.append("Environment=\"").append(f.getKey()).append('=').append(f.getValue().asText()).append("\"\n"));
        service.path("serviceConfig").fields().forEachRemaining(f -> s.append(f.getKey()).append('=').append(value(f.getValue())).append('\n'));

        StringBuilder t = new StringBuilder("[Unit]\n");
        t.append("Description=").append(timer.path("description").asText()).append('\n');
        t.append("\n[Timer]\n");
        timer.path("timerConfig").fields().forEachRemaining(f -> t.append(f.getKey()).append('=').append(value(f.getValue())).append('\n'));
        t.append("\n[Install]\n");
        timer.path("wantedBy").forEach(u -> t.append("WantedBy=").append(u.asText()).append('\n'));
        return Map.of(name + ".service", s.toString(), name + ".timer", t.toString());
    }

    private static String value(JsonNode v) {
        return v.isBoolean() ? (v.asBoolean() ? "true" : "false") : v.asText();
    }
}
