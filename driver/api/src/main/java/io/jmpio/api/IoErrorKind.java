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
    DEVICE_CLOSED
}
