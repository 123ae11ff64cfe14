package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.GatePolicy.Verdict;
import ccci.sandbox.CommandResult;
import ccci.sandbox.Provision;
import ccci.sandbox.WholeProduct;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/prometheus/ci-docker-prune.rules.yml: promtool accepts it; its unit tests pass, exercise
 * every alert firing and not firing, and fail when an alert could never fire; and every series the
 * rules read is one prune writes.
 */
@WholeProduct
class AlertRulesTest {
    static final String RULES = "deploy/prometheus/ci-docker-prune.rules.yml";
    static final String RULE_TESTS = "deploy/prometheus/ci-docker-prune.rules.test.yml";
    static final List<String> ALERTS = List.of("CiDockerPruneInsufficient", "CiDockerPruneBlockedTooLong",
            "CiDockerPruneLastSuccessTooOld", "CiDockerPruneGateUnknown", "CiDockerPruneMetricsMissing",
            "CiDockerPruneNothingRemovable");

    static String promtool() {
        return Provision.ensureBinary("promtool", "prometheus").toString();
    }

    static List<String> alertsIn(String rules) {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s+- alert: (\\S+)$").matcher(rules);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void promtoolChecksTheRules() {
        CommandResult check = Cmd.run(List.of(promtool(), "check", "rules", RULES), null, Repo.root());
        assertEquals(0, check.exit(), check.toString());
        assertTrue(check.out().contains("SUCCESS: " + ALERTS.size() + " rules found"), check.toString());
        assertEquals(ALERTS, alertsIn(Repo.read(RULES)));
    }

    @Test
    void promtoolsUnitTestsPass() {
        CommandResult test = Cmd.run(List.of(promtool(), "test", "rules", RULE_TESTS), null, Repo.root());
        assertEquals(0, test.exit(), test.toString());
        assertTrue(test.out().contains("SUCCESS"), test.toString());
    }

    /** Each alert has a case expecting no alert and a case expecting one. */
    @Test
    void everyAlertIsTestedFiringAndNotFiring() {
        String tests = Repo.read(RULE_TESTS);
        for (String alert : ALERTS) {
            assertTrue(Pattern.compile("alertname: " + alert + "\\n\\s+exp_alerts: \\[]").matcher(tests).find(),
                    alert + " has no case where it does not fire");
            assertTrue(Pattern.compile("alertname: " + alert + "\\n\\s+exp_alerts:\\n\\s+- exp_labels:").matcher(tests).find(),
                    alert + " has no case where it fires");
        }
    }

    /** The unit tests can fail: with any one alert unable to fire, promtool test rules says so. */
    @Test
    void theUnitTestsFailWhenAnAlertCannotFire(@TempDir Path dir) throws Exception {
        String rules = Repo.read(RULES);
        Files.copy(Repo.root().resolve(RULE_TESTS), dir.resolve("ci-docker-prune.rules.test.yml"));
        for (String alert : ALERTS) {
            Matcher expr = Pattern.compile("(- alert: " + alert + "\\n(?:\\s+#[^\\n]*\\n)?\\s+expr: )(\\|\\n(?:\\s{10}[^\\n]*\\n)+|[^\\n]*\\n)")
                    .matcher(rules);
            assertTrue(expr.find(), "no expr for " + alert);
            Files.writeString(dir.resolve("ci-docker-prune.rules.yml"), expr.replaceFirst("$1vector(0) > 1\n"));
            CommandResult test = Cmd.run(List.of(promtool(), "test", "rules", "ci-docker-prune.rules.test.yml"), null, dir);
            assertNotEquals(0, test.exit(), alert + " never firing went unnoticed:\n" + test);
            assertTrue(test.out().contains(alert) || test.err().contains(alert), test.toString());
        }
    }

    /** What the rules read is what prune writes: metric names and the label values they select. */
    @Test
    void everySeriesTheRulesReadIsOnePruneWrites() {
        Instant now = Instant.parse("2026-06-10T00:00:00Z");
        Verdict full = GatePolicy.evaluate(GatePolicyTest.DEFAULTS, Reading.failed("engine unreachable"),
                Reading.ok(List.of(new Disk(Path.of("/var/lib/docker"), 91L << 30, 9L << 30))));
        PruneState state = new PruneState(Optional.of(now.minus(Duration.ofDays(9))), Optional.of(now.minus(Duration.ofDays(4))),
                Optional.empty(), Optional.empty());
        PruneRun.Report blocked = PruneRun.Report.of(full, System.nanoTime())
                .state(new PruneRun.StateReport(Path.of("/var/lib/cc-ci/state.json"), state, List.of()))
                .end(PruneRun.Outcome.BLOCKED_TOO_LONG, Cli.ExitCodes.BLOCKED_TOO_LONG);
        String written = PruneMetrics.render(blocked, now, Optional.empty())
                + PruneMetrics.render(PruneRun.Report.of(full, System.nanoTime()).end(PruneRun.Outcome.INSUFFICIENT,
                        Cli.ExitCodes.INSUFFICIENT), now, Optional.of("1.000"));

        Matcher selector = Pattern.compile("(ci_docker_prune_[a-z_]+)(\\{[^}]*})?").matcher(Repo.read(RULES));
        TreeSet<String> read = new TreeSet<>();
        while (selector.find()) {
            read.add(selector.group());
            assertTrue(written.contains("\n" + selector.group(1) + (selector.group(2) == null ? " " : "{")),
                    selector.group(1) + " is not written by prune:\n" + written);
            if (selector.group(2) != null) {
                for (String label : selector.group(2).replaceAll("[{}]", "").split(",")) {
                    assertTrue(written.contains(label.strip()), label + " (" + selector.group() + ") is not written by prune");
                }
            }
        }
        assertTrue(read.containsAll(List.of("ci_docker_prune_insufficient", "ci_docker_prune_outcome{outcome=\"blocked-too-long\"}",
                "ci_docker_prune_gate_state{state=\"unknown\"}", "ci_docker_prune_last_success_timestamp_seconds",
                "ci_docker_prune_last_run_timestamp_seconds", "ci_docker_prune_nothing_removable")), read.toString());
    }
}
