package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzz regression of the host's queue pair against a controller that answers its commands at random once the
 * connection is up (well-framed PDUs, digests as agreed): right answers, wrong CIDs, random statuses, data at
 * random offsets and lengths, R2Ts for anything, SUCCESS flags, duplicate responses, corrupt data digests, unknown
 * PDU types, termination requests; then it hangs up. Invariants, whatever it sent: every command ends exactly once
 * (its completion ran, or the close handed it back unanswered); a read completed with success has all its bytes;
 * every SQE buffer is released; the close names a reason; and, when the controller answered only by the CIDs of
 * the commands it was answering, a command completed with success is one the controller answered with success
 * (what it sends for one command never lands on another). Seeded ({@code -Djmpio.fuzz.targetSeeds=N} for more).
 */
class HostileTargetFuzzTest {
    private static final EventLoopGroup LOOPS = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private static final int SEEDS = Integer.getInteger("jmpio.fuzz.targetSeeds", 150);
    private static final int COMMANDS = 8;
    private static final int IN_CAPSULE = 8192;

    @AfterAll
    static void stop() {
        LOOPS.shutdownGracefully();
    }

    @Test
    void everyCommandEndsExactlyOnceWhateverTheControllerAnswers() throws Exception {
        for (int seed = 1; seed <= SEEDS; seed++) {
            run(seed);
        }
    }

    /** One command as the host sees it. */
    private static final class Sent {
        final int index;
        final ByteBuf sqe;
        final int readLength;
        int completions;
        int status = -1;
        int dataBytes = -1;
        boolean unanswered;

        Sent(int index, ByteBuf sqe, int readLength) {
            this.index = index;
            this.sqe = sqe;
            this.readLength = readLength;
        }
    }

    private static void run(long seed) throws Exception {
        Random r = new Random(seed);
        boolean hdgst = r.nextBoolean();
        boolean ddgst = r.nextBoolean();
        String what = "seed " + seed;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            HostileController target = new HostileController(server, new Random(seed * 31), hdgst, ddgst);
            Thread t = new Thread(target, "hostile-controller");
            t.setDaemon(true);
            t.start();
            EventLoop loop = LOOPS.next();
            ConnectedQueuePair host = ConnectedQueuePair.open(loop, server.getLocalPort(), hdgst, ddgst, IN_CAPSULE);
            QueuePair q = host.queue;
            List<Sent> sent = new ArrayList<>();
            loop.submit(() -> {
                for (int i = 0; i < COMMANDS; i++) {
                    boolean read = r.nextBoolean();
                    int length = 512 * (1 + r.nextInt(r.nextBoolean() ? 16 : 64)); // in the capsule, or by R2T
                    ByteBuf sqe = Sqe.of(ByteBufAllocator.DEFAULT, read ? 0x02 : 0x01).dw(Sqe.NSID_OFFSET, 1)
                        .dw(Sqe.CDW10, i).dw(Sqe.CDW12, length / 512 - 1).buf(); // the index as SLBA: the target's tag
                    Sent s = new Sent(i, sqe, read ? length : 0);
                    sent.add(s);
                    ByteBuf out = read ? null : Unpooled.wrappedBuffer(new byte[length]);
                    q.submit(new QueuePair.Command(sqe, out, read ? length : 0, (status, dw0, dw1, data) -> {
                        s.completions++;
                        s.status = status;
                        s.dataBytes = data == null ? -1 : data.readableBytes();
                        if (data != null) {
                            data.release();
                        }
                    }, s));
                }
            }).get(5, TimeUnit.SECONDS);
            String reason = host.closed.get(15, TimeUnit.SECONDS);
            assertNotNull(reason, what);
            assertTrue(!reason.isBlank() && !reason.contains("null"), what + ": the close names its reason: " + reason);
            loop.submit(() -> {
                for (QueuePair.Command c : host.handedBack) {
                    ((Sent) c.attachment).unanswered = true;
                }
                for (Sent s : sent) {
                    String cmd = what + ", command " + s.index + " (" + target.log + ")";
                    assertEquals(1, s.completions + (s.unanswered ? 1 : 0), cmd + ": ends exactly once");
                    if (s.completions == 1 && s.status == 0 && s.readLength > 0) {
                        assertEquals(s.readLength, s.dataBytes, cmd + ": a read that succeeded has all its data");
                    }
                    if (s.completions == 1 && s.status == 0 && !target.foreign) {
                        assertTrue(target.succeeded.contains(s.index),
                            cmd + ": completed with success, which the controller never sent it");
                    }
                    assertEquals(0, s.sqe.refCnt(), cmd + ": its SQE is released");
                }
            }).get(5, TimeUnit.SECONDS);
            t.join(5000);
        }
    }

    /** The controller: a proper ICResp and Connect answer, then random answers to what the host sends. */
    private static final class HostileController implements Runnable {
        private final ServerSocket server;
        private final Random r;
        private final boolean hdgst;
        private final boolean ddgst;
        /** What it did, for a failure's message. */
        final StringBuilder log = new StringBuilder();
        /** The commands (by index) it sent a successful completion. */
        final java.util.Set<Integer> succeeded = java.util.concurrent.ConcurrentHashMap.newKeySet();
        /** It answered by a CID other than the command's, or twice: then it alone knows which command got what. */
        volatile boolean foreign;
        /** Which command holds each CID, as far as the controller has read. */
        private final Map<Integer, Integer> owner = new HashMap<>();
        private OutputStream out;

        HostileController(ServerSocket server, Random r, boolean hdgst, boolean ddgst) {
            this.server = server;
            this.r = r;
            this.hdgst = hdgst;
            this.ddgst = ddgst;
        }

        @Override
        public void run() {
            try (Socket s = server.accept()) {
                s.setSoTimeout(300); // a host with nothing more to send: hang up
                InputStream in = s.getInputStream();
                out = s.getOutputStream();
                in.readNBytes(128);
                ByteBuffer ic = le(128);
                ic.put(0, (byte) 0x01).put(2, (byte) 128).putInt(4, 128)
                    .put(11, (byte) ((hdgst ? 1 : 0) | (ddgst ? 2 : 0))).putInt(12, 1 << 20);
                out.write(ic.array());
                Map<Integer, Integer> lengths = new HashMap<>();
                int answered = 0;
                boolean connected = false;
                while (answered < COMMANDS) {
                    byte[] common = in.readNBytes(8);
                    if (common.length < 8) {
                        return; // the host hung up
                    }
                    int plen = ByteBuffer.wrap(common).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
                    byte[] rest = in.readNBytes(plen - 8);
                    if (common[0] != 0x04) {
                        continue; // H2CData: taken, not checked
                    }
                    ByteBuffer sqe = ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN);
                    int cid = sqe.getShort(2) & 0xFFFF;
                    int opcode = sqe.get(0) & 0xFF;
                    int sglLength = sqe.getInt(32);
                    if (!connected) {
                        pdu(0x05, 0, cqe(cid, 0, 1), null, false); // Connect: controller 1
                        connected = true;
                        continue;
                    }
                    lengths.put(cid, sglLength);
                    owner.put(cid, sqe.getInt(40));
                    answered++;
                    if (!act(cid, opcode, sglLength, lengths)) {
                        break;
                    }
                }
                Thread.sleep(20); // what the host answers to the last of it, then the hang-up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // the host hung up on a PDU it refused: what it does then is checked by the test
            }
        }

        /** One random answer to command {@code cid}; false when the controller is done. */
        private boolean act(int cid, int opcode, int sglLength, Map<Integer, Integer> lengths) throws IOException {
            int anyCid = r.nextInt(4) == 0 ? r.nextInt(8) : cid;
            if (anyCid != cid) {
                foreign = true;
            }
            int action = r.nextInt(14);
            log.append(action).append('@').append(cid).append(' ');
            Integer index = owner.get(cid);
            switch (action) {
                case 0, 1, 2, 3 -> { // the right answer
                    if (opcode == 0x02) {
                        int half = sglLength / 2;
                        c2h(cid, 0, half, 0, false);
                        c2h(cid, half, sglLength - half, 0x04, false);
                    } else if (sglLength > IN_CAPSULE) {
                        r2t(cid, 0, sglLength);
                    }
                    succeeded.add(index);
                    pdu(0x05, 0, cqe(cid, 0, 0), null, false);
                }
                case 4 -> {
                    int status = r.nextInt(4) == 0 ? 0 : r.nextInt(0x800) << 1;
                    if (status == 0) {
                        succeeded.add(index);
                    }
                    pdu(0x05, 0, cqe(anyCid, status, 0), null, false);
                }
                case 5 -> {
                    int flags = r.nextInt(16) & 0x0C;
                    if ((flags & 0x08) != 0) {
                        succeeded.add(index);
                    }
                    c2h(anyCid, r.nextInt(3) == 0 ? r.nextInt(1 << 16) : 0, 1 + r.nextInt(40000), flags, false);
                }
                case 6 -> r2t(anyCid, r.nextInt(3) == 0 ? r.nextInt(1 << 16) : 0, r.nextInt(3) == 0 ? 0
                    : 1 + r.nextInt(1 << 16));
                case 7 -> {
                    succeeded.add(index);
                    c2h(cid, 0, Math.max(1, lengths.getOrDefault(cid, 512)), 0x0C, false); // SUCCESS
                }
                case 8 -> {
                    foreign = true;
                    succeeded.add(index);
                    pdu(0x05, 0, cqe(cid, 0, 0), null, false);
                    pdu(0x05, 0, cqe(cid, 0, 0), null, false); // twice
                }
                case 9 -> {
                    if (opcode == 0x02) {
                        c2h(cid, 0, sglLength, 0x04, ddgst); // a corrupt data digest when there is one
                    }
                    succeeded.add(index);
                    pdu(0x05, 0, cqe(cid, 0, 0), null, false);
                }
                case 10 -> pdu(new int[] {0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x42}[r.nextInt(7)], 0, new byte[16], null,
                    false);
                case 11 -> {
                    pdu(0x03, 0, new byte[16], null, false); // C2HTermReq
                    return false;
                }
                case 12 -> { // nothing for this one, for now
                }
                default -> {
                    return false; // hangs up
                }
            }
            return true;
        }

        private static ByteBuffer le(int n) {
            return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        }

        private static byte[] cqe(int cid, int statusField, int dw0) {
            return le(16).putInt(0, dw0).putShort(12, (short) cid).putShort(14, (short) statusField).array();
        }

        private void c2h(int cid, int offset, int length, int flags, boolean corrupt) throws IOException {
            byte[] h = le(16).putShort(0, (short) cid).putInt(4, offset).putInt(8, length).array();
            pdu(0x07, flags, h, new byte[length], corrupt);
        }

        private void r2t(int cid, int offset, int length) throws IOException {
            pdu(0x09, 0, le(16).putShort(0, (short) cid).putShort(2, (short) cid).putInt(4, offset).putInt(8, length)
                .array(), null, false);
        }

        /** A PDU: 8-byte common header, {@code specific} header bytes, digests as agreed, then data. */
        private void pdu(int type, int flags, byte[] specific, byte[] data, boolean corruptData) throws IOException {
            int hlen = 8 + specific.length;
            boolean hd = hdgst && type != 0x03;
            boolean dd = ddgst && data != null;
            int plen = hlen + (hd ? 4 : 0) + (data == null ? 0 : data.length + (dd ? 4 : 0));
            ByteBuffer b = le(plen);
            b.put((byte) type).put((byte) (flags | (hd ? 1 : 0) | (dd ? 2 : 0))).put((byte) hlen)
                .put((byte) (data == null ? 0 : hlen + (hd ? 4 : 0))).putInt(plen).put(specific);
            if (hd) {
                b.putInt(crc(b.array(), 0, hlen));
            }
            if (data != null) {
                b.put(data);
                if (dd) {
                    b.putInt(crc(data, 0, data.length) ^ (corruptData ? 1 : 0));
                }
            }
            out.write(b.array());
            out.flush();
        }

        private static int crc(byte[] b, int off, int len) {
            CRC32C c = new CRC32C();
            c.update(b, off, len);
            return (int) c.getValue();
        }
    }
}
