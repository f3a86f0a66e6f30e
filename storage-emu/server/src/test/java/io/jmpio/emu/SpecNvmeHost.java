package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * An NVMe/TCP host written from the NVMe/TCP 1.0 and NVMe base specifications for the tests, byte by byte
 * (no code of the target): ICReq, Fabrics Connect and Property Get/Set, admin and I/O commands, in-capsule
 * and R2T/H2CData writes, C2HData reads, header and data digests.
 */
final class SpecNvmeHost implements AutoCloseable {
    static final String DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery";
    final Socket socket;
    final InputStream in;
    final OutputStream out;
    boolean hdgst;
    boolean ddgst;
    int maxH2CData;
    private int nextCid = 1;

    /**
     * What came back for one command: status (kernel form: SCT << 8 | SC, DNR 0x4000), DW0/DW1, data, SQHD from its
     * CapsuleResp; or, on a queue without SQ flow control, a C2HData with SUCCESS ({@code byData}: status 0, SQHD -1);
     * {@code cid}: the command it answers.
     */
    record Reply(int status, int dw0, int dw1, byte[] data, int sqhd, boolean byData, int cid) {
        int sc() {
            return status & 0x7FF;
        }

        boolean dnr() {
            return (status & 0x4000) != 0;
        }
    }

    SpecNvmeHost(String hostPort) throws IOException {
        int c = hostPort.lastIndexOf(':');
        socket = new Socket(hostPort.substring(0, c), Integer.parseInt(hostPort.substring(c + 1)));
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    byte[] readN(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("connection closed after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** ICReq asking for the given digests; reads and checks the ICResp. */
    void connectTransport(boolean headerDigest, boolean dataDigest) throws IOException {
        ByteBuffer b = le(128);
        b.put((byte) 0x00).put((byte) 0).put((byte) 128).put((byte) 0).putInt(128);
        b.putShort((short) 0).put((byte) 0).put((byte) ((headerDigest ? 1 : 0) | (dataDigest ? 2 : 0))).putInt(0);
        out.write(b.array());
        ByteBuffer r = ByteBuffer.wrap(readN(128)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x01, r.get(0), "ICResp type");
        assertEquals(128, r.get(2) & 0xFF, "ICResp hlen");
        assertEquals(128, r.getInt(4), "ICResp plen");
        assertEquals(0, r.getShort(8), "PFV");
        assertEquals(0, r.get(10), "CPDA");
        hdgst = (r.get(11) & 1) != 0;
        ddgst = (r.get(11) & 2) != 0;
        maxH2CData = r.getInt(12);
    }

    /** Sends one PDU with a header of {@code header.length} bytes (common header included) and data. */
    void sendPdu(byte[] header, byte[] data) throws IOException {
        int hd = hdgst ? 4 : 0;
        boolean hasData = data != null && data.length > 0;
        int dd = hasData && ddgst ? 4 : 0;
        int plen = header.length + hd + (hasData ? data.length : 0) + dd;
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        h.put(1, (byte) (h.get(1) | (hd != 0 ? 1 : 0) | (dd != 0 ? 2 : 0)));
        h.put(3, (byte) (hasData ? header.length + hd : 0));
        h.putInt(4, plen);
        ByteBuffer all = le(plen);
        all.put(header);
        if (hd != 0) {
            all.putInt(crc(header, 0, header.length));
        }
        if (hasData) {
            all.put(data);
            if (dd != 0) {
                all.putInt(crc(data, 0, data.length));
            }
        }
        out.write(all.array());
    }

    /** A CapsuleCmd: the 72-byte header around {@code sqe}, and in-capsule data if any. */
    void sendCommand(ByteBuffer sqe, byte[] inCapsule) throws IOException {
        byte[] h = new byte[72];
        h[0] = 0x04;
        h[2] = 72;
        System.arraycopy(sqe.array(), 0, h, 8, 64);
        sendPdu(h, inCapsule);
    }

    /** A 64-byte SQE: opcode, PSDT 01b (SGL), CID, NSID, SGL. */
    ByteBuffer sqe(int opcode, int nsid, int sglId, long sglLength) {
        ByteBuffer s = le(64);
        s.put(0, (byte) opcode).put(1, (byte) 0x40).putShort(2, (short) nextCid++).putInt(4, nsid);
        s.putInt(32, (int) sglLength).put(39, (byte) sglId);
        return s;
    }

    int lastCid() {
        return nextCid - 1;
    }

    /** One whole PDU as it came (its type is byte 0, its PLEN bytes 4..7). */
    byte[] readPdu() throws IOException {
        byte[] common = readN(8);
        int plen = ByteBuffer.wrap(common).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
        byte[] pdu = java.util.Arrays.copyOf(common, plen);
        System.arraycopy(readN(plen - 8), 0, pdu, 8, plen - 8);
        return pdu;
    }

    /** Reads PDUs until the CapsuleResp of the last command: C2HData collected, R2Ts answered from {@code out}. */
    Reply await(byte[] writeData) throws IOException {
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        while (true) {
            byte[] pdu = readPdu();
            int type = pdu[0] & 0xFF;
            int flags = pdu[1] & 0xFF;
            int hlen = pdu[2] & 0xFF;
            int plen = pdu.length;
            ByteBuffer p = ByteBuffer.wrap(pdu).order(ByteOrder.LITTLE_ENDIAN);
            if (type == 0x03) {
                throw new IOException("C2HTermReq FES " + p.getShort(8));
            }
            int hd = (flags & 1) != 0 ? 4 : 0;
            if (hdgst) {
                assertEquals(1, flags & 1, "HDGSTF on type " + type);
                assertEquals(crc(pdu, 0, hlen), p.getInt(hlen), "header digest of type " + type);
            }
            int dataStart = hlen + hd;
            int dd = (flags & 2) != 0 ? 4 : 0;
            int dataLen = plen - dataStart - dd;
            if (dd != 0) {
                assertEquals(crc(pdu, dataStart, dataLen), p.getInt(dataStart + dataLen), "data digest");
            }
            switch (type) {
                case 0x05: // CapsuleResp
                    return new Reply((p.getShort(8 + 14) & 0xFFFF) >>> 1, p.getInt(8), p.getInt(12), data.toByteArray(),
                        p.getShort(8 + 8) & 0xFFFF, false, p.getShort(8 + 12) & 0xFFFF);
                case 0x07: // C2HData
                    data.write(pdu, dataStart, dataLen);
                    if ((flags & 0x08) != 0) { // SUCCESS: the command is complete, no CapsuleResp follows
                        assertEquals(0x04, flags & 0x04, "SUCCESS only with LAST");
                        return new Reply(0, 0, 0, data.toByteArray(), -1, true, p.getShort(8) & 0xFFFF);
                    }
                    break;
                case 0x09: { // R2T: send the asked range in H2CData PDUs of at most MAXH2CDATA
                    int cccid = p.getShort(8) & 0xFFFF;
                    int ttag = p.getShort(10) & 0xFFFF;
                    int r2to = p.getInt(12);
                    int r2tl = p.getInt(16);
                    if (writeData == null || r2to < 0 || r2tl <= 0 || (long) r2to + r2tl > writeData.length) {
                        throw new AssertionError("R2T for bytes " + r2to + "+" + r2tl + " of a command with "
                            + (writeData == null ? "no" : writeData.length + " bytes of") + " data to send");
                    }
                    for (int off = r2to; off < r2to + r2tl; off += maxH2CData) {
                        int n = Math.min(maxH2CData, r2to + r2tl - off);
                        byte[] h = le(24).put(0, (byte) 0x06).put(1, (byte) (off + n == r2to + r2tl ? 4 : 0))
                            .put(2, (byte) 24).putShort(8, (short) cccid).putShort(10, (short) ttag).putInt(12, off)
                            .putInt(16, n).array();
                        byte[] chunk = new byte[n];
                        System.arraycopy(writeData, off, chunk, 0, n);
                        sendPdu(h, chunk);
                    }
                    break;
                }
                default:
                    throw new IOException("unexpected PDU type " + type);
            }
        }
    }

    /**
     * Sends a write whose data goes by R2T and reads that R2T (the host then holds the data back: {@link
     * #sendData}); returns the R2T's header fields CCCID and TTAG.
     */
    int[] writeUntilR2t(int nsid, long slba, int length) throws IOException {
        sendWriteByR2t(nsid, slba, length);
        byte[] pdu = readPdu();
        assertEquals(0x09, pdu[0], "an R2T for the write's data");
        ByteBuffer r = ByteBuffer.wrap(pdu).order(ByteOrder.LITTLE_ENDIAN);
        return new int[] {r.getShort(8) & 0xFFFF, r.getShort(10) & 0xFFFF};
    }

    /** Sends a write of {@code length} bytes whose data the target is to ask for by R2T. */
    void sendWriteByR2t(int nsid, long slba, int length) throws IOException {
        ByteBuffer s = sqe(0x01, nsid, 0x5A, length);
        s.putLong(40, slba).putInt(48, length / 512 - 1);
        sendCommand(s, null);
    }

    /** All of an R2T's data in one H2CData PDU (LAST); {@code r2t} as {@link #writeUntilR2t} returned it. */
    void sendData(int[] r2t, byte[] data) throws IOException {
        byte[] h = le(24).put(0, (byte) 0x06).put(1, (byte) 4).put(2, (byte) 24).putShort(8, (short) r2t[0])
            .putShort(10, (short) r2t[1]).putInt(16, data.length).array();
        sendPdu(h, data);
    }

    /** Fabrics Connect (data in the capsule); DW0 of the reply is the CNTLID. */
    Reply connect(int qid, int sqsize, int kato, String subnqn, String hostnqn, int cntlid) throws IOException {
        return connect(qid, sqsize, kato, subnqn, hostnqn, cntlid, 0);
    }

    /** Connect with connection attributes: CATTR @46 (bit 2: disable SQ flow control). */
    Reply connect(int qid, int sqsize, int kato, String subnqn, String hostnqn, int cntlid, int cattr)
            throws IOException {
        ByteBuffer s = sqe(0x7F, 0, 0x01, 1024);
        s.put(4, (byte) 0x01).putShort(40, (short) 0).putShort(42, (short) qid).putShort(44, (short) sqsize)
            .put(46, (byte) cattr).putInt(48, kato);
        ByteBuffer d = le(1024);
        for (int i = 0; i < 16; i++) {
            d.put(i, (byte) (hostnqn.hashCode() >> (i % 4 * 8)));
        }
        d.putShort(16, (short) cntlid);
        byte[] sub = subnqn.getBytes(StandardCharsets.US_ASCII);
        byte[] host = hostnqn.getBytes(StandardCharsets.US_ASCII);
        d.position(256);
        d.put(sub);
        d.position(512);
        d.put(host);
        sendCommand(s, d.array());
        return await(null);
    }

    Reply propertyGet(int offset, boolean eight) throws IOException {
        ByteBuffer s = sqe(0x7F, 0, 0x5A, 0);
        s.put(4, (byte) 0x04).put(40, (byte) (eight ? 1 : 0)).putInt(44, offset);
        sendCommand(s, null);
        return await(null);
    }

    Reply propertySet(int offset, long value) throws IOException {
        ByteBuffer s = sqe(0x7F, 0, 0x5A, 0);
        s.put(4, (byte) 0x00).put(40, (byte) 0).putInt(44, offset).putLong(48, value);
        sendCommand(s, null);
        return await(null);
    }

    /** Connect, then enable as Linux does: CC with IOSQES 6, IOCQES 4, EN. Returns the CNTLID. */
    int adminQueue(String subnqn, String hostnqn) throws IOException {
        return adminQueue(subnqn, hostnqn, 5000);
    }

    /** As {@link #adminQueue(String, String)} with this Keep Alive timeout (0: none, the host never sends one). */
    int adminQueue(String subnqn, String hostnqn, int kato) throws IOException {
        Reply c = connect(0, 31, kato, subnqn, hostnqn, 0xFFFF);
        assertEquals(0, c.status(), "Connect");
        assertEquals(0, propertySet(0x14, 0x00460000).status());
        assertEquals(0, propertySet(0x14, 0x00460001).status());
        assertEquals(1, propertyGet(0x1C, false).dw0() & 1, "CSTS.RDY");
        return c.dw0() & 0xFFFF;
    }

    Reply admin(int opcode, int nsid, int cdw10, int cdw11, int cdw12, int length) throws IOException {
        ByteBuffer s = sqe(opcode, nsid, 0x5A, length);
        s.putInt(40, cdw10).putInt(44, cdw11).putInt(48, cdw12);
        sendCommand(s, null);
        return await(null);
    }

    Reply identify(int cns, int nsid) throws IOException {
        return admin(0x06, nsid, cns, 0, 0, 4096);
    }

    Reply getLog(int lid, int length) throws IOException {
        int numd = length / 4 - 1;
        return admin(0x02, -1, lid | (numd & 0xFFFF) << 16, numd >>> 16, 0, length);
    }

    Reply setFeature(int fid, int value) throws IOException {
        return admin(0x09, 0, fid, value, 0, 0);
    }

    Reply read(int nsid, long slba, int blocks) throws IOException {
        ByteBuffer s = sqe(0x02, nsid, 0x5A, blocks * 512L);
        s.putLong(40, slba).putInt(48, blocks - 1);
        sendCommand(s, null);
        return await(null);
    }

    /** A reservation command (Register 0Dh, Acquire 11h, Release 15h) with its 16 data bytes in the capsule. */
    Reply reservation(int opcode, int nsid, int cdw10, long key0, long key1) throws IOException {
        int n = opcode == 0x15 ? 8 : 16; // Release carries CRKEY only
        ByteBuffer s = sqe(opcode, nsid, 0x01, n);
        s.putInt(40, cdw10);
        ByteBuffer d = le(n).putLong(0, key0);
        if (n == 16) {
            d.putLong(8, key1);
        }
        sendCommand(s, d.array());
        return await(null);
    }

    /** Reservation Report (0Eh), extended data structure when {@code eds}. */
    Reply reservationReport(int nsid, int bytes, boolean eds) throws IOException {
        ByteBuffer s = sqe(0x0E, nsid, 0x5A, bytes);
        s.putInt(40, bytes / 4 - 1).putInt(44, eds ? 1 : 0);
        sendCommand(s, null);
        return await(null);
    }

    /** A write: in the capsule when {@code inCapsule}, else by R2T. */
    Reply write(int nsid, long slba, byte[] data, boolean inCapsule) throws IOException {
        return write(nsid, slba, data, inCapsule, false);
    }

    /** A write, with Force Unit Access (CDW12 bit 30) when {@code fua}. */
    Reply write(int nsid, long slba, byte[] data, boolean inCapsule, boolean fua) throws IOException {
        ByteBuffer s = sqe(0x01, nsid, inCapsule ? 0x01 : 0x5A, data.length);
        s.putLong(40, slba).putInt(48, data.length / 512 - 1 | (fua ? 1 << 30 : 0));
        sendCommand(s, inCapsule ? data : null);
        return await(data);
    }
}
