package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.core.DockerClientConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counting the engine's pull statuses, fed with lines an engine 20.10 really sent (no engine here). */
class ImagePullCountingTest {
    static final List<ImagePull.Progress> REPORTED = new ArrayList<>();

    static ImagePull.Counting feed(String... lines) throws Exception {
        REPORTED.clear();
        ImagePull.Counting counting = new ImagePull.Counting(Duration.ZERO, REPORTED::add); // a report after every item
        for (String line : lines) {
            counting.onNext(Json.mapper().readTree(line));
        }
        return counting;
    }

    @Test
    void aColdPullCountsDownloadedAndAlreadyPresentLayers() throws Exception {
        ImagePull.Counting cold = feed(
                "{\"status\":\"Pulling from ccci/big\",\"id\":\"1\"}",
                "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"ced4f4841673\"}",
                "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Verifying Checksum\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Digest: sha256:d04843d974f6ae588414c3bcaf52be316fad7080f5763244add5bb39363d2798\"}",
                "{\"status\":\"Status: Downloaded newer image for localhost:5987/ccci/big:1\"}");
        assertEquals(1, cold.downloaded.size());
        assertEquals(1, cold.present.size());
        assertEquals("Status: Downloaded newer image for localhost:5987/ccci/big:1", cold.finalStatus);
        assertNull(cold.error);
    }

    @Test
    void progressCountsLayersDoneOfLayersNamedAndBytesOfSizesAnnounced() throws Exception {
        feed(
                "{\"status\":\"Pulling from ccci/big\",\"id\":\"1\"}",
                "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"ced4f4841673\"}",
                "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"0a1b2c3d4e5f\"}",
                "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1500000,\"total\":4000000},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}",
                "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"73bc3d264984\"}");
        assertEquals(6, REPORTED.size(), "a report after each item but the first (no layer named yet): " + REPORTED);
        ImagePull.Progress downloading = REPORTED.get(3);
        assertEquals(List.of(1, 3, 1_500_000L, 4_000_000L), List.of(downloading.layersDone(), downloading.layers(),
                downloading.bytesDone(), downloading.bytes()), downloading.toString());
        ImagePull.Progress last = REPORTED.get(REPORTED.size() - 1);
        assertEquals(List.of(2, 3, 4_000_000L, 4_000_000L), List.of(last.layersDone(), last.layers(), last.bytesDone(),
                last.bytes()), last.toString());
        assertEquals("2/3 layers, 4.0 MB of 4.0 MB", ReuseProofFormat.progressFigures(last));
    }

    @Test
    void aWarmPullIsUpToDateWithNoLayer() throws Exception {
        ImagePull.Counting warm = feed(
                "{\"status\":\"Pulling from ccci/big\",\"id\":\"1\"}",
                "{\"status\":\"Digest: sha256:d04843d974f6ae588414c3bcaf52be316fad7080f5763244add5bb39363d2798\"}",
                "{\"status\":\"Status: Image is up to date for localhost:5987/ccci/big:1\"}");
        assertTrue(warm.downloaded.isEmpty() && warm.present.isEmpty());
        assertTrue(warm.finalStatus.startsWith("Status: Image is up to date"));
    }

    @Test
    void anErrorItemWithoutStatusIsReportedNotThrown() throws Exception {
        // docker-java's own PullImageResultCallback throws an NPE on this item (its status is null)
        ImagePull.Counting failed = feed(
                "{\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},\"error\":\"unauthorized: authentication required\"}");
        assertEquals("unauthorized: authentication required", failed.error);
        assertNull(failed.finalStatus);
    }
}
