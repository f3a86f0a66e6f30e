package io.jmpio.transport.nvme;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
 * Fuzz regression of the host's NVMe/TCP framing (what any target, or a corrupted stream, may send): random
 * bytes and mutated controller PDUs (ICResp, CapsuleResp, C2HData, R2T, C2HTermReq), in random pieces, with and
 * without digests. Invariants: nothing but an {@link NvmeTransportException} (which ends the connection and
 * fails its commands over to other paths) escapes; every PDU yielded is whole and within the limits.
 */
class PduDecoderFuzzTest {
    @Provide
    Arbitrary<byte[]> controllerPdus() {
        Arbitrary<byte[]> valid = Arbitraries.of(Pdu.IC_RESP, Pdu.CAPSULE_RESP, Pdu.C2H_DATA, Pdu.R2T, Pdu.C2H_TERM_REQ)
            .flatMap(type -> Arbitraries.integers().between(0, 5000).map(data -> pdu(type,
                type == Pdu.C2H_DATA || type == Pdu.C2H_TERM_REQ ? Math.min(data, type == Pdu.C2H_TERM_REQ ? 100 : data) : 0)));
        return Combinators.combine(valid.list().ofMinSize(1).ofMaxSize(4), Arbitraries.integers().list().ofMaxSize(5),
            Arbitraries.bytes().list().ofMaxSize(5)).as((pdus, at, val) -> {
                int n = pdus.stream().mapToInt(p -> p.length).sum();
                byte[] b = new byte[n];
                int o = 0;
                for (byte[] p : pdus) {
                    System.arraycopy(p, 0, b, o, p.length);
                    o += p.length;
                }
                for (int i = 0; i < Math.min(at.size(), val.size()); i++) {
                    b[Math.floorMod(at.get(i), b.length)] = val.get(i);
                }
                return b;
            });
    }

    static byte[] pdu(int type, int data) {
        int hlen = Pdu.headerLength(type);
        ByteBuffer b = ByteBuffer.allocate(hlen + data).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) type).put(2, (byte) hlen).put(3, (byte) (data > 0 ? hlen : 0)).putInt(4, hlen + data);
        return b.array();
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(1, 300).list().ofMaxSize(12);
    }

    @Property
    void mutatedControllerPdusEndInPdusOrATransportError(@ForAll("controllerPdus") byte[] stream,
            @ForAll boolean headerDigest, @ForAll boolean dataDigest, @ForAll("cuts") List<Integer> cuts) {
        feed(stream, headerDigest, dataDigest, cuts);
    }

    @Property
    void randomBytesEndInPdusOrATransportError(@ForAll("noise") byte[] stream, @ForAll("cuts") List<Integer> cuts) {
        feed(stream, false, false, cuts);
    }

    @Provide
    Arbitrary<byte[]> noise() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(4096);
    }

    private static void feed(byte[] stream, boolean headerDigest, boolean dataDigest, List<Integer> cuts) {
        PduCodec codec = new PduCodec();
        codec.digests(headerDigest, dataDigest);
        // the decoder fills one Pdu again for every PDU: check each as QueuePair consumes it, inside channelRead
        EmbeddedChannel ch = new EmbeddedChannel(codec.new Decoder(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object o) {
                if (o instanceof Pdu p) {
                    try {
                        assertTrue(p.header().readableBytes() == Pdu.headerLength(p.type()), "a whole header");
                        assertTrue(p.data().readableBytes() <= PduCodec.MAX_DATA, "data within the limit");
                    } finally {
                        p.release();
                    }
                }
            }
        });
        try {
            int at = 0;
            int i = 0;
            while (at < stream.length) {
                int n = Math.min(stream.length - at, cuts.isEmpty() ? stream.length : cuts.get(i++ % cuts.size()));
                try {
                    ch.writeInbound(Unpooled.wrappedBuffer(stream, at, n));
                } catch (DecoderException e) {
                    assertTrue(e.getCause() instanceof NvmeTransportException, "only a transport error ends it: " + e);
                    return;
                }
                at += n;
            }
        } finally {
            try {
                ch.finishAndReleaseAll();
            } catch (DecoderException e) {
                assertTrue(e.getCause() instanceof NvmeTransportException, "only a transport error ends it: " + e);
                ch.releaseInbound();
            }
        }
    }
}
