//SOURCES Cli.java ClientConfig.java Defaults.java EngineApi.java EngineInfo.java ImagePull.java ImageRef.java
//SOURCES InUse.java LocalImage.java ProofService.java Registry.java Signals.java Text.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The imperative shell of reuse-proof (the seed's PC3 proof), as a sequence of steps over an
 * explicit state: check that nothing uses the image and that the registry serves it (changes
 * nothing); remove it; cold pull; deploy a one-replica service from it and tear it down; check the
 * image is still there with the same ID; warm pull; clean up. Each step takes the {@link State} the
 * previous one left and returns the next. The proof's service is removed on every path (see
 * {@link ProofService}), and an image that was not here before is removed again at the end. Never
 * throws for a host problem: the report says what happened; the verdict is {@link #judge}, pure.
 */
public final class ReuseProofRun {
    private ReuseProofRun() {}

    public static final String DEFAULT_IMAGE = Defaults.PROOF_IMAGE;
    /** A pull that takes longer reports its progress this often. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);
    /** A command as PID 1 may ignore SIGTERM (busybox's sleep does): SIGKILL it this soon at teardown. */
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
        UNREACHABLE(ExitCodes.CANNOT_EVALUATE),
        /** Stopped by Ctrl-C or SIGTERM: the exit code is the process's own (130, 143). */
        STOPPED_SIGINT(ExitCodes.SIGINT), STOPPED_SIGTERM(ExitCodes.SIGTERM);

        public final int exitCode;

        Outcome(int exitCode) {
            this.exitCode = exitCode;
        }

        public String key() {
            return name().startsWith("STOPPED") ? "stopped" : name().toLowerCase(Locale.ROOT);
        }

        static Outcome stoppedBy(Signals.Stop stop) {
            return stop.exitCode() == ExitCodes.SIGINT ? STOPPED_SIGINT : STOPPED_SIGTERM;
        }
    }

    /** @param command what the service runs instead of the image's ENTRYPOINT and CMD; empty: those */
    public record Settings(ImageRef image, Path configDir, Duration deployTimeout, Duration pullTimeout, Duration hold,
                           Optional<List<String>> command) {
        /** Validates the options at the edge; every message quotes the offending value. */
        public static Settings parse(String image, String configDir, String deployTimeout, String pullTimeout, String hold,
                                     String command) {
            return new Settings(ImageRef.parse(image), ClientConfig.configDir(configDir),
                    seconds("--deploy-timeout", deployTimeout, 1, 3600),
                    seconds("--pull-timeout", pullTimeout, 1, 24 * 3600),
                    seconds("--hold", hold, 0, 3600), command(command));
        }

        static Optional<List<String>> command(String text) {
            if (text == null) {
                return Optional.empty();
            }
            if (text.isBlank()) {
                throw new BadInput("--command is empty: give a command and its arguments, like --command 'sleep 3600'");
            }
            return Optional.of(List.of(text.strip().split("\\s+")));
        }

        /** What the service runs, in words. */
        String runs() {
            return command.map(c -> String.join(" ", c)).orElse("its own entrypoint/command");
        }

        static Duration seconds(String option, String text, int min, int max) {
            try {
                int value = Cli.wholeNumber(text.strip());
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

        /** A pull still running (every few seconds). */
        default void progress(Step step, ImagePull.Progress progress) {}

        /** A line from the shutdown hook (SIGTERM/Ctrl-C): printed by whoever is still listening. */
        default void signal(String line) {}

        /** A signal stopped the run: its report, from the shutdown hook (the run itself reports nothing more). */
        default void stopped(Report report) {}
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

    public static Report run(EngineApi engine, Settings settings, Listener listener) {
        return new Proof(engine, settings, listener).run();
    }

    // ---------------------------------------------------------------- the pure verdict

    /**
     * What the run measured.
     *
     * @param failure              a step that could not complete, in one line (empty when all ran)
     * @param coldImageId          the image ID right after the cold pull
     * @param retainedChecked      whether the image was looked up after teardown
     * @param imageIdAfterTeardown the image ID then (empty: the image was gone, or not looked up)
     * @param warmLayersDownloaded layers the warm pull downloaded (empty: no warm pull)
     * @param warmUpToDate         whether the warm pull reported "Image is up to date" (empty: no warm pull)
     */
    public record Facts(Optional<String> failure, Optional<String> coldImageId, boolean retainedChecked,
                        Optional<String> imageIdAfterTeardown,
                        Optional<Integer> warmLayersDownloaded, Optional<Boolean> warmUpToDate) {}

    public record Verdict(boolean pass, boolean retained, Optional<String> reason) {}

    /**
     * PASS only when every step ran, the image kept its ID through deploy and teardown (retained),
     * and the warm pull downloaded no layer and said "up to date".
     */
    public static Verdict judge(Facts f) {
        boolean retained = f.retainedChecked() && f.coldImageId().isPresent()
                && f.coldImageId().equals(f.imageIdAfterTeardown());
        List<String> reasons = new ArrayList<>();
        f.failure().ifPresent(reasons::add);
        if (f.retainedChecked() && !retained) {
            reasons.add(f.imageIdAfterTeardown().isEmpty()
                    ? "the image was gone after teardown: the local store did not keep it"
                    : "the image ID changed across teardown (" + f.coldImageId().map(LocalImage::shortId).orElse("?") + " -> "
                            + LocalImage.shortId(f.imageIdAfterTeardown().get()) + ")");
        }
        if (f.failure().isEmpty() && !f.retainedChecked()) {
            reasons.add("retention was not checked");
        }
        if (f.warmLayersDownloaded().isPresent()) {
            int n = f.warmLayersDownloaded().get();
            if (n > 0) {
                reasons.add("the warm pull downloaded " + Text.count(n, "layer") + ": local layers were not reused");
            }
            if (!f.warmUpToDate().orElse(false)) {
                reasons.add("the warm pull did not report the image up to date");
            }
        } else if (f.failure().isEmpty()) {
            reasons.add("no warm pull was measured");
        }
        return new Verdict(reasons.isEmpty(), retained,
                reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons)));
    }

    // ---------------------------------------------------------------- the steps

    /** What the check step found; nothing changes it afterwards. refusal: why the proof must not go on. */
    private record Checked(Optional<Registry.Credentials> credentials, Optional<LocalImage> before,
                           Optional<String> manifestDigest, Optional<Refusal> refusal) {
        String redact(String text) {
            return credentials.map(c -> c.redact(text)).orElse(text);
        }
    }

    private record Refusal(Outcome outcome, String reason) {}

    /** What the proof has changed and measured so far; each step returns the next state. */
    private record State(boolean imageRemoved, Optional<ImagePull.Result> cold, Optional<String> coldImageId,
                         Optional<ProofService> service, boolean retainedChecked, Optional<String> afterTeardownId,
                         Optional<ImagePull.Result> warm) {
        static final State START = new State(false, Optional.empty(), Optional.empty(), Optional.empty(), false,
                Optional.empty(), Optional.empty());

        State imageRemoved(boolean removed) {
            return new State(removed, cold, coldImageId, service, retainedChecked, afterTeardownId, warm);
        }

        State cold(ImagePull.Result result) {
            return new State(imageRemoved, Optional.of(result), coldImageId, service, retainedChecked, afterTeardownId, warm);
        }

        State coldImageId(String id) {
            return new State(imageRemoved, cold, Optional.of(id), service, retainedChecked, afterTeardownId, warm);
        }

        State service(ProofService deployed) {
            return new State(imageRemoved, cold, coldImageId, Optional.of(deployed), retainedChecked, afterTeardownId, warm);
        }

        State afterTeardown(Optional<String> id) {
            return new State(imageRemoved, cold, coldImageId, service, true, id, warm);
        }

        State warm(ImagePull.Result result) {
            return new State(imageRemoved, cold, coldImageId, service, retainedChecked, afterTeardownId, Optional.of(result));
        }
    }

    /** A step's end: whether it held, its line, and the state it leaves. */
    private record Done(boolean ok, String detail, State state) {}

    /** A step broke after changing something: the state it reached (cleanup needs it), and why. */
    private static final class Broke extends RuntimeException {
        final State state;

        Broke(State state, RuntimeException cause) {
            super(cause.getMessage(), cause);
            this.state = state;
        }
    }

    /** One run: the engine, the settings, and the record of the steps as they end. */
    private static final class Proof {
        final EngineApi engine;
        final Settings s;
        final ImageRef image;
        final Listener listener;
        final long start = System.nanoTime();
        final List<StepResult> steps = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile Step current;
        long stepStart;
        volatile Checked checked;          // what the check step found (null until it ends)
        volatile State reached = State.START; // what the steps changed so far, for a signal's report

        Proof(EngineApi engine, Settings settings, Listener listener) {
            this.engine = engine;
            this.s = settings;
            this.image = settings.image();
            this.listener = listener;
        }

        Report run() {
            try (Signals.Report signalled = Signals.onSignal(stop -> listener.stopped(stoppedBy(stop)))) {
                Report report = proof();
                signalled.claim();
                return report;
            }
        }

        /**
         * The report when a signal stops the proof: the service is removed (by {@link ProofService}'s
         * own hook, awaited here), and the report says what else the run left changed.
         */
        Report stoppedBy(Signals.Stop stop) {
            State state = reached;
            Checked found = checked;
            state.service().ifPresent(ProofService::cleanUpAfterSignal);
            Step during = current;
            List<String> left = new ArrayList<>();
            state.service().ifPresent(service -> left.add("service " + service.name() + " removed"));
            if (found == null) {
                left.add("nothing was changed");
            } else if (found.before().isPresent() && during == Step.REMOVE && !state.imageRemoved()) {
                left.add("the image may have been removed: if docker image inspect " + image + " fails, run docker pull " + image);
            } else if (found.before().isPresent() && state.imageRemoved()) {
                left.add("image removed, not re-pulled: docker pull " + image);
            } else if (found.before().isEmpty() && (state.cold().isPresent() || during == Step.COLD_PULL)) {
                left.add("the image it pulled may still be here (it was not before): docker rmi " + image);
            } else if (state.service().isEmpty()) {
                left.add("nothing else was changed");
            }
            String reason = "stopped by " + stop.name() + (during != null ? " during " + during.key : "") + "; "
                    + String.join("; ", left);
            Checked safe = found != null ? found : new Checked(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
            return report(Outcome.stoppedBy(stop), Optional.of(reason), false, safe, state);
        }

        Report proof() {
            begin(Step.CHECK);
            Checked checked = check();
            this.checked = checked;
            if (checked.refusal().isPresent()) {
                Refusal r = checked.refusal().get();
                end(false, r.reason());
                String reason = r.reason() + (r.outcome() == Outcome.UNREACHABLE ? "" : "; nothing was changed");
                return report(r.outcome(), Optional.of(reason), false, checked, State.START);
            }
            State state = State.START;
            Optional<String> failure = Optional.empty();
            try {
                for (Step step : List.of(Step.REMOVE, Step.COLD_PULL, Step.DEPLOY, Step.TEARDOWN, Step.RETAINED, Step.WARM_PULL)) {
                    begin(step);
                    RuntimeException broke;
                    try {
                        Done done = perform(step, checked, state);
                        state = done.state();
                        reached = state;
                        end(done.ok(), done.detail());
                        continue;
                    } catch (Broke e) {
                        state = e.state;
                        reached = state;
                        broke = (RuntimeException) e.getCause();
                    } catch (RuntimeException e) {
                        broke = e;
                    }
                    if (!(broke instanceof EngineApi.Unavailable || broke instanceof ImagePull.Failed
                            || broke instanceof ProofService.Failed)) {
                        throw broke; // a bug: cleanup still runs
                    }
                    String why = checked.redact(broke.getMessage());
                    failure = Optional.of(step.key + ": " + why);
                    end(false, why);
                    break;
                }
            } finally {
                cleanup(checked, state);
            }
            Verdict verdict = judge(new Facts(failure, state.coldImageId(), state.retainedChecked(), state.afterTeardownId(),
                    state.warm().map(ImagePull.Result::layersDownloaded), state.warm().map(ImagePull.Result::upToDate)));
            return report(verdict.pass() ? Outcome.PASS : Outcome.FAIL, verdict.reason(), verdict.retained(), checked, state);
        }

        Done perform(Step step, Checked checked, State state) {
            return switch (step) {
                case REMOVE -> remove(checked, state);
                case COLD_PULL -> coldPull(checked, state);
                case DEPLOY -> deploy(checked, state);
                case TEARDOWN -> teardown(state);
                case RETAINED -> retained(state);
                case WARM_PULL -> warmPull(checked, state);
                default -> throw new IllegalArgumentException(step.key);
            };
        }

        /** Step 1: changes nothing; any "no" here ends the run with the host untouched. */
        Checked check() {
            Registry.Lookup auth = Registry.lookup(s.configDir(), image.registry());
            Optional<Registry.Credentials> credentials = auth.credentials();
            if (auth.helper().isPresent()) {
                return refused(credentials, Optional.empty(), Outcome.FAIL, auth.whyNone().orElseThrow());
            }
            String who = credentials.map(c -> "as " + c.user() + " (credentials from " + auth.file() + ")")
                    .orElse("anonymously (" + auth.whyNone().orElse("no credentials") + ")");
            Optional<LocalImage> before = Optional.empty();
            Optional<String> manifestDigest;
            try {
                EngineInfo info = EngineInfo.of(engine.info());
                if (info.swarmRole() != EngineInfo.SwarmRole.MANAGER) {
                    return refused(credentials, before, Outcome.FAIL, "this engine is not a swarm manager (swarm state '"
                            + info.swarmState() + "'): the proof deploys a swarm service");
                }
                before = LocalImage.inspect(engine, image);
                Optional<String> cannotRun = before.flatMap(this::cannotRun);
                if (cannotRun.isPresent()) {
                    return refused(credentials, before, Outcome.FAIL, cannotRun.get());
                }
                List<InUse.Reason> users = before.map(b -> b.users(engine)).orElse(List.of());
                if (!users.isEmpty()) {
                    return refused(credentials, before, Outcome.REFUSED, image + " is used by "
                            + users.stream().map(Object::toString).collect(Collectors.joining(", "))
                            + ": reuse-proof never disturbs a workload");
                }
                Registry.Answer manifest = Registry.manifest(engine, image, credentials);
                if (!manifest.ok()) {
                    String why = manifest.credentialsRejected()
                            ? credentials.map(c -> "the registry " + image.registry() + " rejected the credentials of "
                                    + c.user() + " from " + auth.file()).orElse("the registry " + image.registry()
                                    + " wants credentials and " + auth.whyNone().orElse("there are none"))
                            : "the engine could not check " + image + " on the registry " + image.registry();
                    return refused(credentials, before, Outcome.FAIL, why + ": " + manifest.detail());
                }
                manifestDigest = manifest.digest();
            } catch (EngineApi.Unavailable e) {
                String message = credentials.map(c -> c.redact(e.getMessage())).orElse(e.getMessage());
                return refused(credentials, before, Outcome.UNREACHABLE, message);
            }
            end(true, image + " is used by no container or service; the registry serves it ("
                    + manifestDigest.orElse("manifest found") + ") " + who + "; the image is "
                    + before.map(b -> "here (" + LocalImage.shortId(b.id()) + ")").orElse("not here"));
            return new Checked(credentials, before, manifestDigest, Optional.empty());
        }

        static Checked refused(Optional<Registry.Credentials> credentials, Optional<LocalImage> before, Outcome outcome, String why) {
            return new Checked(credentials, before, Optional.empty(), Optional.of(new Refusal(outcome, why)));
        }

        Done remove(Checked checked, State state) {
            if (checked.before().isEmpty()) {
                return new Done(true, "not here: nothing to remove (it is removed again at the end)", state);
            }
            engine.deleteImage(image.local());
            State removed = state.imageRemoved(true);
            Optional<LocalImage> still = reached(removed, () -> LocalImage.inspect(engine, image));
            return new Done(true, "removed " + image + " (" + LocalImage.shortId(checked.before().get().id()) + ")"
                    + (still.isPresent() ? "; another reference keeps it: " + LocalImage.shortId(still.get().id()) : ""), removed);
        }

        Done coldPull(Checked checked, State state) {
            ImagePull.Result pull = pull(checked);
            LocalImage local = reached(state.cold(pull), () -> LocalImage.inspect(engine, image)
                    .orElseThrow(() -> new ImagePull.Failed("the pull ended but the engine has no " + image)));
            ImagePull.Result result = pull.withImageLayers(local.layers().size());
            State pulled = state.cold(result);
            if (result.layersDownloaded() == 0) {
                notes.add("the cold pull found every layer already present (kept by another image or the build cache): "
                        + "the cold and warm times do not compare a download");
            }
            return new Done(true, pullFigures(result) + ", image " + LocalImage.shortId(local.id()),
                    pulled.coldImageId(local.id()).imageRemoved(false));
        }

        /** Without --command the service runs the image's own ENTRYPOINT/CMD: an image with neither cannot run. */
        Optional<String> cannotRun(LocalImage local) {
            if (s.command().isPresent() || local.hasCommand()) {
                return Optional.empty();
            }
            return Optional.of(image + " has no entrypoint or command in its config, so a service of it cannot run: "
                    + "give one with --command, e.g. --command 'sleep 3600'");
        }

        Done deploy(Checked checked, State state) {
            LocalImage pulled = LocalImage.inspect(engine, image)
                    .orElseThrow(() -> new ProofService.Failed("the engine no longer has " + image));
            Optional<String> cannotRun = cannotRun(pulled);
            if (cannotRun.isPresent()) {
                throw new ProofService.Failed(cannotRun.get()); // only when it was not here before: cleanup removes it again
            }
            Optional<String> digest = pulled.digestIn(image).or(checked::manifestDigest);
            String run = image.digest().isPresent() ? image.local() : digest.map(image::pinned).orElse(image.local());
            ProofService service = ProofService.prepare(engine, listener::signal);
            State deployed = state.service(service);
            reached = deployed;
            Duration running = reached(deployed, () -> {
                service.create(run, s.command(), STOP_GRACE, Optional.empty());
                Duration until = service.awaitRunning(s.deployTimeout());
                hold();
                return until;
            });
            return new Done(true, "service " + service.name() + " (1 replica of " + run + ", " + s.runs() + ") running after "
                    + running.toMillis() + " ms" + (s.hold().isZero() ? "" : ", held " + s.hold().toSeconds() + " s"), deployed);
        }

        void hold() {
            if (s.hold().isZero()) {
                return;
            }
            try {
                Thread.sleep(s.hold().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProofService.Failed("interrupted while holding the service");
            }
        }

        Done teardown(State state) {
            ProofService service = state.service().orElseThrow();
            Duration gone = service.removeAndAwaitGone(s.deployTimeout());
            return new Done(true, "service " + service.name() + " removed, its container gone after " + gone.toMillis() + " ms", state);
        }

        Done retained(State state) {
            Optional<String> after = LocalImage.inspect(engine, image).map(LocalImage::id);
            boolean same = after.equals(state.coldImageId());
            return new Done(same, after.map(id -> same
                    ? "image " + LocalImage.shortId(id) + " still here, same ID"
                    : "image ID changed: " + state.coldImageId().map(LocalImage::shortId).orElse("?") + " -> " + LocalImage.shortId(id))
                    .orElse("image gone after teardown"), state.afterTeardown(after));
        }

        Done warmPull(Checked checked, State state) {
            ImagePull.Result result = pull(checked);
            return new Done(result.layersDownloaded() == 0 && result.upToDate(), pullFigures(result), state.warm(result));
        }

        ImagePull.Result pull(Checked checked) {
            Step step = current;
            return ImagePull.pull(engine, image, checked.credentials(), s.pullTimeout(), PROGRESS_EVERY,
                    progress -> listener.progress(step, progress));
        }

        /** Leaves the host as found: the service gone, and the image gone again if it was not here before. */
        void cleanup(Checked checked, State state) {
            begin(Step.CLEANUP);
            List<String> did = new ArrayList<>();
            boolean ok = true;
            if (state.service().isPresent()) {
                ProofService service = state.service().get();
                try {
                    boolean existed = service.exists();
                    service.close();
                    did.add("service " + service.name() + (existed ? " removed" : " gone since teardown"));
                } catch (RuntimeException e) {
                    ok = false;
                    did.add("could not remove service " + service.name() + " (run: docker service rm " + service.name() + "): "
                            + checked.redact(e.getMessage()));
                }
            }
            if (checked.before().isEmpty()) {
                try {
                    boolean here = LocalImage.inspect(engine, image).isPresent();
                    if (here) {
                        engine.deleteImage(image.local());
                    }
                    did.add(here ? "image removed again (it was not here before the proof)" : "no image to remove");
                } catch (EngineApi.Unavailable e) {
                    ok = false;
                    did.add("could not remove the image it pulled: " + checked.redact(e.getMessage()));
                }
            } else if (state.imageRemoved()) {
                ok = false;
                did.add("the image was removed and not pulled again: run docker pull " + image);
                notes.add("the image " + image + " is no longer here: pull it again when the registry answers");
            } else {
                did.add("image kept (it was here before the proof)");
            }
            end(ok, String.join("; ", did));
        }

        /** Runs the rest of a step that already changed something: if it breaks, the change is not lost. */
        static <T> T reached(State state, Supplier<T> rest) {
            try {
                return rest.get();
            } catch (RuntimeException e) {
                throw new Broke(state, e);
            }
        }

        void begin(Step step) {
            Signals.stopHereIfSignalled(); // the shutdown hook reports; nothing more is started
            current = step;
            stepStart = System.nanoTime();
            listener.beforeStep(step);
        }

        void end(boolean ok, String detail) {
            StepResult result = new StepResult(current, ok, detail, Duration.ofNanos(System.nanoTime() - stepStart));
            steps.add(result);
            listener.stepDone(result);
        }

        Report report(Outcome outcome, Optional<String> reason, boolean retained, Checked checked, State state) {
            return new Report(outcome, reason.map(checked::redact), engine.host(), image.toString(), image.registry(),
                    checked.credentials().map(Registry.Credentials::user), state.coldImageId(), state.cold(), state.warm(),
                    retained, state.service().map(ProofService::name), checked.before().isPresent(), copy(steps),
                    copy(notes), Duration.ofNanos(System.nanoTime() - start));
        }

        static <T> List<T> copy(List<T> synchronizedList) {
            synchronized (synchronizedList) {
                return List.copyOf(synchronizedList);
            }
        }

        static String pullFigures(ImagePull.Result r) {
            return r.millis() + " ms, " + Text.count(r.layersDownloaded(), "layer") + " downloaded, " + r.layersPresent()
                    + " already present" + (r.upToDate() ? ", image is up to date" : "") + " (" + r.finalStatus() + ")";
        }
    }
}
