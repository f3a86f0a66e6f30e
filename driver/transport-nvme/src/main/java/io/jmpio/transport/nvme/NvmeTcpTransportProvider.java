package io.jmpio.transport.nvme;

import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransportProvider;

/** Registers the NVMe/TCP transport with {@link java.util.ServiceLoader}. */
public final class NvmeTcpTransportProvider implements PathTransportProvider {
    @Override
    public String name() {
        return "nvme-tcp";
    }

    @Override
    public String description() {
        return "NVMe over TCP (discovery with referrals, ANA, one connection per I/O queue and path)";
    }

    @Override
    public PathTransport create() {
        return new NvmeTcpTransport();
    }
}
