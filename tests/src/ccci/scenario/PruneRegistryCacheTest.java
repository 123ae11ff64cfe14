package ccci.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Json;
import ccci.PruneFormat;
import ccci.PrunePolicy;
import ccci.PruneRun;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The registry cache a redeploy needs (issue 18, items 0 and 4), on both stores: a stack deploy
 * brings its image by digest (untagged on the classic store, which the engine's own dangling-image
 * prune would remove); torn down, the image survives prune as the newest of its repository here,
 * and the redeploy pulls nothing. An older pull superseded by a newer one of the same repository
 * goes; a service scaled to 0 keeps its image, superseded or not.
 */
class PruneRegistryCacheTest {
    static final String STACK = "abcd-123456_ci_commoninternet_net";
    static final String SERVICE = STACK + "_app";
    static final Duration MONTH = Duration.ofDays(30);

    /** POST /services/create as `docker stack deploy` sends it: the image pinned name:tag@digest, the stack's label. */
    static JsonNode spec(String name, String image, long replicas) {
        ObjectNode spec = Json.mapper().createObjectNode();
        spec.put("Name", name);
        spec.putObject("Labels").put("com.docker.stack.namespace", STACK);
        spec.putObject("TaskTemplate").putObject("ContainerSpec").put("Image", image);
        spec.putObject("Mode").putObject("Replicated").put("Replicas", replicas);
        return spec;
    }

    static String deploy(FakeHost host, String image) {
        return host.createService(spec(SERVICE, image, 1), Optional.empty()).path("ID").asText();
    }

    /** The engine's pull events so far (a deploy that brings its image makes one, whoever asked). */
    static List<String> pulls(FakeHost host) {
        List<String> pulls = new ArrayList<>();
        host.events(Instant.EPOCH, List.of("image"), e -> {
            if (e.path("Action").asText().equals("pull")) {
                pulls.add(e.path("Actor").path("ID").asText());
            }
        });
        return pulls;
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void aTornDownStacksImageSurvivesPruneAndTheRedeployPullsNothing(FakeHost.Store store) {
        FakeHost host = OnFake.fullHost(store);
        FakeState s = host.state();
        Instant old = s.now().minus(MONTH);
        FakeState.RegistryImage app = s.registryImage("localhost:5000/acc/app:1", old, Map.of("l-base", 40_000_000L, "l-app-1", 9_000_000L));
        String pinned = "localhost:5000/acc/app:1@" + app.digest();
        host.removeService(deploy(host, pinned));
        assertEquals(List.of(pinned), pulls(host), "the deploy brought the image");
        assertEquals(store == FakeHost.Store.CLASSIC ? List.of() : List.of(pinned), host.imageTags().get(app.imageId()),
                "a digest pull keeps no tag on the classic store, a record of its name on the containerd store");
        s.advance(Duration.ofDays(3)); // older than --until on either store

        PruneRun.Report dry = OnFake.prune(host, "24h", true);
        PrunePolicy.Item planned = dry.plan().orElseThrow().images().stream().filter(i -> i.id().equals(app.imageId())).findFirst()
                .orElseThrow();
        if (store == FakeHost.Store.CLASSIC) {
            assertEquals(PrunePolicy.Why.CACHE, planned.why(), planned.toString());
            assertEquals("cache: the newest image of localhost:5000/acc/app here, pulled by digest (a redeploy needs it)", planned.reason());
            assertTrue(PruneFormat.text(dry, true).contains("  keep   image       " + OnFake.shortId(app.imageId())
                    + " localhost:5000/acc/app:<non\u2026"), PruneFormat.text(dry, true));
        } else {
            assertEquals(PrunePolicy.Why.TAGGED, planned.why(), planned.toString());
        }
        PruneRun.Report real = OnFake.prune(host, "24h", false);
        assertTrue(s.imageById(app.imageId()).isPresent(), "the cache survives prune\n" + PruneFormat.text(real));
        assertFalse(host.changes().contains("DELETE /images/" + app.imageId()), host.changes().toString());

        host.clearRequests();
        deploy(host, pinned);
        assertEquals(List.of(pinned), pulls(host), "the redeploy pulled nothing");
        assertFalse(host.requests().stream().anyMatch(r -> r.startsWith("POST /images/create")), host.requests().toString());
        assertEquals(1, host.containers(false).size(), "the redeployed task runs");
    }

    /**
     * Two versions of a repository deployed one after the other under the same tag: on the classic
     * store the older pull, superseded, goes once older than --until, and the newer stays as the
     * cache; scaled to 0, a service keeps the older one all the same. On the containerd store each
     * keeps the record its deploy left (name:tag@digest, listed among RepoTags): both stay, tagged.
     */
    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void anOlderPullSupersededGoesUnlessAServiceScaledTo0StillNamesIt(FakeHost.Store store) {
        for (boolean scaledTo0 : List.of(false, true)) {
            FakeHost host = OnFake.fullHost(store);
            FakeState s = host.state();
            Instant old = s.now().minus(MONTH);
            FakeState.RegistryImage v1 = s.registryImage("localhost:5000/acc/app:latest", old, Map.of("l-app-1", 9_000_000L));
            FakeState.RegistryImage v2 = s.registryImage("localhost:5000/acc/app:latest", old.plus(Duration.ofDays(1)),
                    Map.of("l-app-2", 9_000_000L));
            String v1Pin = "localhost:5000/acc/app:latest@" + v1.digest();
            host.removeService(deploy(host, v1Pin));
            FakeState.Service rollback = scaledTo0 ? s.service("rollback", v1Pin).replicas(0) : null;
            host.removeService(deploy(host, "localhost:5000/acc/app:latest@" + v2.digest()));
            s.advance(Duration.ofDays(3));
            boolean classic = store == FakeHost.Store.CLASSIC;
            assertEquals(classic ? List.of() : List.of(v1Pin), host.imageTags().get(v1.imageId()));

            PruneRun.Report report = OnFake.prune(host, "24h", false);
            String text = PruneFormat.text(report);
            assertTrue(s.imageById(v2.imageId()).isPresent(), "the newest stays\n" + text);
            assertEquals(classic && !scaledTo0, s.imageById(v1.imageId()).isEmpty(), "the superseded pull " + (scaledTo0 ? "stays" : "goes") + "\n" + text);
            PrunePolicy.Item v1Item = report.plan().orElseThrow().images().stream().filter(i -> i.id().equals(v1.imageId())).findFirst()
                    .orElseThrow();
            String rollbackUses = "in use by service rollback (0 desired, 0 running)";
            String why = !classic ? (scaledTo0 ? rollbackUses + "; tagged" : "tagged") : scaledTo0 ? rollbackUses
                    : "superseded by " + OnFake.shortId(v2.imageId()) + " (localhost:5000/acc/app:<none>) and older than 24h";
            assertEquals(why, v1Item.reason());
            if (scaledTo0) {
                rollback.replicas(1); // scaled back up: no pull
                assertEquals(2, pulls(host).size(), "only the two deploys pulled: " + pulls(host));
            }
        }
    }
}
