package io.jmpio.api;

import java.io.IOException;

/** A request's failure, typed by {@link IoErrorKind} so bridges can map it to their protocol's error. */
public final class BlockIoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final IoErrorKind kind;

    public BlockIoException(IoErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public IoErrorKind kind() {
        return kind;
    }
}
