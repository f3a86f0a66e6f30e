package io.jmpio.transport.nvme;

/** The controller broke the NVMe/TCP protocol: the connection ends (the path is at fault). */
final class NvmeTransportException extends RuntimeException {
    NvmeTransportException(String message) {
        super(message);
    }
}
