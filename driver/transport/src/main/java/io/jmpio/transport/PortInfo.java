package io.jmpio.transport;

/**
 * One port of the target as a transport reports it: where it is ("host:port"), which controller it belongs to
 * (a short label: "A", "B", or a controller id), its group (ports of one group share an access state: an ANA
 * group or ALUA target port group, per controller), a port id unique within the target, its access state,
 * whether the target prefers it, and whether it is the port that answered.
 */
public record PortInfo(String address, String controller, int group, int portId, AccessState state, boolean preferred,
                       boolean reporting) {
    public PortInfo {
        if (address == null || controller == null || state == null) {
            throw new IllegalArgumentException("a port needs an address, a controller and a state");
        }
    }

    public PortInfo withState(AccessState s) {
        return new PortInfo(address, controller, group, portId, s, preferred, reporting);
    }
}
