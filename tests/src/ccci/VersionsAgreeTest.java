package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Each version is written once where it takes effect: the launcher pins JBang, gson and the Maven
 * plugin it runs; lib's //DEPS pin the libraries. This test derives every version from there, never
 * from a literal of its own, and holds each other place to it: tests/pom.xml, nix/deps.nix and the
 * versions the READMEs state. It fails as soon as one place disagrees or a version is left open.
 * (NixTest holds nix/deps.nix to Maven's whole resolution.)
 */
class VersionsAgreeTest {
    static final Pattern DEPS = Pattern.compile("(?m)^//DEPS\\s+(\\S+)$");
    static final Pattern EXACT = Pattern.compile("[0-9][0-9A-Za-z.\\-]*");
    static final Map<String, String> LAUNCHER_PINS = Map.of(
            "JBANG_VERSION", "dev.jbang:jbang-cli",
            "GSON_VERSION", "com.google.code.gson:gson",
            "MAVEN_DEPENDENCY_PLUGIN_VERSION", "org.apache.maven.plugins:maven-dependency-plugin");
    static final List<String> READMES = Stream.concat(Repo.documents().stream(), Stream.of("nix/README.md", "deploy/systemd/README.md")).toList();

    /** The source of truth: group:artifact -> version, from //DEPS and the launcher. */
    static Map<String, String> pins() throws IOException {
        Map<String, String> pins = new TreeMap<>(depsDirectives());
        launcherVersions().forEach((artifact, version) ->
                assertEquals(null, pins.put(artifact, version), artifact + " is pinned both in //DEPS and in the launcher"));
        return pins;
    }

    static Map<String, String> depsDirectives() throws IOException {
        Map<String, String> versions = new TreeMap<>();
        for (String dir : List.of("lib", "scripts")) {
            try (Stream<Path> files = Files.walk(Repo.root().resolve(dir))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    Matcher m = DEPS.matcher(Files.readString(file));
                    while (m.find()) {
                        String[] gav = m.group(1).split(":");
                        assertEquals(3, gav.length, file + ": //DEPS " + m.group(1) + " must be group:artifact:version");
                        assertTrue(EXACT.matcher(gav[2]).matches(), file + ": unpinned //DEPS " + m.group(1));
                        String previous = versions.put(gav[0] + ":" + gav[1], gav[2]);
                        assertTrue(previous == null || previous.equals(gav[2]),
                                gav[0] + ":" + gav[1] + " is pinned to both " + previous + " and " + gav[2]);
                    }
                }
            }
        }
        assertFalse(versions.isEmpty(), "lib pins its libraries with //DEPS");
        return versions;
    }

    static Map<String, String> launcherVersions() {
        String launcher = Repo.read("jbang");
        Map<String, String> versions = new TreeMap<>();
        LAUNCHER_PINS.forEach((variable, artifact) -> {
            Matcher m = Pattern.compile("(?m)^" + variable + "=(\\S+)$").matcher(launcher);
            assertTrue(m.find(), "the launcher sets " + variable);
            String version = m.group(1);
            assertTrue(EXACT.matcher(version).matches(), "the launcher pins " + variable + " exactly: " + version);
            assertFalse(m.find(), "the launcher sets " + variable + " once");
            versions.put(artifact, version);
        });
        return versions;
    }

    /** The gson that jbang-cli's pom declares, which the launcher keeps off the classpath. */
    static String gsonTheLauncherRefuses() {
        Matcher m = Pattern.compile("gson-([0-9][0-9.]*)\\.jar\" ]] \\|\\| die \"the unpinned gson").matcher(Repo.read("jbang"));
        assertTrue(m.find(), "the launcher refuses jbang-cli's own gson");
        return m.group(1);
    }

    /** Dependencies and plugins of the test build, properties resolved. */
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
        for (String tag : List.of("dependency", "plugin")) {
            NodeList nodes = pom.getElementsByTagName(tag);
            for (int i = 0; i < nodes.getLength(); i++) {
                Element node = (Element) nodes.item(i);
                String version = text(node, "version");
                if (version == null) {
                    continue;
                }
                Matcher property = Pattern.compile("\\$\\{(.+)}").matcher(version);
                if (property.matches()) {
                    version = properties.get(property.group(1));
                }
                String group = text(node, "groupId");
                versions.put((group != null ? group : "org.apache.maven.plugins") + ":" + text(node, "artifactId"), version);
            }
        }
        return versions;
    }

    private static String text(Element parent, String tag) {
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e && e.getTagName().equals(tag)) {
                return e.getTextContent().strip();
            }
        }
        return null;
    }

    static Map<String, String> nixDeps() {
        Map<String, String> versions = new TreeMap<>();
        for (var dep : Nix.eval(Repo.root().resolve("nix/deps.nix"))) {
            String version = dep.path("version").asText();
            assertTrue(EXACT.matcher(version).matches(), "nix/deps.nix: unpinned " + dep);
            versions.put(dep.path("groupId").asText() + ":" + dep.path("artifactId").asText(), version);
        }
        return versions;
    }

    /** Where a place names a pinned artifact, it names the pinned version. */
    static void agree(String place, Map<String, String> versions) throws IOException {
        pins().forEach((artifact, pinned) -> {
            if (versions.containsKey(artifact)) {
                assertEquals(pinned, versions.get(artifact), artifact + ": " + place + " disagrees with where it is pinned");
            }
        });
    }

    @Test
    void theTestBuildHasEveryDepsDirectiveAndAgreesWithEveryPin() throws Exception {
        Map<String, String> pom = pomVersions();
        depsDirectives().keySet().forEach(artifact -> assertNotNull(pom.get(artifact), artifact + " is missing from tests/pom.xml"));
        agree("tests/pom.xml", pom);
    }

    @Test
    void nixDepsHasEveryDepsDirectiveAndAgreesWithEveryPin() throws Exception {
        Map<String, String> nix = nixDeps();
        depsDirectives().keySet().forEach(artifact -> assertNotNull(nix.get(artifact), artifact + " is missing from nix/deps.nix"));
        agree("nix/deps.nix", nix);
    }

    /** "JBang 0.132.1", "picocli 4.7.7", "slf4j-api and slf4j-nop 2.0.17": each must be the pinned version. */
    @Test
    void theReadmesStateThePinnedVersions() throws IOException {
        Map<String, String> pins = pins();
        String refusedGson = gsonTheLauncherRefuses();
        List<String> checked = new ArrayList<>();
        for (String readme : READMES) {
            Path file = Repo.root().resolve(readme);
            if (!Files.isRegularFile(file)) {
                continue;
            }
            String text = Files.readString(file);
            pins.forEach((artifact, pinned) -> {
                String name = artifact.equals("dev.jbang:jbang-cli") ? "JBang" : artifact.substring(artifact.indexOf(':') + 1);
                Matcher m = Pattern.compile("(?<![\\w.-])" + Pattern.quote(name) + "(?:\\s+and\\s+[\\w.-]+)*\\s+v?([0-9]+(?:\\.[0-9]+)+)\\b")
                        .matcher(text);
                while (m.find()) {
                    String stated = m.group(1);
                    boolean refused = artifact.equals("com.google.code.gson:gson") && stated.equals(refusedGson);
                    assertTrue(stated.equals(pinned) || refused,
                            readme + " says \"" + m.group().replaceAll("\\s+", " ") + "\" but " + artifact + " is pinned to " + pinned);
                    checked.add(readme + ": " + name);
                }
            });
        }
        assertTrue(checked.stream().anyMatch(c -> c.endsWith(": JBang")), "the README states the pinned JBang: " + checked);
    }

    /**
     * javac's -XD options change the bytecode (e.g. -XDstringConcat=inline): each one a //COMPILE_OPTIONS
     * directive gives JBang, the test build and the Nix package pass too, so all three run the same code.
     */
    @Test
    void everyBuildCompilesWithTheScriptsBytecodeOptions() throws IOException {
        List<String> options = new ArrayList<>();
        for (String dir : List.of("lib", "scripts")) {
            try (Stream<Path> files = Files.walk(Repo.root().resolve(dir))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    Matcher m = Pattern.compile("(?m)^//COMPILE_OPTIONS\\s+(.+)$").matcher(Files.readString(file));
                    while (m.find()) {
                        Stream.of(m.group(1).trim().split("\\s+")).filter(o -> o.startsWith("-XD")).forEach(options::add);
                    }
                }
            }
        }
        assertTrue(options.contains("-XDstringConcat=inline"), "lib's //COMPILE_OPTIONS ask for inline string concatenation: " + options);
        String pom = Repo.read("tests/pom.xml");
        String nix = Repo.read("nix/package.nix");
        for (String option : options) {
            assertTrue(pom.contains("<arg>" + option + "</arg>"), "tests/pom.xml does not compile with " + option);
            assertTrue(Pattern.compile("javac [^\\n]*" + Pattern.quote(option)).matcher(nix).find(), "nix/package.nix does not compile with " + option);
        }
    }
}
