package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.GatePolicy;
import ccci.PruneFormat;
import ccci.PruneRun;
import ccci.Until;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FirstLookTest {
    @Test
    void aTornDownStacksImageStaysAndDebrisGoes() {
        FakeHost host = new FakeHost(FakeHost.Store.CLASSIC);
        FakeState s = host.state();
        s.disk(10_000_000_000L, 8_500_000_000L);
        Instant old = s.now().minus(Duration.ofDays(30));
        var app = s.registryImage("localhost:5000/acc/app:1", old, Map.of("l-app-1", 50_000_000L));
        var svc = s.service("abcd-123456_ci_commoninternet_net_app", "localhost:5000/acc/app:1@" + app.digest());
        host.removeService(svc.id);
        FakeState.Image debris = s.image().created(old);
        s.container("old-job", debris, "exited").created(old);
        var settings = PruneRun.Settings.of(GatePolicy.Settings.parse("80", GatePolicy.Settings.DEFAULT_STACK_PATTERN, null), Until.parse("24h"));
        PruneRun.Report report = PruneRun.run(() -> host, host, settings, false, new PruneRun.Listener() {}, Clock.fixed(s.now(), ZoneOffset.UTC));
        System.out.println(PruneFormat.text(report));
        System.out.println(host.changes());
    }
}
