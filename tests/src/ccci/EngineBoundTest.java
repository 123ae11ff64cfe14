package ccci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.sandbox.CommandResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 19 item 3: every engine request is bounded, on the unix socket too (docker-java's response
 * timeout never fires there). A fake engine socket that stalls mid-header, or sends one byte every
 * few seconds, must end gates in one clear line and exit 11 within the bound (CC_CI_ENGINE_TIMEOUT).
 */
class EngineBoundTest {
    enum Stall { MID_HEADER, ONE_BYTE_AT_A_TIME, NO_ANSWER }

    @TempDir Path dir;
    FakeEngineSocket server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** A socket that accepts, reads the request and then answers as the stall says, never finishing. */
    Path stallingEngine(Stall stall) throws IOException {
        server = FakeEngineSocket.serve(dir.resolve("stall.sock"), client -> serve(client, stall));
        return server.socket;
    }

    static void serve(SocketChannel client, Stall stall) {
        try (client) {
            client.read(ByteBuffer.allocate(8192));
            byte[] head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n".getBytes(StandardCharsets.US_ASCII);
            switch (stall) {
                case MID_HEADER -> client.write(ByteBuffer.wrap(head));
                case ONE_BYTE_AT_A_TIME -> {
                    for (byte b : head) {
                        client.write(ByteBuffer.wrap(new byte[] {b}));
                        Thread.sleep(1500);
                    }
                }
                case NO_ANSWER -> { }
            }
            Thread.sleep(Long.MAX_VALUE);
        } catch (IOException | InterruptedException e) {
            // the client gave up or the test ended
        }
    }

    @ParameterizedTest
    @EnumSource(Stall.class)
    void aStalledEngineEndsGatesWithOneLineAndExit11WithinTheBound(Stall stall) throws Exception {
        Path socket = stallingEngine(stall);
        long start = System.nanoTime();
        CommandResult run = gates(socket, "2");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertEquals(Cli.ExitCodes.CANNOT_EVALUATE, run.exit(), run.toString());
        assertTrue(seconds < 20, "ended after " + seconds + " s with a 2 s bound");
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).startsWith("gates: the Docker engine at unix://" + socket + " did not answer GET /info within 2 s"), lines.get(0));
    }

    @ParameterizedTest
    @EnumSource(value = Stall.class, names = "MID_HEADER")
    void aBadBoundIsBadInput(Stall stall) throws Exception {
        CommandResult run = gates(stallingEngine(stall), "soon");
        assertEquals(Cli.ExitCodes.BAD_INPUT, run.exit(), run.toString());
        assertEquals("gates: CC_CI_ENGINE_TIMEOUT 'soon' is not a whole number of seconds (1-3600)", run.err().strip());
    }

    CommandResult gates(Path socket, String timeout) throws Exception {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "Gates", "-H", "unix://" + socket,
                "--last-use", dir.resolve("none/last-use.json").toString()))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put(Engine.TIMEOUT_VARIABLE, timeout);
        Process p = builder.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gates still running after 60 s");
        return new CommandResult(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
