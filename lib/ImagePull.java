//SOURCES EngineApi.java ImageRef.java Registry.java Text.java
package ccci;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One pull through the engine (POST /images/create), timed, with the engine's per-layer
 * statuses counted: a layer is "downloaded" when the engine reports "Download complete" or
 * "Pull complete" for it, "already present" when it reports "Already exists". The final status
 * says whether the image was "up to date" (nothing fetched but the manifest).
 * Progress messages are read defensively: an error message has no status, only errorDetail.
 */
public final class ImagePull {
    private ImagePull() {}

    /** imageLayers: the pulled image's layer count, when known (see {@link #withImageLayers}); else 0. */
    public record Result(Duration elapsed, Set<String> downloaded, Set<String> present,
                         boolean upToDate, String finalStatus, int imageLayers) {
        public Result(Duration elapsed, Set<String> downloaded, Set<String> present, boolean upToDate, String finalStatus) {
            this(elapsed, downloaded, present, upToDate, finalStatus, 0);
        }

        public int layersDownloaded() {
            return downloaded.size();
        }

        /**
         * Layers the pull did not download because they were here. The classic store says "Already
         * exists" for each; the containerd store names only the layers it fetches, so there the
         * image's own layer count tells the rest.
         */
        public int layersPresent() {
            return Math.max(present.size(), imageLayers - downloaded.size());
        }

        /** The same result, knowing how many layers the pulled image has. */
        public Result withImageLayers(int layers) {
            return new Result(elapsed, downloaded, present, upToDate, finalStatus, layers);
        }

        public long millis() {
            return elapsed.toMillis();
        }
    }

    /** The pull did not succeed: the engine's error line (already free of secrets), or a timeout. */
    public static final class Failed extends RuntimeException {
        public Failed(String message) {
            super(message);
        }
    }

    /**
     * How far a pull is: layers done (pulled or already present) of the layers the engine named, and
     * bytes downloaded of the sizes it announced so far (a layer's size is known once it starts).
     */
    public record Progress(int layersDone, int layers, long bytesDone, long bytes, Duration elapsed) {}

    /**
     * @param credentials empty for an anonymous pull (docker-java's client-wide default is never used)
     * @param every       report {@link Progress} this often while the pull runs (never for a pull done sooner)
     * @throws Failed when the engine reports an error in the stream or the pull takes longer than {@code timeout}
     * @throws EngineApi.Unavailable when the engine cannot be reached or answers the request with an HTTP error
     */
    public static Result pull(EngineApi engine, ImageRef image, Optional<Registry.Credentials> credentials,
                              Duration timeout, Duration every, Consumer<Progress> progress) {
        Counting counting = new Counting(every, progress);
        long start = counting.start;
        java.util.concurrent.ScheduledExecutorService ticker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pull-progress");
            t.setDaemon(true);
            return t;
        });
        if (!every.isZero()) {
            ticker.scheduleAtFixedRate(counting::report, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS); // a stalled pull is not silent either
        }
        try {
            engine.pull(image.repository(), image.tagOrDigest(), credentials.map(Registry.Credentials::header), timeout, counting::onNext);
        } catch (EngineApi.Refused e) {
            throw e;
        } catch (EngineApi.Unavailable e) {
            if (e.getMessage().contains("did not answer")) {
                throw new Failed("the pull of " + image + " did not finish within " + timeout.toSeconds() + " s");
            }
            throw e;
        } finally {
            ticker.shutdownNow();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        String redactedError = counting.error == null ? null
                : credentials.map(c -> c.redact(counting.error)).orElse(counting.error);
        if (redactedError != null) {
            throw new Failed("the engine could not pull " + image + ": " + redactedError);
        }
        if (counting.finalStatus == null) {
            throw new Failed("the engine ended the pull of " + image + " without a final status");
        }
        return new Result(elapsed, Set.copyOf(counting.downloaded), Set.copyOf(counting.present),
                counting.finalStatus.startsWith("Status: Image is up to date"), counting.finalStatus);
    }

    /** Counts layer statuses; never throws from onNext (an exception there would end the stream unseen). */
    static final class Counting {
        final Set<String> downloaded = new LinkedHashSet<>();
        final Set<String> present = new LinkedHashSet<>();
        final Set<String> layers = new LinkedHashSet<>();
        final Set<String> done = new LinkedHashSet<>();
        final Map<String, long[]> bytes = new LinkedHashMap<>(); // layer -> {downloaded, size}
        volatile String finalStatus;
        volatile String error;
        final long start = System.nanoTime();
        private final Duration every;
        private final Consumer<Progress> progress;
        private long lastReport = start;

        Counting(Duration every, Consumer<Progress> progress) {
            this.every = every;
            this.progress = progress;
        }

        /** Reports progress when a period has passed since the last report (and some layer is known). */
        void report() {
            Progress now;
            synchronized (this) {
                long t = System.nanoTime();
                if (layers.isEmpty() || t - lastReport < every.toNanos()) {
                    return;
                }
                lastReport = t;
                now = progress();
            }
            progress.accept(now);
        }

        synchronized Progress progress() {
            return new Progress(done.size(), layers.size(), bytes.values().stream().mapToLong(b -> b[0]).sum(),
                    bytes.values().stream().mapToLong(b -> b[1]).sum(), Duration.ofNanos(System.nanoTime() - start));
        }

        public void onNext(JsonNode item) {
            try {
                see(item);
                report();
            } catch (RuntimeException e) {
                error = "unreadable pull status from the engine (" + e.getClass().getSimpleName() + ")";
            }
        }

        void see(JsonNode item) {
            if (item == null) {
                return;
            }
            if (item.hasNonNull("errorDetail") || item.hasNonNull("error")) {
                String message = item.path("errorDetail").path("message").asText(item.path("error").asText(""));
                error = Text.firstLine(message.isEmpty() ? "unknown error" : message);
                return;
            }
            String status = item.hasNonNull("status") ? item.path("status").asText() : null;
            if (status == null) {
                return;
            }
            String id = item.hasNonNull("id") ? item.path("id").asText() : null;
            synchronized (this) {
                if (id != null && !status.startsWith("Pulling from")) {
                    layers.add(id);
                }
                if (id != null && (status.equals("Download complete") || status.equals("Pull complete"))) {
                    downloaded.add(id);
                    bytes.computeIfPresent(id, (layer, b) -> new long[] {b[1], b[1]});
                    if (status.equals("Pull complete")) {
                        done.add(id);
                    }
                } else if (id != null && status.equals("Already exists")) {
                    present.add(id);
                    done.add(id);
                } else if (id != null && status.equals("Downloading") && item.has("progressDetail")) {
                    bytes.put(id, new long[] {item.path("progressDetail").path("current").asLong(0),
                            item.path("progressDetail").path("total").asLong(0)});
                } else if (status.startsWith("Status: ")) {
                    finalStatus = status;
                }
            }
        }
    }
}
