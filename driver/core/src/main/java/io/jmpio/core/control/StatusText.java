package io.jmpio.core.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Locale;

/**
 * Renders the status JSON as a topology in the manner of {@code multipath -ll}:
 * <pre>
 * lun0 (6a1b...) size=64.0M policy=round-robin failback=immediate no_path_retry=fail queued=0
 * |-+- group 1 controller=A status=active access=optimized
 * | |- P1 127.0.0.1:7402 up       in-flight=3  iops=1204  p50=0.41ms p99=1.20ms errors=0
 * ...
 * </pre>
 */
public final class StatusText {
    private StatusText() {
    }

    public static String render(JsonNode s) {
        StringBuilder sb = new StringBuilder();
        JsonNode st = s.path("stats");
        sb.append(s.path("device").asText()).append(" (").append(s.path("wwid").asText()).append(") lun=")
            .append(s.path("lun").asText()).append(" size=").append(size(s.path("sizeBytes").asLong()))
            .append(" policy=").append(s.path("policy").path("name").asText());
        JsonNode opts = s.path("policy").path("options");
        if (opts.size() > 0) {
            sb.append(opts.toString());
        }
        sb.append(" failback=").append(s.path("failback").asText())
            .append(" no_path_retry=").append(s.path("noPathRetry").asText())
            .append(" queued=").append(s.path("queued").asInt()).append('\n');
        sb.append(String.format(Locale.ROOT, "  host=%s ios=%d iops=%d p50=%s p99=%s%n", s.path("hostId").asText(),
            st.path("ios").asLong(), st.path("iops").asLong(), ms(st.path("p50Micros").asLong()), ms(st.path("p99Micros").asLong())));
        JsonNode bridge = s.path("bridge");
        if (bridge.isObject()) {
            sb.append("  bridge=").append(bridge.path("name").asText()).append(' ').append(bridge.path("location").asText())
                .append('\n');
        }
        for (Iterator<JsonNode> gi = s.path("groups").elements(); gi.hasNext();) {
            JsonNode g = gi.next();
            boolean lastGroup = !gi.hasNext();
            sb.append(lastGroup ? "`-+- " : "|-+- ").append("group ").append(g.path("group").asText())
                .append(" controller=").append(g.path("controller").asText())
                .append(" status=").append(g.path("status").asText())
                .append(" access=").append(g.path("access").asText()).append('\n');
            for (Iterator<JsonNode> pi = g.path("paths").elements(); pi.hasNext();) {
                JsonNode p = pi.next();
                String state = p.path("health").asText();
                if (state.equals("up")) {
                    state = p.path("marginal").asBoolean() ? "marginal" : p.path("access").asText();
                }
                sb.append(lastGroup ? "  " : "| ").append(pi.hasNext() ? "|- " : "`- ")
                    .append(String.format(Locale.ROOT,
                        "%-3s %-21s %-22s %s in-flight=%-3d iops=%-6d p50=%-8s p99=%-8s errors=%d retries=%d",
                        p.path("id").asText(), p.path("address").asText(), state,
                        p.path("inUse").asBoolean() ? "*" : " ", p.path("inFlight").asInt(), p.path("iops").asLong(),
                        ms(p.path("p50Micros").asLong()), ms(p.path("p99Micros").asLong()), p.path("errors").asLong(),
                        p.path("retries").asLong()));
                String reason = p.path("reason").asText("");
                if (!reason.isEmpty() && !p.path("health").asText().equals("up")) {
                    sb.append("  (").append(reason).append(')');
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.2fms", micros / 1000.0);
    }

    private static String size(long bytes) {
        String[] units = {"B", "K", "M", "G", "T", "P"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f%s", v, units[u]);
    }
}
