package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Versions are written in a few places (//DEPS for JBang, the test pom, the launcher, nix/deps.nix
 * for the Nix package); this test is what keeps them one truth: it fails as soon as two places
 * disagree or a version is left open. (NixTest holds nix/deps.nix to Maven's whole resolution.)
 */
class VersionsAgreeTest {
    static final Pattern DEPS = Pattern.compile("(?m)^//DEPS\\s+(\\S+)$");

    static Map<String, String> depsDirectives() throws IOException {
        Map<String, String> versions = new TreeMap<>();
        for (String dir : List.of("lib", "scripts")) {
            try (Stream<Path> files = Files.list(Repo.root().resolve(dir))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = DEPS.matcher(Files.readString(file));
                    while (m.find()) {
                        String[] gav = m.group(1).split(":");
                        assertEquals(3, gav.length, file + ": //DEPS " + m.group(1) + " must be group:artifact:version");
                        assertTrue(gav[2].matches("[0-9][0-9A-Za-z.\\-]*"), file + ": unpinned //DEPS " + m.group(1));
                        String previous = versions.put(gav[0] + ":" + gav[1], gav[2]);
                        assertTrue(previous == null || previous.equals(gav[2]),
                                gav[0] + ":" + gav[1] + " is pinned to both " + previous + " and " + gav[2]);
                    }
                }
            }
        }
        return versions;
    }

    static Map<String, String> pomVersions() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(Repo.root().resolve("tests/pom.xml").toFile());
        Map<String, String> properties = new TreeMap<>();
        NodeList props = ((Element) pom.getElementsByTagName("properties").item(0)).getChildNodes();
        for (int i = 0; i < props.getLength(); i++) {
            if (props.item(i) instanceof Element e) {
                properties.put(e.getTagName(), e.getTextContent().strip());
            }
        }
        Map<String, String> versions = new TreeMap<>();
        NodeList deps = pom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element dep = (Element) deps.item(i);
            String version = text(dep, "version");
            Matcher property = Pattern.compile("\\$\\{(.+)}").matcher(version);
            if (property.matches()) {
                version = properties.get(property.group(1));
            }
            versions.put(text(dep, "groupId") + ":" + text(dep, "artifactId"), version);
        }
        return versions;
    }

    private static String text(Element parent, String tag) {
        return parent.getElementsByTagName(tag).item(0).getTextContent().strip();
    }

    @Test
    void everyDepsDirectiveIsPinnedAndMatchesTheTestBuild() throws Exception {
        Map<String, String> deps = depsDirectives();
        assertFalse(deps.isEmpty());
        Map<String, String> pom = pomVersions();
        deps.forEach((artifact, version) ->
                assertEquals(version, pom.get(artifact), artifact + ": //DEPS and tests/pom.xml disagree"));
    }

    static Map<String, String> launcherVersions() {
        String launcher = Repo.read("jbang");
        Map<String, String> versions = new TreeMap<>();
        for (var pin : Map.of("JBANG_VERSION", "dev.jbang:jbang-cli", "GSON_VERSION", "com.google.code.gson:gson").entrySet()) {
            Matcher m = Pattern.compile("(?m)^" + pin.getKey() + "=(\\S+)$").matcher(launcher);
            assertTrue(m.find(), "the launcher sets " + pin.getKey());
            versions.put(pin.getValue(), m.group(1));
        }
        return versions;
    }

    static Map<String, String> nixDeps() {
        Map<String, String> versions = new TreeMap<>();
        for (var dep : Nix.eval(Repo.root().resolve("nix/deps.nix"))) {
            String version = dep.path("version").asText();
            assertTrue(version.matches("[0-9][0-9A-Za-z.\\-]*"), "nix/deps.nix: unpinned " + dep);
            versions.put(dep.path("groupId").asText() + ":" + dep.path("artifactId").asText(), version);
        }
        return versions;
    }

    @Test
    void nixDepsHasEveryDepsDirectiveAndAgreesWithThePomAndTheLauncher() throws Exception {
        Map<String, String> nix = nixDeps();
        depsDirectives().forEach((artifact, version) ->
                assertEquals(version, nix.get(artifact), artifact + ": //DEPS and nix/deps.nix disagree"));
        Map<String, Map<String, String>> others = Map.of("tests/pom.xml", pomVersions(), "the launcher", launcherVersions());
        others.forEach((where, versions) -> versions.forEach((artifact, version) -> {
            if (nix.containsKey(artifact)) {
                assertEquals(version, nix.get(artifact), artifact + ": " + where + " and nix/deps.nix disagree");
            }
        }));
    }

    @Test
    void theLauncherPinsJbangAndTheGsonThatReadsCatalogs() {
        String launcher = Repo.read("jbang");
        assertTrue(launcher.contains("\nJBANG_VERSION=0.132.1\n"), "launcher pins JBang 0.132.1");
        assertTrue(launcher.contains("\nGSON_VERSION=2.13.2\n"), "launcher pins gson 2.13.2");
    }
}
