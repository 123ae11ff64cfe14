package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The front page stays a front page, and every link between the documents leads somewhere. */
class DocsTest {
    static final int FRONT_PAGE_LINES = 250;

    @Test
    void theFrontPageIsShortAndLinksEveryPageOfDocs() {
        String readme = Repo.read("README.md");
        long lines = readme.lines().count();
        assertTrue(lines <= FRONT_PAGE_LINES, "README.md has " + lines + " lines, more than " + FRONT_PAGE_LINES);
        List<String> unlinked = Repo.documents().stream().filter(d -> d.startsWith("docs/"))
                .filter(d -> !readme.contains("](" + d + ")")).toList();
        assertEquals(List.of(), unlinked, "pages of docs/ the front page does not link to");
        for (String heading : List.of("## The two commands", "## Running it daily", "## Exit codes", "## Where to read on")) {
            assertTrue(readme.contains("\n" + heading + "\n"), "the front page has " + heading);
        }
    }

    /** Relative links: the file exists, and a #fragment is a heading of it (GitHub's anchors). */
    @Test
    void everyRelativeLinkResolvesToAFileAndHeading() throws Exception {
        Pattern link = Pattern.compile("\\]\\(([^)\\s]+)\\)");
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (String doc : Repo.documents()) {
            Path from = Repo.root().resolve(doc).getParent();
            Matcher m = link.matcher(Repo.read(doc));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue;
                }
                checked++;
                String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                String fragment = target.contains("#") ? target.substring(target.indexOf('#') + 1) : null;
                Path resolved = file.isEmpty() ? Repo.root().resolve(doc) : from.resolve(file).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(doc + ": " + target + " (no such file)");
                } else if (fragment != null && !anchors(Files.readString(resolved)).contains(fragment)) {
                    broken.add(doc + ": " + target + " (no such heading)");
                }
            }
        }
        assertTrue(checked > 20, "links checked: " + checked);
        assertEquals(List.of(), broken);
    }

    /** GitHub's anchor of each heading: lower case, punctuation but - and _ dropped, spaces as -. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new HashSet<>();
        boolean fenced = false;
        for (String line : markdown.lines().toList()) {
            if (line.startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced && line.matches("^#{1,6} .*")) {
                String text = line.replaceFirst("^#+ ", "").strip().toLowerCase(Locale.ROOT);
                anchors.add(text.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }
}
