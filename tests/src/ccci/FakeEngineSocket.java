package ccci;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A stand-in engine on a unix socket, for what only the wire shows: each connection is handed to
 * the handler on a daemon thread of its own (the handler closes it). Closing stops accepting.
 */
final class FakeEngineSocket implements AutoCloseable {
    private final ServerSocketChannel server;
    final Path socket;

    private FakeEngineSocket(Path socket, ServerSocketChannel server) {
        this.socket = socket;
        this.server = server;
    }

    static FakeEngineSocket serve(Path socket, Consumer<SocketChannel> handler) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        daemon(() -> {
            try {
                while (true) {
                    SocketChannel client = server.accept();
                    daemon(() -> handler.accept(client));
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
        return new FakeEngineSocket(socket, server);
    }

    private static void daemon(Runnable body) {
        Thread t = new Thread(body);
        t.setDaemon(true);
        t.start();
    }

    /** DOCKER_HOST for it. */
    String host() {
        return "unix://" + socket;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
