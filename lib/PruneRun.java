//SOURCES Cli.java Disk.java Disks.java EngineApi.java EvictionPolicy.java EvictionRun.java GateCheck.java
//SOURCES GatePolicy.java HostSnapshot.java InUse.java LastUse.java PrunePolicy.java PruneShortfall.java
//SOURCES PruneState.java Signals.java SmallFile.java Text.java Threshold.java Until.java
package ccci;

import ccci.Cli.ExitCodes;
import ccci.GatePolicy.GateResult;
import ccci.GatePolicy.Verdict;
import ccci.PrunePolicy.Item;
import ccci.PrunePolicy.Phase;
import ccci.PrunePolicy.Plan;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The imperative shell of prune: check the gates, read the host once, plan, then run each phase,
 * re-checking the gates right before every phase. Containers and build cache go through the
 * engine's own prune (which checks "in use" at the moment it deletes); the image phase deletes by
 * ID exactly the images its plan lists, after checking their users again on the workloads the
 * gates just read (the engine refuses an image a container uses with 409). Never throws for a host
 * problem: the outcome and exit code say what happened and which phases completed.
 */
public final class PruneRun {
    private PruneRun() {}

    /**
     * noop: the gates are closed, nothing to do; failed: it could not evaluate or the engine failed;
     * locked: another prune holds the lock; insufficient: the phases ran and the disk is still at or
     * above the threshold; blocked-too-long: the disk is at or above the threshold and a gate has
     * blocked pruning for longer than the limit.
     */
    public enum Outcome {
        NOOP, DRY_RUN, PRUNED, STOPPED, FAILED, LOCKED, INSUFFICIENT, BLOCKED_TOO_LONG;

        /** The outcome as the summary, JSON, metrics and state file spell it: noop, dry-run, blocked-too-long... */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** Hooks for progress output (and for tests that change the host between phases or removals). */
    public interface Listener extends EvictionRun.Listener {
        default void beforeGateCheck(Phase next) {}

        /** The gates as checked at the start: the decision to prune. */
        default void gatesChecked(Verdict verdict) {}

        /** A real run: the gates hold and this is the plan; the phases come next. */
        default void planned(Verdict verdict, Plan plan) {}

        /** The gates held and this phase's engine call is next. */
        default void phaseStarting(Phase phase) {}

        default void phaseDone(PhaseResult result) {}
    }

    /** The state file as this run left it (a dry run: as it read it), and one-line notes about it. */
    public record StateReport(Path file, PruneState state, List<String> notes) {}

    /**
     * What one phase removed (as the engine says it), what it reclaimed, and the planned removals it
     * kept after all (a user appeared since the plan, or the engine refused), with why.
     */
    public record PhaseResult(Phase phase, List<String> removedIds, long reclaimedBytes, Duration elapsed, List<Item> keptAtRunTime) {
        public PhaseResult(Phase phase, List<String> removedIds, long reclaimedBytes, Duration elapsed) {
            this(phase, removedIds, reclaimedBytes, elapsed, List.of());
        }
    }

    public record Report(
            Outcome outcome,
            int exitCode,
            Verdict verdict,                       // the gates as checked at the start: the decision to prune
            Optional<Plan> plan,                   // empty when the gates were closed from the start
            List<PhaseResult> phases,              // the phases that completed, in order
            Optional<Phase> stoppedBefore,
            Optional<String> problem,              // one line: why it stopped or failed
            Optional<Integer> diskBefore, Optional<Integer> diskAfter,
            Optional<Integer> imagesBefore, Optional<Integer> imagesAfter,
            Optional<EvictionRun.Result> eviction,  // when asked for (--evict-to) and the disk called for it
            Optional<String> evictionNote,          // why eviction, asked for, did not run or was not needed
            Duration elapsed,
            Optional<PruneShortfall.Shortfall> shortfall, // not enough: insufficient, blocked too long, or a dry run's estimate
            Optional<StateReport> state,                 // empty when no state file is kept (in-process runs)
            Optional<Metrics> metrics,                   // empty when no --metrics-file was asked for
            Map<String, Integer> keptImages) {           // top-level images the run left, by why (KEPT_REASONS); empty before a plan

        /** Whether --metrics-file was written, and why not. */
        public record Metrics(boolean written, Optional<String> problem) {}

        /**
         * This report once the metrics file was written or not: a run that succeeded but could not
         * write its metrics exits {@link ExitCodes#METRICS_NOT_WRITTEN}; any other outcome keeps its code.
         */
        public Report withMetrics(boolean written, String problem) {
            int exit = !written && exitCode == ExitCodes.OK ? ExitCodes.METRICS_NOT_WRITTEN : exitCode;
            return new Report(outcome, exit, verdict, plan, phases, stoppedBefore, this.problem, diskBefore, diskAfter,
                    imagesBefore, imagesAfter, eviction, evictionNote, elapsed, shortfall, state,
                    Optional.of(new Metrics(written, Optional.ofNullable(problem))), keptImages);
        }

        /**
         * The disk was at or above the threshold and the run found nothing to remove (kubernetes#71869:
         * say why nothing was freed): a dry run whose plan and eviction remove nothing, or a real run
         * that went through its phases and removed nothing. keptImages says what holds the space.
         */
        public boolean nothingRemovable() {
            boolean over = verdict.gates().stream().anyMatch(g -> g.name().equals("disk") && g.state() == GateResult.State.HOLDS);
            if (!over || plan.isEmpty()) {
                return false;
            }
            if (outcome == Outcome.DRY_RUN) {
                return plan.get().removed().isEmpty() && eviction.map(e -> e.removed().isEmpty()).orElse(true);
            }
            if (outcome != Outcome.PRUNED && outcome != Outcome.INSUFFICIENT) {
                return false;
            }
            return phases.stream().allMatch(p -> p.removedIds().isEmpty()) && evictedImages() == 0;
        }

        public long reclaimedBytes() {
            return phases.stream().mapToLong(PhaseResult::reclaimedBytes).sum();
        }

        /** Images eviction removed (none for a dry run). */
        public int evictedImages() {
            return eviction.filter(e -> !e.predicted()).map(e -> e.removed().size()).orElse(0);
        }

        /** The unique bytes of the images eviction removed (none for a dry run). */
        public long evictedBytes() {
            return eviction.filter(e -> !e.predicted()).map(EvictionRun.Result::bytesFreed).orElse(0L);
        }

        public boolean ran() {
            return !phases.isEmpty();
        }

        Report withState(StateReport value) {
            return new Report(outcome, exitCode, verdict, plan, phases, stoppedBefore, problem, diskBefore, diskAfter,
                    imagesBefore, imagesAfter, eviction, evictionNote, elapsed, shortfall, Optional.of(value), metrics, keptImages);
        }

        /** A report is built by name: start from the verdict, set what is known, then end with the outcome. */
        public static Builder of(Verdict verdict, long startNanos) {
            return new Builder(verdict, startNanos);
        }

        /** Another prune holds the lock: nothing was looked at or removed. */
        public static Report locked(String reason, long startNanos) {
            return of(GatePolicy.notEvaluated("not evaluated: another prune holds the lock"), startNanos)
                    .problem(reason).end(Outcome.LOCKED, ExitCodes.LOCKED);
        }
    }

    public static final class Builder {
        private final Verdict verdict;
        private final long startNanos;
        private Optional<Plan> plan = Optional.empty();
        private List<PhaseResult> phases = List.of();
        private Optional<Phase> stoppedBefore = Optional.empty();
        private Optional<String> problem = Optional.empty();
        private final Optional<Integer> diskBefore;
        private Optional<Integer> diskAfter = Optional.empty();
        private Optional<Integer> imagesBefore = Optional.empty();
        private Optional<Integer> imagesAfter = Optional.empty();
        private Optional<EvictionRun.Result> eviction = Optional.empty();
        private Optional<String> evictionNote = Optional.empty();
        private Optional<PruneShortfall.Shortfall> shortfall = Optional.empty();
        private Optional<StateReport> state = Optional.empty();
        private Map<String, Integer> keptImages = Map.of();

        private Builder(Verdict verdict, long startNanos) {
            this.verdict = verdict;
            this.startNanos = startNanos;
            this.diskBefore = verdict.disk().map(Disk::usedPercent);
        }

        public Builder plan(Plan value) {
            plan = Optional.of(value);
            return this;
        }

        public Builder phases(List<PhaseResult> value) {
            phases = List.copyOf(value);
            return this;
        }

        public Builder stoppedBefore(Phase value) {
            stoppedBefore = Optional.of(value);
            return this;
        }

        public Builder problem(String value) {
            problem = Optional.ofNullable(value);
            return this;
        }

        /** Nothing was removed: the disk is as it was. */
        public Builder diskUnchanged() {
            diskAfter = diskBefore;
            return this;
        }

        public Builder diskAfter(Optional<Integer> value) {
            diskAfter = value;
            return this;
        }

        public Builder imagesBefore(int value) {
            imagesBefore = Optional.of(value);
            return this;
        }

        public Builder imagesAfter(Optional<Integer> value) {
            imagesAfter = value;
            return this;
        }

        public Builder eviction(EvictionRun.Result value) {
            eviction = Optional.of(value);
            return this;
        }

        public Builder evictionNote(String value) {
            evictionNote = Optional.ofNullable(value);
            return this;
        }

        public Builder shortfall(PruneShortfall.Shortfall value) {
            shortfall = Optional.of(value);
            return this;
        }

        public Builder state(StateReport value) {
            state = Optional.of(value);
            return this;
        }

        public Builder keptImages(Map<String, Integer> value) {
            keptImages = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(value));
            return this;
        }

        public Report end(Outcome outcome, int exitCode) {
            return new Report(outcome, exitCode, verdict, plan, phases, stoppedBefore, problem,
                    diskBefore, diskAfter, imagesBefore, imagesAfter, eviction, evictionNote,
                    Duration.ofNanos(System.nanoTime() - startNanos), shortfall, state, Optional.empty(), keptImages);
        }
    }

    /**
     * What a run is asked to do, built once at the edge.
     *
     * @param eviction    opt-in LRU eviction after the phases (--evict-to), when the disk is still at or above the threshold
     * @param keep        what the operator protects by name (--keep, --keep-label), in every phase and eviction
     * @param lastUseFile the last-use record: refreshed with the images in use now, read for what was used recently
     * @param shortfall   the state file and the blocked limit; a real run reads and replaces the state, a dry run only reads it
     * @param buildCacheMax --build-cache-max: after the build-cache phase's until prune, the engine's prune down to this budget
     */
    public record Settings(GatePolicy.Settings gates, Until until, Optional<EvictionPolicy.Settings> eviction, InUse.Settings keep,
                           Optional<Path> lastUseFile, PruneShortfall.Settings shortfall, OptionalLong buildCacheMax) {

        public Settings(GatePolicy.Settings gates, Until until, Optional<EvictionPolicy.Settings> eviction, InUse.Settings keep,
                        Optional<Path> lastUseFile, PruneShortfall.Settings shortfall) {
            this(gates, until, eviction, keep, lastUseFile, shortfall, OptionalLong.empty());
        }

        /** --max-unused-age, when eviction has one: it evicts even when the disk gate blocks. */
        public Optional<Until> maxUnusedAge() {
            return eviction.flatMap(EvictionPolicy.Settings::maxUnusedAge);
        }

        /** The conservative policy alone: no eviction, no last-use record, no state file (no blocked clock). */
        public static Settings of(GatePolicy.Settings gates, Until until) {
            return new Settings(gates, until, Optional.empty(), InUse.Settings.NONE, Optional.empty(),
                    PruneShortfall.Settings.withoutState());
        }
    }

    /**
     * @param engines the engine, connected on first use: a no-op decided by the disk alone never connects
     * @param disks   how filesystems are measured (the real ones, or a test's fake host)
     */
    public static Report run(Supplier<? extends EngineApi> engines, Disks disks, Settings settings, boolean dryRun, Listener listener,
                             Clock clock) {
        long start = System.nanoTime();
        listener.beforeGateCheck(Phase.CONTAINERS);
        // --max-unused-age needs the workload gates even when the disk alone blocks: the engine is asked then
        Verdict verdict = GateCheck.runDiskFirst(engines, settings.gates(), settings.lastUseFile(), disks,
                settings.maxUnusedAge().isPresent());
        listener.gatesChecked(verdict);
        Instant now = clock.instant();
        PruneShortfall.Settings shortfall = settings.shortfall();
        PruneState.Loaded loaded = shortfall.load();
        PruneShortfall.Blocked blocked = PruneShortfall.blocked(loaded, verdict, settings.gates().threshold(), now,
                shortfall.blockedLimit());
        Builder report = Report.of(verdict, start);
        Run run = new Run(engines, disks, settings, listener, clock, report, verdict);
        if (dryRun) {
            shortfall.stateFile().ifPresent(file -> report.state(new StateReport(file, loaded.state(),
                    loaded instanceof PruneState.Loaded.Unusable u ? List.of("state: " + u.reason() + ": ignored") : List.of())));
            return run.plan();
        }
        Report done = run.prune(blocked);
        return shortfall.stateFile().map(file -> remember(done, file, blocked, now)).orElse(done);
    }

    /** One run's collaborators and what it has learnt so far. */
    private static final class Run {
        final Supplier<? extends EngineApi> engines;
        final Disks disks;
        final Settings settings;
        final Listener listener;
        final Clock clock;
        final Builder report;
        final Verdict verdict;
        EngineApi engine;
        HostSnapshot host;
        LastUse record;
        Plan plan;

        Run(Supplier<? extends EngineApi> engines, Disks disks, Settings settings, Listener listener, Clock clock, Builder report,
            Verdict verdict) {
            this.engines = engines;
            this.disks = disks;
            this.settings = settings;
            this.listener = listener;
            this.clock = clock;
            this.report = report;
            this.verdict = verdict;
        }

        /** Reads the host (store included) and the last-use record once, and plans the three phases. */
        void look() {
            engine = engines.get();
            host = HostSnapshot.read(engine, HostSnapshot.Depth.STORE, clock.instant());
            record = lastUse(host, settings.lastUseFile(), clock.instant());
            plan = PrunePolicy.plan(new PrunePolicy.Inputs(host, settings.keep(), record), clock.instant(), settings.until(),
                    settings.buildCacheMax());
            report.plan(plan).imagesBefore(host.requireStore().topLevel().size());
        }

        /**
         * A dry run: read the host, plan, predict eviction when asked, and estimate whether a real run
         * would be enough (counting what eviction would free). Nothing is changed.
         */
        Report plan() {
            int closedExit = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK;
            try {
                look();
            } catch (EngineApi.Unavailable e) {
                return report.problem(e.getMessage()).end(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE);
            }
            Optional<EvictionRun.Result> eviction = settings.eviction().flatMap(e -> ageAlone() ? predictAgeAlone(e) : predictEviction(e));
            eviction.ifPresent(report::eviction);
            long evictionFrees = eviction.map(e -> e.plan().bytesFreed()).orElse(0L);
            Set<String> evicted = eviction.map(PruneRun::imageIds).orElse(Set.of());
            PruneShortfall.predict(verdict.disk(), settings.gates().threshold(), plan, evictionFrees,
                            PruneShortfall.kept(plan, settings.until(), evicted))
                    .ifPresent(report::shortfall);
            report.keptImages(keptImages(eviction.map(PruneRun::imageIds).orElse(Set.of()), plan.removed().stream()
                    .filter(i -> i.kind().equals(Phase.IMAGES.kind)).map(Item::id).collect(java.util.stream.Collectors.toSet())));
            return report.problem(verdict.pruneAllowed() ? null : verdict.reason())
                    .diskUnchanged().imagesAfter(Optional.of(host.requireStore().topLevel().size()))
                    .end(Outcome.DRY_RUN, closedExit);
        }

        /**
         * The one case the disk gate does not decide: --max-unused-age, the disk below the threshold
         * and every other gate holding. Then only eviction by age runs (no phase).
         */
        boolean ageAlone() {
            if (settings.maxUnusedAge().isEmpty() || verdict.pruneAllowed()) {
                return false;
            }
            for (GateResult g : verdict.gates()) {
                boolean ok = g.name().equals("disk") ? g.state() == GateResult.State.BLOCKS : g.holds();
                if (!ok) {
                    return false;
                }
            }
            return true;
        }

        /** A real run with the disk below the threshold: eviction by --max-unused-age alone, on the store as it is. */
        Report pruneAgeAlone() {
            try {
                look();
            } catch (EngineApi.Unavailable e) {
                return report.problem(e.getMessage()).end(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE);
            }
            Optional<Report> stopped = evict(settings.eviction().orElseThrow());
            if (stopped.isPresent()) {
                return stopped.get();
            }
            int evicted = report.eviction.map(e -> e.removed().size()).orElse(0);
            report.keptImages(keptImages(report.eviction.map(PruneRun::imageIds).orElse(Set.of()), Set.of()));
            return evicted > 0 ? finish(report, Outcome.PRUNED, ExitCodes.OK)
                    : finish(report.problem(verdict.reason()), Outcome.NOOP, ExitCodes.OK);
        }

        /** The dry run of {@link #pruneAgeAlone}: what eviction by age would remove from the store as it is. */
        Optional<EvictionRun.Result> predictAgeAlone(EvictionPolicy.Settings eviction) {
            Disk disk = verdict.disk().orElseThrow();
            report.evictionNote("the disk is below the threshold (" + settings.gates().threshold().describe(disk)
                    + "): a real run only evicts by --max-unused-age " + settings.maxUnusedAge().get() + " (no phase runs)");
            return Optional.of(EvictionRun.predict(EvictionPolicy.plan(host, settings.keep(), record, eviction, disk, clock.instant(),
                    false)));
        }

        /**
         * Every top-level image the run leaves, by the first reason that keeps it: in-use (a container,
         * service, task or a child's user), keep (--keep, --keep-label), young (used or made within
         * the age that protects), cache (the newest registry image of its repository), tagged
         * (nothing but its name: eviction off, not needed, or left for the next run).
         */
        Map<String, Integer> keptImages(Set<String> evicted, Set<String> removedImages) {
            Until within = settings.eviction().map(EvictionPolicy.Settings::minAge).orElse(settings.until());
            Map<String, List<InUse.Reason>> protectedBy = InUse.of(host, settings.keep(), new InUse.Recency(record, within, clock.instant()));
            Map<String, Item> planned = new java.util.HashMap<>();
            plan.images().forEach(i -> planned.put(i.id(), i));
            Map<String, Integer> counts = new java.util.LinkedHashMap<>();
            KEPT_REASONS.forEach(r -> counts.put(r, 0));
            for (HostSnapshot.Image image : host.requireStore().topLevel()) {
                if (evicted.contains(image.id()) || removedImages.contains(image.id())) {
                    continue;
                }
                List<InUse.Kind> kinds = protectedBy.getOrDefault(image.id(), List.of()).stream().map(InUse.Reason::kind).toList();
                Item item = planned.get(image.id());
                String why;
                if (kinds.stream().anyMatch(InUse.Kind::workload)
                        || (item != null && item.why() == PrunePolicy.Why.IN_USE)) {
                    why = "in-use";
                } else if (kinds.contains(InUse.Kind.KEEP) || kinds.contains(InUse.Kind.KEEP_LABEL)) {
                    why = "keep";
                } else if (kinds.contains(InUse.Kind.RECENT) || (item != null && (item.why() == PrunePolicy.Why.YOUNG
                        || item.why() == PrunePolicy.Why.UNKNOWN_AGE))) {
                    why = "young";
                } else if (item != null && item.why() == PrunePolicy.Why.CACHE) {
                    why = "cache";
                } else if (!image.dangling()) {
                    why = "tagged";
                } else {
                    why = "young"; // planned for removal, kept at run time: it was just used or tagged
                }
                counts.merge(why, 1, Integer::sum);
            }
            return counts;
        }

        Report prune(PruneShortfall.Blocked blocked) {
            boolean unknown = verdict.exitCode() == ExitCodes.CANNOT_EVALUATE;
            if (ageAlone()) {
                return pruneAgeAlone();
            }
            if (!verdict.pruneAllowed()) {
                report.problem(verdict.reason()).diskUnchanged();
                if (blocked.tooLong().isPresent()) {
                    return report.shortfall(blocked.tooLong().get()).end(Outcome.BLOCKED_TOO_LONG, ExitCodes.BLOCKED_TOO_LONG);
                }
                return report.end(unknown ? Outcome.FAILED : Outcome.NOOP, unknown ? ExitCodes.CANNOT_EVALUATE : ExitCodes.OK);
            }
            try {
                look();
            } catch (EngineApi.Unavailable e) {
                return report.problem(e.getMessage()).end(Outcome.FAILED, ExitCodes.CANNOT_EVALUATE);
            }
            listener.planned(verdict, plan);
            List<PhaseResult> done = new ArrayList<>();
            for (Phase phase : Phase.values()) {
                if (phase != Phase.CONTAINERS) {
                    listener.beforeGateCheck(phase);
                }
                GateCheck.Checked recheck = GateCheck.check(engine, settings.gates(), Optional.empty(), disks);
                List<GateResult> closed = recheck.verdict().closedMidRun();
                if (!closed.isEmpty()) {
                    boolean cannotEvaluate = closed.stream().anyMatch(g -> g.state() == GateResult.State.UNKNOWN);
                    return finish(report.phases(done).stoppedBefore(phase).problem("gates closed before " + phase.key + ": "
                                    + String.join("; ", closed.stream().map(g -> g.name() + ": " + g.detail()).toList())),
                            Outcome.STOPPED, cannotEvaluate ? ExitCodes.CANNOT_EVALUATE : ExitCodes.STOPPED_GATES_CLOSED);
                }
                listener.phaseStarting(phase);
                try {
                    PhaseResult result = phase == Phase.IMAGES ? imagePhase(recheck.host().orElseThrow()) : enginePhase(phase);
                    done.add(result);
                    listener.phaseDone(result);
                } catch (EngineApi.Refused e) {
                    boolean busy = e.status() == 409;
                    String why = busy
                            ? "the engine is already running a prune (HTTP 409: " + e.engineMessage() + "; another tool?): "
                                    + phase.key + " not pruned"
                            : e.getMessage();
                    return finish(report.phases(done).stoppedBefore(phase).problem(why),
                            Outcome.FAILED, busy ? ExitCodes.ENGINE_BUSY : ExitCodes.ENGINE_FAILED);
                } catch (EngineApi.Unavailable e) {
                    return finish(report.phases(done).stoppedBefore(phase).problem("during " + phase.key + ": " + e.getMessage()),
                            Outcome.FAILED, ExitCodes.ENGINE_FAILED);
                }
            }
            report.phases(done);
            if (settings.eviction().isPresent()) {
                Optional<Report> stopped = evict(settings.eviction().get());
                if (stopped.isPresent()) {
                    return stopped.get();
                }
            }
            return afterPhases();
        }

        /** Containers and build cache: the engine's own prune, with the request the policy states. */
        PhaseResult enginePhase(Phase phase) {
            long start = System.nanoTime();
            JsonNode response = engine.prune(PrunePolicy.request(phase, settings.until()).orElseThrow());
            List<String> removed = new ArrayList<>();
            String field = phase == Phase.CONTAINERS ? "ContainersDeleted" : "CachesDeleted";
            response.path(field).forEach(id -> removed.add(id.asText()));
            long reclaimed = response.path("SpaceReclaimed").asLong();
            if (phase == Phase.BUILD_CACHE && settings.buildCacheMax().isPresent()) {
                // the engine's own prune down to the budget, in the parameter its API version takes
                String api = engine.version().path("ApiVersion").asText("");
                JsonNode budget = engine.prune(PrunePolicy.buildCacheBudgetRequest(settings.buildCacheMax().getAsLong(), api));
                budget.path(field).forEach(id -> removed.add(id.asText()));
                reclaimed += budget.path("SpaceReclaimed").asLong();
            }
            return new PhaseResult(phase, removed, reclaimed, Duration.ofNanos(System.nanoTime() - start));
        }

        /**
         * The images the plan removes, one by one by ID, never forced: each one's users checked again
         * on the workloads the gates just read (a container, service or task that appeared since the
         * plan keeps it); the engine itself refuses (409) one a container uses at that moment.
         */
        PhaseResult imagePhase(HostSnapshot workloads) {
            long start = System.nanoTime();
            HostSnapshot now = new HostSnapshot(workloads.readAt(), workloads.engine(), workloads.services(), workloads.tasks(),
                    workloads.containers(), host.store());
            Map<String, List<InUse.Reason>> protectedNow = InUse.of(now, settings.keep(),
                    new InUse.Recency(record, PrunePolicy.imagesAge(settings.until()), clock.instant()));
            List<String> removed = new ArrayList<>();
            List<Item> kept = new ArrayList<>();
            long reclaimed = 0;
            for (Item item : plan.images()) {
                if (!item.remove()) {
                    continue;
                }
                List<InUse.Reason> users = protectedNow.getOrDefault(item.id(), List.of());
                if (!users.isEmpty()) {
                    kept.add(item.keptBecause(PrunePolicy.Why.IN_USE, "a user appeared since the plan: " + InUse.describe(users)));
                    continue;
                }
                try {
                    // a delete by ID removes a tagged image too: one tagged since the plan (a pull, docker tag) stays
                    List<String> tags = tagsNow(item.id());
                    if (!tags.isEmpty()) {
                        kept.add(item.keptBecause(PrunePolicy.Why.TAGGED, "tagged since the plan: " + String.join(", ", tags)));
                        continue;
                    }
                    engine.deleteImage(PrunePolicy.imageRequest(item));
                    removed.add(item.id());
                    reclaimed += item.size();
                } catch (EngineApi.Refused e) {
                    if (e.status() == 404) {
                        kept.add(item.keptBecause(PrunePolicy.Why.NEVER, "gone already (removed by someone else)"));
                    } else if (e.status() == 409) {
                        kept.add(item.keptBecause(PrunePolicy.Why.IN_USE, "the engine refused: " + e.engineMessage()));
                    } else {
                        throw e;
                    }
                }
            }
            return new PhaseResult(Phase.IMAGES, removed, reclaimed, Duration.ofNanos(System.nanoTime() - start), kept);
        }

        /** The image's tags as the engine has them now (GET /images/{id}/json; a 404 is the engine's Refused, as for the delete). */
        private List<String> tagsNow(String id) {
            List<String> tags = new ArrayList<>();
            engine.inspectImage(id).path("RepoTags").forEach(t -> {
                if (!t.asText().equals("<none>:<none>")) {
                    tags.add(t.asText());
                }
            });
            return tags;
        }

        /**
         * After the three phases (and eviction, when asked): measure the disk again and say whether it
         * was enough.
         */
        Report afterPhases() {
            Set<String> gone = new HashSet<>();
            report.phases.stream().filter(p -> p.phase() == Phase.IMAGES).forEach(p -> gone.addAll(p.removedIds()));
            report.keptImages(keptImages(report.eviction.filter(e -> !e.predicted()).map(PruneRun::imageIds).orElse(Set.of()), gone));
            Optional<Disk> after = measureAgain(verdict.disks());
            long reclaimed = report.phases.stream().mapToLong(PhaseResult::reclaimedBytes).sum();
            Optional<EvictionRun.Result> eviction = report.eviction.filter(e -> !e.predicted());
            long evictionFreed = eviction.map(EvictionRun.Result::bytesFreed).orElse(0L);
            Set<String> evicted = eviction.map(PruneRun::imageIds).orElse(Set.of());
            Threshold threshold = settings.gates().threshold();
            Optional<PruneShortfall.Shortfall> insufficient = after.flatMap(disk -> PruneShortfall.afterPhases(
                    disk, threshold, reclaimed + evictionFreed, PruneShortfall.kept(plan, settings.until(), evicted)));
            if (insufficient.isPresent()) {
                Disk disk = after.get();
                report.shortfall(insufficient.get()).problem("disk still " + threshold.describe(disk)
                        + " after the phases" + (eviction.isPresent() ? " and eviction" : ""));
                return finish(report, after, Outcome.INSUFFICIENT, ExitCodes.INSUFFICIENT);
            }
            return finish(report, after, Outcome.PRUNED, ExitCodes.OK);
        }

        /**
         * The eviction step, after the three phases: only when the disk is still at or above the
         * threshold, on a fresh look at the store. Returns the report when eviction had to stop the run.
         */
        Optional<Report> evict(EvictionPolicy.Settings eviction) {
            Path diskPath = verdict.disk().map(Disk::path).orElseThrow();
            Threshold threshold = settings.gates().threshold();
            Disk disk;
            HostSnapshot now;
            boolean forSpace;
            try {
                disk = disks.measure(diskPath);
                forSpace = threshold.reachedBy(disk);
                if (!forSpace && eviction.maxUnusedAge().isEmpty()) {
                    report.evictionNote("eviction not needed: " + disk.describe()
                            + " after the phases, below the threshold " + threshold);
                    return Optional.empty();
                }
                if (!forSpace) {
                    report.evictionNote(eviction.watermark().isPresent() && report.phases.size() > 0
                            ? "eviction for space not needed: " + disk.describe() + " after the phases, below the threshold " + threshold
                                    + "; --max-unused-age " + eviction.maxUnusedAge().get() + " still applies"
                            : "the disk is below the threshold (" + threshold.describe(disk) + "): only --max-unused-age "
                                    + eviction.maxUnusedAge().get() + " evicts");
                }
                now = HostSnapshot.read(engine, HostSnapshot.Depth.STORE, clock.instant());
            } catch (IOException e) {
                return Optional.of(finish(report.problem("cannot measure the disk at " + diskPath + " before eviction: "
                        + Text.rootMessage(e)), Outcome.FAILED, ExitCodes.CANNOT_EVALUATE));
            } catch (EngineApi.Unavailable e) {
                return Optional.of(finish(report.problem("before eviction: " + e.getMessage()), Outcome.FAILED, ExitCodes.ENGINE_FAILED));
            }
            EvictionPolicy.Plan evictionPlan = EvictionPolicy.plan(now, settings.keep(), record, eviction, disk, clock.instant(), forSpace);
            EvictionRun.Result result = EvictionRun.run(new EvictionRun.Context(engine, disks, settings.gates(), settings.keep(), record,
                    eviction, now, clock.instant()), evictionPlan, diskPath, listener);
            report.eviction(result);
            if (result.stopped().isPresent()) {
                Outcome outcome = result.exitCode() == ExitCodes.STOPPED_GATES_CLOSED || result.exitCode() == ExitCodes.CANNOT_EVALUATE
                        ? Outcome.STOPPED : Outcome.FAILED;
                return Optional.of(finish(report.problem(result.stopped().get()), outcome, result.exitCode()));
            }
            return Optional.empty();
        }

        /**
         * The dry run's eviction: on the store as the phases would leave it (their removed containers
         * and images gone, the disk lower by what they would free), the plan a real run would follow.
         * Empty when eviction would not run (the note says why).
         */
        Optional<EvictionRun.Result> predictEviction(EvictionPolicy.Settings eviction) {
            Optional<Disk> measured = verdict.disk();
            if (measured.isEmpty()) {
                report.evictionNote("eviction not predicted: the disk could not be measured");
                return Optional.empty();
            }
            Set<String> gone = new HashSet<>();
            plan.removed().forEach(i -> gone.add(i.id()));
            long freed = plan.removed().stream().mapToLong(Item::size).sum();
            HostSnapshot.Store store = host.requireStore();
            HostSnapshot after = new HostSnapshot(host.readAt(), host.engine(), host.services(), host.tasks(),
                    host.containers().stream().filter(c -> !gone.contains(c.id())).toList(),
                    Optional.of(new HostSnapshot.Store(store.images().stream().filter(i -> !gone.contains(i.id())).toList(),
                            store.buildCache().stream().filter(b -> !gone.contains(b.id())).toList(), store.volumes(), store.layersSize())));
            Disk disk = measured.get();
            Disk predicted = disk.freeing(freed);
            Threshold threshold = settings.gates().threshold();
            boolean forSpace = threshold.reachedBy(predicted);
            if (!forSpace && eviction.maxUnusedAge().isEmpty()) {
                report.evictionNote("eviction not needed: about " + predicted.describe()
                        + " after the phases, below the threshold " + threshold);
                return Optional.empty();
            }
            if (!forSpace) {
                report.evictionNote("eviction for space not needed: about " + predicted.describe() + " after the phases, below the threshold "
                        + threshold + "; --max-unused-age " + eviction.maxUnusedAge().get() + " still applies");
            }
            return Optional.of(EvictionRun.predict(EvictionPolicy.plan(after, settings.keep(), record, eviction, predicted,
                    clock.instant(), forSpace)));
        }

        private Report finish(Builder report, Outcome outcome, int exit) {
            return finish(report, measureAgain(verdict.disks()), outcome, exit);
        }

        private Report finish(Builder report, Optional<Disk> diskAfter, Outcome outcome, int exit) {
            Optional<Integer> imagesAfter = Optional.empty();
            try {
                if (engine != null) {
                    imagesAfter = Optional.of(HostSnapshot.topLevelCount(HostSnapshot.diskUsage(engine, Set.of("image"))));
                }
            } catch (EngineApi.Unavailable e) {
                imagesAfter = Optional.empty();
            }
            return report.diskAfter(diskAfter.map(Disk::usedPercent)).imagesAfter(imagesAfter).end(outcome, exit);
        }

        /** The fullest of the file systems the gate measured, measured again; empty if one cannot be. */
        private Optional<Disk> measureAgain(List<Disk> measured) {
            List<Disk> now = new ArrayList<>();
            for (Disk d : measured) {
                try {
                    now.add(disks.measure(d.path()));
                } catch (IOException e) {
                    return Optional.empty();
                }
            }
            return Disk.fullest(now);
        }
    }

    /** The reasons keptImages counts by, in the order the metrics list them. */
    public static final List<String> KEPT_REASONS = List.of("in-use", "keep", "young", "cache", "tagged");

    /** The IDs of the images an eviction removed (a real run) or would remove (a dry run). */
    private static Set<String> imageIds(EvictionRun.Result result) {
        Set<String> ids = new HashSet<>();
        result.removed().forEach(r -> ids.add(r.decision().image().id()));
        return ids;
    }

    /** The record, with the images in use now noted (and written back, when its directory exists). */
    static LastUse lastUse(HostSnapshot host, Optional<Path> file, Instant now) {
        LastUse record = file.map(f -> LastUse.load(f).record()).orElseGet(LastUse::empty);
        host.inUseNow().forEach(u -> record.use(u.imageId(), List.of(u.reference()), now));
        file.ifPresent(f -> LastUse.refresh(f, host.inUseNow(), now, Optional.of(host.presence())));
        return record;
    }

    /**
     * Replaces the state file with what this run learnt. Without a state directory there is nothing
     * to say unless a blocked clock runs (it cannot, then: one note says so instead of "starts now");
     * any other failure to write is one note.
     */
    static Report remember(Report report, Path file, PruneShortfall.Blocked blocked, Instant now) {
        PruneState next = blocked.next().ended(now, report.outcome().word());
        List<String> notes = new ArrayList<>(blocked.notes());
        Path dir = file.toAbsolutePath().getParent();
        boolean noDirectory = dir == null || !Files.isDirectory(dir);
        if (!noDirectory || next.blockedSince().isPresent()) {
            try {
                next.save(file);
            } catch (SmallFile.Unusable e) {
                notes.removeIf(n -> n.startsWith(PruneShortfall.CLOCK_STARTS_NOTE));
                notes.add("state: " + file + " " + e.getMessage() + "; not remembered"
                        + (next.blockedSince().isPresent() ? ": the blocked clock cannot run" : ""));
            }
        }
        return report.withState(new StateReport(file, next, notes));
    }

    /**
     * What a run has done so far, for the report a shutdown hook prints when a signal stops it; and
     * the run's side of the deal: once a signal arrived, it starts no further gate check or phase.
     * Forwards every event to the listener it wraps.
     */
    public static final class Progress implements Listener {
        private final Listener next;
        private final long startNanos = System.nanoTime();
        private Verdict verdict;
        private Plan plan;
        private final List<PhaseResult> done = new ArrayList<>();
        private Phase running;
        private boolean evicting;
        private final List<String> evicted = new ArrayList<>();

        public Progress(Listener next) {
            this.next = next;
        }

        @Override
        public void beforeGateCheck(Phase phase) {
            Signals.stopHereIfSignalled();
            next.beforeGateCheck(phase);
        }

        @Override
        public synchronized void gatesChecked(Verdict v) {
            verdict = v;
            next.gatesChecked(v);
        }

        @Override
        public void planned(Verdict v, Plan p) {
            synchronized (this) {
                plan = p;
            }
            next.planned(v, p);
        }

        @Override
        public void phaseStarting(Phase phase) {
            Signals.stopHereIfSignalled();
            synchronized (this) {
                running = phase;
            }
            next.phaseStarting(phase);
        }

        @Override
        public void phaseDone(PhaseResult result) {
            synchronized (this) {
                done.add(result);
                running = null;
            }
            next.phaseDone(result);
        }

        @Override
        public void beforeRemoval(EvictionPolicy.Decision image) {
            Signals.stopHereIfSignalled();
            synchronized (this) {
                evicting = true;
            }
            next.beforeRemoval(image);
        }

        @Override
        public void removalDone(EvictionRun.Removal removal) {
            synchronized (this) {
                if (removal.removed()) {
                    evicted.add(removal.decision().image().name());
                }
            }
            next.removalDone(removal);
        }

        /** The report of a run stopped by a signal: the phases it completed, and the one the engine was running. */
        public synchronized Report stoppedBy(Signals.Stop stop) {
            Verdict gates = verdict != null ? verdict : GatePolicy.notEvaluated("not evaluated: stopped by " + stop.name());
            Builder report = Report.of(gates, startNanos).phases(done);
            if (plan != null) {
                report.plan(plan);
            }
            String where = running != null ? "during " + running.key + " (the engine finishes that phase by itself)"
                    : evicting ? "during eviction (evicted: " + (evicted.isEmpty() ? "none" : String.join(", ", evicted)) + ")"
                    : verdict == null ? "while checking the gates" : "between phases";
            if (running != null) {
                report.stoppedBefore(running);
            }
            return report.problem("stopped by " + stop.name() + " " + where + ": nothing more was started")
                    .end(Outcome.STOPPED, stop.exitCode());
        }
    }
}
