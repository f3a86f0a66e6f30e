#!/usr/bin/env bash
# Failover stalls with each controller in its own container (a benchmark run, not a timed test): runs the
# container tests RUNS times and writes the longest I/O stall and the p99 latency during each fault.
# Targets: stall < 1 s for docker kill, < 2 s for docker pause.
# Usage: bench/containers.sh [RUNS] [OUT.md]   (needs dockerd and the images: storage-emu/docker/build-images.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
OUT=${2:-docs/bench/containers.md}
REPORT=driver/container-tests/target/container-stalls.txt
mvn -q -DskipTests install > /dev/null
rm -f "$REPORT"
for i in $(seq 1 "$RUNS"); do
  echo "run $i of $RUNS" >&2
  (cd driver/container-tests && mvn -q -o verify -Dgroups=containers > /dev/null)
done
mkdir -p "$(dirname "$OUT")"
python3 - "$REPORT" "$OUT" "$RUNS" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    fault, stall, p99 = line.split()
    rows[fault].append((int(stall), float(p99)))
target = {"kill": "< 1000", "pause": "< 2000"}
with open(sys.argv[2], "w") as out:
    out.write("| fault | runs | longest stall, ms (worst / median) | p99 latency during the fault, ms (worst) | target |\n")
    out.write("|---|---:|---:|---:|---|\n")
    for fault in ["kill", "pause", "port-down", "partition"]:
        v = rows.get(fault, [])
        if not v:
            continue
        stalls = sorted(s for s, _ in v)
        out.write(f"| docker {fault} | {len(v)} | {stalls[-1]} / {stalls[len(stalls)//2]} | {max(p for _, p in v):.1f} | {target.get(fault, '-')} |\n"
                  if fault in ("kill", "pause") else
                  f"| {fault} | {len(v)} | {stalls[-1]} / {stalls[len(stalls)//2]} | {max(p for _, p in v):.1f} | {target.get(fault, '-')} |\n")
    out.write(f"\nControllers A and B in separate containers (host network, loopback), the driver in the test JVM with"
              f" 4 paths, 8 workers of verified 4 KiB reads and writes; heartbeat timeout 500 ms, driver I/O timeout"
              f" 1 s. Command: `bench/containers.sh {sys.argv[3]}`.\n")
print(open(sys.argv[2]).read())
PY
