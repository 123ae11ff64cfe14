package ccci;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.PullResponseItem;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One pull through the engine (docker-java's pullImageCmd), timed, with the engine's per-layer
 * statuses counted: a layer is "downloaded" when the engine reports "Download complete" or
 * "Pull complete" for it, "already present" when it reports "Already exists". The final status
 * says whether the image was "up to date" (nothing fetched but the manifest).
 *
 * <p>docker-java's own PullImageResultCallback dereferences the status of every item, which is null
 * on an error item (e.g. an auth error): this callback reads items defensively and reports the
 * engine's error text instead.
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
     * @throws Engine.Unavailable when the engine cannot be reached or answers the request with an HTTP error
     */
    public static Result pull(Engine engine, ImageRef image, Optional<Registry.Credentials> credentials,
                              Duration timeout, Duration every, Consumer<Progress> progress) {
        Counting counting = new Counting(every, progress);
        long start = counting.start;
        Boolean finished = engine.call("POST /images/create (pull " + image + ")", () -> {
            engine.api().pullImageCmd(image.repository())
                    .withTag(image.tagOrDigest())
                    .withAuthConfig(credentials.map(Registry.Credentials::authConfig).orElse(null))
                    .exec(counting);
            try {
                long deadline = start + timeout.toNanos();
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    long slice = every.isZero() ? left : Math.min(left, every.toNanos());
                    if (counting.awaitCompletion(slice, TimeUnit.NANOSECONDS)) { // rethrows the engine's error
                        return true;
                    }
                    counting.report(); // a stalled pull is not silent either
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        });
        if (finished == null || !finished) {
            try {
                counting.close();
            } catch (IOException ignored) {
                // the stream is abandoned either way
            }
            throw new Failed(finished == null ? "the pull of " + image + " was interrupted"
                    : "the pull of " + image + " did not finish within " + timeout.toSeconds() + " s");
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
    static final class Counting extends ResultCallback.Adapter<PullResponseItem> {
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

        @Override
        public void onNext(PullResponseItem item) {
            try {
                see(item);
                report();
            } catch (RuntimeException e) {
                error = "unreadable pull status from the engine (" + e.getClass().getSimpleName() + ")";
            }
        }

        @SuppressWarnings("deprecation") // getError(): the engine still sends "error" next to errorDetail
        void see(PullResponseItem item) {
            if (item == null) {
                return;
            }
            if (item.getErrorDetail() != null || item.getError() != null) {
                String message = item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null
                        ? item.getErrorDetail().getMessage() : item.getError();
                error = Text.firstLine(message != null ? message : "unknown error");
                return;
            }
            String status = item.getStatus();
            if (status == null) {
                return;
            }
            String id = item.getId();
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
                } else if (id != null && status.equals("Downloading") && item.getProgressDetail() != null) {
                    Long current = item.getProgressDetail().getCurrent();
                    Long total = item.getProgressDetail().getTotal();
                    bytes.put(id, new long[] {current == null ? 0 : current, total == null ? 0 : total});
                } else if (status.startsWith("Status: ")) {
                    finalStatus = status;
                }
            }
        }
    }
}
