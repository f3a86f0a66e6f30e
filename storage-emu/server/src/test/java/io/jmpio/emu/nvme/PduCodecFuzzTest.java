package io.jmpio.emu.nvme;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.RecordingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz regression of the target's NVMe/TCP framing (what any host may send): random bytes and mutated host PDUs,
 * cut into random pieces. Invariants: nothing but a {@link PduException} (answered with C2HTermReq) escapes; the
 * decoder never waits for more bytes than the limits allow; every PDU it yields is whole;
 * every buffer it was given or allocated is released by the end, the connection's refusal included. Runs the tries
 * configured (junit-platform.properties; {@code -Djqwik.tries.default=100000} for a long run).
 */
class PduCodecFuzzTest {
    private static final int MAX_DATA = 1 << 20;

    /** Valid host PDUs (ICReq, CapsuleCmd with and without data, H2CData, H2CTermReq) with some bytes changed. */
    @Provide
    Arbitrary<byte[]> hostPdus() {
        Arbitrary<byte[]> valid = Arbitraries.of(0x00, 0x04, 0x06, 0x02).flatMap(type -> Arbitraries.integers()
            .between(0, 9000).map(data -> pdu(type, type == 0x04 || type == 0x06 ? data : 0)));
        return Combinators.combine(valid, Arbitraries.integers().between(0, 8).list().ofMaxSize(6),
            Arbitraries.bytes().list().ofMaxSize(6), Arbitraries.integers().between(0, 3)).as((p, at, val, mode) -> {
                byte[] b = p.clone();
                for (int i = 0; i < Math.min(at.size(), val.size()); i++) {
                    b[(at.get(i) * 7 + i) % b.length] = val.get(i);
                }
                if (mode == 1) {
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, val.isEmpty() ? -1 : val.get(0) << 24);
                }
                return b;
            });
    }

    @Provide
    Arbitrary<byte[]> noise() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(4096);
    }

    static byte[] pdu(int type, int data) {
        int hlen = type == 0x00 || type == 0x02 && data == 0 ? (type == 0x00 ? 128 : 24) : type == 0x04 ? 72 : 24;
        ByteBuffer b = ByteBuffer.allocate(hlen + data).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type).put(1, (byte) (type == 0x06 ? 4 : 0)).put(2, (byte) hlen)
            .put(3, (byte) (data > 0 ? hlen : 0)).putInt(4, hlen + data);
        if (type == 0x04 && data > 0) {
            b.put(8 + 24 + 15, (byte) 0x01); // SGL data block, offset: in-capsule
        }
        return b.array();
    }

    @Property
    void mutatedPdusEndInPdusOrATermReq(@ForAll("hostPdus") byte[] stream, @ForAll("noise") byte[] tail,
                                        @ForAll boolean headerDigest, @ForAll boolean dataDigest,
                                        @ForAll("cuts") List<Integer> cuts) {
        feed(concat(stream, tail), headerDigest, dataDigest, cuts);
    }

    @Property
    void randomBytesEndInPdusOrATermReq(@ForAll("noise") byte[] stream, @ForAll("cuts") List<Integer> cuts) {
        feed(stream, false, false, cuts);
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(1, 300).list().ofMaxSize(12);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void feed(byte[] stream, boolean headerDigest, boolean dataDigest, List<Integer> cuts) {
        PduCodec codec = new PduCodec(MAX_DATA);
        codec.digests(headerDigest, dataDigest);
        RecordingAllocator alloc = new RecordingAllocator();
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ch.config().setAllocator(alloc);
        int at = 0;
        int i = 0;
        try {
            while (at < stream.length) {
                int n = Math.min(stream.length - at, cuts.isEmpty() ? stream.length : cuts.get(i++ % cuts.size()));
                ByteBuf piece = alloc.wrap(stream, at, n);
                at += n;
                try {
                    ch.writeInbound(piece);
                } catch (DecoderException e) {
                    assertTrue(e.getCause() instanceof PduException, "only PduException ends a connection: " + e);
                    return;
                } finally {
                    releaseDecoded(ch);
                }
            }
        } finally {
            ch.finishAndReleaseAll();
            // what the end of the stream decodes arrives after finishAndReleaseAll's release (and a Pdu is not
            // reference-counted, so the channel could not release it anyway)
            releaseDecoded(ch);
        }
        alloc.assertAllReleased();
    }

    /** Checks and releases every PDU decoded so far: whole headers, data within the limit. */
    private static void releaseDecoded(EmbeddedChannel ch) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            Pdu p = (Pdu) o;
            try {
                assertTrue(p.header().readableBytes() == Pdu.hostHeaderLength(p.type()), "a whole header");
                assertTrue(p.data().readableBytes() <= MAX_DATA, "data within the limit");
            } finally {
                p.release();
            }
        }
    }
}
