package io.jmpio.emu;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator for decoder tests that remembers every buffer it hands out (and every input it wraps), so a test
 * can prove that a decoder released all of them whatever it was fed: Netty's own leak detector only samples, and
 * only reports when the garbage collector happens to run, in whichever test runs then.
 */
public final class RecordingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> handedOut = new ArrayList<>();

    public RecordingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return recorded(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return recorded(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** {@code length} bytes of {@code bytes} from {@code offset}, as a buffer whose release is checked too. */
    public ByteBuf wrap(byte[] bytes, int offset, int length) {
        return recorded(Unpooled.wrappedBuffer(bytes, offset, length));
    }

    private ByteBuf recorded(ByteBuf b) {
        handedOut.add(b);
        return b;
    }

    /** Fails naming how many buffers are still referenced, and the first of them. */
    public void assertAllReleased() {
        List<ByteBuf> held = handedOut.stream().filter(b -> b.refCnt() != 0).toList();
        if (!held.isEmpty()) {
            throw new AssertionError(held.size() + " of " + handedOut.size() + " buffers never released, first "
                + held.get(0) + " (refCnt " + held.get(0).refCnt() + ")");
        }
    }
}
