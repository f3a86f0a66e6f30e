package io.jmpio.api;

/** Why a request failed. The first group belongs to the request; the rest to the device. */
public enum IoErrorKind {
    /** The byte range is outside the device. */
    OUT_OF_RANGE,
    /** Offset or length not a multiple of the logical block size, length zero or too long. */
    INVALID_REQUEST,
    /** The target does not do this command (say, Write Zeroes on a backend without it): the caller falls back. */
    UNSUPPORTED,
    /** The array refused this host the LUN. */
    ACCESS_DENIED,
    /** The array's backing store failed the request. */
    MEDIUM_ERROR,
    /** No usable path, and the no-path-retry setting said to fail (at once or after its time). */
    NO_PATH,
    /** More requests were waiting for a path than the queue limit allows. */
    QUEUE_FULL,
    /** The device is detached or shutting down. */
    DEVICE_CLOSED;

    /**
     * The Linux errno every kernel bridge (NBD, FUSE, ublk) answers this failure with: one table, so a client sees
     * the same error whichever bridge it uses. Only values the NBD protocol can carry (NBD_EPERM, EIO, ENOMEM,
     * EINVAL, ENOSPC, ENOTSUP, ESHUTDOWN). Out of range is ENOSPC for a write and EINVAL otherwise, as the NBD
     * protocol asks; "not supported" is EOPNOTSUPP, which makes the kernel fall back (zeroes by writes).
     */
    public int errno(boolean write) {
        switch (this) {
            case OUT_OF_RANGE:
                return write ? 28 /* ENOSPC */ : 22 /* EINVAL */;
            case INVALID_REQUEST:
                return 22; // EINVAL
            case UNSUPPORTED:
                return 95; // EOPNOTSUPP (ENOTSUP)
            case ACCESS_DENIED:
                return 1; // EPERM
            case QUEUE_FULL:
                return 12; // ENOMEM
            case DEVICE_CLOSED:
                return 108; // ESHUTDOWN
            default:
                return 5; // EIO
        }
    }
}
