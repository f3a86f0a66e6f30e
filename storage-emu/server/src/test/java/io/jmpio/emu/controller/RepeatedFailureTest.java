package io.jmpio.emu.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

/** A failure that repeats per request is told once, summed up each minute, and when it ends. */
class RepeatedFailureTest {
    private final List<String> lines = new ArrayList<>();
    private final Logger log = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
        (proxy, method, args) -> {
            if ((method.getName().equals("error") || method.getName().equals("warn")) && args != null
                && args[0] instanceof String) {
                Object[] rest = args.length == 2 && args[1] instanceof Object[] ? (Object[]) args[1]
                    : java.util.Arrays.copyOfRange(args, 1, args.length);
                lines.add(method.getName() + " " + MessageFormatter.arrayFormat((String) args[0], rest).getMessage());
            }
            return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
        });

    @Test
    void toldOnceThenEachMinuteThenWhenItWorksAgain() {
        RepeatedFailure f = new RepeatedFailure(log, "controller A: host I/O");
        IOException full = new IOException("No space left on device");
        long t = 0;
        for (int i = 0; i < 1000; i++) {
            f.failed(t += TimeUnit.MILLISECONDS.toNanos(10), "WRITE of lun0 at " + i, full);
        }
        assertEquals(1, lines.size(), lines.toString());
        assertEquals("error controller A: host I/O: WRITE of lun0 at 0: No space left on device", lines.get(0));
        f.failed(t + TimeUnit.MINUTES.toNanos(1), "WRITE of lun0 at 1000", full);
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(1).startsWith("error controller A: host I/O: still failing (1000 more time(s)"), lines.get(1));
        f.worked();
        f.worked();
        assertEquals(List.of("warn controller A: host I/O: works again"), lines.subList(2, lines.size()));
        f.failed(t + TimeUnit.MINUTES.toNanos(2), "READ of lun0", full);
        assertEquals(4, lines.size(), "a new episode is told again at once");
    }
}
