package io.jmpio.emu.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CodecTest {
    @Test
    void headerLayoutMatchesTheDocumentedOffsets() {
        EmbeddedChannel out = new EmbeddedChannel(FrameEncoder.INSTANCE);
        Frame f = new Frame(Opcode.WRITE, FrameHeader.FLAG_FUA, 0x1122334455667788L, 7, 3, 4, 4096, 512, 99,
            Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        out.writeOutbound(f);
        ByteBuf header = out.readOutbound();
        ByteBuf payload = out.readOutbound();
        assertEquals(FrameHeader.LENGTH, header.readableBytes());
        assertEquals(0x41504D4A, header.getIntLE(0));
        assertEquals('J', header.getByte(0));
        assertEquals(1, header.getByte(4));
        assertEquals(Opcode.WRITE, header.getByte(5));
        assertEquals(FrameHeader.FLAG_FUA, header.getShortLE(6));
        assertEquals(0x1122334455667788L, header.getLongLE(8));
        assertEquals(7, header.getIntLE(16));
        assertEquals(3, header.getShortLE(20));
        assertEquals(4, header.getShortLE(22));
        assertEquals(4096, header.getLongLE(24));
        assertEquals(512, header.getIntLE(32));
        assertEquals(3, header.getIntLE(36));
        assertEquals(99, header.getLongLE(40));
        assertArrayEquals(new byte[] {1, 2, 3}, ByteBufUtil.getBytes(payload));
        header.release();
        payload.release();
    }

    @Test
    void framesSplitAnywhereDecodeWhole() {
        EmbeddedChannel enc = new EmbeddedChannel(FrameEncoder.INSTANCE);
        enc.writeOutbound(Frame.request(Opcode.READ, 5, 1, 0, 4096, null));
        enc.writeOutbound(Frame.request(Opcode.WRITE, 6, 1, 0, 2, Unpooled.wrappedBuffer(new byte[] {9, 8})));
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = enc.readOutbound()) != null; ) {
            all.writeBytes((ByteBuf) o);
            ((ByteBuf) o).release();
        }
        EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder());
        while (all.isReadable()) {
            dec.writeInbound(all.readRetainedSlice(Math.min(7, all.readableBytes())));
        }
        all.release();
        Frame a = dec.readInbound();
        Frame b = dec.readInbound();
        assertEquals(5, a.tag());
        assertEquals(6, b.tag());
        assertArrayEquals(new byte[] {9, 8}, ByteBufUtil.getBytes(b.payload()));
        b.release();
    }

    @Test
    void oversizedPayloadIsRejectedBeforeItIsBuffered() {
        EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf h = Unpooled.buffer();
        FrameHeader.write(h, Frame.request(Opcode.WRITE, 3, 0, 0, 4096, null));
        h.setIntLE(FrameHeader.PAYLOAD_LENGTH_OFFSET, 4096);
        DecoderException e = assertThrows(DecoderException.class, () -> dec.writeInbound(h));
        ProtocolException pe = (ProtocolException) e.getCause();
        assertEquals(Sense.FRAME_TOO_LARGE, pe.sense());
        assertEquals(3, pe.tag());
    }

    @Test
    void payloadLayoutsRoundTrip() {
        ByteBuf b = Unpooled.buffer();
        new PortGroupReport(List.of(new PortGroupReport.Port(1, 17, AluaState.ACTIVE_OPTIMIZED, 3, "A", "127.0.0.1:7402"),
            new PortGroupReport.Port(2, 33, AluaState.TRANSITIONING, 0, "B", "127.0.0.1:7412"))).write(b);
        PortGroupReport r = PortGroupReport.read(b);
        assertEquals(AluaState.TRANSITIONING, r.ports().get(1).state());
        assertEquals("127.0.0.1:7402", r.ports().get(0).address());
        b.clear();
        new InquiryData(1 << 30, 512, 4096, 1 << 22, 5, new byte[16], "lun0").write(b);
        assertEquals(InquiryData.FIXED_LENGTH + 4, b.readableBytes());
        assertEquals("lun0", InquiryData.read(b).name());
        b.clear();
        b.writeIntLE(1_000_000);
        assertThrows(ProtocolException.class, () -> LunList.read(b), "a count larger than the payload is refused");
    }
}
