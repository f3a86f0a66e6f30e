package io.jmpio.emu.array;

import java.util.List;

/**
 * A LUN's persistent reservation state (NVMe reservations, like SCSI-3 persistent reservations): who is
 * registered with which key, who holds the reservation and of which type, and a generation that grows with
 * every registration change. Kept in the array metadata, so both controllers see it and it survives a
 * takeover and a power loss. Host ids are the hosts' 16-byte Host Identifiers in hex.
 */
public record LunReservation(long generation, String holder, int type, boolean ptpl, List<Registrant> registrants) {
    public static final LunReservation NONE = new LunReservation(0, null, 0, false, List.of());

    /** One registered host and its reservation key. */
    public record Registrant(String hostId, long key) {
    }

    public LunReservation {
        registrants = registrants == null ? List.of() : List.copyOf(registrants);
    }

    public Registrant registrant(String hostId) {
        for (Registrant r : registrants) {
            if (r.hostId().equals(hostId)) {
                return r;
            }
        }
        return null;
    }

    public boolean reserved() {
        return type != 0;
    }
}
