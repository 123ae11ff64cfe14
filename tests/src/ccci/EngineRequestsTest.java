package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the real {@link Engine} puts on the wire for the changes prune and eviction ask: the fake
 * host implements {@link EngineApi} and never sees the HTTP request, so a force or an extra query
 * parameter added in Engine (one the source scan does not spell out) would pass every scenario.
 * Here a socket answers every request with 200 and records its request line.
 */
class EngineRequestsTest {
    @TempDir Path dir;
    FakeEngineSocket server;
    final List<String> requestLines = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    Path recordingEngine() throws IOException {
        server = FakeEngineSocket.serve(dir.resolve("engine.sock"), client -> {
            try (client) {
                ByteBuffer in = ByteBuffer.allocate(16384);
                StringBuilder head = new StringBuilder();
                while (head.indexOf("\r\n\r\n") < 0 && client.read(in) > 0) {
                    in.flip();
                    head.append(StandardCharsets.ISO_8859_1.decode(in));
                    in.clear();
                }
                requestLines.add(head.substring(0, Math.max(0, head.indexOf("\r\n"))));
                client.write(ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                        + "Connection: close\r\n\r\n[]").getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException oneClient) {
                // the next request comes on a new connection
            }
        });
        return server.socket;
    }

    @Test
    void anImageDeleteAndATagGoWithoutForceOrAnyOtherParameter() throws Exception {
        Path socket = recordingEngine();
        try (Engine engine = Engine.connect("unix://" + socket)) {
            engine.deleteImage("0123456789ab");
            engine.deleteImage("registry.example:5000/app:1");
            engine.tagImage("0123456789ab", "registry.example:5000/app", "1");
            engine.prune(PrunePolicy.request(PrunePolicy.Phase.CONTAINERS, Until.parse("24h")).orElseThrow());
        }
        assertEquals(4, requestLines.size(), requestLines.toString());
        String version = "(/v[0-9.]+)?";
        assertTrue(requestLines.get(0).matches("DELETE " + version + "/images/0123456789ab HTTP/1\\.1"), requestLines.get(0));
        assertTrue(requestLines.get(1).matches("DELETE " + version + "/images/registry\\.example(:|%3A)5000(/|%2F)app(:|%3A)1 HTTP/1\\.1"),
                requestLines.get(1));
        assertTrue(requestLines.get(2).matches("POST " + version + "/images/0123456789ab/tag\\?repo=[^&]+&tag=1 HTTP/1\\.1"),
                requestLines.get(2));
        assertTrue(requestLines.get(3).matches("POST " + version + "/containers/prune\\?filters=[^&]+ HTTP/1\\.1"), requestLines.get(3));
        requestLines.forEach(line -> assertTrue(!line.toLowerCase(java.util.Locale.ROOT).contains("force"), line));
    }
}
