package io.jmpio.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's side of the control socket against something that is not a jmpio device behind it: every answer that
 * is not a reply is an error naming the socket, and a reply without end is cut off, never read into memory whole.
 */
class ControlClientTest {
    @TempDir
    Path dir;

    /** Serves one connection: reads the request line, writes {@code answer}, closes. */
    private Path serveOnce(byte[] answer) throws IOException {
        Path socket = dir.resolve("fake.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread t = new Thread(() -> {
            try (server; SocketChannel c = server.accept()) {
                c.read(ByteBuffer.allocate(4096));
                ByteBuffer b = ByteBuffer.wrap(answer);
                while (b.hasRemaining()) {
                    c.write(b);
                }
            } catch (IOException e) {
                // the client gave up reading: what this test wants to see
            }
        });
        t.setDaemon(true);
        t.start();
        return socket;
    }

    static Stream<Arguments> answers() {
        return Stream.of(
            Arguments.of("not json at all\n", "is not a jmpio reply"),
            Arguments.of("[1,2]\n", "is not a jmpio reply"),
            Arguments.of("{\"result\":\"x\"}\n", "is not a jmpio reply"),
            Arguments.of("", "closed without a reply"),
            Arguments.of("{\"ok\":false,\"error\":\"refused for a reason\"}\n", "refused for a reason"));
    }

    @ParameterizedTest
    @MethodSource("answers")
    void answersThatAreNotRepliesAreErrorsNamingTheSocket(String answer, String expected) throws Exception {
        Path socket = serveOnce(answer.getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> ControlClient.status(socket));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        if (!expected.startsWith("refused")) {
            assertTrue(e.getMessage().contains(socket.toString()), e.getMessage());
        }
    }

    @Test
    void aRefusalIsTheDevicesReasonNotAConnectionFailure() throws Exception {
        // the guest tier once printed "cannot reach control socket ...: not detaching lun0: ... is mounted on ..."
        Path socket = serveOnce("{\"ok\":false,\"error\":\"not detaching lun0: /dev/ublkb0 is mounted on /mnt\"}\n"
            .getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> ControlClient.detach(socket, false));
        assertEquals("not detaching lun0: /dev/ublkb0 is mounted on /mnt", e.getMessage());
    }

    @Test
    void aReplyWithoutEndIsCutOff() throws Exception {
        byte[] endless = new byte[ControlClient.MAX_REPLY_BYTES + 4096];
        java.util.Arrays.fill(endless, (byte) 'x');
        Path socket = serveOnce(endless);
        IOException e = assertThrows(IOException.class, () -> ControlClient.status(socket));
        assertTrue(e.getMessage().contains("longer than " + ControlClient.MAX_REPLY_BYTES), e.getMessage());
    }
}
