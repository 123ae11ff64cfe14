//SOURCES AuthCheckRun.java Cli.java Json.java Registry.java Text.java
package ccci;

import ccci.Cli.ExitCodes;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** Renders auth-check: a line per check, a verdict line and a summary line; or one JSON object. */
public final class AuthCheckFormat {
    private AuthCheckFormat() {}

    public static String text(AuthCheckRun.Report r) {
        Text.Lines out = new Text.Lines();
        for (AuthCheckRun.Check c : r.checks()) {
            out.add(String.format(Locale.ROOT, "%-12s %-7s %s", c.name(), c.state().word(), Text.safe(c.detail())));
        }
        out.add(Text.safe(switch (r.exitCode()) {
            case ExitCodes.OK -> "PASS: user " + r.user().orElse("?") + " is accepted by " + r.registry();
            case ExitCodes.AUTH_CONFIG_EXPOSED -> "WARN: user " + r.user().orElse("?") + " is accepted by "
                    + r.registry() + ", but fix the file: " + r.reason().orElse("");
            default -> "FAIL: " + r.reason().orElse("");
        }));
        out.add(summary(r));
        return out.toString();
    }

    public static String summary(AuthCheckRun.Report r) {
        Text.Summary s = new Text.Summary();
        s.put("verdict", r.verdict());
        s.put("exit", r.exitCode());
        s.put("registry", r.registry());
        r.user().ifPresent(u -> s.put("user", u));
        s.put("config", r.configFile());
        r.mode().ifPresent(m -> {
            s.put("mode", m.octal());
            s.put("exposed", m.exposed());
        });
        r.accepted().ifPresent(a -> s.put("accepted", a));
        r.reason().ifPresent(v -> s.put("reason", v));
        return s.toString();
    }

    public static String json(AuthCheckRun.Report r) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("ok", r.ok());
        root.put("verdict", r.verdict());
        root.put("exitCode", r.exitCode());
        root.put("registry", r.registry());
        r.user().ifPresentOrElse(u -> root.put("user", u), () -> root.putNull("user"));
        root.put("configFile", r.configFile().toString());
        r.mode().flatMap(Registry.FileMode::linkTarget).ifPresentOrElse(t -> root.put("linkTarget", t.toString()),
                () -> root.putNull("linkTarget"));
        r.mode().ifPresentOrElse(m -> root.put("mode", m.octal()), () -> root.putNull("mode"));
        r.mode().ifPresentOrElse(m -> root.put("exposed", m.exposed()), () -> root.putNull("exposed"));
        r.accepted().ifPresentOrElse(a -> root.put("accepted", a), () -> root.putNull("accepted"));
        r.reason().ifPresentOrElse(v -> root.put("reason", v), () -> root.putNull("reason"));
        root.put("host", r.host());
        ArrayNode checks = root.putArray("checks");
        for (AuthCheckRun.Check c : r.checks()) {
            ObjectNode node = checks.addObject();
            node.put("name", c.name());
            node.put("state", c.state().word());
            node.put("detail", c.detail());
        }
        return root.toPrettyString() + System.lineSeparator();
    }
}
