package io.jmpio.emu.nvme;

/** A fatal transport error: answered with a C2HTermReq naming it, then the connection is closed. */
final class PduException extends RuntimeException {
    final int fes;
    final int fei;

    PduException(int fes, int fei, String message) {
        super(message);
        this.fes = fes;
        this.fei = fei;
    }
}
