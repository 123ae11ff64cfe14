package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ccci.EngineApi;
import ccci.HostSnapshot;
import ccci.fake.FakeHost;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The containerd store answers GET /system/df with "snapshot not found" while a container is being
 * removed (seen on 28.5 in the fleet's engine tests): the picture of the host is read again, a few
 * times, instead of failing the run; any other refusal fails at once.
 */
class DiskUsageRaceTest {
    @Test
    void aMissingSnapshotWhileAContainerGoesIsAskedAgain() {
        FakeHost host = new FakeHost(FakeHost.Store.CONTAINERD);
        host.state().image("app:1");
        AtomicInteger refused = new AtomicInteger();
        host.fault(r -> r.startsWith("GET /system/df") && refused.incrementAndGet() <= 2
                ? Optional.of(new EngineApi.Refused(500, "the Docker engine at fake answered HTTP 500 to GET /system/df: failed to retrieve "
                        + "container list: rw layer snapshot not found for container 1", "failed to retrieve container list: rw layer "
                        + "snapshot not found for container 1"))
                : Optional.empty());
        HostSnapshot snapshot = HostSnapshot.read(host, HostSnapshot.Depth.STORE, host.state().now());
        assertEquals(1, snapshot.requireStore().topLevel().size());
        assertEquals(3, refused.get());
    }

    @Test
    void anyOtherRefusalFailsAtOnceAndTheRaceOnlyAFewTimes() {
        FakeHost host = new FakeHost(FakeHost.Store.CONTAINERD);
        AtomicInteger asked = new AtomicInteger();
        host.fault(r -> r.startsWith("GET /system/df") && asked.incrementAndGet() > 0
                ? Optional.of(new EngineApi.Refused(500, "x", "a disk usage operation is already running")) : Optional.empty());
        assertThrows(EngineApi.Refused.class, () -> HostSnapshot.read(host, HostSnapshot.Depth.STORE, host.state().now()));
        assertEquals(1, asked.get());
        asked.set(0);
        host.fault(r -> r.startsWith("GET /system/df") && asked.incrementAndGet() > 0
                ? Optional.of(new EngineApi.Refused(404, "x", "NotFound: snapshot abc does not exist: not found")) : Optional.empty());
        assertThrows(EngineApi.Refused.class, () -> HostSnapshot.read(host, HostSnapshot.Depth.STORE, host.state().now()));
        assertEquals(HostSnapshot.DF_TRIES, asked.get());
    }
}
