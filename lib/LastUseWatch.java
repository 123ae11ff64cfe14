package ccci;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
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
 */
public final class LastUseWatch {
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration PRESENCE_INTERVAL = Duration.ofHours(1);
    private static final Set<String> CONTAINER_USES = Set.of("create", "start");
    private static final Set<String> SERVICE_USES = Set.of("create", "update");
    private static final Set<String> IMAGE_ARRIVALS = Set.of("pull", "load", "import", "tag");

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
        flusher.scheduleWithFixedDelay(() -> flush(Optional.empty()), millis, millis, TimeUnit.MILLISECONDS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            flush(Optional.empty());
            log.println("watch: stopped; record " + file + " written");
            log.flush();
        }, "last-use-final-flush"));

        Duration backoff = MIN_BACKOFF;
        boolean everConnected = false;
        while (!stopping) {
            String why;
            try (Engine engine = Engine.connect(hostOption, Duration.ZERO)) {
                // from the last event seen, else from now: the engine replays what happened while the
                // stream was being set up (or, after a lost connection, what it still remembers)
                Instant since = lastEvent != null ? lastEvent : Instant.now();
                catchUp(engine);
                ResultCallback.Adapter<Event> events = engine.api().eventsCmd()
                        .withEventTypeFilter(EventType.CONTAINER, EventType.SERVICE, EventType.IMAGE)
                        .withSince(since.getEpochSecond() + "." + String.format(java.util.Locale.ROOT, "%09d", since.getNano()))
                        .exec(new ResultCallback.Adapter<>() {
                            @Override
                            public void onNext(Event event) {
                                handle(engine, event);
                            }
                        });
                log.println(everConnected
                        ? "watch: reconnected to " + engine.host()
                        : "watch: following the events of " + engine.host() + ", recording the last use of each image in " + file
                                + " (written at most every " + flushInterval.toSeconds() + " s)");
                log.flush();
                everConnected = true;
                backoff = MIN_BACKOFF;
                events.awaitCompletion();
                why = "the event stream ended";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                why = Text.rootMessage(e);
            }
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

    /** On (re)connect: the images of running containers are in use now; and, hourly, which images exist. */
    private void catchUp(Engine engine) {
        Instant now = Instant.now();
        engine.call("GET /containers/json", () -> engine.api().listContainersCmd().exec())
                .forEach(c -> note(c.getImageId(), c.getImage(), now));
        if (Duration.between(lastPresence, now).compareTo(PRESENCE_INTERVAL) >= 0) {
            Set<String> ids = new HashSet<>();
            Set<String> tags = new HashSet<>();
            engine.call("GET /images/json", () -> engine.api().listImagesCmd().exec()).forEach(i -> {
                ids.add(i.getId());
                if (i.getRepoTags() != null) {
                    tags.addAll(List.of(i.getRepoTags()));
                }
            });
            lastPresence = now;
            flush(Optional.of(new LastUse.Presence(ids, tags)));
        }
    }

    void handle(Engine engine, Event event) {
        try {
            Instant at = event.getTimeNano() != null ? Instant.ofEpochSecond(0, event.getTimeNano())
                    : Instant.ofEpochSecond(event.getTime() == null ? Instant.now().getEpochSecond() : event.getTime());
            lastEvent = at;
            Map<String, String> attributes = event.getActor() == null || event.getActor().getAttributes() == null
                    ? Map.of() : event.getActor().getAttributes();
            String id = event.getActor() != null && event.getActor().getId() != null ? event.getActor().getId() : event.getId();
            String action = event.getAction() == null ? "" : event.getAction();
            if (event.getType() == EventType.CONTAINER && CONTAINER_USES.contains(action)) {
                String ref = attributes.getOrDefault("image", "");
                note(containerImage(engine, id).orElseGet(() -> imageId(engine, ref).orElse("")), ref, at);
            } else if (event.getType() == EventType.SERVICE && SERVICE_USES.contains(action)) {
                String ref = engine.call("GET /services/" + id, () -> engine.api().inspectServiceCmd(id).exec())
                        .getSpec().getTaskTemplate().getContainerSpec().getImage();
                note(imageId(engine, ref).orElse(""), ref, at);
            } else if (event.getType() == EventType.IMAGE && IMAGE_ARRIVALS.contains(action)) {
                String name = attributes.getOrDefault("name", id);
                String imageId = id != null && id.startsWith("sha256:") ? id : imageId(engine, name).orElse("");
                note(imageId, name, at);
            }
        } catch (RuntimeException e) {
            // an object gone before we looked, or an engine hiccup: this event is lost, the stream goes on
            log.println("watch: could not record " + event.getType() + " " + Text.safe(event.getAction()) + ": "
                    + Text.safe(Text.rootMessage(e)));
            log.flush();
        }
    }

    private void note(String imageId, String ref, Instant at) {
        synchronized (pending) {
            pending.use(imageId, ref == null ? List.of() : List.of(ref), at);
            dirty = true;
        }
    }

    private static Optional<String> containerImage(Engine engine, String id) {
        try {
            return Optional.ofNullable(engine.call("GET /containers/" + id + "/json",
                    () -> engine.api().inspectContainerCmd(id).exec()).getImageId());
        } catch (Engine.Unavailable e) {
            return Optional.empty();
        }
    }

    private static Optional<String> imageId(Engine engine, String ref) {
        if (ref == null || ref.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(engine.call("GET /images/" + ref + "/json",
                    () -> engine.api().inspectImageCmd(ref).exec()).getId());
        } catch (Engine.Unavailable e) {
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
