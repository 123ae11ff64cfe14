//SOURCES Engine.java EngineApi.java HostSnapshot.java LastUse.java Text.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The long-running side of the last-use record: follows the engine's events (container create and
 * start, including swarm tasks, which reach a node as containers; service create and update; image
 * pull, load, import and tag) and notes, at the event's own time, the image ID and the reference
 * used. Writes are debounced (at most one per flush interval) and merged into the state file
 * ({@link LastUse#save}); records of images the store no longer holds are dropped at start and
 * hourly. When the event stream ends (the engine restarted or went away) it reconnects with
 * backoff, one log line per attempt, and catches up from the last event it saw.
 *
 * <p>While it follows the events it writes a heartbeat into the record (at most every
 * {@link #HEARTBEAT}). Each time it starts following them again (watch started, or the engine came
 * back: the engine keeps few events, and none across its own restart) the record gets a gap, from
 * the last heartbeat (or the moment the stream was lost) to now, and every image present now counts
 * as used now: never older, which kubelet got wrong after a restart.
 */
public final class LastUseWatch {
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration PRESENCE_INTERVAL = Duration.ofHours(1);
    private static final Set<String> CONTAINER_USES = Set.of("create", "start");
    private static final Set<String> SERVICE_USES = Set.of("create", "update");
    private static final Set<String> IMAGE_ARRIVALS = Set.of("pull", "load", "import", "tag");
    /** How often, at most, the heartbeat is written while watch follows the events. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(60);

    private final String hostOption;
    private final Path file;
    private final Duration flushInterval;
    private final Duration maxBackoff;
    private final PrintWriter log;
    private final LastUse pending = LastUse.empty();
    private volatile boolean dirty;
    private volatile Instant lastEvent;
    private volatile boolean stopping;
    private Instant lastPresence = Instant.EPOCH;
    private Optional<String> lastFlushProblem = Optional.empty();
    /** Following the events now (the heartbeat is written only then). */
    private volatile boolean following;
    /** The last time watch was known to follow the events (its last heartbeat or event), this run. */
    private volatile Instant knownAlive;
    private Instant lastHeartbeat = Instant.EPOCH;

    public LastUseWatch(String hostOption, Path file, Duration flushInterval, Duration maxBackoff, PrintWriter log) {
        this.hostOption = hostOption;
        this.file = file;
        this.flushInterval = flushInterval;
        this.maxBackoff = maxBackoff;
        this.log = log;
    }

    /** Runs until the JVM is asked to stop; what is pending is written on the way out. */
    public void run() {
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "last-use-flush");
            t.setDaemon(true);
            return t;
        });
        long millis = flushInterval.toMillis();
        flusher.scheduleWithFixedDelay(() -> {
            heartbeat(Instant.now());
            flush(Optional.empty());
        }, millis, millis, TimeUnit.MILLISECONDS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            if (following) {
                noteAlive(Instant.now());
            }
            following = false;
            flush(Optional.empty());
            log.println("watch: stopped; record " + file + " written");
            log.flush();
        }, "last-use-final-flush"));

        Duration backoff = MIN_BACKOFF;
        boolean everConnected = false;
        while (!stopping) {
            String why;
            try (Engine engine = Engine.connect(hostOption)) {
                // from the last event seen, else from now: the engine replays what happened while the
                // stream was being set up (or, after a lost connection, what it still remembers)
                Instant since = lastEvent != null ? lastEvent : Instant.now();
                following(engine, Instant.now());
                log.println(everConnected
                        ? "watch: reconnected to " + engine.host()
                        : "watch: following the events of " + engine.host() + ", recording the last use of each image in " + file
                                + " (written at most every " + flushInterval.toSeconds() + " s)");
                log.flush();
                everConnected = true;
                backoff = MIN_BACKOFF;
                engine.events(since, List.of("container", "service", "image"), event -> handle(engine, event));
                why = "the event stream ended";
            } catch (RuntimeException e) {
                why = Text.rootMessage(e);
            }
            if (following) {
                noteAlive(Instant.now()); // the stream was followed up to now: the gap starts here
            }
            following = false;
            if (stopping) {
                return;
            }
            log.println("watch: engine lost (" + Text.safe(why) + "); reconnecting in " + backoff.toSeconds() + " s");
            log.flush();
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        }
    }

    /**
     * watch follows the engine's events again (its start, or a reconnect): the record gets a gap
     * from the last time watch was known alive (this run's, else the record's heartbeat; none: the
     * record knows no time before) to now, and every image present now counts as used now; the
     * images of running containers are in use now; hourly, which images exist.
     */
    void following(EngineApi engine, Instant now) {
        Optional<Instant> from = Optional.ofNullable(knownAlive).or(() -> LastUse.load(file).record().alive());
        List<String> present = new java.util.ArrayList<>();
        for (JsonNode i : engine.images()) {
            present.add(i.path("Id").asText());
        }
        synchronized (pending) {
            pending.gap(from, now, present);
            pending.markAlive(now);
            dirty = true;
        }
        knownAlive = now;
        lastHeartbeat = now;
        following = true;
        catchUp(engine, now);
        flush(Optional.empty());
    }

    /** While following the events, at most every {@link #HEARTBEAT}: the record learns watch is alive. */
    void heartbeat(Instant now) {
        if (!following) {
            return;
        }
        knownAlive = now;
        if (Duration.between(lastHeartbeat, now).compareTo(HEARTBEAT) >= 0) {
            noteAlive(now);
        }
    }

    private void noteAlive(Instant now) {
        knownAlive = now;
        lastHeartbeat = now;
        synchronized (pending) {
            pending.markAlive(now);
            dirty = true;
        }
    }

    /** The images of running containers are in use now; and, hourly, which images exist. */
    private void catchUp(EngineApi engine, Instant now) {
        HostSnapshot.containers(engine.containers(false)).forEach(c -> note(c.imageId(), c.image(), now));
        if (Duration.between(lastPresence, now).compareTo(PRESENCE_INTERVAL) >= 0) {
            Set<String> ids = new HashSet<>();
            Set<String> tags = new HashSet<>();
            for (JsonNode i : engine.images()) {
                ids.add(i.path("Id").asText());
                i.path("RepoTags").forEach(t -> tags.add(t.asText()));
            }
            lastPresence = now;
            flush(Optional.of(new LastUse.Presence(ids, tags)));
        }
    }

    /**
     * One event, in any API's shape (1.52 dropped status, id and from: Type, Action and Actor carry
     * it all). A pull names the image by the reference pulled (Actor.ID, with a tag or a digest) and
     * its repository (Actor.Attributes.name): recorded under the image that reference resolves to.
     */
    void handle(EngineApi engine, JsonNode event) {
        String type = event.path("Type").asText("");
        String action = event.path("Action").asText(event.path("status").asText(""));
        try {
            Instant at = event.hasNonNull("timeNano") ? Instant.ofEpochSecond(0, event.path("timeNano").asLong())
                    : Instant.ofEpochSecond(event.path("time").asLong(Instant.now().getEpochSecond()));
            lastEvent = at;
            JsonNode actor = event.path("Actor");
            String id = actor.path("ID").asText(event.path("id").asText(""));
            JsonNode attributes = actor.path("Attributes");
            if (type.equals("container") && CONTAINER_USES.contains(action)) {
                String ref = attributes.path("image").asText("");
                note(containerImage(engine, id).or(() -> imageId(engine, ref)).orElse(""), ref, at);
            } else if (type.equals("service") && SERVICE_USES.contains(action)) {
                String ref = engine.inspectService(id).path("Spec").path("TaskTemplate").path("ContainerSpec").path("Image").asText("");
                note(imageId(engine, ref).orElse(""), ref, at);
            } else if (type.equals("image") && IMAGE_ARRIVALS.contains(action)) {
                String name = attributes.path("name").asText("");
                String ref = id.startsWith("sha256:") ? name : id;
                String imageId = id.startsWith("sha256:") ? id : resolve(engine, id, name).orElse("");
                note(imageId, ref, at);
            }
        } catch (RuntimeException e) {
            // an object gone before we looked, or an engine hiccup: this event is lost, the stream goes on
            log.println("watch: could not record " + Text.safe(type) + " " + Text.safe(action) + ": " + Text.safe(Text.rootMessage(e)));
            log.flush();
        }
    }

    /**
     * The image a pulled reference names: the reference itself (name:tag, name@digest), then the
     * same without its tag when it also has a digest (swarm pulls name:tag@digest, which the
     * classic store keeps only under its digest), then the repository's name.
     */
    static Optional<String> resolve(EngineApi engine, String reference, String name) {
        List<String> tries = new java.util.ArrayList<>();
        tries.add(reference);
        int at = reference.indexOf('@');
        if (at > 0) {
            String repo = reference.substring(0, at);
            int colon = repo.lastIndexOf(':');
            if (colon > repo.lastIndexOf('/')) {
                tries.add(repo.substring(0, colon) + reference.substring(at));
            }
        }
        if (!name.isEmpty() && !tries.contains(name)) {
            tries.add(name);
        }
        for (String candidate : tries) {
            Optional<String> id = imageId(engine, candidate);
            if (id.isPresent()) {
                return id;
            }
        }
        return Optional.empty();
    }

    private void note(String imageId, String ref, Instant at) {
        synchronized (pending) {
            pending.use(imageId, ref == null ? List.of() : List.of(ref), at);
            dirty = true;
        }
    }

    private static Optional<String> containerImage(EngineApi engine, String id) {
        try {
            return Optional.of(engine.inspectContainer(id).path("Image").asText("")).filter(i -> !i.isEmpty());
        } catch (EngineApi.Unavailable e) {
            return Optional.empty();
        }
    }

    private static Optional<String> imageId(EngineApi engine, String ref) {
        if (ref == null || ref.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(engine.inspectImage(ref).path("Id").asText("")).filter(i -> !i.isEmpty());
        } catch (EngineApi.Unavailable e) {
            return Optional.empty();
        }
    }

    /** Writes what is pending (merged with the file); a failure is logged once and retried at the next flush. */
    synchronized void flush(Optional<LastUse.Presence> presence) {
        if (!dirty && presence.isEmpty()) {
            return;
        }
        LastUse batch;
        synchronized (pending) {
            batch = LastUse.empty().merge(pending);
            dirty = false;
        }
        try {
            LastUse.save(file, batch, presence);
            synchronized (pending) {
                if (!dirty) {
                    pending.clear();
                }
            }
            lastFlushProblem = Optional.empty();
        } catch (IOException | RuntimeException e) {
            dirty = true;
            String problem = "watch: cannot write " + file + ": " + Text.rootMessage(e);
            if (!lastFlushProblem.equals(Optional.of(problem))) {
                log.println(problem);
                log.flush();
            }
            lastFlushProblem = Optional.of(problem);
        }
    }
}
