package io.jmpio.emu.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.RecordingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Fuzz regression of the link's framing (what an authenticated peer, or a corrupted stream, may send): frames
 * survive encoding and decoding field for field whatever the cuts; random bytes and frames with changed bytes end
 * in whole frames or an {@link IOException} that closes the channel, never anything else; a length past the limit
 * is refused from the header alone, before anything is buffered for it.
 */
class LinkCodecFuzzTest {
    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(1, 200).list().ofMaxSize(10);
    }

    @Property
    void framesRoundTripWhateverTheCuts(@ForAll @IntRange(max = 2) int channel, @ForAll("singleKinds") int kind,
                                        @ForAll @IntRange(max = 255) int op, @ForAll long correlation, @ForAll int lun,
                                        @ForAll @net.jqwik.api.constraints.LongRange(max = 0xFFFF_FFFFL) long epoch, @ForAll int length, @ForAll long source, @ForAll long destination,
                                        @ForAll("payloads") byte[] payload, @ForAll("cuts") List<Integer> cuts) {
        LinkFrame f = LinkFrame.message(channel, kind, op, lun, epoch, length, source, destination,
            Unpooled.wrappedBuffer(payload)).withCorrelation(correlation);
        ByteBuf wire = Unpooled.buffer();
        LinkFrame.writeHeader(wire, f);
        wire.writeBytes(payload);
        RecordingAllocator alloc = new RecordingAllocator();
        List<Object> out = decode(ByteBufUtil.getBytes(wire), cuts, alloc);
        assertEquals(1, out.size());
        LinkFrame g = (LinkFrame) out.get(0);
        try {
            assertEquals(List.of(f.channel(), f.kind(), f.op(), f.correlation(), f.lun(), f.epoch(), f.length(), f.source(),
                f.destination()), List.of(g.channel(), g.kind(), g.op(), g.correlation(), g.lun(), g.epoch(), g.length(),
                g.source(), g.destination()));
            assertEquals(Unpooled.wrappedBuffer(payload), g.payload());
        } finally {
            g.release();
        }
        alloc.assertAllReleased();
    }

    /** Every message kind but BATCH, whose header is read as a descriptor table's (see the batch properties). */
    @Provide
    Arbitrary<Integer> singleKinds() {
        return Arbitraries.integers().between(0, 255).filter(k -> k != LinkFrame.BATCH);
    }

    @Provide
    Arbitrary<byte[]> payloads() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(600);
    }

    @Property
    void damagedStreamsEndInFramesOrAnIoException(@ForAll("payloads") byte[] payload, @ForAll("cuts") List<Integer> cuts,
                                                  @ForAll @IntRange(max = 80) int at, @ForAll byte value,
                                                  @ForAll("payloads") byte[] noise) {
        ByteBuf wire = Unpooled.buffer();
        LinkFrame.writeHeader(wire, LinkFrame.message(1, LinkFrame.SHIP_IO, 0x11, 1, 1, payload.length, 0, 0,
            Unpooled.wrappedBuffer(payload)));
        wire.writeBytes(payload).writeBytes(noise);
        byte[] b = ByteBufUtil.getBytes(wire);
        b[Math.min(at, b.length - 1)] = value;
        RecordingAllocator alloc = new RecordingAllocator();
        for (Object o : decode(b, cuts, alloc)) {
            ((LinkFrame) o).release();
        }
        alloc.assertAllReleased();
    }

    @Provide
    Arbitrary<List<byte[]>> batchPayloads() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).list().ofMinSize(1).ofMaxSize(LinkFrame.MAX_BATCH);
    }

    /** Batches as the outbox sends them: every message comes out whole, in order, with its own payload. */
    @Property
    void batchesComeOutAsTheirMessagesWhateverTheCuts(@ForAll("batchPayloads") List<byte[]> payloads,
                                                      @ForAll("cuts") List<Integer> cuts) {
        List<LinkFrame> frames = new java.util.ArrayList<>();
        for (int i = 0; i < payloads.size(); i++) {
            frames.add(LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_IO, 0x11, i, 7, payloads.get(i).length,
                i, 4096L * i, Unpooled.wrappedBuffer(payloads.get(i))).withCorrelation(1000 + i));
        }
        RecordingAllocator alloc = new RecordingAllocator();
        List<Object> out = decode(encoded(new LinkCodec.Batch(LinkFrame.CHANNEL_SHIP, frames)), cuts, alloc);
        assertEquals(payloads.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            LinkFrame g = (LinkFrame) out.get(i);
            try {
                assertEquals(List.of(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_IO, 1000L + i, i, 4096L * i),
                    List.of(g.channel(), g.kind(), g.correlation(), g.lun(), g.destination()));
                assertEquals(Unpooled.wrappedBuffer(payloads.get(i)), g.payload());
            } finally {
                g.release();
            }
        }
        alloc.assertAllReleased();
    }

    /** A batch with any byte of its header or descriptor table changed: whole messages or a refusal, nothing else. */
    @Property
    void damagedBatchesEndInMessagesOrAnIoException(@ForAll("batchPayloads") List<byte[]> payloads,
                                                    @ForAll("cuts") List<Integer> cuts, @ForAll @IntRange(max = 400) int at,
                                                    @ForAll byte value) {
        List<LinkFrame> frames = new java.util.ArrayList<>();
        for (byte[] p : payloads) {
            frames.add(LinkFrame.message(LinkFrame.CHANNEL_MIRROR, LinkFrame.MIRROR_WRITE, 0, 1, 1, p.length, 0, 0,
                Unpooled.wrappedBuffer(p)));
        }
        byte[] b = encoded(new LinkCodec.Batch(LinkFrame.CHANNEL_MIRROR, frames));
        b[Math.min(at, b.length - 1)] = value;
        RecordingAllocator alloc = new RecordingAllocator();
        List<Object> out = decode(b, cuts, alloc);
        for (Object o : out) {
            ((LinkFrame) o).release();
        }
        for (Object o : out) {
            LinkFrame g = (LinkFrame) o;
            assertTrue(g.kind() != LinkFrame.BATCH && g.channel() == LinkFrame.CHANNEL_MIRROR, "a nested or foreign message: " + g);
        }
        alloc.assertAllReleased();
    }

    @Property
    void anEpochTheHeaderCannotCarryIsRefusedAtTheSender(@ForAll long epoch) {
        boolean fits = epoch >= 0 && epoch <= 0xFFFF_FFFFL;
        try {
            LinkFrame.message(2, LinkFrame.MIRROR_WRITE, 0, 1, epoch, 0, 0, 0, Unpooled.EMPTY_BUFFER);
            assertTrue(fits, "epoch " + epoch + " accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(!fits && e.getMessage().contains("u32"), e.getMessage());
        }
    }

    @Property
    void aLengthPastTheLimitIsRefusedFromTheHeader(@ForAll @IntRange(min = LinkFrame.MAX_PAYLOAD + 1) int length) {
        ByteBuf header = Unpooled.buffer();
        LinkFrame.writeHeader(header, LinkFrame.message(2, LinkFrame.MIRROR_WRITE, 0, 1, 1, 0, 0, 0, Unpooled.EMPTY_BUFFER));
        header.setIntLE(LinkFrame.PAYLOAD_LENGTH_OFFSET, length);
        EmbeddedChannel ch = new EmbeddedChannel(new LinkCodec.Decoder());
        try {
            ch.writeInbound(header);
            throw new AssertionError("a " + length + "-byte payload was waited for");
        } catch (DecoderException e) {
            assertTrue(e.getCause() instanceof IOException && e.getCause().getMessage().contains("exceeds the limit"));
        } finally {
            close(ch);
        }
    }

    /** The bytes the link's encoder writes for {@code msg} (a frame or a batch), as one array. */
    private static byte[] encoded(Object msg) {
        EmbeddedChannel enc = new EmbeddedChannel(LinkCodec.Encoder.INSTANCE);
        enc.writeOutbound(msg);
        ByteBuf wire = Unpooled.buffer();
        ByteBuf part;
        while ((part = enc.readOutbound()) != null) {
            wire.writeBytes(part);
            part.release();
        }
        enc.finishAndReleaseAll();
        return ByteBufUtil.getBytes(wire);
    }

    /**
     * The frames decoded before the stream ended or was refused (only an IOException may refuse it), the stream's
     * pieces wrapped by {@code alloc} and the decoder's buffers taken from it, so the caller can check, once it has
     * released the frames, that nothing else holds a buffer.
     */
    private static List<Object> decode(byte[] stream, List<Integer> cuts, RecordingAllocator alloc) {
        EmbeddedChannel ch = new EmbeddedChannel(new LinkCodec.Decoder());
        ch.config().setAllocator(alloc);
        List<Object> out = new java.util.ArrayList<>();
        try {
            int at = 0;
            int i = 0;
            while (at < stream.length) {
                int n = Math.min(stream.length - at, cuts.isEmpty() ? stream.length : cuts.get(i++ % cuts.size()));
                try {
                    ch.writeInbound(alloc.wrap(stream, at, n));
                } catch (DecoderException e) {
                    assertTrue(e.getCause() instanceof IOException, "only an IOException refuses a link stream: " + e);
                    break;
                } finally {
                    drain(ch, out);
                }
                at += n;
            }
            return out;
        } finally {
            close(ch);
            // what the end of the stream decodes arrives after finishAndReleaseAll's release
            drain(ch, out);
        }
    }

    /** The frames decoded so far (a frame is not reference-counted: the channel cannot release it, the caller does). */
    private static void drain(EmbeddedChannel ch, List<Object> out) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            out.add(o);
        }
    }

    /** Ends the stream: what is left is decoded once more, and may be refused again (an IOException only). */
    private static void close(EmbeddedChannel ch) {
        try {
            ch.finishAndReleaseAll();
        } catch (DecoderException e) {
            assertTrue(e.getCause() instanceof IOException, "only an IOException refuses a link stream: " + e);
        }
    }
}
