package io.jmpio.emu.controller;

import java.util.List;

/** What a controller tells its peer about itself over the link (HELLO and PEER_INFO, as JSON). */
public record PeerInfo(String id, long incarnation, String admin, List<PortInfo> ports) {
    public record PortInfo(String address, boolean up) {
    }
}
