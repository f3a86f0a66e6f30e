#!/usr/bin/env bash
# QD1 4 KiB random reads, alternating, through jmpio's NBD export (a multipath device over NVMe/TCP to the
# emulated pair, memory LUN) and through `nbdkit nbd` -> `nbdkit memory` (the C two-hop chain): only those
# servers running, ROUNDS alternating runs each, so the latency of the two is compared side by side.
# A benchmark, not a test. Usage: bench/nbd-qd1.sh [SECONDS] [ROUNDS]  (build first: mvn -q -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
W=$(mktemp -d /tmp/jmpio-nbdqd1.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$W"; }
trap cleanup EXIT
for t in fio nbdkit python3; do
  command -v $t > /dev/null || { echo "nbd-qd1.sh: $t is not installed" >&2; exit 1; }
done
[ -f dist/target/jmpio.jar ] || { echo "nbd-qd1.sh: build first (mvn -q -DskipTests package)" >&2; exit 1; }
NAME=nbd-qd1.sh
. bench/lib.sh

bin/jmpio emu start --base-port 0 --backend memory --data-dir "$W/array" --lun lun0:1G:A \
  --ready-file "$W/array.json" > "$W/array.log" 2>&1 &
PIDS+=($!)
wait_file "$W/array.json"
PORTAL=$(json "$W/array.json" "['controllers'][0]['ports'][0]")
sleep 2
bin/jmpio attach --portal "$PORTAL" --name nbd --host-id nqn.2014-08.io.jmpio:bench-qd1 --bridge nbd \
  --nbd-listen 127.0.0.1:0 --control "$W/nbd.sock" --ready-file "$W/nbd.json" > "$W/nbd.log" 2>&1 &
PIDS+=($!)
wait_file "$W/nbd.json"
JMPIO=$(json "$W/nbd.json" "['nbd']")
MEM_PORT=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$MEM_PORT" memory 1G > /dev/null 2>&1 &
PIDS+=($!)
PROXY_PORT=$(free_port)
sleep 0.5
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$PROXY_PORT" nbd hostname=127.0.0.1 port="$MEM_PORT" > /dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
C_CHAIN="nbd://127.0.0.1:$PROXY_PORT"
# both warmed up alike (the JVM's JIT needs it; the C chain does not mind)
for uri in "$JMPIO" "$C_CHAIN"; do
  fio --name=w --bs=4k --time_based --runtime=8 --rw=randrw --iodepth=32 --ioengine=nbd --uri="$uri" --size=1g > /dev/null
done
run() {
  fio --output-format=json --name=b --bs=4k --time_based --runtime="$SECS" --ramp_time=1 --rw=randread --iodepth=1 \
    --ioengine=nbd --uri="$2" --size=1g | python3 -c "
import json, sys
s = sys.stdin.read(); j = json.loads(s[s.index('{'):])['jobs'][0]['read']; p = j['clat_ns']['percentile']
print(f\"{'$1':28s} {j['iops']:7.0f} IOPS  p50 {p['50.000000'] / 1000:6.1f}  p99 {p['99.000000'] / 1000:6.1f}  mean {j['clat_ns']['mean'] / 1000:6.1f} us\")"
}
echo "fio 4 KiB randread QD1, ${SECS} s per run after 1 s ramp, alternating"
for _ in $(seq 1 "$ROUNDS"); do
  run "jmpio NBD (host + array)" "$JMPIO"
  run "nbdkit nbd -> nbdkit memory" "$C_CHAIN"
done
