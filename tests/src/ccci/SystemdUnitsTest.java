package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import ccci.sandbox.Sandboxes;
import ccci.sandbox.WholeProduct;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain units of deploy/systemd/ for hosts without Nix, installed by deploy/systemd/install into
 * a temp dir instead of /var/lib/cc-ci. systemd does not run here (no PID 1), so: systemd-analyze
 * verify checks the installed units; they are held to the NixOS module's settings; and their
 * ExecStart runs the way the unit runs it (same arguments, only the unit's environment and
 * systemd's PATH) on a real engine. What is not exercised: systemd's own sandboxing (PrivateTmp,
 * ProtectSystem...), the timer firing, and install's systemctl calls.
 */
@WholeProduct
class SystemdUnitsTest {
    static final String UNIT = "ci-docker-prune";
    static final String INSTALL = "deploy/systemd/install";
    static final String ON_FAILURE = "ccci-notify@%n.service";
    static final String FLEET_IMAGE = "registry.example.org/ci/cc-ci:0.1.0";
    /** The main install's schedule: every 15 minutes (install --on-calendar, the module's dates). */
    static final String EVERY_15_MINUTES = "*:0/15";
    static SystemdUnit service;
    static SystemdUnit timer;

    @TempDir static Path root;
    static Path prefix;
    static List<String> mainInstall;
    static Path units;
    static Path cache;
    /** The main install's metrics file (its directory made by install) and Docker's data root as install found it. */
    static Path metrics;
    static String dataRoot;

    /**
     * The documented install (deploy/systemd/README.md), with a temp prefix and unit dir and one
     * --on-failure, run under umask 000: root's umask is not install's to trust.
     */
    @BeforeAll
    static void install() throws IOException {
        service = SystemdUnit.parse(Repo.read("deploy/systemd/" + UNIT + ".service"));
        timer = SystemdUnit.parse(Repo.read("deploy/systemd/" + UNIT + ".timer"));
        prefix = root.resolve("var/lib/cc-ci");
        units = root.resolve("units");
        cache = Files.createDirectories(root.resolve("var/cache/" + UNIT));
        metrics = root.resolve("var/lib/prometheus/node-exporter/ci-docker-prune.prom");
        dataRoot = Sandboxes.sharedSwarm().dataRoot().toString();
        List<String> command = new ArrayList<>(List.of("bash", "-c", "umask 000 && exec \"$0\" \"$@\"",
                Repo.root().resolve(INSTALL).toString(), "--prefix", prefix.toString(), "--unit-dir", units.toString(),
                "--on-failure", ON_FAILURE, "--no-enable", "--fleet-image", FLEET_IMAGE, "--fleet-timeout", "30m",
                "--docker-config", "/root/.docker", "--on-calendar", EVERY_15_MINUTES, "--metrics-file", metrics.toString()));
        mainInstall = command;
        CommandResult installed = Cmd.run(command, installEnvironment(), root);
        assertEquals(0, installed.exit(), installed.toString());
        assertTrue(installed.err().contains("systemctl daemon-reload && systemctl enable --now ci-docker-prune.timer"),
                "--no-enable says how to enable the timer later:\n" + installed);
    }

    /** Run again from the same sources with the same JDK and options, install builds and trains nothing, and changes no archive. */
    @Test
    void aSecondRunFromTheSameSourcesBuildsAndTrainsNothing() throws IOException {
        Map<String, FileTime> before = new TreeMap<>();
        try (Stream<Path> files = Files.list(prefix.resolve("app"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                before.put(f.getFileName().toString(), Files.getLastModifiedTime(f));
            }
        }
        CommandResult again = Cmd.run(mainInstall, installEnvironment(), root);
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.err().contains("not building them again") && !again.err().contains("install: building "), again.toString());
        Map<String, FileTime> after = new TreeMap<>();
        try (Stream<Path> files = Files.list(prefix.resolve("app"))) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals("build.id")).toList()) {
                after.put(f.getFileName().toString(), Files.getLastModifiedTime(f));
            }
        }
        before.remove("build.id");
        assertEquals(before, after, "the jars and archives are the first run's");
    }

    /**
     * Installed under umask 000 (see install()), no file or directory install made is writable by
     * group or others: root runs the commands and reads the units, the README and the JBang it
     * fetched. Every mode is install's own.
     */
    @Test
    void underUmask000NothingInstalledIsGroupOrWorldWritable() throws IOException {
        List<String> writable = new ArrayList<>();
        for (Path top : List.of(root.resolve("var/lib"), units, root.resolve("jbang"))) {
            assertTrue(Files.exists(top), top + " was not made by install");
            try (Stream<Path> walk = Files.walk(top)) {
                for (Path path : walk.toList()) {
                    if (Files.isSymbolicLink(path)) {
                        continue;
                    }
                    var mode = Files.getPosixFilePermissions(path);
                    if (mode.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                            || mode.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
                        writable.add(java.nio.file.attribute.PosixFilePermissions.toString(mode) + " " + root.relativize(path));
                    }
                }
            }
        }
        assertEquals(List.of(), writable, writable.size() + " paths writable by group or others");
    }

    static CommandResult install(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Repo.root().resolve(INSTALL).toString()));
        command.addAll(args);
        return Cmd.run(command, installEnvironment(), root);
    }

    static Map<String, String> installEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", NixTest.SYSTEMD_PATH);
        env.put("HOME", System.getProperty("user.home")); // the launcher's and JBang's caches
        env.put("JBANG_DIR", root.resolve("jbang").toString());
        env.put("JBANG_CACHE_DIR", Repo.jbangCacheDir());
        env.put("DOCKER_HOST", Sandboxes.sharedSwarm().host()); // for the class-data-sharing training run
        return env;
    }

    static SystemdUnit installedService() throws IOException {
        return SystemdUnit.parse(Files.readString(units.resolve(UNIT + ".service")));
    }

    /** The documented paths, moved under the temp dir. */
    static String moved(String text) {
        return text.replace("/var/lib/cc-ci", prefix.toString())
                .replace("/var/cache/" + UNIT, cache.toString())
                .replace(Defaults.METRICS_FILE, metrics.toString());
    }

    /**
     * The shipped prune unit as install writes it for the main install: its prefix, the data root
     * `docker info` named, the metrics file given, the state file beside the prefix (prune's default
     * is under /var/lib/cc-ci), and the --on-failure unit.
     */
    static String expectedService() {
        return Repo.read("deploy/systemd/" + UNIT + ".service").replace("/var/lib/cc-ci/", prefix + "/")
                .replace("--path " + Defaults.DATA_ROOT, "--path " + dataRoot + " --state-file " + prefix.resolve("state.json"))
                .replace("--metrics-file " + Defaults.METRICS_FILE, "--metrics-file " + metrics)
                .replace("Requires=docker.service\n", "Requires=docker.service\nOnFailure=" + ON_FAILURE + "\n");
    }

    @Test
    void systemdAnalyzeVerifiesTheInstalledUnitsWithoutAWarning() throws IOException {
        String template = Repo.read("deploy/systemd/" + UNIT + ".service");
        assertFalse(template.contains("OnFailure="), "no OnFailure= unless asked");
        assertEquals(expectedService(), Files.readString(units.resolve(UNIT + ".service")),
                "install copies the unit, with its prefix, data root, metrics file and the --on-failure unit");
        assertEquals(Repo.read("deploy/systemd/" + UNIT + ".timer").replace("OnCalendar=*-*-* 00:00:00", "OnCalendar=" + EVERY_15_MINUTES),
                Files.readString(units.resolve(UNIT + ".timer")), "install --on-calendar sets the timer's OnCalendar=");
        CommandResult verify = NixTest.verify(units.resolve(UNIT + ".service"), units.resolve(UNIT + ".timer"));
        assertEquals(0, verify.exit(), verify.toString());
        assertEquals("", verify.out() + verify.err(), "systemd-analyze verify has warnings");
    }

    @Test
    void theyScheduleRunAndConfineLikeTheNixModule() throws Exception {
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", "{\"d\":{\"settings\":{\"enable\":true}}}"), "scenarios.d.systemd");
        JsonNode nixService = nix.path("services").path(UNIT);
        JsonNode nixTimer = nix.path("timers").path(UNIT);

        nixTimer.path("timerConfig").fields().forEachRemaining(f ->
                assertEquals(text(f.getValue()), timer.one("Timer", f.getKey()), "timer " + f.getKey()));
        assertEquals(NixTest.normalizedCalendar("daily"), NixTest.normalizedCalendar(timer.one("Timer", "OnCalendar")));
        assertEquals(List.of("timers.target"), timer.section("Install").get("WantedBy"));

        assertEquals(List.of("docker.service"), service.section("Unit").get("After"));
        assertEquals(List.of("docker.service"), service.section("Unit").get("Requires"));
        nixService.path("serviceConfig").fields().forEachRemaining(f -> {
            if (!f.getKey().equals("ExecStart")) {
                assertEquals(text(f.getValue()), service.one("Service", f.getKey()), "service " + f.getKey());
            }
        });
        assertFalse(service.section("Service").containsKey("MemoryDenyWriteExecute"), "breaks the JIT");
        assertFalse(service.section("Service").containsKey("SuccessExitStatus"),
                "only 0 is success: exits 17 (insufficient) and 18 (blocked too long) must fail the unit");
        assertEquals("cc-ci", service.one("Service", "StateDirectory"), "the state file's directory");

        // the same prune arguments, and JNA's directory the CacheDirectory, as on NixOS
        List<String> nixArgs = NixTest.execStart(nixService);
        List<String> args = SystemdUnit.execArgs(service.one("Service", "ExecStart"));
        assertEquals("/var/lib/cc-ci/app/bin/prune", args.get(0));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
        assertEquals(Map.of("CC_CI_JNA_TMPDIR", "/var/cache/" + service.one("Service", "CacheDirectory")), service.environment());
    }

    /**
     * The main install's schedule (--on-calendar) and its whole prune line are those of the module
     * given the same settings: dates, dataRoot, metricsFile and stateFile.
     */
    @Test
    void theInstallersOptionsAreTheModulesSettings() throws Exception {
        String scenario = "{\"s\":{\"settings\":{\"enable\":true,\"dates\":\"" + EVERY_15_MINUTES + "\",\"dataRoot\":\""
                + dataRoot + "\",\"metricsFile\":\"" + metrics + "\",\"stateFile\":\"" + prefix.resolve("state.json")
                + "\",\"onFailure\":[\"" + ON_FAILURE + "\"]}}}";
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", scenario), "scenarios.s.systemd");
        Map<String, String> rendered = SystemdUnit.renderNixUnits(UNIT, nix.path("services").path(UNIT), nix.path("timers").path(UNIT));
        SystemdUnit nixTimer = SystemdUnit.parse(rendered.get(UNIT + ".timer"));
        SystemdUnit installedTimer = SystemdUnit.parse(Files.readString(units.resolve(UNIT + ".timer")));
        assertEquals(nixTimer.section("Timer"), installedTimer.section("Timer"));
        assertEquals(NixTest.normalizedCalendar("*-*-* *:00/15:00"), NixTest.normalizedCalendar(installedTimer.one("Timer", "OnCalendar")),
                "every 15 minutes");
        List<String> nixArgs = NixTest.execStart(nix.path("services").path(UNIT));
        List<String> args = SystemdUnit.execArgs(installedService().one("Service", "ExecStart"));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
        assertEquals(SystemdUnit.parse(rendered.get(UNIT + ".service")).one("Unit", "OnFailure"), installedService().one("Unit", "OnFailure"));
    }

    /** The data root the unit measures is the one `docker info` names (here the sandbox engine's), not /var/lib/docker. */
    @Test
    void theUnitMeasuresTheDataRootTheEngineNames() throws IOException {
        List<String> args = SystemdUnit.execArgs(installedService().one("Service", "ExecStart"));
        assertNotEquals(Defaults.DATA_ROOT, dataRoot, "the sandbox's data root is elsewhere");
        assertEquals(dataRoot, args.get(args.indexOf("--path") + 1), args.toString());
    }

    /**
     * Metrics by default: the shipped unit writes them to node_exporter's textfile directory
     * (lib/Defaults.java), and install makes the directory of the file it writes, 0755 even under
     * umask 000. The daily no-op, run as the unit runs it, writes them.
     */
    @Test
    void theUnitWritesMetricsAndInstallMakesTheirDirectory() throws IOException {
        List<String> shipped = SystemdUnit.execArgs(service.one("Service", "ExecStart"));
        assertEquals(Defaults.METRICS_FILE, shipped.get(shipped.indexOf("--metrics-file") + 1), shipped.toString());
        assertTrue(Files.isDirectory(metrics.getParent()), "install made " + metrics.getParent());
        assertEquals("rwxr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(metrics.getParent())));
        List<String> installed = SystemdUnit.execArgs(installedService().one("Service", "ExecStart"));
        assertEquals(metrics.toString(), installed.get(installed.indexOf("--metrics-file") + 1));
    }

    /** install --fleet-image: a drop-in whose prune line is the module's with fleet, fleetImage, fleetTimeout, dockerConfig. */
    @Test
    void fleetModeIsADropInWithTheModulesFleetArguments() throws Exception {
        String scenario = "{\"f\":{\"settings\":{\"enable\":true,\"fleet\":true,\"fleetImage\":\"" + FLEET_IMAGE
                + "\",\"fleetTimeout\":\"30m\",\"dockerConfig\":\"/root/.docker\",\"dataRoot\":\"" + dataRoot + "\"}}}";
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", scenario), "scenarios.f.systemd");
        List<String> nixArgs = NixTest.execStart(nix.path("services").path(UNIT));
        SystemdUnit dropIn = SystemdUnit.parse(Files.readString(units.resolve(UNIT + ".service.d/fleet.conf")));
        List<String> lines = dropIn.section("Service").get("ExecStart");
        assertEquals(2, lines.size(), "an empty ExecStart= resets the unit's, then the fleet's: " + lines);
        assertEquals("", lines.get(0));
        List<String> args = SystemdUnit.execArgs(lines.get(1));
        assertEquals(prefix + "/app/bin/prune", args.get(0));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
    }

    /** install --on-failure gives the unit the OnFailure= line the module's onFailure gives it. */
    @Test
    void onFailureIsTheModulesOnFailure() throws Exception {
        String scenario = "{\"d\":{\"settings\":{\"enable\":true,\"onFailure\":[\"" + ON_FAILURE + "\"]}}}";
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", scenario), "scenarios.d.systemd");
        SystemdUnit nixUnit = SystemdUnit.parse(SystemdUnit.renderNixUnits(UNIT, nix.path("services").path(UNIT),
                nix.path("timers").path(UNIT)).get(UNIT + ".service"));
        assertEquals(nixUnit.one("Unit", "OnFailure"), installedService().one("Unit", "OnFailure"));
        assertEquals(ON_FAILURE, installedService().one("Unit", "OnFailure"));
    }

    /** The unit's Documentation= is a file install put there: this directory's README, as installed. */
    @Test
    void theDocumentationTheUnitNamesIsInstalled() throws IOException {
        String documentation = installedService().one("Unit", "Documentation");
        assertTrue(documentation.startsWith("file:///"), documentation);
        Path readme = Path.of(URI.create(documentation));
        assertTrue(readme.startsWith(prefix), documentation + " is not under the install prefix " + prefix);
        assertTrue(Files.isRegularFile(readme), documentation + " does not exist after install");
        assertEquals(Repo.read("deploy/systemd/README.md"), Files.readString(readme));
    }

    /** The same commands as the Nix package (one per script), each starting. */
    @Test
    void everyCommandOfTheNixPackageIsInstalled() throws IOException {
        TreeSet<String> packaged = new TreeSet<>();
        Nix.eval(NixTest.EVAL, Map.of(), "package.commands").fieldNames().forEachRemaining(packaged::add);
        assertTrue(packaged.containsAll(List.of("gates", "prune", "reuse-proof", "auth-check")), packaged.toString());
        assertEquals(packaged, installedCommands());
        assertTrue(packaged.containsAll(List.of("cache", "watch")), packaged.toString());
        for (String command : packaged) {
            CommandResult version = Cmd.run(List.of(prefix.resolve("app/bin/" + command).toString(), "--version"),
                    Map.of("PATH", NixTest.SYSTEMD_PATH), root);
            assertEquals(0, version.exit(), command + ": " + version);
        }
    }

    static TreeSet<String> installedCommands() throws IOException {
        try (Stream<Path> bins = Files.list(prefix.resolve("app/bin"))) {
            return new TreeSet<>(bins.map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * Where systemd is not running (here: a mount namespace whose /run is empty, whatever the host
     * runs), install without --no-enable stops before building anything and says to use --no-enable.
     */
    @Test
    void withoutSystemdItStopsBeforeBuildingAndSuggestsNoEnable() {
        Path elsewhere = root.resolve("no-systemd");
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "bash", "-c",
                "mount -t tmpfs tmpfs /run && exec \"$0\" \"$@\"", Repo.root().resolve(INSTALL).toString(),
                "--prefix", elsewhere.resolve("prefix").toString(), "--unit-dir", elsewhere.resolve("units").toString()));
        CommandResult run = Cmd.run(command, installEnvironment(), root);
        assertEquals(1, run.exit(), run.toString());
        assertEquals("", run.out());
        assertEquals(1, run.err().lines().count(), "one line: " + run);
        assertTrue(run.err().contains("systemd is not running") && run.err().contains("--no-enable"), run.toString());
        assertFalse(Files.exists(elsewhere), "nothing built or installed: " + elsewhere);
    }

    @Test
    void helpIsAUsageTextThatNamesEveryOption() throws IOException {
        CommandResult help = install(List.of("--help"));
        assertEquals(0, help.exit(), help.toString());
        assertTrue(help.out().startsWith("usage: " + INSTALL + " "), help.out());
        assertFalse(help.out().contains("set -euo") || help.out().contains("#!"), "not the script's own lines:\n" + help.out());
        Matcher option = Pattern.compile("^\\s+(--[a-z-]+)\\)", Pattern.MULTILINE).matcher(Repo.read(INSTALL));
        int count = 0;
        while (option.find()) {
            count++;
            assertTrue(help.out().contains(option.group(1)), option.group(1) + " is not in --help:\n" + help.out());
        }
        for (String command : installedCommands()) {
            assertTrue(help.out().contains(command), "--help names the command " + command);
        }
        assertEquals(20, count, "install's options, as its parser lists them");
        String options = help.out().substring(help.out().indexOf("\noptions:\n"), help.out().indexOf("\nexit codes:\n"));
        assertTrue(Repo.read("deploy/systemd/README.md").contains(options + "\n```"), "deploy/systemd/README.md shows install's options as --help prints them:\n" + options);
    }

    /** The watch unit: verified, and the NixOS module's ci-docker-watch service (watch.enable) line for line. */
    @Test
    void theWatchUnitIsTheModulesWatchService() throws Exception {
        String watchUnit = "ci-docker-watch.service";
        assertEquals(Repo.read("deploy/systemd/" + watchUnit).replace("/var/lib/cc-ci/", prefix + "/")
                        .replace("app/bin/watch\n", "app/bin/watch --last-use " + prefix.resolve("last-use.json") + "\n"),
                Files.readString(units.resolve(watchUnit)), "install copies the watch unit with its prefix, the record beside it");
        CommandResult verify = NixTest.verify(units.resolve(watchUnit));
        assertEquals(0, verify.exit(), verify.toString());
        assertEquals("", verify.out() + verify.err(), "systemd-analyze verify has warnings");

        SystemdUnit watch = SystemdUnit.parse(Repo.read("deploy/systemd/" + watchUnit));
        JsonNode nix = Nix.eval(NixTest.EVAL, Map.of("scenarios", "{\"w\":{\"settings\":{\"enable\":true,\"watch\":{\"enable\":true}}}}"),
                "scenarios.w.systemd.services.ci-docker-watch");
        nix.path("serviceConfig").fields().forEachRemaining(f -> {
            if (!f.getKey().equals("ExecStart")) {
                assertEquals(text(f.getValue()), watch.one("Service", f.getKey()), "watch " + f.getKey());
            }
        });
        List<String> nixArgs = NixTest.execStart(nix);
        List<String> args = SystemdUnit.execArgs(watch.one("Service", "ExecStart"));
        assertEquals("/var/lib/cc-ci/app/bin/watch", args.get(0));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
        Map<String, String> nixEnv = new LinkedHashMap<>();
        nix.path("environment").fields().forEachRemaining(f -> nixEnv.put(f.getKey(), f.getValue().asText()));
        assertEquals(nixEnv, watch.environment());
        assertEquals(List.of("docker.service"), watch.section("Unit").get("Wants"));
        assertEquals(List.of("multi-user.target"), watch.section("Install").get("WantedBy"));
    }

    /**
     * install --evict-to/--keep/--min-age (and --max-unused-age, --evict-max, --min-free,
     * --build-cache-max) give the prune unit the arguments the module's evictTo/keep/minAge
     * (maxUnusedAge, evictMax, minFree, buildCacheMax) give it.
     */
    @Test
    void evictionOptionsReachThePruneUnitAsTheModulesDo() throws Exception {
        Path elsewhere = root.resolve("evicting");
        Path prefix = elsewhere.resolve("prefix");
        // the main install's build, copied: install builds nothing again (its sources and JDK are the same)
        Files.createDirectories(prefix);
        CommandResult copied = Cmd.run(List.of("cp", "-a", SystemdUnitsTest.prefix.resolve("app").toString(), prefix.toString()), null, root);
        assertEquals(0, copied.exit(), copied.toString());
        String metricsFile = elsewhere.resolve("textfile/ci-docker-prune.prom").toString();
        String keep = "^registry.example.org/base/.*:$table";
        CommandResult installed = install(List.of("--no-enable", "--prefix", prefix.toString(), "--unit-dir",
                elsewhere.resolve("units").toString(), "--metrics-file", metricsFile,
                "--evict-to", "75", "--keep", keep, "--keep", ":stable$", "--min-age", "3d", "--max-unused-age", "30d", "--evict-max", "5",
                "--min-free", "5G", "--build-cache-max", "10G"));
        assertEquals(0, installed.exit(), installed.toString());
        assertTrue(installed.err().contains("built from these sources and this JDK already: not building them again")
                && !installed.err().contains("install: building "), installed.toString());
        SystemdUnit unit = SystemdUnit.parse(Files.readString(elsewhere.resolve("units/" + UNIT + ".service")));
        List<String> args = SystemdUnit.execArgs(unit.one("Service", "ExecStart"));
        // install --prefix moves the state file and watch's record with the rest: prune reads the record there
        assertEquals(List.of("--last-use", prefix.resolve("last-use.json").toString()), args.subList(args.size() - 2, args.size()));
        args = args.subList(0, args.size() - 2);
        String scenario = "{\"e\":{\"settings\":{\"enable\":true,\"evictTo\":75,\"minAge\":\"3d\",\"maxUnusedAge\":\"30d\","
                + "\"evictMax\":5,\"minFree\":\"5G\",\"buildCacheMax\":\"10G\",\"keep\":[\""
                + keep.replace("\\", "\\\\") + "\",\":stable$\"],\"dataRoot\":\"" + dataRoot + "\",\"metricsFile\":\"" + metricsFile
                + "\",\"stateFile\":\"" + prefix.resolve("state.json") + "\"}}}";
        List<String> nixArgs = NixTest.execStart(Nix.eval(NixTest.EVAL, Map.of("scenarios", scenario), "scenarios.e.systemd.services." + UNIT));
        assertEquals(nixArgs.subList(1, nixArgs.size()), args.subList(1, args.size()));
        assertEquals(List.of("--build-cache-max", "10G", "--min-free", "5G", "--evict-to", "75", "--max-unused-age", "30d", "--evict-max", "5",
                "--min-age", "3d", "--keep", keep, "--keep", ":stable$"), args.subList(args.indexOf("--build-cache-max"), args.size()));
        CommandResult verify = NixTest.verify(elsewhere.resolve("units/" + UNIT + ".service"));
        assertEquals(0, verify.exit(), verify.toString());

        // and the unit's line runs, below the threshold, as the unit runs it: with --max-unused-age it asks the engine even
        // then (that option evicts whatever the disk once the workload gates hold), and with none to reach, says so (exit 11)
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(unit.one("Service", "ExecStart")));
        daily.set(daily.indexOf("--path") + 1, root.toString());
        daily.addAll(List.of("--host", "unix://" + root.resolve("no-engine.sock"), "--lock-file", root.resolve("evicting.lock").toString()));
        CommandResult run = Cmd.run(daily, unitEnvironment(), root);
        assertEquals(11, run.exit(), run.toString());
        assertTrue(run.out().startsWith("keeping local image cache, nothing to do: disk: "), run.toString());
        assertTrue(run.err().startsWith("prune: cannot reach the Docker engine at "), run.toString());
    }

    /** install's own options (their form, their combinations): one line and exit 12 before anything is built. */
    @Test
    void badOptionsAreOneLineAndExit12BeforeBuilding() {
        Path elsewhere = root.resolve("bad-options");
        for (List<String> args : List.of(List.of("--frobnicate"), List.of("--prefix"), List.of("--prefix", "relative/dir"),
                List.of("--prefix", "/with space"), List.of("--on-failure", "not a unit"), List.of("--on-failure", "notify"),
                List.of("--keep", "a"), List.of("--evict-max", "3"), List.of("--evict-to", "70", "--keep", ""), List.of("--evict-to", "70\n"),
                List.of("--fleet-timeout", "5m"), List.of("--fleet-image", "x:1", "--docker-config", "relative"),
                List.of("--containerd-root", "relative/dir"), List.of("--data-root", "relative/dir"),
                List.of("--metrics-file", "/tmp/x.prom"), List.of("--on-calendar", "every day at noon"))) {
            List<String> all = new ArrayList<>(List.of("--no-enable", "--no-metrics", "--prefix", elsewhere.toString()));
            all.addAll(args); // a later --prefix wins
            CommandResult run = install(all);
            assertEquals(12, run.exit(), args + ": " + run);
            assertEquals(1, run.err().lines().count(), args + ": one line: " + run);
            assertTrue(run.err().startsWith("install: "), run.toString());
        }
        assertFalse(Files.exists(elsewhere), "nothing built or installed");
    }

    /**
     * The values install does not judge itself are judged by the commands: install runs prune (and
     * watch) built from this clone with the units' exact arguments and --check-options, and refuses
     * with the command's own line, exit 12, before anything is installed. (Regression: `install
     * --evict-to 70 --keep '^(base'` installed, exit 0, and the unit then exited 12 every day.)
     */
    @Test
    void valuesTheCommandsRefuseAreRefusedWithTheirOwnLineBeforeInstalling() {
        Path elsewhere = root.resolve("refused");
        Map<List<String>, String> refused = new LinkedHashMap<>();
        refused.put(List.of("--evict-to", "70", "--keep", "^(base"), "prune: --keep '^(base' is not a valid regular expression");
        refused.put(List.of("--evict-to", "" + Defaults.THRESHOLD_PERCENT),
                "prune: --evict-to " + Defaults.THRESHOLD_PERCENT + " must be below --threshold " + Defaults.THRESHOLD_PERCENT);
        refused.put(List.of("--evict-to", "x"), "prune: --evict-to 'x'");
        refused.put(List.of("--evict-to", "70", "--min-age", "1 day"), "prune: --min-age '1 day'");
        refused.put(List.of("--fleet-image", "cc-ci:1 --all"), "prune: --image 'cc-ci:1 --all' is not an image reference");
        refused.put(List.of("--fleet-image", "x:1", "--fleet-timeout", "ten"), "prune: --fleet-timeout 'ten'");
        refused.put(List.of("--fleet-image", "x:1", "--evict-to", "70"), "prune: --evict-to is per host: not with --fleet");
        refused.put(List.of("--max-unused-age", "12h"), "prune: --max-unused-age 12h must be longer than --min-age 24h");
        refused.put(List.of("--containerd-root", "/nonexistent-containerd-root"), "prune: --path '/nonexistent-containerd-root' does not exist");
        refused.forEach((args, line) -> {
            // the main install's prefix: its build is this clone's, so the check uses it instead of building
            List<String> all = new ArrayList<>(List.of("--no-enable", "--no-metrics", "--prefix", prefix.toString(),
                    "--unit-dir", elsewhere.resolve("units").toString()));
            all.addAll(args);
            CommandResult run = install(all);
            assertEquals(12, run.exit(), args + ": " + run);
            assertEquals(1, run.err().lines().count(), args + ": one line: " + run);
            assertTrue(run.err().startsWith("install: ") && run.err().contains(line), args + ": " + run);
        });
        assertFalse(Files.exists(elsewhere), "nothing built or installed");
    }

    private static String text(JsonNode v) {
        return v.isBoolean() ? (v.asBoolean() ? "true" : "false") : v.asText();
    }

    /** What the service runs with: systemd's PATH and the unit's Environment= lines, nothing else. */
    static Map<String, String> unitEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", NixTest.SYSTEMD_PATH);
        service.environment().forEach((k, v) -> env.put(k, moved(v)));
        return env;
    }

    /**
     * The unit's exact ExecStart, with only the unit's environment and systemd's PATH (no HOME, no
     * JBang, no Maven), prunes a real engine: a dry run, with --path aimed at the sandbox's data root.
     */
    @Test
    void theDailyRunNeedsNothingButTheBuiltCommand() throws Exception {
        Map<String, String> env = unitEnvironment();
        assertFalse(env.containsKey("LANG"), "no locale, as systemd runs it");
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(installedService().one("Service", "ExecStart")));
        assertFalse(String.join(" ", daily).contains("jbang"), "the daily run does not go through JBang: " + daily);
        assertEquals(Sandboxes.sharedSwarm().dataRoot().toString(), daily.get(daily.indexOf("--path") + 1));
        daily.addAll(List.of("--threshold", "1", "--dry-run", "--json", "--host", Sandboxes.sharedSwarm().host(),
                "--lock-file", root.resolve("prune.lock").toString()));

        CommandResult run = Cmd.run(daily, env, root);
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals("dry-run", report.path("outcome").asText(), report.toString());
        for (JsonNode gate : report.path("gates")) {
            assertEquals("holds", gate.path("state").asText(), "every gate evaluated: " + report);
        }
        assertEquals("", run.err());
    }

    /**
     * Each installed command starts from its class-data-sharing archive (JDK 25+: its AOT cache):
     * made strict (-Xshare:on, -XX:AOTMode=on), the JVM refuses to start when the archive does not
     * match the jars (e.g. one rebuilt after training).
     */
    @Test
    void everyInstalledCommandsArchiveIsUsable() throws IOException {
        for (String command : installedCommands()) {
            List<String> strict = strict(prefix, command);
            strict.add("--version");
            CommandResult run = Cmd.run(strict, Map.of("PATH", NixTest.SYSTEMD_PATH), root);
            assertEquals(0, run.exit(), command + "'s archive cannot be used:\n" + run);
        }
    }

    /** An installed command's JVM command line (its wrapper's exec line), with the archive required. */
    static List<String> strict(Path prefix, String command) throws IOException {
        String wrapper = Files.readString(prefix.resolve("app/bin/" + command));
        Matcher exec = Pattern.compile("(?m)^exec (.*) \"\\$@\"$").matcher(wrapper);
        assertTrue(exec.find(), wrapper);
        List<String> strict = new ArrayList<>();
        for (String arg : exec.group(1).split(" ")) {
            if (!arg.startsWith("-Djna.tmpdir=")) {
                strict.add(arg.replace("-Xshare:auto", "-Xshare:on").replace("-XX:AOTMode=auto", "-XX:AOTMode=on"));
            }
        }
        assertTrue(strict.contains("-Xshare:on") || strict.contains("-XX:AOTMode=on"), wrapper);
        Matcher archive = Pattern.compile("-XX:(?:SharedArchiveFile|AOTCache)=(\\S+)").matcher(wrapper);
        assertTrue(archive.find() && Files.isRegularFile(Path.of(archive.group(1))), "no archive for " + command + ": " + wrapper);
        return strict;
    }

    /**
     * prune's archive is trained on the daily no-op the unit runs: run as the unit runs it (its
     * ExecStart, the archive required), every class of the toolkit comes from the archive.
     */
    @Test
    void theDailyNoOpStartsWithEveryToolkitClassFromTheArchive() throws IOException {
        assertEveryToolkitClassFromTheArchive(prefix, units);
    }

    /** The daily no-op of the prune unit installed in units, with the archive of the commands installed in prefix required. */
    static void assertEveryToolkitClassFromTheArchive(Path prefix, Path units) throws IOException {
        List<String> daily = strict(prefix, "prune");
        daily.add(daily.indexOf("-jar"), "-Xlog:class+load=info:stdout");
        List<String> args = SystemdUnit.execArgs(SystemdUnit.parse(Files.readString(units.resolve(UNIT + ".service"))).one("Service", "ExecStart"));
        daily.addAll(args.subList(1, args.size()));
        daily.set(daily.indexOf("--path") + 1, root.toString());
        daily.addAll(List.of("--host", "unix://" + root.resolve("no-engine.sock"), "--lock-file", root.resolve("prune.lock").toString()));
        CommandResult run = Cmd.run(daily, Map.of("PATH", NixTest.SYSTEMD_PATH), root);
        assertEquals(0, run.exit(), run.toString());
        List<String> toolkit = run.out().lines().filter(l -> l.contains("class,load") && l.matches(".* (ccci\\.|Prune ).*")).toList();
        assertTrue(toolkit.size() > 20, run.out());
        List<String> fromJar = toolkit.stream().filter(l -> !l.contains("shared objects file")).toList();
        assertEquals(List.of(), fromJar, "toolkit classes the daily no-op loaded from the jar, not the archive");
    }

    /**
     * On JDK 25+ install keeps an AOT cache instead (-XX:AOTCache), trained on the daily no-op too:
     * an install with such a JDK first on PATH (skipped when the host has none).
     */
    @Test
    void onJdk25TheCommandsStartFromAnAotCache() throws Exception {
        Path jdk25 = jdk(25);
        Assumptions.assumeTrue(jdk25 != null, "no JDK 25+ in /usr/lib/jvm");
        Path prefix25 = root.resolve("jdk25/var/lib/cc-ci");
        Map<String, String> env = installEnvironment();
        env.put("PATH", jdk25.resolve("bin") + ":" + env.get("PATH"));
        CommandResult installed = Cmd.run(List.of(Repo.root().resolve(INSTALL).toString(), "--prefix", prefix25.toString(),
                "--unit-dir", root.resolve("jdk25/units").toString(), "--no-enable",
                "--metrics-file", root.resolve("jdk25/textfile/ci-docker-prune.prom").toString()), env, root);
        assertEquals(0, installed.exit(), installed.toString());
        for (String command : installedCommands()) {
            List<String> strict = strict(prefix25, command);
            assertTrue(strict.get(0).startsWith(jdk25.toString()), strict.toString());
            assertTrue(strict.stream().anyMatch(a -> a.startsWith("-XX:AOTCache=")), strict.toString());
            strict.add("--version");
            CommandResult run = Cmd.run(strict, Map.of("PATH", NixTest.SYSTEMD_PATH), root);
            assertEquals(0, run.exit(), command + "'s AOT cache cannot be used:\n" + run);
        }
        assertEveryToolkitClassFromTheArchive(prefix25, root.resolve("jdk25/units"));
    }

    /** A JDK of at least this feature release in /usr/lib/jvm, or null. */
    static Path jdk(int release) throws IOException {
        if (!Files.isDirectory(Path.of("/usr/lib/jvm"))) {
            return null;
        }
        try (var dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path dir : dirs.sorted().toList()) {
                Path file = dir.resolve("release");
                if (Files.isRegularFile(dir.resolve("bin/java")) && Files.isRegularFile(file)) {
                    Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)").matcher(Files.readString(file));
                    if (m.find() && Integer.parseInt(m.group(1)) >= release) {
                        return dir.toRealPath();
                    }
                }
            }
        }
        return null;
    }

    /** The daily no-op on a disk below the threshold: decided from --path alone, the engine not even named; it writes the metrics. */
    @Test
    void theDailyNoOpBelowTheThresholdNeedsNoEngine() throws IOException {
        List<String> daily = new ArrayList<>(SystemdUnit.execArgs(installedService().one("Service", "ExecStart")));
        daily.set(daily.indexOf("--path") + 1, root.toString());
        daily.addAll(List.of("--host", "unix://" + root.resolve("no-engine.sock"), "--lock-file", root.resolve("prune.lock").toString()));
        CommandResult run = Cmd.run(daily, unitEnvironment(), root);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().startsWith("keeping local image cache, nothing to do: disk: "), run.toString());
        assertEquals("", run.err(), run.toString());
        assertEquals(java.util.Optional.of("noop"), PruneState.load(prefix.resolve("state.json")).state().lastOutcome(),
                "the state file the unit names (moved with the prefix) remembers the run");
        assertTrue(Files.readString(metrics).contains("\nci_docker_prune_last_run_timestamp_seconds "), "the unit writes its metrics");
    }
}
