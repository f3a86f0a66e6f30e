package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.transport.TransportContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A target that breaks the protocol: the host ends the connection with an error naming what was wrong, and
 * neither hangs nor lets an exception escape, whatever the controller sends.
 */
class HostileTargetTest {
    private static final EventLoopGroup LOOPS = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterAll
    static void stop() {
        LOOPS.shutdownGracefully();
    }

    private static byte[] icResp(int pfv, int hlen, int dgst, int maxh2c) {
        ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 1).put((byte) 0).put((byte) hlen).put((byte) 0).putInt(128);
        b.putShort((short) pfv).put((byte) 0).put((byte) dgst).putInt(maxh2c);
        return b.array();
    }

    private static byte[] pdu24(int type, int flags, int plen, Function<ByteBuffer, ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) type).put((byte) flags).put((byte) 24).put((byte) 0).putInt(plen);
        fill.apply(b);
        return b.array();
    }

    /** Serves one connection: reads the ICReq, answers {@code script}, then waits for the host to hang up. */
    private static String attach(byte[]... script) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    in.readNBytes(128);
                    OutputStream out = s.getOutputStream();
                    for (byte[] part : script) {
                        out.write(part);
                    }
                    out.flush();
                    in.readAllBytes(); // until the host closes
                } catch (IOException ignored) {
                    // the host hung up
                }
            });
            t.setDaemon(true);
            t.start();
            TransportContext ctx = new TransportContext("nqn.2014-08.io.jmpio:hostile-test", new byte[16], null, 1, LOOPS,
                NioSocketChannel.class, 3000, 3000, 5000, Map.of());
            long t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class,
                () -> AdminQueue.open(ctx, "127.0.0.1:" + server.getLocalPort(), Sqe.DISCOVERY_NQN, true, null));
            assertTrue(System.nanoTime() - t0 < 6_000_000_000L, "the host gave up in time");
            return e.getMessage();
        }
    }

    private static void assertNames(String message, String... words) {
        for (String w : words) {
            assertTrue(message.contains(w), "'" + message + "' does not name '" + w + "'");
        }
    }

    @Test
    void badConnectionSetUpIsNamed() throws Exception {
        assertNames(attach(icResp(1, 128, 0, 65536)), "ICResp refused", "PFV 1");
        assertNames(attach(icResp(0, 128, 3, 65536)), "ICResp refused", "digests 3");
        assertNames(attach(icResp(0, 128, 0, 100)), "MAXH2CDATA 100");
        assertNames(attach(icResp(0, 100, 0, 65536)), "header length 100");
        assertNames(attach(pdu24(0x04, 0, 72, b -> b)), "never receives");
        assertNames(attach(pdu24(0x42, 0, 24, b -> b)), "PDU type 0x42");
        assertNames(attach(icResp(0, 128, 0, 65536), icResp(0, 128, 0, 65536)), "ICResp after");
    }

    @Test
    void badPdusAfterSetUpAreNamed() throws Exception {
        byte[] ok = icResp(0, 128, 0, 65536);
        // a completion for a command never sent
        assertNames(attach(ok, pdu24(0x05, 0, 24, b -> b.putShort(20, (short) 77))), "77", "not outstanding");
        // data past any buffer, and a length the PDU cannot have
        assertNames(attach(ok, pdu24(0x07, 0, 1 << 30, b -> b)), "PDU length");
        assertNames(attach(ok, pdu24(0x09, 0, 24, b -> b.putShort(8, (short) 5))), "R2T", "not outstanding");
        // the controller ends the connection with a C2HTermReq
        assertNames(attach(ok, pdu24(0x03, 0, 24, b -> b.putShort(8, (short) 2))), "C2HTermReq", "FES 2");
    }
}
