package io.jmpio.emu.array;

import java.util.List;

/**
 * One LUN as the array's metadata records it. {@code owner} is the controller that currently owns it,
 * {@code preferredOwner} where it returns after a failover; {@code epoch} grows with every ownership change
 * (cached writes carry it, so a controller never replays writes from an ownership it has lost);
 * {@code failedOver} marks ownership taken by a survivor, which failback undoes.
 */
public record LunRecord(int id, String name, long bytes, int blockSize, String backend, String preferredOwner,
                        String owner, long epoch, boolean failedOver, List<String> allowedHosts, String wwid,
                        LunReservation reservation) {

    public LunRecord {
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
        reservation = reservation == null ? LunReservation.NONE : reservation;
    }

    public LunRecord withReservation(LunReservation r) {
        return new LunRecord(id, name, bytes, blockSize, backend, preferredOwner, owner, epoch, failedOver, allowedHosts,
            wwid, r);
    }

    public LunRecord withOwner(String newOwner, boolean takenOver) {
        return new LunRecord(id, name, bytes, blockSize, backend, preferredOwner, newOwner, epoch + 1, takenOver,
            allowedHosts, wwid, reservation);
    }

    public LunRecord withBytes(long newBytes) {
        return new LunRecord(id, name, newBytes, blockSize, backend, preferredOwner, owner, epoch, failedOver,
            allowedHosts, wwid, reservation);
    }

    public LunRecord withAllowedHosts(List<String> hosts) {
        return new LunRecord(id, name, bytes, blockSize, backend, preferredOwner, owner, epoch, failedOver, hosts, wwid, reservation);
    }

    public LunRecord withPreferredOwner(String preferred) {
        return new LunRecord(id, name, bytes, blockSize, backend, preferred, owner, epoch, failedOver, allowedHosts, wwid, reservation);
    }

    /** Empty list: every host; else only the listed host ids. */
    public boolean allows(String hostId) {
        return allowedHosts.isEmpty() || allowedHosts.contains(hostId);
    }
}
