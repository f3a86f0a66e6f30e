package io.jmpio.emu;

import static io.jmpio.emu.Harness.port;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jmpio.emu.Harness.Host;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameHeader;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.Sense;
import io.jmpio.emu.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad request gets a clear status, and the array keeps serving everyone else. */
class BadInputTest {
    @TempDir
    static Path dir;
    static ArrayServer array;
    static final byte[] KEPT = Harness.random(4096, 42);

    @BeforeAll
    static void start() throws Exception {
        array = ArrayServer.start(Harness.config(dir));
        try (Host h = new Host(port(array, "A", 0), "host-1")) {
            h.write(0, KEPT);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try (Host h = new Host(port(array, "A", 1), "host-1")) {
            assertArrayEquals(KEPT, h.read(0, 4096), "an acknowledged write survives all the bad input");
        }
        array.close();
    }

    private static Frame call(Host h, int opcode, int flags, int lun, long off, int len, byte[] payload) throws IOException {
        return h.call(h.client.submit(opcode, flags, lun, off, len, payload == null ? null : Unpooled.wrappedBuffer(payload)));
    }

    private static void expect(Host h, int status, int sense, int opcode, int flags, int lun, long off, int len,
                               byte[] payload) throws IOException {
        Frame r = call(h, opcode, flags, lun, off, len, payload);
        r.release();
        assertEquals(Status.name(status) + "/" + Sense.name(sense), Status.name(r.status()) + "/" + Sense.name(r.sense()),
            r.describe());
    }

    @Test
    void badRequestsGetStatusesAndTheConnectionKeepsWorking() throws Exception {
        try (Host h = new Host(port(array, "A", 0), "host-1")) {
            int lun = h.lun;
            long size = 64L << 20;
            expect(h, Status.INVALID_OPCODE, Sense.NONE, 0x7e, 0, lun, 0, 0, null);
            expect(h, Status.INVALID_OPCODE, Sense.NONE, Opcode.ALUA_CHANGED, 0, lun, 0, 0, null);
            expect(h, Status.OUT_OF_RANGE, Sense.NONE, Opcode.READ, 0, lun, size, 4096, null);
            expect(h, Status.OUT_OF_RANGE, Sense.NONE, Opcode.WRITE, 0, lun, size - 512, 1024, new byte[1024]);
            expect(h, Status.OUT_OF_RANGE, Sense.NONE, Opcode.DISCARD, 0, lun, size - 4096, 8192, null);
            expect(h, Status.INVALID_FIELD, Sense.MISALIGNED, Opcode.READ, 0, lun, 100, 4096, null);
            expect(h, Status.INVALID_FIELD, Sense.MISALIGNED, Opcode.READ, 0, lun, 0, 100, null);
            expect(h, Status.INVALID_FIELD, Sense.MISALIGNED, Opcode.READ, 0, lun, -4096, 4096, null);
            expect(h, Status.INVALID_FIELD, Sense.MISALIGNED, Opcode.READ, 0, lun, 0, 0, null);
            expect(h, Status.INVALID_FIELD, Sense.TRANSFER_TOO_LONG, Opcode.READ, 0, lun, 0, 8 << 20, null);
            expect(h, Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH, Opcode.WRITE, 0, lun, 0, 4096, new byte[512]);
            expect(h, Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH, Opcode.READ, 0, lun, 0, 512, new byte[512]);
            expect(h, Status.INVALID_FIELD, Sense.BAD_FLAGS, Opcode.READ, FrameHeader.FLAG_FUA, lun, 0, 512, null);
            expect(h, Status.INVALID_FIELD, Sense.BAD_FLAGS, Opcode.READ, FrameHeader.FLAG_REPLY, lun, 0, 512, null);
            expect(h, Status.INVALID_FIELD, Sense.UNKNOWN_LUN, Opcode.READ, 0, 999, 0, 512, null);
            expect(h, Status.INVALID_FIELD, Sense.BAD_HOST_ID, Opcode.REGISTER, 0, 0, 0, 0, "bad host\n".getBytes());
            expect(h, Status.GOOD, Sense.NONE, Opcode.WRITE, FrameHeader.FLAG_FUA, lun, 8192, 512, new byte[512]);
            expect(h, Status.GOOD, Sense.NONE, Opcode.WRITE_ZEROES, 0, lun, 16384, 4096, null);
            expect(h, Status.GOOD, Sense.NONE, Opcode.FLUSH, 0, lun, 0, 0, null);
            assertArrayEquals(KEPT, h.read(0, 4096));
        }
    }

    @Test
    void ioBeforeRegistrationIsDenied() throws Exception {
        try (ArrayClient c = ArrayClient.connect(Harness.CLIENTS, port(array, "B", 0))) {
            Frame r = ArrayClient.await(c.read(0, 0, 4096), 5000);
            r.release();
            assertEquals(Status.ACCESS_DENIED, r.status());
            assertEquals(Sense.NOT_REGISTERED, r.sense());
        }
    }

    /** Sends raw bytes and returns the reply header the array sends before closing (or null if none). */
    private static ByteBuffer raw(byte[] bytes) throws IOException {
        InetSocketAddress a = ArrayClient.parseAddress(port(array, "A", 0));
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            byte[] header = new byte[FrameHeader.LENGTH];
            new DataInputStream(s.getInputStream()).readFully(header);
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "the array closes a connection whose stream it cannot parse");
            return ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private static byte[] header(int magic, int version, long payloadLength) {
        ByteBuf b = Unpooled.buffer(FrameHeader.LENGTH);
        b.writeIntLE(magic).writeByte(version).writeByte(Opcode.READ).writeShortLE(0).writeLongLE(77).writeIntLE(0)
            .writeShortLE(0).writeShortLE(0).writeLongLE(0).writeIntLE(4096).writeIntLE((int) payloadLength).writeLongLE(0);
        return b.array();
    }

    @Test
    void malformedFramesAreAnsweredThenTheConnectionClosed() throws Exception {
        ByteBuffer badMagic = raw(header(0x12345678, 1, 0));
        assertEquals(Status.MALFORMED_FRAME, badMagic.getShort(FrameHeader.STATUS_OFFSET));
        assertEquals(Sense.BAD_MAGIC, badMagic.getShort(FrameHeader.SENSE_OFFSET));

        ByteBuffer badVersion = raw(header(FrameHeader.MAGIC, 9, 0));
        assertEquals(Status.MALFORMED_FRAME, badVersion.getShort(FrameHeader.STATUS_OFFSET));
        assertEquals(Sense.BAD_VERSION, badVersion.getShort(FrameHeader.SENSE_OFFSET));
        assertEquals(77, badVersion.getLong(FrameHeader.TAG_OFFSET), "the reply names the offending tag");

        ByteBuffer huge = raw(header(FrameHeader.MAGIC, 1, 0xFFFF_FFF0L));
        assertEquals(Status.MALFORMED_FRAME, huge.getShort(FrameHeader.STATUS_OFFSET));
        assertEquals(Sense.FRAME_TOO_LARGE, huge.getShort(FrameHeader.SENSE_OFFSET));

        try (Host h = new Host(port(array, "A", 0), "host-2")) {
            assertArrayEquals(KEPT, h.read(0, 4096), "others are still served");
        }
    }
}
