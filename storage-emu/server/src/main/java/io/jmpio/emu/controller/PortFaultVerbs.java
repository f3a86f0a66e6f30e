package io.jmpio.emu.controller;

import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * Fault injection on a controller's front-end ports, by address ("host:port"): down, latency, flaky. Each verb
 * finds the front end that has the port, and refuses an address that no front end of this controller has.
 */
final class PortFaultVerbs {
    private final Controller c;

    PortFaultVerbs(Controller controller) {
        this.c = controller;
    }

    boolean hasPort(String address) {
        for (Controller.HostFrontEnd f : c.frontEnds) {
            if (f.addresses().contains(address)) {
                return true;
            }
        }
        return false;
    }

    private IllegalArgumentException noSuchPort(String address) {
        return new IllegalArgumentException("controller " + c.id + " has no port " + address + " (ports: "
            + c.portAddresses() + ")");
    }

    void setPortDown(String address, boolean down) throws IOException {
        for (Controller.HostFrontEnd f : c.frontEnds) {
            if (f.setPortDown(address, down)) {
                c.links.announcePorts(); // the peer's discovery log lists only ports that are up
                return;
            }
        }
        throw noSuchPort(address);
    }

    void setPortLatency(String address, long millis) {
        for (Controller.HostFrontEnd f : c.frontEnds) {
            if (f.setPortLatency(address, millis)) {
                return;
            }
        }
        throw noSuchPort(address);
    }

    void setPortFlaky(String address, double rate, String mode) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("flaky rate must be within 0..1, got " + rate);
        }
        String m = mode.toLowerCase(Locale.ROOT);
        if (!List.of("error", "drop", "mixed").contains(m)) {
            throw new IllegalArgumentException("unknown flaky mode '" + mode + "' (error, drop, mixed)");
        }
        for (Controller.HostFrontEnd f : c.frontEnds) {
            if (f.setPortFlaky(address, rate, m)) {
                return;
            }
        }
        throw noSuchPort(address);
    }
}
