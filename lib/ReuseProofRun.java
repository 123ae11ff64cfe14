package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.exception.NotFoundException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The imperative shell of reuse-proof (the seed's PC3 proof): check that nothing uses the image and
 * that the registry serves it; remove it; cold pull; deploy a one-replica service from it and tear
 * it down; check the image is still there with the same ID; warm pull. The proof's service is
 * removed on every path (see {@link ProofService}), and an image that was not here before is removed
 * again at the end. Never throws for a host problem: the report says what happened.
 */
public final class ReuseProofRun {
    private ReuseProofRun() {}

    public static final String DEFAULT_IMAGE = "redis:7-alpine";
    /** A sleep as PID 1 ignores SIGTERM: SIGKILL it this soon at teardown. */
    static final Duration STOP_GRACE = Duration.ofSeconds(2);

    public enum Step {
        CHECK("check"), REMOVE("remove"), COLD_PULL("cold-pull"), DEPLOY("deploy"), TEARDOWN("teardown"),
        RETAINED("retained"), WARM_PULL("warm-pull"), CLEANUP("cleanup");

        public final String key;

        Step(String key) {
            this.key = key;
        }
    }

    public enum Outcome {
        PASS(ExitCodes.OK), FAIL(ExitCodes.PROOF_FAILED), REFUSED(ExitCodes.IMAGE_IN_USE),
        UNREACHABLE(ExitCodes.CANNOT_EVALUATE);

        public final int exitCode;

        Outcome(int exitCode) {
            this.exitCode = exitCode;
        }

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public record Settings(ImageRef image, Path configDir, Duration deployTimeout, Duration pullTimeout, Duration hold) {
        /** Validates the options at the edge; every message quotes the offending value. */
        public static Settings parse(String image, String configDir, String deployTimeout, String pullTimeout, String hold) {
            return new Settings(ImageRef.parse(image), RegistryAuth.configDir(configDir),
                    seconds("--deploy-timeout", deployTimeout, 1, 3600),
                    seconds("--pull-timeout", pullTimeout, 1, 24 * 3600),
                    seconds("--hold", hold, 0, 3600));
        }

        static Duration seconds(String option, String text, int min, int max) {
            try {
                int value = Integer.parseInt(text.strip());
                if (value >= min && value <= max) {
                    return Duration.ofSeconds(value);
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new BadInput(option + " '" + text + "' is not a whole number of seconds (" + min + "-" + max + ")");
        }
    }

    public record StepResult(Step step, boolean ok, String detail, Duration elapsed) {}

    /** Progress hooks: the script prints each step as it ends; tests change the host before a step. */
    public interface Listener {
        default void beforeStep(Step step) {}

        default void stepDone(StepResult result) {}

        /** A line from the shutdown hook (SIGTERM/Ctrl-C): printed by whoever is still listening. */
        default void signal(String line) {}
    }

    public record Report(
            Outcome outcome,
            Optional<String> reason,          // why not PASS, one line, free of secrets
            String host,
            String image,
            String registry,
            Optional<String> user,            // whose credentials were used; empty: anonymous
            Optional<String> imageId,         // after the cold pull
            Optional<ImagePull.Result> cold,
            Optional<ImagePull.Result> warm,
            boolean retained,
            Optional<String> service,
            boolean imageWasPresent,
            List<StepResult> steps,
            List<String> notes,
            Duration elapsed) {

        public int exitCode() {
            return outcome.exitCode;
        }

        public Optional<Long> coldMs() {
            return cold.map(ImagePull.Result::millis);
        }

        public Optional<Long> warmMs() {
            return warm.map(ImagePull.Result::millis);
        }

        /** cold / warm, when both were measured and warm took at least 1 ms. */
        public Optional<Double> ratio() {
            if (cold.isEmpty() || warm.isEmpty() || warm.get().millis() == 0) {
                return Optional.empty();
            }
            return Optional.of((double) cold.get().millis() / warm.get().millis());
        }
    }

    public static Report run(DockerEngine engine, Settings settings, Listener listener) {
        return new ReuseProofRun.Proof(engine, settings, listener).run();
    }

    /** One run's state; the steps are its methods, in order. */
    private static final class Proof {
        final DockerEngine engine;
        final Settings s;
        final ImageRef image;
        final Listener listener;
        final long start = System.nanoTime();
        final List<StepResult> steps = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        UnaryOperator<String> redact = UnaryOperator.identity();
        Optional<RegistryAuth.Credentials> credentials = Optional.empty();
        Optional<LocalImage> before = Optional.empty();
        Optional<String> manifestDigest = Optional.empty();
        Optional<String> coldImageId = Optional.empty();
        Optional<String> afterTeardownId = Optional.empty();
        boolean retainedChecked;
        Optional<ImagePull.Result> cold = Optional.empty();
        Optional<ImagePull.Result> warm = Optional.empty();
        ProofService service;
        boolean imageRemoved;
        Step current;
        long stepStart;

        Proof(DockerEngine engine, Settings settings, Listener listener) {
            this.engine = engine;
            this.s = settings;
            this.image = settings.image();
            this.listener = listener;
        }

        Report run() {
            Optional<Report> stop = check();
            if (stop.isPresent()) {
                return stop.get();
            }
            String failure = null;
            try {
                remove();
                coldPull();
                deploy();
                teardown();
                retained();
                warmPull();
            } catch (EngineUnavailable | ImagePull.Failed | ProofService.Failed e) {
                failure = current.key + ": " + redact.apply(e.getMessage());
                done(false, redact.apply(e.getMessage()));
            } finally {
                cleanup();
            }
            ReuseProofVerdict.Verdict verdict = ReuseProofVerdict.judge(new ReuseProofVerdict.Facts(
                    Optional.ofNullable(failure), coldImageId, retainedChecked, afterTeardownId,
                    warm.map(ImagePull.Result::layersDownloaded), warm.map(ImagePull.Result::upToDate)));
            return report(verdict.pass() ? Outcome.PASS : Outcome.FAIL, verdict.reason(), verdict.retained());
        }

        /** Step 1: changes nothing; any "no" here ends the run with the host untouched. */
        Optional<Report> check() {
            begin(Step.CHECK);
            RegistryAuth.Lookup auth = RegistryAuth.lookup(s.configDir(), image.registry());
            credentials = auth.credentials();
            credentials.ifPresent(c -> redact = c::redact);
            if (auth.helper().isPresent()) {
                return Optional.of(stop(Outcome.FAIL, auth.whyNone().orElseThrow()));
            }
            String who = credentials.map(c -> "as " + c.user() + " (credentials from " + auth.file() + ")")
                    .orElse("anonymously (" + auth.whyNone().orElse("no credentials") + ")");
            try {
                JsonNode swarm = engine.getJson("/info").path("Swarm");
                if (!swarm.path("LocalNodeState").asText().equals("active") || !swarm.path("ControlAvailable").asBoolean()) {
                    return Optional.of(stop(Outcome.FAIL, "this engine is not a swarm manager (swarm state '"
                            + swarm.path("LocalNodeState").asText("unknown") + "'): the proof deploys a swarm service"));
                }
                before = LocalImage.inspect(engine, image);
                List<ImageUsers.User> users = ImageUsers.of(engine, image, before);
                if (!users.isEmpty()) {
                    return Optional.of(stop(Outcome.REFUSED, image + " is used by "
                            + users.stream().map(Object::toString).collect(Collectors.joining(", "))
                            + ": reuse-proof never disturbs a workload"));
                }
                RegistryProbe.Answer manifest = RegistryProbe.manifest(engine, image, credentials);
                if (!manifest.ok()) {
                    String why = manifest.credentialsRejected()
                            ? credentials.map(c -> "the registry " + image.registry() + " rejected the credentials of "
                                    + c.user() + " from " + auth.file()).orElse("the registry " + image.registry()
                                    + " wants credentials and " + auth.whyNone().orElse("there are none"))
                            : "the engine could not check " + image + " on the registry " + image.registry();
                    return Optional.of(stop(Outcome.FAIL, why + ": " + manifest.detail()));
                }
                manifestDigest = manifest.digest();
            } catch (EngineUnavailable e) {
                return Optional.of(stop(Outcome.UNREACHABLE, redact.apply(e.getMessage())));
            }
            done(true, image + " is used by no container or service; the registry serves it ("
                    + manifestDigest.orElse("manifest found") + ") " + who + "; the image is "
                    + before.map(b -> "here (" + LocalImage.shortId(b.id()) + ")").orElse("not here"));
            return Optional.empty();
        }

        /** Ends the run in the check step: nothing was changed. */
        Report stop(Outcome outcome, String reason) {
            done(false, reason);
            return report(outcome, Optional.of(reason + (outcome == Outcome.UNREACHABLE ? "" : "; nothing was changed")), false);
        }

        void remove() {
            begin(Step.REMOVE);
            if (before.isEmpty()) {
                done(true, "not here: nothing to remove (it is removed again at the end)");
                return;
            }
            engine.call("DELETE /images/" + image.local(), () -> engine.api().removeImageCmd(image.local()).withForce(false).exec());
            imageRemoved = true;
            Optional<LocalImage> still = LocalImage.inspect(engine, image);
            done(true, "removed " + image + " (" + LocalImage.shortId(before.get().id()) + ")"
                    + (still.isPresent() ? "; another reference keeps it: " + LocalImage.shortId(still.get().id()) : ""));
        }

        void coldPull() {
            begin(Step.COLD_PULL);
            ImagePull.Result result = ImagePull.pull(engine, image, credentials, s.pullTimeout());
            cold = Optional.of(result);
            LocalImage pulled = LocalImage.inspect(engine, image)
                    .orElseThrow(() -> new ImagePull.Failed("the pull ended but the engine has no " + image));
            coldImageId = Optional.of(pulled.id());
            imageRemoved = false;
            if (result.layersDownloaded() == 0) {
                notes.add("the cold pull found every layer already present (kept by another image or the build cache): "
                        + "the cold and warm times do not compare a download");
            }
            done(true, pullFigures(result) + ", image " + LocalImage.shortId(pulled.id()));
        }

        void deploy() {
            begin(Step.DEPLOY);
            LocalImage pulled = LocalImage.inspect(engine, image)
                    .orElseThrow(() -> new ProofService.Failed("the engine no longer has " + image));
            Optional<String> digest = pulled.digestIn(image).or(() -> manifestDigest);
            String run = image.digest().isPresent() ? image.local() : digest.map(image::pinned).orElse(image.local());
            service = ProofService.prepare(engine, listener::signal);
            service.create(run, STOP_GRACE);
            Duration running = service.awaitRunning(s.deployTimeout());
            if (!s.hold().isZero()) {
                try {
                    Thread.sleep(s.hold().toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ProofService.Failed("interrupted while holding the service");
                }
            }
            done(true, "service " + service.name() + " (1 replica of " + run + ", sleep 3600) running after "
                    + running.toMillis() + " ms" + (s.hold().isZero() ? "" : ", held " + s.hold().toSeconds() + " s"));
        }

        void teardown() {
            begin(Step.TEARDOWN);
            Duration gone = service.removeAndAwaitGone(s.deployTimeout());
            done(true, "service " + service.name() + " removed, its container gone after " + gone.toMillis() + " ms");
        }

        void retained() {
            begin(Step.RETAINED);
            afterTeardownId = LocalImage.inspect(engine, image).map(LocalImage::id);
            retainedChecked = true;
            boolean same = afterTeardownId.equals(coldImageId);
            done(same, afterTeardownId.map(id -> same
                    ? "image " + LocalImage.shortId(id) + " still here, same ID"
                    : "image ID changed: " + coldImageId.map(LocalImage::shortId).orElse("?") + " -> " + LocalImage.shortId(id))
                    .orElse("image gone after teardown"));
        }

        void warmPull() {
            begin(Step.WARM_PULL);
            ImagePull.Result result = ImagePull.pull(engine, image, credentials, s.pullTimeout());
            warm = Optional.of(result);
            done(result.layersDownloaded() == 0 && result.upToDate(), pullFigures(result));
        }

        /** Leaves the host as found: the service gone, and the image gone again if it was not here before. */
        void cleanup() {
            begin(Step.CLEANUP);
            List<String> did = new ArrayList<>();
            boolean ok = true;
            if (service != null) {
                try {
                    boolean existed = service.exists();
                    service.close();
                    did.add("service " + service.name() + (existed ? " removed" : " gone since teardown"));
                } catch (RuntimeException e) {
                    ok = false;
                    did.add("could not remove service " + service.name() + " (run: docker service rm " + service.name() + "): "
                            + redact.apply(e.getMessage()));
                }
            }
            if (before.isEmpty()) {
                try {
                    boolean here = LocalImage.inspect(engine, image).isPresent();
                    if (here) {
                        engine.call("DELETE /images/" + image.local(), () -> engine.api().removeImageCmd(image.local()).exec());
                    }
                    did.add(here ? "image removed again (it was not here before the proof)" : "no image to remove");
                } catch (EngineUnavailable | NotFoundException e) {
                    ok = false;
                    did.add("could not remove the image it pulled: " + redact.apply(e.getMessage()));
                }
            } else if (imageRemoved) {
                ok = false;
                did.add("the image was removed and not pulled again: run docker pull " + image);
                notes.add("the image " + image + " is no longer here: pull it again when the registry answers");
            } else {
                did.add("image kept (it was here before the proof)");
            }
            done(ok, String.join("; ", did));
        }

        void begin(Step step) {
            current = step;
            stepStart = System.nanoTime();
            listener.beforeStep(step);
        }

        void done(boolean ok, String detail) {
            StepResult result = new StepResult(current, ok, detail, Duration.ofNanos(System.nanoTime() - stepStart));
            steps.add(result);
            listener.stepDone(result);
        }

        Report report(Outcome outcome, Optional<String> reason, boolean retained) {
            return new Report(outcome, reason.map(redact), engine.host(), image.toString(), image.registry(),
                    credentials.map(RegistryAuth.Credentials::user), coldImageId, cold, warm, retained,
                    Optional.ofNullable(service).map(ProofService::name), before.isPresent(), List.copyOf(steps),
                    List.copyOf(notes), Duration.ofNanos(System.nanoTime() - start));
        }

        static String pullFigures(ImagePull.Result r) {
            return r.millis() + " ms, " + r.layersDownloaded() + " layer" + (r.layersDownloaded() == 1 ? "" : "s")
                    + " downloaded, " + r.layersPresent() + " already present"
                    + (r.upToDate() ? ", image is up to date" : "") + " (" + r.finalStatus() + ")";
        }
    }
}
