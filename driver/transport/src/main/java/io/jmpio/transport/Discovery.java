package io.jmpio.transport;

import java.util.List;

/** What one portal said: the target asked for, and every port to it with its state (as the answering port sees it). */
public record Discovery(TargetInfo target, List<PortInfo> ports, String description) {
    public Discovery {
        ports = List.copyOf(ports);
    }
}
