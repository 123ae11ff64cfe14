package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Cli.ExitCodes;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * reuse-proof's steps on the fake host, in milliseconds: the sequence a stack deploy really follows
 * (no pull by tag before the deploy), what each step says, the refusals that change nothing, the
 * prune step's gates, and a host where prune would lose the cache. The real engines run the same
 * proof in ReuseProofEngineTest.
 */
class ReuseProofStepsTest {
    static final String IMAGE = "localhost:5000/ci/app:1";
    static final String REPO = "localhost:5000/ci/app";
    static final String LIVE_STACK = "abcd-12ab34_ci_commoninternet_net_app";

    @TempDir Path temp;

    FakeHost host;
    FakeState s;
    FakeState.RegistryImage served;

    /** A host with the registry serving IMAGE (built 30 days ago), and a client config logged in to it. */
    void host(FakeHost.Store store) throws IOException {
        host = new FakeHost(store);
        s = host.state();
        served = s.registryImage(IMAGE, s.now().minus(Duration.ofDays(30)), Map.of("l-base", 5_000_000L, "l-app", 20_000_000L));
        String auth = Base64.getEncoder().encodeToString("ci:secret".getBytes(StandardCharsets.UTF_8));
        Files.writeString(temp.resolve("config.json"), "{\"auths\":{\"localhost:5000\":{\"auth\":\"" + auth + "\"}}}");
    }

    /** IMAGE pulled by tag, as an operator would have it. */
    void imageHere() {
        host.pull(REPO, "1", java.util.Optional.empty(), Duration.ofSeconds(5), m -> {});
    }

    ReuseProofRun.Settings settings() {
        return ReuseProofRun.Settings.of(IMAGE, temp.toString(), temp.resolve("prune.lock").toString());
    }

    ReuseProofRun.Report prove(ReuseProofRun.Settings settings) {
        host.clearRequests();
        // the host's clock a second later at each reading: the steps' event windows do not overlap
        return ReuseProofRun.run(host, settings, new ReuseProofRun.Listener() {}, host, s.clock(Duration.ofSeconds(1)));
    }

    List<String> serviceNames() {
        List<String> names = new java.util.ArrayList<>();
        host.services().forEach(x -> names.add(x.path("Spec").path("Name").asText()));
        return names;
    }

    static String text(ReuseProofRun.Report r) {
        return r.steps().stream().map(ReuseProofFormat::stepLine).collect(Collectors.joining("\n")) + "\n"
                + ReuseProofFormat.ending(r);
    }

    static String step(ReuseProofRun.Report r, ReuseProofRun.Step step) {
        return r.steps().stream().filter(x -> x.step() == step).findFirst().map(ReuseProofFormat::stepLine)
                .orElseThrow(() -> new AssertionError("no step " + step.key + " in\n" + text(r)));
    }

    @ParameterizedTest
    @EnumSource(FakeHost.Store.class)
    void passesTheWayAStackDeployBringsAnImageWithoutAPullByTagFirst(FakeHost.Store store) throws IOException {
        host(store);
        imageHere();
        ReuseProofRun.Report r = prove(settings());
        String text = text(r);
        System.out.println("[" + store + "]\n" + text);
        assertEquals(ReuseProofRun.Outcome.PASS, r.outcome(), text);
        assertEquals(List.of("check", "remove", "deploy", "teardown", "prune", "retained", "redeploy", "warm-pull", "cleanup"),
                r.steps().stream().map(x -> x.step().key).toList(), text);
        assertTrue(r.steps().stream().allMatch(ReuseProofRun.StepResult::ok), text);
        // the engine was never asked to pull by tag: the deploy brought the image, by digest
        assertFalse(host.requests().contains("POST /images/create?fromImage=" + REPO + "&tag=1"), host.requests().toString());
        List<String> changes = host.changes();
        assertTrue(changes.indexOf("POST /services/create") < changes.indexOf("POST /images/create?fromImage=" + REPO + "&tag="
                + served.digest()), "only the warm pull pulls, by digest, after the deploys: " + changes);
        assertTrue(r.cold().orElseThrow().pulled() && !r.redeploy().orElseThrow().pulled(), text);
        assertEquals(IMAGE + "@" + served.digest(), r.cold().get().reference());
        if (store == FakeHost.Store.CLASSIC) {
            assertTrue(step(r, ReuseProofRun.Step.DEPLOY).contains(", untagged, only its digest " + REPO + "@" + served.digest()
                    + " (as a stack deploy leaves it on this store)"), text);
            assertTrue(step(r, ReuseProofRun.Step.PRUNE).contains("the proof's image " + LocalImage.shortId(served.imageId())
                    + " kept: cache: the newest image of " + REPO + " here"), text);
            assertEquals(PrunePolicy.Why.CACHE, r.prune().orElseThrow().why().orElseThrow());
            assertTrue(step(r, ReuseProofRun.Step.CLEANUP).contains("image kept, its tag " + IMAGE
                    + " put back (a deploy brings an image by its digest)"), text);
        } else {
            assertTrue(step(r, ReuseProofRun.Step.DEPLOY).contains(", tagged " + IMAGE), text);
            assertEquals(PrunePolicy.Why.TAGGED, r.prune().orElseThrow().why().orElseThrow());
        }
        assertTrue(step(r, ReuseProofRun.Step.REDEPLOY).contains("no pull: the engine found the image here by its digest, "
                + "0 layers downloaded"), text);
        // the containerd store keeps the names the deploy and the warm pull gave it (records name:tag@digest and
        // name@digest, listed among RepoTags: ImageStoreContractTest, WorkloadContractTest); cleanup says they stay
        assertEquals(store == FakeHost.Store.CLASSIC ? Set.of(IMAGE) : Set.of(IMAGE, IMAGE + "@" + served.digest(), REPO + "@" + served.digest()),
                Set.copyOf(host.imageTags().get(served.imageId())), "left as found: the image here, with its tag");
        if (store == FakeHost.Store.CONTAINERD) {
            assertTrue(step(r, ReuseProofRun.Step.CLEANUP).contains(" the deploy and the pull by digest gave it"), text);
        }
        assertEquals(List.of(), serviceNames(), "no service left");
        assertTrue(text.contains("PASS: " + IMAGE + " came by digest with the deploy, stayed through teardown and the toolkit's "
                + "prune, and the redeploy pulled nothing (cold deploy "), text);
    }

    @Test
    void anImageThatWasNotHereIsRemovedAgainAndTheJsonSaysWhatEachStepFound() throws IOException {
        host(FakeHost.Store.CLASSIC);
        ReuseProofRun.Report r = prove(settings());
        assertEquals(ReuseProofRun.Outcome.PASS, r.outcome(), text(r));
        assertTrue(step(r, ReuseProofRun.Step.REMOVE).contains("not here: nothing to remove"), text(r));
        assertTrue(step(r, ReuseProofRun.Step.CLEANUP).endsWith("image removed again (it was not here before the proof)"), text(r));
        assertFalse(host.imageTags().containsKey(served.imageId()), "left as found: the image is not here");
        JsonNode json = Json.mapper().readTree(ReuseProofFormat.json(r));
        assertEquals("PASS", json.path("verdict").asText());
        assertEquals(served.digest(), json.path("digest").asText());
        assertTrue(json.path("coldDeploy").path("pulled").asBoolean(), json.toString());
        assertEquals(0, json.path("coldDeploy").path("tags").size(), "classic: the deploy left no tag: " + json);
        assertEquals(REPO + "@" + served.digest(), json.path("coldDeploy").path("digests").get(0).asText());
        assertEquals("cache", json.path("prune").path("imageKeptAs").asText(), json.toString());
        assertFalse(json.path("prune").path("removedImage").asBoolean());
        assertTrue(json.path("retained").asBoolean());
        assertFalse(json.path("redeploy").path("pulled").asBoolean());
        assertEquals(0, json.path("warmLayersDownloaded").asInt());
        assertTrue(json.path("warmUpToDate").asBoolean());
        assertFalse(json.path("imageWasPresent").asBoolean());
        assertEquals(2, json.path("services").size());
        String summary = ReuseProofFormat.summary(r);
        assertTrue(summary.startsWith("summary verdict=pass outcome=pass exit=0 image=" + IMAGE + " image_id=" + served.imageId()
                + " cold_deploy_ms="), summary);
        assertTrue(summary.contains(" cold_pulled=true prune=ran prune_kept=cache prune_removed_image=false retained=true "
                + "redeploy_ms="), summary);
        assertTrue(summary.contains(" redeploy_pulled=false "), summary);
        assertTrue(summary.contains(" warm_layers_downloaded=0 warm_up_to_date=true elapsed_ms="), summary);
    }

    @Test
    void failsWhenPruneRemovesTheImageANewerVersionOfItsRepositorySupersedes() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        s.registryImage(REPO + ":2", s.now().minus(Duration.ofDays(2)), Map.of("l-base", 5_000_000L, "l-app-2", 20_000_000L));
        host.pull(REPO, "2", java.util.Optional.empty(), Duration.ofSeconds(5), m -> {});
        ReuseProofRun.Report r = prove(settings());
        String text = text(r);
        assertEquals(ReuseProofRun.Outcome.FAIL, r.outcome(), text);
        assertTrue(step(r, ReuseProofRun.Step.PRUNE).startsWith("prune     fail the toolkit's prune ran "), text);
        assertTrue(step(r, ReuseProofRun.Step.PRUNE).contains("it REMOVED the proof's image " + LocalImage.shortId(served.imageId())
                + " (superseded by "), text);
        assertTrue(step(r, ReuseProofRun.Step.RETAINED).contains("fail image gone after teardown and prune"), text);
        assertTrue(r.redeploy().orElseThrow().pulled(), "the redeploy had to pull it again: " + text);
        assertTrue(r.reason().orElseThrow().startsWith("the toolkit's prune removed the image: the cache a redeploy needs was lost"),
                text);
        assertEquals(ExitCodes.PROOF_FAILED, r.exitCode());
        assertEquals(List.of(), serviceNames(), "no service left");
        assertEquals(List.of(IMAGE), host.imageTags().get(served.imageId()), "the redeploy brought it back; its tag put back");
    }

    @Test
    void aLiveCiRunKeepsPruneFromRunningAndTheProofFailsSayingWhenToRunIt() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        var other = s.image("localhost:5000/ci/other:1");
        s.service(LIVE_STACK, "localhost:5000/ci/other:1");
        ReuseProofRun.Report r = prove(settings());
        String text = text(r);
        System.out.println("[a live CI run]\n" + text);
        assertEquals(ReuseProofRun.Outcome.FAIL, r.outcome(), text);
        assertTrue(r.reason().orElseThrow().startsWith("prune: prune did not run: the gates do not hold: stack: "), text);
        assertTrue(r.reason().get().endsWith(": run reuse-proof when no CI run is live"), text);
        assertEquals(List.of("check", "remove", "deploy", "teardown", "prune", "cleanup"),
                r.steps().stream().map(x -> x.step().key).toList(), text);
        assertEquals(List.of(LIVE_STACK), serviceNames(), "no proof service left");
        assertEquals(List.of(IMAGE), host.imageTags().get(served.imageId()), "left as found: here, with its tag");
        assertTrue(host.imageTags().containsKey(other.id));
        // the operator's own pattern decides what a live run is
        ReuseProofRun.Report elsewhere = prove(settings().withStackPattern("^nothing-matches$"));
        assertEquals(ReuseProofRun.Outcome.PASS, elsewhere.outcome(), text(elsewhere));
    }

    @Test
    void anotherPruneHoldingTheLockFailsTheProofAtItsPruneStep() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        try (PruneLock held = PruneLock.acquire(temp.resolve("prune.lock"))) {
            ReuseProofRun.Report r = prove(settings());
            assertEquals(ReuseProofRun.Outcome.FAIL, r.outcome(), text(r));
            assertTrue(r.reason().orElseThrow().startsWith("prune: prune did not run: "), text(r));
            assertTrue(r.reason().get().endsWith(": run reuse-proof again when that prune is done"), text(r));
        }
        assertEquals(List.of(IMAGE), host.imageTags().get(served.imageId()));
    }

    @Test
    void anImageYoungerThanUntilIsKeptForItsAgeAndANoteSaysTheCacheRuleWasNotShown() throws IOException {
        host = new FakeHost(FakeHost.Store.CLASSIC);
        s = host.state();
        served = s.registryImage(IMAGE, s.now().minus(Duration.ofHours(2)), Map.of("l-app", 20_000_000L));
        Files.writeString(temp.resolve("config.json"), "{}");
        ReuseProofRun.Report r = prove(settings());
        assertEquals(ReuseProofRun.Outcome.PASS, r.outcome(), text(r));
        assertEquals(PrunePolicy.Why.YOUNG, r.prune().orElseThrow().why().orElseThrow());
        assertTrue(text(r).contains("note: prune kept the image for another reason than the cache rule (created "), text(r));
    }

    @Test
    void aRegistryDownAtTheWarmPullFailsThatStepAndTheHostIsStillLeftAsFound() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        host.fault(request -> request.startsWith("POST /images/create")
                ? java.util.Optional.of(new EngineApi.Unavailable("the Docker engine at fake answered POST /images/create: "
                        + "Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused", null))
                : java.util.Optional.empty());
        ReuseProofRun.Report r = prove(settings());
        String text = text(r);
        assertEquals(ReuseProofRun.Outcome.FAIL, r.outcome(), text);
        assertTrue(r.reason().orElseThrow().startsWith("warm-pull: "), text);
        assertTrue(r.reason().get().contains("connection refused"), text);
        assertTrue(r.retained(), "retained; only the warm pull failed: " + text);
        assertFalse(r.redeploy().orElseThrow().pulled(), text);
        assertTrue(text.contains("\nFAIL: warm-pull: "), text);
        assertEquals(List.of(IMAGE), host.imageTags().get(served.imageId()), "left as found");
        assertEquals(List.of(), serviceNames());
    }

    // ---------------------------------------------------------------- refusals: nothing changed

    void assertRefusedWithNothingChanged(ReuseProofRun.Report r, ReuseProofRun.Outcome outcome, String reasonStart) {
        String text = text(r);
        assertEquals(outcome, r.outcome(), text);
        assertEquals(List.of("check"), r.steps().stream().map(x -> x.step().key).toList(), text);
        assertTrue(r.reason().orElseThrow().startsWith(reasonStart), text);
        assertTrue(r.reason().get().endsWith("; nothing was changed"), text);
        assertEquals(List.of(), host.changes(), "nothing was changed");
    }

    @Test
    void refusesAnImageAStoppedContainerUses() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        s.container("job", s.imageById(served.imageId()).orElseThrow(), "exited");
        ReuseProofRun.Report r = prove(settings());
        assertRefusedWithNothingChanged(r, ReuseProofRun.Outcome.REFUSED, IMAGE + " is used by container job (exited)");
        assertEquals(ExitCodes.IMAGE_IN_USE, r.exitCode());
    }

    @Test
    void refusesAnImageAServiceScaledToZeroNamesEvenWhenItIsNotHere() throws IOException {
        host(FakeHost.Store.CLASSIC);
        s.service("web", IMAGE + "@" + served.digest()).replicas(0);
        host.deleteImage(REPO + "@" + served.digest()); // the node had brought it: gone since
        assertFalse(host.imageTags().containsKey(served.imageId()), "precondition: not here");
        ReuseProofRun.Report r = prove(settings());
        assertRefusedWithNothingChanged(r, ReuseProofRun.Outcome.REFUSED, IMAGE + " (not here) is used by service web (0 desired");
    }

    @Test
    void anImageWithoutACommandThatAServiceUsesIsRefusedAsInUseNotAsUnrunnable() throws IOException {
        host(FakeHost.Store.CLASSIC);
        s.image("localhost:5000/ci/bare:1").cmd();
        s.service("web", "localhost:5000/ci/bare:1").replicas(0);
        ReuseProofRun.Report r = prove(ReuseProofRun.Settings.of("localhost:5000/ci/bare:1", temp.toString(),
                temp.resolve("prune.lock").toString()));
        assertRefusedWithNothingChanged(r, ReuseProofRun.Outcome.REFUSED, "localhost:5000/ci/bare:1 is used by service web");
        assertEquals(ExitCodes.IMAGE_IN_USE, r.exitCode());
        host.removeService("web");
        ReuseProofRun.Report unused = prove(ReuseProofRun.Settings.of("localhost:5000/ci/bare:1", temp.toString(),
                temp.resolve("prune.lock").toString()));
        assertRefusedWithNothingChanged(unused, ReuseProofRun.Outcome.FAIL, "localhost:5000/ci/bare:1 has no entrypoint or command "
                + "in its config, so a service of it cannot run: give one with --command, e.g. --command 'sleep 3600'");
    }

    @Test
    void refusesAnImageAnotherNameShares() throws IOException {
        host(FakeHost.Store.CLASSIC);
        imageHere();
        host.tagImage(served.imageId(), "localhost:5000/ci/mirror", "1");
        host.clearRequests();
        ReuseProofRun.Report r = prove(settings());
        assertRefusedWithNothingChanged(r, ReuseProofRun.Outcome.FAIL, "the image of " + IMAGE + " ("
                + LocalImage.shortId(served.imageId()) + ") also has the name localhost:5000/ci/mirror:1: removing " + IMAGE
                + " would only untag it and the cold deploy would download nothing, which proves nothing");
        assertEquals(ExitCodes.PROOF_FAILED, r.exitCode());
    }
}
