package io.jmpio.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** The transports on the class path (or a plugin loader), by name. */
public final class PathTransports {
    private final List<PathTransportProvider> providers = new ArrayList<>();

    private PathTransports(ClassLoader loader) {
        for (PathTransportProvider p : ServiceLoader.load(PathTransportProvider.class, loader)) {
            providers.add(p);
        }
    }

    public static PathTransports from(ClassLoader loader) {
        return new PathTransports(loader == null ? PathTransports.class.getClassLoader() : loader);
    }

    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (PathTransportProvider p : providers) {
            out.add(p.name());
        }
        return out;
    }

    /** The named transport; an IllegalArgumentException listing the known ones otherwise. */
    public PathTransport create(String name) {
        for (PathTransportProvider p : providers) {
            if (p.name().equals(name)) {
                return p.create();
            }
        }
        throw new IllegalArgumentException("unknown transport '" + name + "' (known: " + String.join(", ", names()) + ")");
    }
}
