package io.jmpio.api;

/** The operations a block device serves. */
public enum IoOp {
    READ, WRITE, FLUSH, DISCARD, WRITE_ZEROES
}
