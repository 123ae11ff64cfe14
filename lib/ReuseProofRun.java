//SOURCES Cli.java ClientConfig.java Defaults.java Disks.java EngineApi.java EngineInfo.java GatePolicy.java
//SOURCES ImagePull.java ImageRef.java InUse.java LocalImage.java ProofService.java PruneLock.java
//SOURCES PrunePolicy.java PruneRun.java Registry.java Signals.java Text.java Until.java
package ccci;

import ccci.Cli.BadInput;
import ccci.Cli.ExitCodes;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The imperative shell of reuse-proof, as a sequence of steps over an explicit state. It proves the
 * way a CI host really gets and keeps an image: a swarm deploy brings it by digest (never a pull by
 * tag first), teardown, the toolkit's own prune with its gates holding, and a redeploy that pulls
 * nothing. Steps: check (changes nothing), remove (so the deploy is cold), deploy, teardown, prune,
 * retained, redeploy, warm-pull (a second, layer-level measurement), cleanup. Each step takes the
 * {@link State} the previous one left and returns the next. The proof's services are removed on
 * every path (see {@link ProofService}); an image that was not here before is removed again at the
 * end, and one that was gets back the tags it had. Never throws for a host problem: the report says
 * what happened; the verdict is {@link #judge}, pure.
 */
public final class ReuseProofRun {
    private ReuseProofRun() {}

    public static final String DEFAULT_IMAGE = Defaults.PROOF_IMAGE;
    /** A deploy or pull that takes longer reports its progress this often. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);
    /** A command as PID 1 may ignore SIGTERM (busybox's sleep does): SIGKILL it this soon at teardown. */
    static final Duration STOP_GRACE = Duration.ofSeconds(2);
    /** The prune step's disk threshold: 1%, so that the disk gate holds and prune runs now, as on a full disk. */
    public static final int PRUNE_THRESHOLD = 1;

    public enum Step {
        CHECK("check"), REMOVE("remove"), DEPLOY("deploy"), TEARDOWN("teardown"), PRUNE("prune"), RETAINED("retained"),
        REDEPLOY("redeploy"), WARM_PULL("warm-pull"), CLEANUP("cleanup");

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

    /**
     * @param command  what the service runs instead of the image's ENTRYPOINT and CMD; empty: those
     * @param gates    the prune step's gates: the operator's stack pattern, the disk gate at {@value #PRUNE_THRESHOLD}%
     * @param until    the prune step's age (prune's --until)
     * @param lockFile the lock the prune step holds, prune's own by default
     */
    public record Settings(ImageRef image, Path configDir, Duration deployTimeout, Duration pullTimeout, Duration hold,
                           Optional<List<String>> command, GatePolicy.Settings gates, Until until, Path lockFile) {
        /** Validates the options at the edge; every message quotes the offending value. null: the default. */
        public static Settings parse(String image, String configDir, String deployTimeout, String pullTimeout, String hold,
                                     String command, String stackPattern, String until, String lockFile) {
            return new Settings(ImageRef.parse(image), ClientConfig.configDir(configDir),
                    seconds("--deploy-timeout", deployTimeout, 1, 3600),
                    seconds("--pull-timeout", pullTimeout, 1, 24 * 3600),
                    seconds("--hold", hold, 0, 3600), command(command),
                    GatePolicy.Settings.parse("" + PRUNE_THRESHOLD, stackPattern == null ? Defaults.STACK_PATTERN : stackPattern,
                            List.of(), null, null),
                    Until.parse(until == null ? Defaults.UNTIL : until),
                    lockFile == null ? PruneLock.defaultPath() : Path.of(lockFile));
        }

        /** The defaults but for the image, the client config and the lock file (tests). */
        public static Settings of(String image, String configDir, String lockFile) {
            return parse(image, configDir, "60", "900", "0", null, null, null, lockFile);
        }

        public Settings withCommand(String text) {
            return new Settings(image, configDir, deployTimeout, pullTimeout, hold, command(text), gates, until, lockFile);
        }

        public Settings withStackPattern(String pattern) {
            return new Settings(image, configDir, deployTimeout, pullTimeout, hold, command,
                    GatePolicy.Settings.parse("" + PRUNE_THRESHOLD, pattern, List.of(), null, null), until, lockFile);
        }

        public Settings withUntil(String age) {
            return new Settings(image, configDir, deployTimeout, pullTimeout, hold, command, gates, Until.parse(age), lockFile);
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

        /** The cold deploy pulls the image: it may take a pull's time on top of a start's. */
        Duration coldDeployTimeout() {
            return deployTimeout.plus(pullTimeout);
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

        /** A deploy still waiting for its task (every few seconds): the task's state, e.g. "task preparing". */
        default void deployProgress(Step step, String task, Duration elapsed) {}

        /** A line from the shutdown hook (SIGTERM/Ctrl-C): printed by whoever is still listening. */
        default void signal(String line) {}

        /** A signal stopped the run: its report, from the shutdown hook (the run itself reports nothing more). */
        default void stopped(Report report) {}
    }

    /**
     * One deploy of the proof's service: how long until its task ran (the create request included),
     * whether the engine pulled the image for it (an image "pull" event of its repository in that
     * time), and the image as the deploy left it.
     */
    public record Deployed(String service, String reference, Duration running, List<String> pullEvents, Optional<LocalImage> image) {
        public boolean pulled() {
            return !pullEvents.isEmpty();
        }

        public long millis() {
            return running.toMillis();
        }
    }

    /**
     * What the prune step's prune did: its outcome ("ran": it ran its phases), what it removed, and its plan's decision about
     * the proof's image (why kept or removed, in the plan's words), and whether it removed it.
     */
    public record PruneDecision(String outcome, int containers, int images, int buildCache, Optional<PrunePolicy.Why> why,
                                String reason, boolean removedProofImage) {}

    public record Report(
            Outcome outcome,
            Optional<String> reason,          // why not PASS, one line, free of secrets
            String host,
            String image,
            String registry,
            Optional<String> user,            // whose credentials were used; empty: anonymous
            Optional<String> digest,          // the manifest digest the services were pinned to
            Optional<String> imageId,         // after the cold deploy
            Optional<Deployed> cold,
            Optional<PruneDecision> prune,
            boolean retained,
            Optional<Deployed> redeploy,
            Optional<ImagePull.Result> warm,
            List<String> services,
            boolean imageWasPresent,
            List<StepResult> steps,
            List<String> notes,
            Duration elapsed) {

        public int exitCode() {
            return outcome.exitCode;
        }

        public Optional<Long> coldMs() {
            return cold.map(Deployed::millis);
        }

        public Optional<Long> redeployMs() {
            return redeploy.map(Deployed::millis);
        }

        public Optional<Long> warmMs() {
            return warm.map(ImagePull.Result::millis);
        }

        /** cold deploy / redeploy (both include a container start), when both were measured and the redeploy took at least 1 ms. */
        public Optional<Double> ratio() {
            if (cold.isEmpty() || redeploy.isEmpty() || redeploy.get().millis() == 0) {
                return Optional.empty();
            }
            return Optional.of((double) cold.get().millis() / redeploy.get().millis());
        }
    }

    public static Report run(EngineApi engine, Settings settings, Listener listener) {
        return run(engine, settings, listener, Disks.REAL, Clock.systemUTC());
    }

    /** @param disks how the prune step measures disks; @param clock the prune step's clock (and the events' when the engine gives no time) */
    public static Report run(EngineApi engine, Settings settings, Listener listener, Disks disks, Clock clock) {
        return new Proof(engine, settings, listener, disks, clock).run();
    }

    // ---------------------------------------------------------------- the pure verdict

    /**
     * What the run measured.
     *
     * @param failure              a step that could not complete, in one line (empty when all ran)
     * @param coldImageId          the image ID right after the cold deploy
     * @param coldPulled           whether the engine pulled the image for the cold deploy (empty: not deployed)
     * @param pruneRemoved         whether the prune step removed the image (empty: prune did not run)
     * @param retainedChecked      whether the image was looked up after the prune
     * @param imageIdAfterPrune    the image ID then (empty: the image was gone, or not looked up)
     * @param redeployPulled       whether the engine pulled the image for the redeploy (empty: not redeployed)
     * @param warmLayersDownloaded layers the warm pull downloaded (empty: no warm pull)
     * @param warmUpToDate         whether the warm pull reported "Image is up to date" (empty: no warm pull)
     */
    public record Facts(Optional<String> failure, Optional<String> coldImageId, Optional<Boolean> coldPulled,
                        Optional<Boolean> pruneRemoved, boolean retainedChecked, Optional<String> imageIdAfterPrune,
                        Optional<Boolean> redeployPulled, Optional<Integer> warmLayersDownloaded, Optional<Boolean> warmUpToDate) {}

    public record Verdict(boolean pass, boolean retained, Optional<String> reason) {}

    /**
     * PASS only when every step ran; the cold deploy pulled the image (else "no pull" later would
     * prove nothing); the prune kept it and it kept its ID (retained); the redeploy pulled nothing;
     * and the warm pull downloaded no layer and said "up to date".
     */
    public static Verdict judge(Facts f) {
        boolean retained = f.retainedChecked() && f.coldImageId().isPresent()
                && f.coldImageId().equals(f.imageIdAfterPrune());
        List<String> reasons = new ArrayList<>();
        f.failure().ifPresent(reasons::add);
        if (f.coldPulled().isPresent() && !f.coldPulled().get()) {
            reasons.add("the cold deploy pulled nothing (no pull event), so the redeploy's 'no pull' would prove nothing");
        }
        if (f.pruneRemoved().orElse(false)) {
            reasons.add("the toolkit's prune removed the image: the cache a redeploy needs was lost");
        }
        if (f.retainedChecked() && !retained) {
            reasons.add(f.imageIdAfterPrune().isEmpty()
                    ? "the image was gone after teardown and prune: the local store did not keep it"
                    : "the image ID changed across teardown and prune (" + f.coldImageId().map(LocalImage::shortId).orElse("?")
                            + " -> " + LocalImage.shortId(f.imageIdAfterPrune().get()) + ")");
        }
        if (f.failure().isEmpty() && !f.retainedChecked()) {
            reasons.add("retention was not checked");
        }
        if (f.redeployPulled().isPresent()) {
            if (f.redeployPulled().get()) {
                reasons.add("the redeploy pulled the image again: the engine did not find it here by its digest");
            }
        } else if (f.failure().isEmpty()) {
            reasons.add("no redeploy was measured");
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

    /** The words for a prune outcome that is not "it ran": why, and what the operator can do. */
    static String pruneDidNotRun(PruneRun.Report r) {
        boolean workload = r.verdict().notHolding().stream().anyMatch(g -> !g.name().equals("disk"));
        String why = switch (r.outcome()) {
            case NOOP -> "the gates do not hold: " + r.verdict().reason();
            default -> r.outcome().word() + (r.problem().isPresent() ? ": " + r.problem().get() : "");
        };
        boolean live = workload || r.outcome() == PruneRun.Outcome.STOPPED;
        return "prune did not run: " + why + (live ? ": run reuse-proof when no CI run is live" : "");
    }

    // ---------------------------------------------------------------- the steps

    /**
     * What the check step found; nothing changes it afterwards. before: the image as it was here
     * (empty: not here); refusal: why the proof must not go on.
     */
    private record Checked(Optional<Registry.Credentials> credentials, Optional<LocalImage> before, Optional<String> digest,
                           Optional<String> nodeId, Optional<Refusal> refusal) {
        String redact(String text) {
            return credentials.map(c -> c.redact(text)).orElse(text);
        }

        static final Checked NOTHING = new Checked(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    private record Refusal(Outcome outcome, String reason) {}

    /** What the proof has changed and measured so far; each step returns the next state. */
    private record State(boolean imageRemoved, List<ProofService> services, Optional<Deployed> cold, Optional<PruneDecision> prune,
                         boolean retainedChecked, Optional<String> afterPruneId, Optional<Deployed> redeploy,
                         Optional<ImagePull.Result> warm) {
        static final State START = new State(false, List.of(), Optional.empty(), Optional.empty(), false, Optional.empty(),
                Optional.empty(), Optional.empty());

        State imageRemoved(boolean removed) {
            return new State(removed, services, cold, prune, retainedChecked, afterPruneId, redeploy, warm);
        }

        State service(ProofService added) {
            List<ProofService> all = new ArrayList<>(services);
            all.add(added);
            return new State(imageRemoved, List.copyOf(all), cold, prune, retainedChecked, afterPruneId, redeploy, warm);
        }

        State cold(Deployed deployed) {
            return new State(imageRemoved, services, Optional.of(deployed), prune, retainedChecked, afterPruneId, redeploy, warm);
        }

        State prune(PruneDecision decision) {
            return new State(imageRemoved, services, cold, Optional.of(decision), retainedChecked, afterPruneId, redeploy, warm);
        }

        State afterPrune(Optional<String> id) {
            return new State(imageRemoved, services, cold, prune, true, id, redeploy, warm);
        }

        State redeploy(Deployed deployed) {
            return new State(imageRemoved, services, cold, prune, retainedChecked, afterPruneId, Optional.of(deployed), warm);
        }

        State warm(ImagePull.Result result) {
            return new State(imageRemoved, services, cold, prune, retainedChecked, afterPruneId, redeploy, Optional.of(result));
        }

        Optional<String> coldImageId() {
            return cold.flatMap(Deployed::image).map(LocalImage::id);
        }
    }

    /** A step's end: whether it held, its line, and the state it leaves. */
    private record Done(boolean ok, String detail, State state) {}

    /** A step that cannot go on, in one line (the run stops; cleanup runs). */
    static final class StepFailed extends RuntimeException {
        StepFailed(String message) {
            super(message);
        }
    }

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
        final Disks disks;
        final Clock clock;
        final long start = System.nanoTime();
        final List<StepResult> steps = Collections.synchronizedList(new ArrayList<>());
        final List<String> notes = Collections.synchronizedList(new ArrayList<>());
        volatile Step current;
        long stepStart;
        volatile Checked checked;             // what the check step found (null until it ends)
        volatile State reached = State.START; // what the steps changed so far, for a signal's report

        Proof(EngineApi engine, Settings settings, Listener listener, Disks disks, Clock clock) {
            this.engine = engine;
            this.s = settings;
            this.image = settings.image();
            this.listener = listener;
            this.disks = disks;
            this.clock = clock;
        }

        Report run() {
            try (Signals.Report signalled = Signals.onSignal(stop -> listener.stopped(stoppedBy(stop)))) {
                Report report = proof();
                signalled.claim();
                return report;
            }
        }

        /**
         * The report when a signal stops the proof: the services are removed (by {@link ProofService}'s
         * own hooks, awaited here), and the report says what else the run left changed.
         */
        Report stoppedBy(Signals.Stop stop) {
            State state = reached;
            Checked found = checked;
            state.services().forEach(ProofService::cleanUpAfterSignal);
            Step during = current;
            List<String> left = new ArrayList<>();
            state.services().forEach(service -> left.add("service " + service.name() + " removed"));
            boolean before = found != null && found.before().isPresent();
            boolean deploying = state.cold().isPresent() || during == Step.DEPLOY;
            if (found == null || (during == Step.REMOVE && !state.imageRemoved() && !before)) {
                left.add("nothing was changed");
            } else if (before && (state.imageRemoved() || during == Step.REMOVE)) {
                left.add((deploying ? "image removed; the deploy may have brought it back by its digest only"
                        : "the image may have been removed") + ": docker pull " + image + " brings it back with its tag");
            } else if (!before && deploying) {
                left.add("the image the deploy brought may still be here (it was not before): docker image rm "
                        + found.digest().map(d -> image.repository() + "@" + d).orElse(image.local()));
            } else if (state.services().isEmpty()) {
                left.add("nothing else was changed");
            }
            if (during == Step.PRUNE) {
                left.add("the prune step's phase ends in the engine by itself");
            }
            String reason = "stopped by " + stop.name() + (during != null ? " during " + during.key : "") + "; "
                    + String.join("; ", left);
            return report(Outcome.stoppedBy(stop), Optional.of(reason), false, found != null ? found : Checked.NOTHING, state);
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
                for (Step step : List.of(Step.REMOVE, Step.DEPLOY, Step.TEARDOWN, Step.PRUNE, Step.RETAINED, Step.REDEPLOY,
                        Step.WARM_PULL)) {
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
                            || broke instanceof ProofService.Failed || broke instanceof StepFailed || broke instanceof BadInput)) {
                        throw broke; // a bug: cleanup still runs
                    }
                    String why = checked.redact(broke.getMessage());
                    failure = Optional.of(step.key + ": " + why);
                    end(false, why);
                    break;
                }
            } finally {
                state = cleanup(checked, state);
            }
            Verdict verdict = judge(new Facts(failure, state.coldImageId(), state.cold().map(Deployed::pulled),
                    state.prune().map(PruneDecision::removedProofImage), state.retainedChecked(), state.afterPruneId(),
                    state.redeploy().map(Deployed::pulled), state.warm().map(ImagePull.Result::layersDownloaded),
                    state.warm().map(ImagePull.Result::upToDate)));
            return report(verdict.pass() ? Outcome.PASS : Outcome.FAIL, verdict.reason(), verdict.retained(), checked, state);
        }

        Done perform(Step step, Checked checked, State state) {
            return switch (step) {
                case REMOVE -> remove(checked, state);
                case DEPLOY -> deploy(checked, state);
                case TEARDOWN -> teardown(state);
                case PRUNE -> prune(state);
                case RETAINED -> retained(checked, state);
                case REDEPLOY -> redeploy(checked, state);
                case WARM_PULL -> warmPull(checked, state);
                default -> throw new IllegalArgumentException(step.key);
            };
        }

        // ------------------------------------------------------------ 1. check

        /** Step 1: changes nothing; any "no" here ends the run with the host untouched. */
        Checked check() {
            Registry.Lookup auth = Registry.lookup(s.configDir(), image.registry());
            Optional<Registry.Credentials> credentials = auth.credentials();
            if (auth.helper().isPresent()) {
                return refused(credentials, Outcome.FAIL, auth.whyNone().orElseThrow());
            }
            String who = credentials.map(c -> "as " + c.user() + " (credentials from " + auth.file() + ")")
                    .orElse("anonymously (" + auth.whyNone().orElse("no credentials") + ")");
            try {
                JsonNode infoJson = engine.info();
                EngineInfo info = EngineInfo.of(infoJson);
                if (info.swarmRole() != EngineInfo.SwarmRole.MANAGER) {
                    return refused(credentials, Outcome.FAIL, "this engine is not a swarm manager (swarm state '"
                            + info.swarmState() + "'): the proof deploys a swarm service");
                }
                Optional<String> nodeId = Optional.of(infoJson.path("Swarm").path("NodeID").asText("")).filter(n -> !n.isBlank());
                Optional<LocalImage> before = LocalImage.inspect(engine, image);
                Optional<Refusal> no = before.isPresent() ? mustNotTouch(before.get()) : Optional.empty();
                if (no.isPresent()) {
                    return refused(credentials, no.get());
                }
                Registry.Answer manifest = Registry.manifest(engine, image, credentials);
                if (!manifest.ok()) {
                    String why = manifest.credentialsRejected()
                            ? credentials.map(c -> "the registry " + image.registry() + " rejected the credentials of "
                                    + c.user() + " from " + auth.file()).orElse("the registry " + image.registry()
                                    + " wants credentials and " + auth.whyNone().orElse("there are none"))
                            : "the engine could not check " + image + " on the registry " + image.registry();
                    return refused(credentials, Outcome.FAIL, why + ": " + manifest.detail());
                }
                Optional<String> digest = image.digest().or(manifest::digest);
                if (digest.isEmpty()) {
                    return refused(credentials, Outcome.FAIL, "the registry gave no digest for " + image
                            + ": the proof pins its service to one, as a stack deploy does");
                }
                if (before.isEmpty()) {
                    // not here by its tag: perhaps by its digest only (a deploy brought it so), else who names it
                    before = LocalImage.inspect(engine, digestRef(digest.get()));
                    no = before.isPresent() ? mustNotTouch(before.get())
                            : inUse(LocalImage.usersOfAbsent(engine, image, digest), Optional.empty());
                    if (no.isPresent()) {
                        return refused(credentials, no.get());
                    }
                }
                end(true, image + " is used by no container or service and has no other name; the registry serves it ("
                        + digest.get() + ") " + who + "; the image is " + before.map(b -> "here (" + LocalImage.shortId(b.id())
                                + (b.taggedAs(image) ? "" : ", by its digest only") + ")").orElse("not here")
                        + nodeId.map(n -> "; this node " + n).orElse(""));
                return new Checked(credentials, before, digest, nodeId, Optional.empty());
            } catch (EngineApi.Unavailable e) {
                String message = credentials.map(c -> c.redact(e.getMessage())).orElse(e.getMessage());
                return refused(credentials, Outcome.UNREACHABLE, message);
            }
        }

        /**
         * Why the proof must leave this image alone, in this order: anything uses it (the one
         * definition of in use, on a fresh look at the workloads); another name shares it or an
         * image was built from it here (removing it would only untag it: the deploy would download
         * nothing, which proves nothing); nothing to run (no entrypoint or command, no --command).
         */
        Optional<Refusal> mustNotTouch(LocalImage local) {
            Optional<Refusal> used = inUse(local.users(engine), Optional.of(local));
            if (used.isPresent()) {
                return used;
            }
            List<String> others = local.otherNames(image);
            if (!others.isEmpty()) {
                return Optional.of(new Refusal(Outcome.FAIL, "the image of " + image + " (" + LocalImage.shortId(local.id())
                        + ") also has the name" + (others.size() > 1 ? "s " : " ") + String.join(", ", others)
                        + ": removing " + image + " would only untag it and the cold deploy would download nothing, "
                        + "which proves nothing; prove with an image that has one name"));
            }
            List<String> children = new ArrayList<>();
            for (JsonNode i : engine.images()) {
                if (local.id().equals(i.path("ParentId").asText())) {
                    children.add(LocalImage.shortId(i.path("Id").asText()));
                }
            }
            if (!children.isEmpty()) {
                return Optional.of(new Refusal(Outcome.FAIL, "image" + (children.size() > 1 ? "s " : " ") + String.join(", ", children)
                        + " were built from " + image + " here: removing it would only untag it and the cold deploy would "
                        + "download nothing, which proves nothing"));
            }
            if (s.command().isEmpty() && !local.hasCommand()) {
                return Optional.of(new Refusal(Outcome.FAIL, image + " has no entrypoint or command in its config, so a service "
                        + "of it cannot run: give one with --command, e.g. --command 'sleep 3600'"));
            }
            return Optional.empty();
        }

        Optional<Refusal> inUse(List<InUse.Reason> users, Optional<LocalImage> local) {
            if (users.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Refusal(Outcome.REFUSED, image + (local.isEmpty() ? " (not here)" : "") + " is used by "
                    + users.stream().map(InUse.Reason::text).collect(Collectors.joining(", "))
                    + ": reuse-proof never disturbs a workload"));
        }

        static Checked refused(Optional<Registry.Credentials> credentials, Outcome outcome, String why) {
            return refused(credentials, new Refusal(outcome, why));
        }

        static Checked refused(Optional<Registry.Credentials> credentials, Refusal refusal) {
            return new Checked(credentials, Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(refusal));
        }

        /** The image's repository at a digest: how the engine knows an image a deploy brought. */
        String digestRef(String digest) {
            return image.repository() + "@" + digest;
        }

        // ------------------------------------------------------------ 2. remove

        Done remove(Checked checked, State state) {
            if (checked.before().isEmpty()) {
                return new Done(true, "not here: nothing to remove (what the deploy brings is removed again at the end)", state);
            }
            LocalImage before = checked.before().get();
            State removed = state.imageRemoved(true);
            reached = removed;
            List<String> gone = reached(removed, () -> removeOurNames(before, checked.digest().orElseThrow()));
            return new Done(true, "removed " + String.join(", ", gone) + " (" + LocalImage.shortId(before.id())
                    + "): the engine no longer has it by its tag, its digest or its ID", removed);
        }

        /**
         * Deletes the image by its names in the proof's repository (the tag, then any digest left),
         * never forced, and checks that the engine has it by none of its tag, digest or ID.
         */
        List<String> removeOurNames(LocalImage local, String digest) {
            List<String> names = new ArrayList<>();
            if (local.taggedAs(image)) {
                names.add(image.local().replaceFirst("@.*", ""));
            }
            names.addAll(local.ourNames(image));
            names.add(digestRef(digest));
            List<String> removed = new ArrayList<>();
            for (String name : names.stream().distinct().toList()) {
                if (LocalImage.inspect(engine, name).filter(i -> i.id().equals(local.id())).isEmpty()) {
                    continue;
                }
                try {
                    engine.deleteImage(name);
                    removed.add(name);
                } catch (EngineApi.Refused e) {
                    if (e.status() != 404) {
                        throw e;
                    }
                }
            }
            for (String still : List.of(local.id(), digestRef(digest))) {
                Optional<LocalImage> here = LocalImage.inspect(engine, still);
                if (here.isPresent()) {
                    throw new StepFailed("removed " + (removed.isEmpty() ? "nothing" : String.join(", ", removed))
                            + " but the engine still has " + still + " (" + LocalImage.shortId(here.get().id())
                            + "): the deploy would not be cold");
                }
            }
            return removed;
        }

        // ------------------------------------------------------------ 3. deploy, 7. redeploy

        Done deploy(Checked checked, State state) {
            Deployed cold;
            ProofService service = ProofService.prepare(engine, checked.nodeId(), listener::signal);
            State deployed = state.service(service);
            reached = deployed;
            cold = reached(deployed, () -> {
                Deployed d = deployOnce(service, checked, s.coldDeployTimeout());
                hold();
                return d;
            });
            State next = deployed.cold(cold);
            if (cold.image().isEmpty()) {
                throw new Broke(next, new StepFailed("service " + service.name() + " runs, but the engine has no "
                        + digestRef(checked.digest().orElseThrow())));
            }
            LocalImage here = cold.image().get();
            String names = here.repoTags().isEmpty()
                    ? "untagged, only its digest " + String.join(", ", here.repoDigests()) + " (as a stack deploy leaves it on this store)"
                    : "tagged " + String.join(", ", here.repoTags());
            String pulled = cold.pulled() ? "the engine pulled it for the service (" + cold.pullEvents().size() + " pull event"
                    + (cold.pullEvents().size() == 1 ? "" : "s") + ": " + String.join(", ", cold.pullEvents()) + ")"
                    : "NO pull event: the engine did not pull it";
            return new Done(cold.pulled(), "service " + service.name() + " (1 replica of " + cold.reference() + " on this node, "
                    + s.runs() + ") running after " + cold.millis() + " ms"
                    + (s.hold().isZero() ? "" : ", held " + s.hold().toSeconds() + " s") + "; " + pulled + "; image "
                    + LocalImage.shortId(here.id()) + ", " + names, next);
        }

        Done redeploy(Checked checked, State state) {
            ProofService service = ProofService.prepare(engine, checked.nodeId(), listener::signal);
            State deployed = state.service(service);
            reached = deployed;
            Deployed again = reached(deployed, () -> deployOnce(service, checked, s.deployTimeout()));
            State next = deployed.redeploy(again);
            Optional<String> id = again.image().map(LocalImage::id);
            boolean same = id.isPresent() && id.equals(state.coldImageId());
            return new Done(!again.pulled() && same, "service " + service.name() + " running after " + again.millis() + " ms; "
                    + (again.pulled() ? "the engine PULLED the image again (" + String.join(", ", again.pullEvents()) + ")"
                            : "no pull: the engine found the image here by its digest, 0 layers downloaded")
                    + (same ? "" : "; the image is now " + id.map(LocalImage::shortId).orElse("gone")), next);
        }

        /**
         * Creates the service pinned as a stack deploy pins it (name:tag@digest), with the registry
         * credentials (--with-registry-auth), on this node; waits until its task runs; and asks the
         * engine for the image pull events of the proof's repository between the create and then.
         */
        Deployed deployOnce(ProofService service, Checked checked, Duration timeout) {
            String digest = checked.digest().orElseThrow();
            String pinned = image.digest().isPresent() ? image.local() : image.pinned(digest);
            Step step = current;
            Instant since = engineTime();
            long start = System.nanoTime();
            service.create(pinned, s.command(), STOP_GRACE, checked.credentials().map(Registry.Credentials::header));
            service.awaitRunning(timeout, PROGRESS_EVERY, task -> listener.deployProgress(step, task,
                    Duration.ofNanos(System.nanoTime() - start)));
            Duration running = Duration.ofNanos(System.nanoTime() - start);
            Instant until = engineTime();
            List<String> pulls = pullEvents(since, until);
            return new Deployed(service.name(), pinned, running, pulls, LocalImage.inspect(engine, digestRef(digest)));
        }

        /** The engine's own time (info's SystemTime), so that the events' window has no clock skew; else this clock's. */
        Instant engineTime() {
            String time = engine.info().path("SystemTime").asText("");
            try {
                return time.isEmpty() ? clock.instant() : OffsetDateTime.parse(time).toInstant();
            } catch (DateTimeParseException e) {
                return clock.instant();
            }
        }

        /** The image pull events of the proof's repository the engine recorded in [since, until]: their references. */
        List<String> pullEvents(Instant since, Instant until) {
            List<String> pulls = new ArrayList<>();
            engine.events(since, until, List.of("image"), event -> {
                String action = event.path("Action").asText(event.path("status").asText(""));
                if (!action.equals("pull")) {
                    return;
                }
                String id = event.path("Actor").path("ID").asText(event.path("id").asText(""));
                String name = event.path("Actor").path("Attributes").path("name").asText("");
                boolean ours = Stream.of(id, name).map(ImageRef::tryParse).flatMap(Optional::stream)
                        .anyMatch(r -> r.canonicalName().equals(image.canonicalName()));
                if (ours) {
                    pulls.add(id.isEmpty() ? name : id);
                }
            });
            return pulls;
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

        // ------------------------------------------------------------ 4. teardown

        Done teardown(State state) {
            ProofService service = state.services().get(state.services().size() - 1);
            Duration gone = service.removeAndAwaitGone(s.deployTimeout());
            return new Done(true, "service " + service.name() + " removed, its container gone after " + gone.toMillis() + " ms", state);
        }

        // ------------------------------------------------------------ 5. prune

        /**
         * The toolkit's own prune, for real, on this engine: the disk gate at 1% (so it runs now),
         * the stack and convergence gates as the operator's daily run has them, the lock held. No
         * last-use record: only the plan's own rules (not a recent use) can keep the image.
         */
        Done prune(State state) {
            String id = state.coldImageId().orElseThrow();
            PruneRun.Report r;
            try (PruneLock lock = PruneLock.acquire(s.lockFile())) {
                r = PruneRun.run(() -> engine, disks, PruneRun.Settings.of(s.gates(), s.until()), false, new PruneRun.Listener() {},
                        clock);
            } catch (PruneLock.AlreadyLocked e) {
                throw new StepFailed("prune did not run: " + e.getMessage() + ": run reuse-proof again when that prune is done");
            }
            if (r.outcome() != PruneRun.Outcome.PRUNED && r.outcome() != PruneRun.Outcome.INSUFFICIENT) {
                throw new StepFailed(pruneDidNotRun(r));
            }
            Optional<PrunePolicy.Item> item = r.plan().flatMap(p -> p.images().stream().filter(i -> i.id().equals(id)).findFirst());
            boolean removed = r.phases().stream().filter(p -> p.phase() == PrunePolicy.Phase.IMAGES)
                    .anyMatch(p -> p.removedIds().contains(id));
            Optional<PrunePolicy.Item> keptAtRunTime = r.phases().stream().flatMap(p -> p.keptAtRunTime().stream())
                    .filter(i -> i.id().equals(id)).findFirst();
            Optional<PrunePolicy.Item> decided = keptAtRunTime.or(() -> item);
            String reason = decided.map(PrunePolicy.Item::reason).orElse("not in its plan");
            int[] counts = new int[3];
            for (PruneRun.PhaseResult p : r.phases()) {
                counts[p.phase().ordinal()] = p.removedIds().size();
            }
            PruneDecision decision = new PruneDecision("ran", counts[0], counts[1], counts[2],
                    decided.map(PrunePolicy.Item::why), reason, removed);
            if (decision.why().filter(w -> w == PrunePolicy.Why.YOUNG || w == PrunePolicy.Why.IN_USE).isPresent()) {
                notes.add("prune kept the image for another reason than the cache rule (" + reason + "): this run does not "
                        + "show that rule; prove with an image older than --until (" + s.until() + "), or a shorter --until");
            }
            String ran = "the toolkit's prune ran (gates held, disk gate at " + PRUNE_THRESHOLD + "%, until " + s.until()
                    + "): removed " + Text.count(counts[0], "container") + ", " + Text.count(counts[1], "image") + ", "
                    + Text.count(counts[2], "build-cache record") + "; ";
            return new Done(!removed, ran + (removed ? "it REMOVED the proof's image " + LocalImage.shortId(id) + " (" + reason + ")"
                    : "the proof's image " + LocalImage.shortId(id) + " kept: " + reason), state.prune(decision));
        }

        // ------------------------------------------------------------ 6. retained

        Done retained(Checked checked, State state) {
            Optional<String> after = LocalImage.inspect(engine, digestRef(checked.digest().orElseThrow())).map(LocalImage::id);
            boolean same = after.equals(state.coldImageId());
            return new Done(same, after.map(id -> same
                    ? "image " + LocalImage.shortId(id) + " still here by its digest, same ID"
                    : "image ID changed: " + state.coldImageId().map(LocalImage::shortId).orElse("?") + " -> " + LocalImage.shortId(id))
                    .orElse("image gone after teardown and prune"), state.afterPrune(after));
        }

        // ------------------------------------------------------------ 8. warm pull

        /** An explicit pull by digest, counting layers: what a redeploy would fetch if anything were missing. */
        Done warmPull(Checked checked, State state) {
            Step step = current;
            ImagePull.Result result = ImagePull.pull(engine, ImageRef.parse(digestRef(checked.digest().orElseThrow())),
                    checked.credentials(), s.pullTimeout(), PROGRESS_EVERY, progress -> listener.progress(step, progress));
            return new Done(result.layersDownloaded() == 0 && result.upToDate(), pullFigures(result), state.warm(result));
        }

        // ------------------------------------------------------------ 9. cleanup

        /**
         * Leaves the host as found: the services gone (and their containers), the image gone again if
         * it was not here before, else here with the tags it had (a deploy brings it by digest, and on
         * the classic store without its tag).
         */
        State cleanup(Checked checked, State state) {
            begin(Step.CLEANUP);
            List<String> did = new ArrayList<>();
            boolean ok = true;
            for (ProofService service : state.services()) {
                try {
                    boolean existed = service.exists();
                    if (existed) {
                        service.removeAndAwaitGone(s.deployTimeout());
                    }
                    service.close();
                    did.add("service " + service.name() + (existed ? " removed" : " gone since teardown"));
                } catch (RuntimeException e) {
                    ok = false;
                    did.add("could not remove service " + service.name() + " (run: docker service rm " + service.name() + "): "
                            + checked.redact(e.getMessage()));
                }
            }
            String digest = checked.digest().orElseThrow();
            try {
                Optional<LocalImage> now = LocalImage.inspect(engine, digestRef(digest));
                if (checked.before().isEmpty()) {
                    if (now.isPresent()) {
                        removeOurNames(now.get(), digest);
                        did.add("image removed again (it was not here before the proof)");
                    } else {
                        did.add("no image to remove");
                    }
                } else if (now.isPresent()) {
                    List<String> tagged = new ArrayList<>();
                    for (String tag : checked.before().get().repoTags()) {
                        Optional<LocalImage> has = LocalImage.inspect(engine, tag);
                        if (has.isEmpty()) {
                            ImageRef ref = ImageRef.parse(tag);
                            engine.tagImage(now.get().id(), ref.repository(), ref.tag().orElse("latest"));
                            tagged.add(tag);
                        }
                    }
                    did.add(tagged.isEmpty() ? "image kept (it was here before the proof)"
                            : "image kept, its tag " + String.join(", ", tagged) + " put back (a deploy brings an image by its digest)");
                    List<String> added = LocalImage.inspect(engine, now.get().id()).map(LocalImage::repoTags).orElse(List.of())
                            .stream().filter(n -> !checked.before().get().repoTags().contains(n)).toList();
                    if (!added.isEmpty()) {
                        did.add("it also keeps the name" + (added.size() > 1 ? "s " : " ") + String.join(", ", added)
                                + " the deploy and the pull by digest gave it, as any stack deploy leaves on this store");
                    }
                } else if (state.imageRemoved()) {
                    ok = false;
                    did.add("the image was removed and is not here again: run docker pull " + image);
                    notes.add("the image " + image + " is no longer here: pull it again when the registry answers");
                }
            } catch (EngineApi.Unavailable | StepFailed e) {
                ok = false;
                did.add("could not put the image back as it was: " + checked.redact(e.getMessage()));
            }
            end(ok, String.join("; ", did));
            return state;
        }

        /** Runs the rest of a step that already changed something: if it breaks, the change is not lost. */
        static <T> T reached(State state, Supplier<T> rest) {
            try {
                return rest.get();
            } catch (Broke e) {
                throw e;
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
                    checked.credentials().map(Registry.Credentials::user), checked.digest(), state.coldImageId(), state.cold(),
                    state.prune(), retained, state.redeploy(), state.warm(),
                    state.services().stream().map(ProofService::name).toList(), checked.before().isPresent(), copy(steps),
                    copy(notes), Duration.ofNanos(System.nanoTime() - start));
        }

        static <T> List<T> copy(List<T> synchronizedList) {
            synchronized (synchronizedList) {
                return List.copyOf(synchronizedList);
            }
        }

        static String pullFigures(ImagePull.Result r) {
            return r.millis() + " ms, " + Text.count(r.layersDownloaded(), "layer") + " downloaded"
                    + (r.upToDate() ? ", image is up to date" : "") + " (" + r.finalStatus() + ")";
        }
    }
}
