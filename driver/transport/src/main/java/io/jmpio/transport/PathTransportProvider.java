package io.jmpio.transport;

/** The {@link java.util.ServiceLoader} entry of a transport plugin. */
public interface PathTransportProvider {
    String name();

    /** One line for `jmpio attach --help` and errors. */
    String description();

    PathTransport create();
}
