package io.jmpio.transport;

/**
 * One port of the target as a transport reports it: where it is ("host:port"), a short id for status lines
 * ("A0", "P17"), which controller it belongs to, its group (paths of one group share an access state: an ALUA
 * target port group; for NVMe, the paths in one ANA state), a port id unique within the target, its access
 * state, whether the target prefers it, and whether that state was told through this port itself (its own
 * session answered: then "inaccessible" is the target speaking, not a port that cannot be reached).
 */
public record PortInfo(String address, String id, String controller, int group, int portId, AccessState state,
                       boolean preferred, boolean reporting) {
    public PortInfo {
        if (address == null || id == null || controller == null || state == null) {
            throw new IllegalArgumentException("a port needs an address, an id, a controller and a state");
        }
    }
}
