package ccci.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.HostSnapshot;
import ccci.InUse;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A consequence of what {@link ImageStoreContractTest} and {@link WorkloadContractTest} show of the
 * containerd store: its RepoDigests name one repository only (the image's last record by name),
 * while the image's ID is its manifest digest. A service that names an image by digest alone in one
 * repository must still protect it when another name of the image sorts after that repository's
 * (here scaled to 0, so no container or task protects it instead).
 */
class ContainerdDigestNamesTest {
    @Test
    void aServiceNamingTheImageByDigestProtectsItWhateverRepositoryTheListingShows() {
        FakeHost host = new FakeHost(FakeHost.Store.CONTAINERD);
        FakeState s = host.state();
        FakeState.RegistryImage r = s.registryImage("localhost:5000/ci/app:1", s.now().minus(Duration.ofDays(2)), Map.of("app-layer", 9_000_000L));
        String byDigest = "localhost:5000/ci/app@" + r.digest();
        s.service("app", byDigest).replicas(0);
        host.pull("localhost:5000/ci/app", r.digest(), java.util.Optional.empty(), Duration.ofSeconds(5), m -> {});
        host.tagImage(r.imageId(), "zzz.example/app", "1"); // a later name: the listing's one RepoDigest is now of this repository

        HostSnapshot snapshot = HostSnapshot.read(host, HostSnapshot.Depth.STORE, s.now());
        HostSnapshot.Image image = snapshot.requireStore().image(r.imageId()).orElseThrow();
        assertEquals(List.of("zzz.example/app@" + r.digest()), image.repoDigests(), "the store lists one repository's digest");
        assertTrue(image.tags().contains(byDigest), "its record by digest is among its names: " + image.tags());
        List<InUse.Reason> users = InUse.users(snapshot, image);
        assertTrue(users.stream().anyMatch(u -> u.kind() == InUse.Kind.SERVICE), "the service protects it: " + users);
    }
}
