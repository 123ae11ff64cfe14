package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.Provision;
import ccci.sandbox.Sandboxes;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Nix side, on a machine without nixpkgs: every .nix file parses; nix/deps.nix is exactly
 * the jars Maven resolves, byte for byte; the NixOS module, evaluated with the stand-ins of
 * tests/nix/stand-ins.nix, defines the ci-docker-prune units it documents; and with the package
 * NixPackageTest builds (its own build and wrapper scripts, this machine's JDK and jars), the unit
 * passes systemd-analyze verify and prunes (dry run) a real engine. A real nixpkgs build is
 * not proven here (see nix/README.md).
 */
@WholeProduct
class NixTest {
    static final Map<String, String> MAIN_CLASS = Map.of(
            "gates", "Gates", "prune", "Prune", "reuse-proof", "ReuseProof", "auth-check", "AuthCheck", "cache", "Cache", "watch", "Watch");
    static final String UNIT = "ci-docker-prune";
    static final Path EVAL = Repo.root().resolve("tests/nix/eval.nix");
    /** systemd's PATH for services; a service gets no other variable but what its unit sets */
    static final String SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    static final Map<String, Object> CUSTOM = new LinkedHashMap<>();
    static {
        CUSTOM.put("enable", true);
        CUSTOM.put("dates", "Mon..Fri 03:30");
        CUSTOM.put("persistent", false);
        CUSTOM.put("randomizedDelaySec", "45min");
        CUSTOM.put("threshold", 90);
        CUSTOM.put("until", "1d12h");
        CUSTOM.put("stackPattern", "^run-%d_[a-z]+$");
        CUSTOM.put("metricsFile", "/var/lib/prometheus-node-exporter/ci-docker-prune.prom");
        CUSTOM.put("dataRoot", "/srv/docker");
        CUSTOM.put("containerdRoot", "/srv/containerd");
        CUSTOM.put("extraArgs", List.of("--lock-file", "/run/ci-docker-prune.lock"));
        CUSTOM.put("onFailure", List.of("ccci-notify@%n.service", "ccci-page.target"));
        CUSTOM.put("stateFile", "/srv/cc-ci/state.json");
        CUSTOM.put("blockedLimit", "5d");
    }

    static JsonNode evaluated;

    @BeforeAll
    static void evaluate() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> askEngine = new LinkedHashMap<>();
        askEngine.put("enable", true);
        askEngine.put("dataRoot", null);
        askEngine.put("containerdRoot", "/srv/containerd");
        Map<String, Object> scenarios = new LinkedHashMap<>();
        scenarios.put("askEngine", Map.of("settings", askEngine));
        scenarios.put("defaults", Map.of("settings", Map.of("enable", true)));
        scenarios.put("custom", Map.of("settings", CUSTOM));
        scenarios.put("autoPrune", Map.of("settings", Map.of("enable", true), "autoPrune", true));
        scenarios.put("fleet", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "registry.example.org/ci/cc-ci:0.1.0",
                        "fleetTimeout", "30m", "dockerConfig", "/root/.docker")));
        scenarios.put("fleetWithoutImage", Map.of("settings", Map.of("enable", true, "fleet", true)));
        scenarios.put("fleetWithMetrics", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "cc-ci:1",
                        "metricsFile", "/var/lib/prometheus-node-exporter/ci-docker-prune.prom")));
        scenarios.put("fleetEvicting", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "cc-ci:1", "evictTo", 70)));
        scenarios.put("every15Minutes", Map.of("settings", Map.of("enable", true, "dates", "*:0/15")));
        scenarios.put("noMetrics", Map.of("settings", metricsOff()));
        scenarios.put("evicting", Map.of("settings", Map.of("enable", true, "evictTo", 75, "keep", List.of("^base:", ":stable$"),
                        "minAge", "3d", "watch", Map.of("enable", true))));
        scenarios.put("evictAboveThreshold", Map.of("settings", Map.of("enable", true, "evictTo", 80)));
        scenarios.put("peers", Map.of("settings", Map.of("enable", true, "maxUnusedAge", "30d", "evictMax", 5, "minFree", "5G",
                        "buildCacheMax", "10G")));
        scenarios.put("evictMaxAlone", Map.of("settings", Map.of("enable", true, "evictMax", 5)));
        scenarios.put("fleetBuildCacheMax", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "cc-ci:1", "buildCacheMax", "1G")));
        scenarios.put("off", Map.of());
        Map<String, Object> rejected = new LinkedHashMap<>();
        rejected.put("valid", Map.of("settings", Map.of("enable", true, "threshold", 100)));
        rejected.put("threshold0", Map.of("settings", Map.of("enable", true, "threshold", 0)));
        rejected.put("threshold101", Map.of("settings", Map.of("enable", true, "threshold", 101)));
        rejected.put("untilWords", Map.of("settings", Map.of("enable", true, "until", "7 days")));
        rejected.put("emptyPattern", Map.of("settings", Map.of("enable", true, "stackPattern", "")));
        rejected.put("relativeMetrics", Map.of("settings", Map.of("enable", true, "metricsFile", "x.prom")));
        rejected.put("twoLineDates", Map.of("settings", Map.of("enable", true, "dates", "daily\nweekly")));
        rejected.put("noSuchOption", Map.of("settings", Map.of("enable", true, "treshold", 90)));
        rejected.put("onFailureNotAUnit", Map.of("settings", Map.of("enable", true, "onFailure", List.of("notify me"))));
        rejected.put("onFailureNotAList", Map.of("settings", Map.of("enable", true, "onFailure", "notify.service")));
        rejected.put("evictTo0", Map.of("settings", Map.of("enable", true, "evictTo", 0)));
        rejected.put("evictTo101", Map.of("settings", Map.of("enable", true, "evictTo", 101)));
        rejected.put("minAgeWords", Map.of("settings", Map.of("enable", true, "minAge", "1 day")));
        rejected.put("maxUnusedAgeWords", Map.of("settings", Map.of("enable", true, "maxUnusedAge", "a month")));
        rejected.put("evictMax0", Map.of("settings", Map.of("enable", true, "evictMax", 0)));
        rejected.put("minFreeBinary", Map.of("settings", Map.of("enable", true, "minFree", "5GiB")));
        rejected.put("buildCacheMaxWords", Map.of("settings", Map.of("enable", true, "buildCacheMax", "ten gigs")));
        rejected.put("keepEmpty", Map.of("settings", Map.of("enable", true, "keep", List.of(""))));
        rejected.put("watchNotABool", Map.of("settings", Map.of("enable", true, "watch", Map.of("enable", "yes"))));
        rejected.put("fleetTimeoutWords", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "x:1", "fleetTimeout", "ten minutes")));
        rejected.put("fleetImageEmpty", Map.of("settings", Map.of("enable", true, "fleet", true, "fleetImage", "")));
        rejected.put("relativeStateFile", Map.of("settings", Map.of("enable", true, "stateFile", "state.json")));
        rejected.put("blockedLimitWords", Map.of("settings", Map.of("enable", true, "blockedLimit", "3 days")));
        evaluated = Nix.eval(EVAL, Map.of(
                "scenarios", json.writeValueAsString(scenarios),
                "rejected", json.writeValueAsString(rejected),
                "m2", mavenRepository().toString(),
                "jdk", System.getProperty("java.home"),
                "shell", "/bin/bash"), null);
    }

    static Map<String, Object> metricsOff() {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("enable", true);
        settings.put("metricsFile", null);
        return settings;
    }

    static Path mavenRepository() throws Exception {
        // .../repository/info/picocli/picocli/4.7.7/picocli-4.7.7.jar
        Path jar = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getParent().getParent().getParent().getParent();
    }

    static JsonNode scenario(String name) {
        return evaluated.path("scenarios").path(name);
    }

    static JsonNode service(String scenario) {
        JsonNode service = scenario(scenario).path("systemd").path("services").path(UNIT);
        assertFalse(service.isMissingNode(), "no systemd.services." + UNIT + " in " + scenario(scenario));
        return service;
    }

    static JsonNode timer(String scenario) {
        JsonNode timer = scenario(scenario).path("systemd").path("timers").path(UNIT);
        assertFalse(timer.isMissingNode(), "no systemd.timers." + UNIT + " in " + scenario(scenario));
        return timer;
    }

    static List<String> execStart(JsonNode service) {
        return SystemdUnit.execArgs(service.path("serviceConfig").path("ExecStart").asText());
    }

    static String normalizedCalendar(String spec) {
        CommandResult run = Cmd.run(systemdAnalyze(), "calendar", spec).requireOk();
        Matcher m = Pattern.compile("Normalized form: (.+)").matcher(run.out());
        assertTrue(m.find(), run.toString());
        return m.group(1).strip();
    }

    static String systemdAnalyze() {
        return Provision.ensureBinary("systemd-analyze", "systemd").toString();
    }

    @Test
    void everyNixFileParses() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(Repo.root())) {
            files = walk.filter(p -> p.toString().endsWith(".nix"))
                    .filter(p -> !Repo.root().relativize(p).toString().matches("(\\.git|.*\\btarget)/.*"))
                    .sorted().toList();
        }
        List<String> names = files.stream().map(p -> Repo.root().relativize(p).toString()).toList();
        assertTrue(names.containsAll(List.of("flake.nix", "nix/module.nix", "nix/package.nix", "nix/deps.nix",
                "tests/nix/stand-ins.nix", "tests/nix/eval.nix")), names.toString());
        for (Path file : files) {
            CommandResult parse = Nix.parse(file);
            assertEquals(0, parse.exit(), file + " does not parse:\n" + parse.err());
        }
    }

    /** nix/deps.nix = the runtime jars Maven resolves for tests/pom.xml (target/runtime-jars.txt), hashes included. */
    @Test
    void depsNixIsExactlyTheJarsMavenResolvedByteForByte() throws Exception {
        Path listing = Repo.root().resolve("tests/target/runtime-jars.txt");
        assertTrue(Files.exists(listing), listing + " is written by Maven's generate-test-resources phase: run the tests with mvn");
        Pattern line = Pattern.compile("^\\s+([^:\\s]+):([^:]+):jar:([^:]+):(?:compile|runtime):(/\\S+\\.jar)", Pattern.MULTILINE);
        Map<String, String> maven = new TreeMap<>();
        StringBuilder expected = new StringBuilder();
        Matcher m = line.matcher(Files.readString(listing));
        while (m.find()) {
            String hash = "sha256-" + Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(Path.of(m.group(4)))));
            maven.put(m.group(1) + ":" + m.group(2), m.group(3) + " " + hash);
            expected.append(String.format("  { groupId = \"%s\"; artifactId = \"%s\"; version = \"%s\"; hash = \"%s\"; }%n",
                    m.group(1), m.group(2), m.group(3), hash));
        }
        assertFalse(maven.isEmpty(), "no jars in " + listing);
        Map<String, String> nix = new TreeMap<>();
        for (JsonNode dep : Nix.eval(Repo.root().resolve("nix/deps.nix"))) {
            String previous = nix.put(dep.path("groupId").asText() + ":" + dep.path("artifactId").asText(),
                    dep.path("version").asText() + " " + dep.path("hash").asText());
            assertEquals(null, previous, "listed twice in nix/deps.nix: " + dep);
        }
        assertEquals(maven, nix, "nix/deps.nix must list exactly these jars (sorted by groupId, artifactId):\n" + expected);
    }

    @Test
    void optionsAreTypedAndDocumented() {
        JsonNode options = evaluated.path("options");
        for (String name : List.of("enable", "package", "dates", "persistent", "randomizedDelaySec", "threshold",
                "until", "stackPattern", "dataRoot", "containerdRoot", "metricsFile", "extraArgs", "onFailure", "stateFile",
                "blockedLimit", "evictTo", "keep", "minAge", "watch.enable", "fleet", "fleetImage", "fleetTimeout", "dockerConfig",
                "maxUnusedAge", "evictMax", "minFree", "buildCacheMax")) {
            JsonNode option = options.path(name);
            assertFalse(option.isMissingNode(), "no option services.ci-docker-prune." + name);
            assertFalse(option.path("type").asText().isBlank(), name + " has no type");
            assertTrue(option.path("description").asText().length() > 20, name + " is not documented");
        }
    }

    /**
     * The node exporter's textfile-collector path: one, the module's default (lib/Defaults.java's),
     * in every document naming one (the module reads it from lib/Defaults.java).
     */
    @Test
    void oneMetricsFilePathEverywhere() {
        String example = evaluated.path("options").path("metricsFile").path("default").asText();
        assertEquals(Defaults.METRICS_FILE, example);
        Pattern prom = Pattern.compile("/[^\\s\"`']+\\.prom\\b");
        List<String> docs = new ArrayList<>(Repo.documents());
        docs.addAll(List.of("nix/README.md", "deploy/systemd/README.md", "deploy/systemd/ci-docker-prune.service"));
        for (String doc : docs) {
            if (!prom.matcher(Repo.read(doc)).find()) {
                continue;
            }
            Matcher m = prom.matcher(Repo.read(doc));
            TreeSet<String> paths = new TreeSet<>();
            while (m.find()) {
                paths.add(m.group());
            }
            assertEquals(new TreeSet<>(List.of(example)), paths, doc + " names another metrics file");
        }
    }

    /**
     * What prune defaults is left to prune: those options are null, so the unit passes nothing and
     * prune's own default applies; their descriptions name that default (DefaultsAgreeTest: the
     * value of lib/Defaults.java).
     */
    @Test
    void defaultsAreThoseOfPruneItself() throws Exception {
        JsonNode options = evaluated.path("options");
        var constructor = Class.forName("Prune").getDeclaredConstructor();
        constructor.setAccessible(true);
        CommandLine prune = new CommandLine(constructor.newInstance());
        Map<String, String> leftToPrune = Map.of("threshold", "--threshold", "until", "--until", "stackPattern", "--stack-pattern",
                "stateFile", "--state-file", "blockedLimit", "--blocked-limit", "minAge", "--min-age", "fleetTimeout", "--fleet-timeout");
        leftToPrune.forEach((option, flag) -> {
            assertTrue(options.path(option).path("default").isNull(), option + " is left to prune: " + options.path(option));
            String pruneDefault = prune.getCommandSpec().findOption(flag).defaultValue();
            assertTrue(options.path(option).path("description").asText().replace("\n", " ").contains("`" + pruneDefault + "`"),
                    option + "'s description names prune's default " + pruneDefault + ": " + options.path(option).path("description"));
        });
    }

    @Test
    void byDefaultTheUnitsAreTheSeedHostsDailyPrune() {
        JsonNode service = service("defaults");
        assertEquals("oneshot", service.path("serviceConfig").path("Type").asText());
        assertEquals("[\"docker.service\"]", service.path("after").toString());
        assertEquals("[\"docker.service\"]", service.path("requires").toString());
        String defaultPackage = evaluated.path("package").path("out").asText();
        // prune's own defaults: threshold, ages, stack pattern, state file, blocked limit; metrics for the alert rules
        assertEquals(List.of(defaultPackage + "/bin/prune", "--path", "/var/lib/docker",
                "--metrics-file", "/var/lib/prometheus/node-exporter/ci-docker-prune.prom"), execStart(service));
        assertEquals("[\"d /var/lib/prometheus/node-exporter - - - -\"]",
                scenario("defaults").path("systemd").path("tmpfiles").path("rules").toString(),
                "the textfile directory is made when missing, an existing one left as it is");

        JsonNode timer = timer("defaults");
        assertEquals("[\"timers.target\"]", timer.path("wantedBy").toString());
        JsonNode when = timer.path("timerConfig");
        assertEquals(normalizedCalendar("daily"), normalizedCalendar(when.path("OnCalendar").asText()));
        assertEquals("*-*-* 00:00:00", normalizedCalendar(when.path("OnCalendar").asText()));
        assertTrue(when.path("Persistent").asBoolean());
        assertEquals("0", when.path("RandomizedDelaySec").asText());
        assertTrue(scenario("defaults").path("assertions").get(0).path("assertion").asBoolean());
        assertEquals("[]", service.path("onFailure").toString(), "no OnFailure= unless asked");
        assertEquals("cc-ci", service.path("serviceConfig").path("StateDirectory").asText(), "makes the state file's directory");
    }

    /** Exits 17 (insufficient) and 18 (blocked too long) fail the unit, so OnFailure= and systemctl --failed see them. */
    @Test
    void onlyExit0IsSuccessSoInsufficientAndBlockedTooLongFailTheUnit() {
        for (String scenario : List.of("defaults", "custom")) {
            SystemdUnit unit = SystemdUnit.parse(SystemdUnit.renderNixUnits(UNIT, service(scenario), timer(scenario)).get(UNIT + ".service"));
            assertFalse(unit.section("Service").containsKey("SuccessExitStatus"), unit.toString());
        }
        assertTrue(evaluated.path("options").path("onFailure").path("description").asText().contains("exit 17"));
    }

    /** Without a data root the engine is asked for it; containerd's root is then named as such. */
    @Test
    void containerdsRootIsMeasuredBesideTheDataRootTheEngineNames() {
        List<String> args = execStart(service("askEngine"));
        assertEquals(List.of("--containerd-root", "/srv/containerd"), args.subList(1, 3));
        assertFalse(args.contains("--path"), args.toString());
    }

    @Test
    void everySettingReachesTheUnitLiterally() {
        List<String> args = execStart(service("custom"));
        assertEquals(List.of("--path", "/srv/docker", "--path", "/srv/containerd", "--threshold", "90", "--until", "1d12h",
                "--stack-pattern", "^run-%d_[a-z]+$", "--state-file", "/srv/cc-ci/state.json", "--blocked-limit", "5d",
                "--metrics-file", "/var/lib/prometheus-node-exporter/ci-docker-prune.prom",
                "--lock-file", "/run/ci-docker-prune.lock"), args.subList(1, args.size()));
        // % and $ reach prune as written, not as a systemd specifier or variable
        assertTrue(service("custom").path("serviceConfig").path("ExecStart").asText().contains("^run-%%d_[a-z]+$$"));
        JsonNode when = timer("custom").path("timerConfig");
        assertEquals("Mon..Fri 03:30", when.path("OnCalendar").asText());
        assertFalse(when.path("Persistent").asBoolean());
        assertEquals("45min", when.path("RandomizedDelaySec").asText());
        assertEquals("[\"ccci-notify@%n.service\",\"ccci-page.target\"]", service("custom").path("onFailure").toString());
    }

    /** onFailure is the service's one OnFailure= line, as NixOS renders it; none by default. */
    @Test
    void onFailureBecomesTheServicesOnFailureLine() {
        SystemdUnit custom = SystemdUnit.parse(SystemdUnit.renderNixUnits(UNIT, service("custom"), timer("custom")).get(UNIT + ".service"));
        assertEquals("ccci-notify@%n.service ccci-page.target", custom.one("Unit", "OnFailure"));
        SystemdUnit defaults = SystemdUnit.parse(SystemdUnit.renderNixUnits(UNIT, service("defaults"), timer("defaults")).get(UNIT + ".service"));
        assertFalse(defaults.section("Unit").containsKey("OnFailure"), defaults.toString());
    }

    @Test
    void theServiceYieldsToCiJobsAndLeavesTheJitAndJnaWorking() {
        JsonNode config = service("defaults").path("serviceConfig");
        assertEquals(19, config.path("Nice").asInt());
        assertEquals("batch", config.path("CPUSchedulingPolicy").asText(), "as nix/README.md documents it");
        assertEquals("idle", config.path("IOSchedulingClass").asText());
        assertTrue(config.path("MemoryDenyWriteExecute").isMissingNode(), "MemoryDenyWriteExecute breaks the JIT");
        assertEquals(UNIT, config.path("CacheDirectory").asText());
        assertEquals("/var/cache/" + UNIT, service("defaults").path("environment").path("CC_CI_JNA_TMPDIR").asText(),
                "JNA unpacks its native library into the unit's CacheDirectory");
        assertTrue(config.path("PrivateTmp").asBoolean());
    }

    /** The assertions that fail in a scenario. */
    static List<JsonNode> failing(String scenario) {
        List<JsonNode> failing = new ArrayList<>();
        scenario(scenario).path("assertions").forEach(a -> {
            if (!a.path("assertion").asBoolean()) {
                failing.add(a);
            }
        });
        return failing;
    }

    @Test
    void evictionIsOptInAndItsOptionsReachTheUnits() {
        assertEquals(List.of(), failing("defaults"));
        assertFalse(execStart(service("defaults")).contains("--evict-to"), "no eviction unless asked");
        assertEquals("{}", scenario("defaults").path("systemd").path("services").path("ci-docker-watch").toString(),
                "no watch unless asked");

        assertEquals(List.of(), failing("evicting"));
        List<String> args = execStart(service("evicting"));
        assertEquals(List.of("--evict-to", "75", "--min-age", "3d", "--keep", "^base:", "--keep", ":stable$"),
                args.subList(args.indexOf("--evict-to"), args.size()));
        JsonNode watch = scenario("evicting").path("systemd").path("services").path("ci-docker-watch");
        assertTrue(execStart(watch).get(0).endsWith("/bin/watch"), watch.toString());
        assertEquals("[\"multi-user.target\"]", watch.path("wantedBy").toString());

        List<JsonNode> above = failing("evictAboveThreshold");
        assertEquals(1, above.size(), above.toString());
        assertTrue(above.get(0).path("message").asText().contains("must be below the threshold\n(80, prune's default)"), above.toString());
    }

    /** Issue 20's settings, each off by default: --max-unused-age, --evict-max, --min-free, --build-cache-max. */
    @Test
    void whatPeersHaveIsOptInAndReachesTheUnit() {
        List<String> defaults = execStart(service("defaults"));
        for (String flag : List.of("--max-unused-age", "--evict-max", "--min-free", "--build-cache-max")) {
            assertFalse(defaults.contains(flag), flag + " is off unless asked: " + defaults);
        }
        assertEquals(List.of(), failing("peers"));
        List<String> args = execStart(service("peers"));
        assertEquals(List.of("--build-cache-max", "10G", "--min-free", "5G", "--max-unused-age", "30d", "--evict-max", "5"),
                args.subList(args.indexOf("--build-cache-max"), args.size()));
        assertTrue(failing("evictMaxAlone").get(0).path("message").asText().contains("set evictTo or maxUnusedAge"), failing("evictMaxAlone").toString());
        assertTrue(failing("fleetBuildCacheMax").get(0).path("message").asText().contains("not with fleet"), failing("fleetBuildCacheMax").toString());
    }

    @Test
    void autoPruneOnFailsTheBuildWithAMessageThatSaysWhy() {
        List<JsonNode> assertions = failing("autoPrune");
        assertEquals(1, assertions.size(), assertions.toString());
        String message = assertions.get(0).path("message").asText();
        assertTrue(message.contains("virtualisation.docker.autoPrune"), message);
        assertTrue(message.contains("--all"), message);
    }

    /** Fleet mode on a manager: the fleet's options reach prune; without an image, or with a metrics file, the build fails. */
    @Test
    void fleetModeRunsPruneFleetWithTheImageAndTimeout() {
        List<String> args = execStart(service("fleet"));
        assertEquals(List.of("--path", "/var/lib/docker", "--fleet", "--image", "registry.example.org/ci/cc-ci:0.1.0",
                "--fleet-timeout", "30m", "--config", "/root/.docker"), args.subList(1, args.size()));
        assertEquals(List.of(), failing("fleet"));
        assertEquals(List.of(), failing("defaults"));
        assertFalse(execStart(service("defaults")).contains("--fleet"), "no fleet unless asked");
        assertTrue(failing("fleetWithoutImage").get(0).path("message").asText().contains("fleetImage"));
        // metrics are per host: a fleet run writes none (its summary is in the journal), nor makes their directory
        assertEquals(List.of(), failing("fleetWithMetrics"));
        assertFalse(execStart(service("fleetWithMetrics")).contains("--metrics-file"), execStart(service("fleetWithMetrics")).toString());
        assertEquals("[]", scenario("fleetWithMetrics").path("systemd").path("tmpfiles").path("rules").toString());
        assertTrue(failing("fleetEvicting").get(0).path("message").asText().contains("not with fleet"));
    }

    /** A frequent schedule is the timer's OnCalendar (dates), e.g. every 15 minutes; metricsFile null writes none. */
    @Test
    void datesSetsTheScheduleAndMetricsCanBeTurnedOff() {
        assertEquals("*-*-* *:00/15:00", normalizedCalendar(timer("every15Minutes").path("timerConfig").path("OnCalendar").asText()));
        assertTrue(timer("every15Minutes").path("timerConfig").path("Persistent").asBoolean());
        assertFalse(execStart(service("noMetrics")).contains("--metrics-file"), execStart(service("noMetrics")).toString());
        assertEquals("[]", scenario("noMetrics").path("systemd").path("tmpfiles").path("rules").toString());
    }

    @Test
    void disabledItDefinesNothing() {
        assertEquals("{}", scenario("off").toString());
    }

    @Test
    void valuesOfTheWrongTypeAreRefused() {
        JsonNode rejected = evaluated.path("rejected");
        assertFalse(rejected.path("valid").asBoolean(), "a valid configuration must evaluate");
        rejected.fields().forEachRemaining(r -> {
            if (!r.getKey().equals("valid")) {
                assertTrue(r.getValue().asBoolean(), r.getKey() + " was accepted");
            }
        });
    }

    /** Commands are those of MAIN_CLASS whose script exists; every script needs one. */
    @Test
    void thePackageHasACommandForEveryScript() throws IOException {
        Map<String, String> expected = new TreeMap<>();
        try (Stream<Path> scripts = Files.list(Repo.root().resolve("scripts"))) {
            for (Path script : scripts.filter(p -> p.toString().endsWith(".java")).toList()) {
                String command = script.getFileName().toString().replaceFirst("\\.java$", "");
                assertTrue(MAIN_CLASS.containsKey(command), "scripts/" + command + ".java has no command in nix/package.nix");
                expected.put(command, MAIN_CLASS.get(command));
            }
        }
        assertTrue(expected.keySet().containsAll(List.of("gates", "prune")));
        Map<String, String> commands = new TreeMap<>();
        evaluated.path("package").path("commands").fields().forEachRemaining(f -> commands.put(f.getKey(), f.getValue().asText()));
        assertEquals(expected, commands);
        assertEquals(List.of(Repo.root().resolve("lib").toString(), Repo.root().resolve("scripts").toString()),
                new ObjectMapper().convertValue(evaluated.path("package").path("fileset"), List.class));
    }

    /**
     * nixpkgs is pinned by revision in the flake's own URL, so a fresh clone without flake.lock
     * evaluates the same nixpkgs; a flake.lock, once committed, must lock that same revision.
     */
    @Test
    void theFlakePinsNixpkgsByRevision() throws IOException {
        String url = evaluated.path("flake").path("nixpkgs").asText();
        Matcher pinned = Pattern.compile("github:NixOS/nixpkgs/([0-9a-f]{40})").matcher(url);
        assertTrue(pinned.matches(), "inputs.nixpkgs.url must name a full commit: " + url);
        Path lock = Repo.root().resolve("flake.lock");
        if (Files.exists(lock)) {
            JsonNode locked = new ObjectMapper().readTree(lock.toFile()).path("nodes").path("nixpkgs").path("locked");
            assertEquals(pinned.group(1), locked.path("rev").asText(), "flake.lock locks another nixpkgs than flake.nix names");
        }
        assertTrue(Repo.read("nix/README.md").contains(pinned.group(1)), "nix/README.md names the pinned revision");
    }

    /**
     * nix/README.md and the README: `nix build` is a flake command, refused without the experimental
     * features (Nix's own error, from this machine's Nix 2.8), and with them it goes on to fetch
     * nixpkgs at the revision flake.nix pins (which fails here: no network but the registries).
     */
    @Test
    void flakeCommandsNeedTheExperimentalFeaturesAndFetchThePinnedNixpkgs() {
        String nix = Provision.ensureBinary("nix", "nix-bin").toString();
        CommandResult plain = Cmd.run(List.of(nix, "build", "--dry-run"), null, Repo.root());
        assertTrue(plain.exit() != 0 && plain.err().contains("experimental Nix feature 'nix-command' is disabled"), plain.toString());
        CommandResult flake = Cmd.run(List.of(nix, "--extra-experimental-features", "nix-command flakes",
                "--option", "connect-timeout", "5", "flake", "metadata"), null, Repo.root());
        String rev = evaluated.path("flake").path("nixpkgs").asText().replaceFirst(".*/", "");
        assertTrue(flake.err().contains(rev) || flake.out().contains(rev), "the flake fetches nixpkgs " + rev + ": " + flake);
        for (String doc : List.of("docs/versions.md", "nix/README.md")) {
            assertTrue(Repo.read(doc).contains("nix --extra-experimental-features 'nix-command flakes' build"), doc);
        }
    }

    /** The flake's outputs, called with a stand-in nixpkgs input. */
    @Test
    void theFlakeExposesThePackageAnAppPerCommandAndTheModule() {
        JsonNode flake = evaluated.path("flake");
        String out = evaluated.path("package").path("out").asText();
        TreeSet<String> commands = new TreeSet<>();
        evaluated.path("package").path("commands").fieldNames().forEachRemaining(commands::add);
        for (String system : List.of("x86_64-linux", "aarch64-linux")) {
            assertEquals(out, flake.path("packages").path(system).path("default").asText());
            JsonNode apps = flake.path("apps").path(system);
            TreeSet<String> names = new TreeSet<>();
            apps.fieldNames().forEachRemaining(names::add);
            assertEquals(commands, names);
            for (String command : commands) {
                assertEquals("app", apps.path(command).path("type").asText());
                assertEquals(out + "/bin/" + command, apps.path(command).path("program").asText());
            }
        }
        assertTrue(flake.path("nixosModules").path("default").asBoolean());
        assertTrue(flake.path("nixosModules").path("ci-docker-prune").asBoolean());
    }

    /** The package's buildPhase and installPhase, run as Nix would, with this machine's JDK and jars (NixPackageTest). */
    static Path built() throws Exception {
        return NixPackageTest.built();
    }

    /**
     * The module's units with the built package: systemd-analyze verify accepts them, and the exact
     * ExecStart, in the unit's environment, prunes a real engine (a dry run: the shared sandbox engine
     * is not emptied) and writes the metricsFile.
     */
    @Test
    void theModulesUnitVerifiesAndItsExecStartRuns(@TempDir Path tmp) throws Exception {
        Path out = built();
        Path metrics = tmp.resolve("ci-docker-prune.prom");
        JsonNode withPackage = Nix.eval(EVAL, Map.of("packageOut", out.toString(), "scenarios", new ObjectMapper().writeValueAsString(
                Map.of("defaults", Map.of("settings", Map.of("enable", true, "metricsFile", metrics.toString(),
                        "onFailure", List.of("ccci-notify@%n.service")))))), "scenarios");
        JsonNode service = withPackage.path("defaults").path("systemd").path("services").path(UNIT);
        JsonNode timer = withPackage.path("defaults").path("systemd").path("timers").path(UNIT);

        Path units = Files.createDirectories(tmp.resolve("units"));
        for (var unit : SystemdUnit.renderNixUnits(UNIT, service, timer).entrySet()) {
            Files.writeString(units.resolve(unit.getKey()), unit.getValue());
        }
        CommandResult verify = verify(units.resolve(UNIT + ".service"), units.resolve(UNIT + ".timer"));
        assertEquals(0, verify.exit(), verify.toString());
        assertEquals("", verify.out() + verify.err(), "systemd-analyze verify has warnings");

        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Map<String, String> env = new TreeMap<>();
        env.put("PATH", SYSTEMD_PATH);
        service.path("environment").fields().forEachRemaining(f ->
                env.put(f.getKey(), f.getValue().asText().replace("/var/cache/" + UNIT, cache.toString())));
        assertEquals(cache.toString(), env.get("CC_CI_JNA_TMPDIR"));

        List<String> command = new ArrayList<>(execStart(service));
        command.set(command.indexOf("--path") + 1, Sandboxes.sharedSwarm().dataRoot().toString()); // not /var/lib/docker here
        // the threshold 1: every gate is then asked, and holds
        command.addAll(List.of("--threshold", "1", "--dry-run", "--json", "--host", Sandboxes.sharedSwarm().host()));
        CommandResult run = Cmd.run(command, env, tmp);
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals("dry-run", report.path("outcome").asText(), report.toString());
        assertTrue(report.path("dryRun").asBoolean(), "a dry run: " + report);
        assertFalse(report.path("ran").asBoolean(), "a dry run runs no phase: " + report);
        assertEquals(3, report.path("gates").size(), report.toString());
        for (JsonNode gate : report.path("gates")) {
            assertEquals("holds", gate.path("state").asText(), "every gate evaluated on the engine: " + report);
        }
        assertTrue(Files.readString(metrics).contains("ci_docker_prune_"), "metricsFile reaches prune");

        // On JDK 16+ docker-java talks to the unix socket through the JDK's own UnixDomainSocketAddress
        // and loads JNA only as a fallback: the run works even where JNA could not unpack anything.
        // The CacheDirectory for jna.tmpdir stays, for that fallback; this pins down the finding.
        env.put("CC_CI_JNA_TMPDIR", Files.writeString(tmp.resolve("a-file"), "").resolve("sub").toString());
        CommandResult withoutJna = Cmd.run(command, env, tmp);
        assertEquals(0, withoutJna.exit(), withoutJna.toString());
    }

    static CommandResult verify(Path... units) {
        ensureDockerServiceUnit();
        List<String> command = new ArrayList<>(List.of(systemdAnalyze(), "verify"));
        for (Path unit : units) {
            command.add(unit.toString());
        }
        return Cmd.run(command, null, null);
    }

    /** The units require docker.service; verify resolves it, so the engine's package must be there. */
    static void ensureDockerServiceUnit() {
        if (Stream.of("/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system")
                .noneMatch(dir -> Files.exists(Path.of(dir, "docker.service")))) {
            Provision.ensureInstalled(); // docker.io ships docker.service
        }
    }
}
