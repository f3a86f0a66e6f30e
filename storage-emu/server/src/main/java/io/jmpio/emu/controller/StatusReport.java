package io.jmpio.emu.controller;

import io.jmpio.emu.array.LunRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One controller's own view, as the admin endpoint reports it (`jmpio emu status`). */
final class StatusReport {
    private final Controller c;

    StatusReport(Controller controller) {
        this.c = controller;
    }

    Map<String, Object> render() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id);
        m.put("state", c.state.name().toLowerCase());
        m.put("transport", c.transport.kind());
        m.put("admin", c.adminAddress);
        Map<String, Object> linkInfo = new LinkedHashMap<>();
        linkInfo.put("address", c.link.boundAddress().getHostString() + ":" + c.link.boundAddress().getPort());
        linkInfo.put("peer", c.peerId);
        linkInfo.put("peerState", c.peerState.name().toLowerCase());
        linkInfo.put("mirroring", c.peerSynced);
        linkInfo.put("partitioned", c.link.isPartitioned());
        linkInfo.put("latencyMs", c.link.latencyMillis());
        linkInfo.put("channels", Map.of("management", 1, "ship", c.link.dataChannels(), "mirror", c.link.dataChannels()));
        linkInfo.put("connectedChannels", c.link.connectedChannels());
        linkInfo.put("dataMessagesSent", c.link.dataMessagesSent());
        linkInfo.put("dataFramesSent", c.link.dataFramesSent());
        m.put("link", linkInfo);
        List<Object> sessions = new ArrayList<>();
        List<Object> ports = new ArrayList<>();
        for (Controller.HostFrontEnd f : c.frontEnds) {
            sessions.addAll(f.sessions());
            ports.addAll(f.portStatus());
        }
        m.put("ports", ports);
        m.put("sessions", sessions);
        Map<String, Object> hostIo = new java.util.TreeMap<>();
        for (Controller.HostFrontEnd f : c.frontEnds) {
            hostIo.putAll(f.hostStatistics());
        }
        m.put("hostIo", hostIo);
        List<Object> lunList = new ArrayList<>();
        List<Lun> sorted = new ArrayList<>(c.luns.values());
        sorted.sort((a, b) -> Integer.compare(a.id(), b.id()));
        for (Lun l : sorted) {
            lunList.add(lun(l));
        }
        m.put("luns", lunList);
        m.put("aluaGeneration", c.access.generation());
        m.put("readCacheBytes", c.blockCache.weightedBytes());
        return m;
    }

    private Map<String, Object> lun(Lun l) {
        LunRecord r = l.record;
        Map<String, Object> lm = new LinkedHashMap<>();
        lm.put("name", r.name());
        lm.put("id", r.id());
        lm.put("bytes", r.bytes());
        lm.put("blockSize", r.blockSize());
        lm.put("nsid", r.id() + 1);
        lm.put("backend", r.backend());
        lm.put("wwid", r.wwid());
        lm.put("owner", r.owner());
        lm.put("preferredOwner", r.preferredOwner());
        lm.put("epoch", r.epoch());
        lm.put("failedOver", r.failedOver());
        lm.put("transitioning", l.transitioning);
        lm.put("allowedHosts", r.allowedHosts());
        Map<String, String> alua = new LinkedHashMap<>();
        if (c.state == Controller.State.RUNNING) {
            c.access.portStates(l).forEach((port, state) -> alua.put(port, state.label()));
        }
        lm.put("alua", alua);
        lm.put("dirtyBytes", l.cache.dataBytes());
        lm.put("mirroredBytes", l.mirror.dataBytes());
        lm.put("shippedWriteRanges", l.shippedPositions.size());
        lm.put("stats", l.stats.toMap());
        return lm;
    }
}
