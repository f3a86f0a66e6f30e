package io.jmpio.transport.array;

import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransportProvider;

/** Registers the array-protocol transport with {@link java.util.ServiceLoader}. */
public final class ArrayTransportProvider implements PathTransportProvider {
    @Override
    public String name() {
        return "array";
    }

    @Override
    public String description() {
        return "the emulated array's own front-end protocol (ALUA port groups)";
    }

    @Override
    public PathTransport create() {
        return new ArrayTransport();
    }
}
