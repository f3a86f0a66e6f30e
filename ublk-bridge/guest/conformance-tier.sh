#!/usr/bin/env bash
# The kernel-bridge conformance suite (the one NBD and FUSE run in mvn verify) through ublk, run as root inside
# the guest against the host's build: checksummed random I/O at several sizes and alignments, FUA, flush,
# discard and write-zeroes, a controller killed mid-write, detach with a request in flight. The guest has no
# Maven: the JUnit launcher runs the suite with the test classpath the build wrote (ublk module,
# target/test-classpath.txt). Skipped tests count as failures here.
set -euo pipefail
. "$(dirname "$0")/pace.sh"
cd "$(dirname "$0")/../ublk"
[ -s target/test-classpath.txt ] || { echo "FAIL: no target/test-classpath.txt: build first (mvn verify)"; exit 1; }
[ -e /dev/ublk-control ] || { echo "FAIL: no /dev/ublk-control in the guest"; exit 1; }
T0=$(date +%s)
echo "=== ublk conformance suite"
# C1 only and the serial collector: under TCG the JIT's warm-up dominates, not peak speed. The suite's timers
# (heartbeat timeout, I/O and probe timeouts, waits) are the build's stretched by jmpio.test.pace: TCG runs
# Java about five times slower than this host does, times the guest's measured pace.
if java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djnr.ffi.x86asm.enabled=false -Djmpio.test.pace="$(paced 5)" \
    -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" io.jmpio.bridge.ublk.GuestConformance; then
  echo "PASS: ublk conformance suite ($(( $(date +%s) - T0 )) s)"
else
  echo "FAIL: ublk conformance suite ($(( $(date +%s) - T0 )) s)"
  exit 1
fi
