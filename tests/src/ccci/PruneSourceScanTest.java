package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No code in lib/ or scripts/ can prune more than the toolkit means to, or force: no volume,
 * network, system or image prune, no dangling=false, no "all", no force (comments aside). The seam
 * ({@link EngineApi}) cannot express them either; this scan keeps anyone from going around it.
 */
class PruneSourceScanTest {
    /** Each: what must never appear in lib/ or scripts/ code (comments aside), and why. */
    static final Map<String, Pattern> FORBIDDEN = Map.ofEntries(
            Map.entry("image prune with dangling=false (prunes tagged images)", Pattern.compile("withDangling\\s*\\(\\s*false\\s*\\)")),
            Map.entry("dangling false as a filter", Pattern.compile("dangling\\\\?\"?\\s*[:=]\\s*\\[?\\s*\\\\?\"?(false|0)\\b")),
            Map.entry("volume prune", Pattern.compile("PruneType\\s*\\.\\s*VOLUMES|/volumes/prune")),
            Map.entry("network prune", Pattern.compile("PruneType\\s*\\.\\s*NETWORKS|/networks/prune")),
            Map.entry("system prune", Pattern.compile("/system/prune")),
            // the image phase deletes by ID what its plan lists: the engine's image prune cannot tell the cache from debris
            Map.entry("image prune", Pattern.compile("PruneType\\s*\\.\\s*IMAGES|/images/prune")),
            Map.entry("--all", Pattern.compile("\"--all\"")),
            // a JSON filter key "all", or an all= parameter (listing with GET /images/json?all=1 is fine)
            Map.entry("all as a prune parameter", Pattern.compile("\\\\?\"all\\\\?\"|(?<!/json)\\?all=|&all=")),
            Map.entry("forced removal", Pattern.compile("withForce\\s*\\(\\s*true|[?&]force=")));

    @Test
    void noCodeInLibOrScriptsCanPruneMoreThanDanglingImagesOrForce() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (String dir : List.of("lib", "scripts")) {
            try (Stream<Path> files = Files.list(Repo.root().resolve(dir))) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(sources::add);
            }
        }
        assertTrue(sources.stream().anyMatch(f -> f.endsWith("lib/PrunePolicy.java")), sources.toString());
        assertTrue(sources.stream().anyMatch(f -> f.endsWith("scripts/prune.java")), sources.toString());
        List<String> found = new ArrayList<>();
        for (Path source : sources) {
            found.addAll(forbiddenIn(source.toString(), Files.readString(source)));
        }
        assertEquals(List.of(), found);
    }

    @Test
    void theSourceScanFindsEachForbiddenThingAndIgnoresComments() {
        String code = String.join("\n",
                "api.pruneCmd(PruneType.VOLUMES).exec();",
                "api.pruneCmd(PruneType.NETWORKS).exec();",
                "api.pruneCmd(PruneType.IMAGES).withDangling(false).exec();",
                "api.removeImageCmd(id).withForce(true).exec();",
                "engine.postJson(\"/volumes/prune\");",
                "engine.postJson(\"/networks/prune\");",
                "engine.postJson(\"/system/prune\");",
                "engine.postJson(\"/images/prune\");",
                "engine.postJson(\"/images/prune?filters=\" + encode(\"{\\\"dangling\\\":[\\\"false\\\"]}\"));",
                "engine.postJson(\"/build/prune?all=1\");",
                "String q = \"{\\\"all\\\":[\\\"true\\\"]}\";",
                "List.of(\"docker\", \"image\", \"prune\", \"--all\");",
                "engine.send(\"DELETE\", \"/images/x?force=1\");");
        Set<String> kinds = forbiddenIn("sample", code).stream().map(s -> s.replaceFirst("^sample:\\d+: ", "").replaceFirst(": .*", ""))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(FORBIDDEN.keySet()), kinds);
        assertEquals(1, forbiddenIn("sample", "engine.postJson(request + \"&all=true\");").size());
        assertEquals(List.of(), forbiddenIn("listing", String.join("\n",
                "engine.call(\"GET /images/json?all=1\", () -> engine.api().listImagesCmd().withShowAll(true).exec());",
                "engine.getJson(\"/containers/json?all=1\");")));
        assertEquals(List.of(), forbiddenIn("comments", String.join("\n",
                "/** no \"all\", no volumes: never PruneType.VOLUMES or withDangling(false) */",
                "// not withForce(true), not \"--all\"",
                "String url = \"http://x/y\"; // /networks/prune")));
    }

    /** Findings "file:line: kind: text" for every forbidden pattern outside comments. */
    static List<String> forbiddenIn(String file, String source) {
        List<String> found = new ArrayList<>();
        List<String> code = withoutComments(source).lines().toList();
        for (int n = 0; n < code.size(); n++) {
            for (Map.Entry<String, Pattern> rule : new java.util.TreeMap<>(FORBIDDEN).entrySet()) {
                if (rule.getValue().matcher(code.get(n)).find()) {
                    found.add(file + ":" + (n + 1) + ": " + rule.getKey() + ": " + code.get(n).strip());
                }
            }
        }
        return found;
    }

    /** Java source with comments blanked out (line numbers kept); strings, chars and text blocks kept. */
    static String withoutComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? s.length() : end + 2;
                s.substring(i, end).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                i = end;
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                end = end < 0 ? s.length() : end + 3;
                out.append(s, i, end);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, s.length());
                out.append(s, i, j);
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

}
