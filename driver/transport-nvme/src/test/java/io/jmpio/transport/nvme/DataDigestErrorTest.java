package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A C2HData whose data digest does not match (a corruption on the wire): the read ends with Data Transfer Error
 * when the controller ends it — after the rest of its data and its CapsuleResp — and the connection lives on, so
 * what the controller still sends for that command never lands on the next command given its CID. The target
 * here is written from the NVMe/TCP specification in the test.
 */
class DataDigestErrorTest {
    private static final EventLoopGroup LOOPS = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private static final int READ = 8192;

    @AfterAll
    static void stop() {
        LOOPS.shutdownGracefully();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    private static byte[] capsuleResp(int cid, int dw0) {
        ByteBuffer b = le(24);
        b.put(0, (byte) 0x05).put(2, (byte) 24).putInt(4, 24).putInt(8, dw0).putShort(20, (short) cid);
        return b.array();
    }

    /** C2HData with a data digest; {@code corrupt}: the digest is that of other bytes. */
    private static byte[] c2hData(int cid, int offset, byte[] data, boolean last, boolean corrupt) {
        ByteBuffer b = le(24 + data.length + 4);
        b.put(0, (byte) 0x07).put(1, (byte) (0x02 | (last ? 0x04 : 0))).put(2, (byte) 24).put(3, (byte) 24)
            .putInt(4, b.capacity()).putShort(8, (short) cid).putInt(12, offset).putInt(16, data.length);
        b.position(24);
        b.put(data).putInt(crc(data) ^ (corrupt ? 1 : 0));
        return b.array();
    }

    /** Reads one CapsuleCmd (72-byte header, data digest on its in-capsule data if any); returns its CID. */
    private static int readCapsule(InputStream in) throws IOException {
        byte[] common = in.readNBytes(8);
        int plen = ByteBuffer.wrap(common).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
        byte[] rest = in.readNBytes(plen - 8);
        assertEquals(0x04, common[0], "a CapsuleCmd");
        return ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN).getShort(2) & 0xFFFF; // the SQE's CID, PDU byte 10
    }

    @Test
    void aReadWithACorruptPduEndsWithDataTransferErrorAndTheConnectionServesTheNextRead() throws Exception {
        byte[] good = new byte[READ];
        new java.util.Random(9).nextBytes(good);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> target = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    in.readNBytes(128); // ICReq
                    ByteBuffer ic = le(128);
                    ic.put(0, (byte) 0x01).put(2, (byte) 128).putInt(4, 128).put(11, (byte) 0x02).putInt(12, 1 << 20);
                    out.write(ic.array());
                    out.write(capsuleResp(readCapsule(in), 1)); // Connect: controller 1
                    int first = readCapsule(in);
                    byte[] half1 = java.util.Arrays.copyOfRange(good, 0, READ / 2);
                    byte[] half2 = java.util.Arrays.copyOfRange(good, READ / 2, READ);
                    out.write(c2hData(first, 0, half1, false, true));
                    out.write(c2hData(first, READ / 2, half2, true, false));
                    out.write(capsuleResp(first, 0));
                    out.flush();
                    int second = readCapsule(in);
                    out.write(c2hData(second, 0, half1, false, false));
                    out.write(c2hData(second, READ / 2, half2, true, false));
                    out.write(capsuleResp(second, 0));
                    out.flush();
                    in.read(); // until the host hangs up
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            EventLoop loop = LOOPS.next();
            ConnectedQueuePair host = ConnectedQueuePair.open(loop, server.getLocalPort(), false, true, 8192);
            QueuePair q = host.queue;

            Done first = read(q, loop);
            assertEquals(Sqe.SC_DATA_TRANSFER_ERROR, first.status(), "the corrupt read: Data Transfer Error");
            assertNull(first.data(), "and no data");
            Done second = read(q, loop);
            assertNull(host.closed.getNow(null), "the connection lives on");
            assertEquals(0, second.status(), "the next read");
            assertArrayEquals(good, second.data(), "gets its own data");
            loop.submit(() -> q.close("test over", false)).get(5, TimeUnit.SECONDS);
            target.get(10, TimeUnit.SECONDS);
        }
    }

    private record Done(int status, byte[] data) {
    }

    private static Done read(QueuePair q, EventLoop loop) throws Exception {
        CompletableFuture<Done> done = new CompletableFuture<>();
        loop.execute(() -> {
            ByteBuf sqe = Sqe.of(io.netty.buffer.ByteBufAllocator.DEFAULT, 0x02).dw(Sqe.NSID_OFFSET, 1)
                .dw(Sqe.CDW12, READ / 512 - 1).buf();
            q.submit(new QueuePair.Command(sqe, null, READ, (status, dw0, dw1, data) -> {
                byte[] bytes = data == null ? null : ByteBufUtil.getBytes(data);
                if (data != null) {
                    data.release();
                }
                done.complete(new Done(status, bytes));
            }, "test"));
        });
        return done.get(10, TimeUnit.SECONDS);
    }
}
