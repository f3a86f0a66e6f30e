package io.jmpio.bridge.fuse;

/** The conformance suite through FUSE over io_uring with each queue on a thread of its own (io-uring=thread). */
class FuseOverIoUringThreadConformanceTest extends FuseOverIoUringConformanceTest {
    @Override
    protected String uringMode() {
        return "thread";
    }

    @Override
    protected String servedBy() {
        return "a thread per queue";
    }
}
