#!/usr/bin/env bash
# Side-by-side fio runs of the kernel bridges (a benchmark, not a test):
#   4k randread/randwrite QD32 through jmpio's NBD export vs `nbdkit memory` with the same fio command, and
#   (as root) through /dev/loopN on jmpio's FUSE bridge vs a loop device on a plain file.
# jmpio runs against an in-process-style emulator on loopback with memory LUNs, so the array is not the disk.
# Usage: bench/bridges.sh [SECONDS] [OUT.md]     (build first: mvn -q -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
OUT=${2:-docs/bench/bridges.md}
WORK=$(mktemp -d /tmp/jmpio-bridge-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  [ -n "${PLAIN_LOOP:-}" ] && losetup -d "$PLAIN_LOOP" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for t in fio nbdkit; do command -v $t >/dev/null || { echo "bridges.sh: $t is not installed" >&2; exit 1; }; done
[ -f dist/target/jmpio.jar ] || { echo "bridges.sh: build first (mvn -q -DskipTests package)" >&2; exit 1; }

wait_file() { for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d'+sys.argv[1]))" "$2"; }

# fio NAME ARGS... -> "IOPS p99us" for the job
fio_run() {
  local out
  out=$(fio --output-format=json --name=b --bs=4k --iodepth=32 --time_based --runtime="$SECONDS_PER_RUN" \
        --ramp_time=2 "$@")
  python3 - "$out" <<'PY'
import json, sys
j = json.loads(sys.argv[1][sys.argv[1].index('{'):])["jobs"][0]
side = j["read"] if j["read"]["io_bytes"] > 0 else j["write"]
p99 = side["clat_ns"]["percentile"].get("99.000000", 0) / 1000
print(f"{side['iops']:.0f} {p99:.0f}")
PY
}

bin/jmpio emu start --base-port 0 --backend memory --data-dir "$WORK/array" --lun lun0:1G:A \
  --ready-file "$WORK/array.json" > "$WORK/array.log" 2>&1 &
PIDS+=($!)
wait_file "$WORK/array.json"
PORTAL=$(json "$WORK/array.json" "['controllers'][0]['ports'][0]")

bin/jmpio attach --portal "$PORTAL" --host-id bench --bridge nbd --nbd-listen 127.0.0.1:0 \
  --control "$WORK/nbd.sock" --ready-file "$WORK/nbd.json" > "$WORK/nbd.log" 2>&1 &
PIDS+=($!)
wait_file "$WORK/nbd.json"
JMPIO_NBD=$(json "$WORK/nbd.json" "['nbd']")

NBDKIT_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NBDKIT_PORT" memory 1G > "$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
sleep 1
NBDKIT_URI="nbd://127.0.0.1:$NBDKIT_PORT"

rows=()
for rw in randread randwrite; do
  read -r a_iops a_p99 < <(fio_run --ioengine=nbd --uri="$NBDKIT_URI" --rw=$rw --size=1g)
  read -r j_iops j_p99 < <(fio_run --ioengine=nbd --uri="$JMPIO_NBD" --rw=$rw --size=1g)
  rows+=("| NBD | $rw | jmpio NBD export | $j_iops | $j_p99 | nbdkit memory | $a_iops | $a_p99 | $(python3 -c "print(f'{$j_iops/$a_iops:.2f}')")× |")
  echo "${rows[-1]}"
done

if [ "$(id -u)" -eq 0 ]; then
  bin/jmpio attach --portal "$PORTAL" --name fusebench --host-id bench2 --bridge fuse --fuse-mount "$WORK/mnt" \
    --loop --control "$WORK/fuse.sock" --ready-file "$WORK/fuse.json" > "$WORK/fuse.log" 2>&1 &
  PIDS+=($!)
  wait_file "$WORK/fuse.json"
  LOOP=$(json "$WORK/fuse.json" "['device']")
  truncate -s 1G "$WORK/plain.img"
  PLAIN_LOOP=$(losetup --find --show --direct-io=on "$WORK/plain.img")
  dd if=/dev/zero of="$PLAIN_LOOP" bs=1M count=1024 oflag=direct status=none
  for rw in randread randwrite; do
    read -r p_iops p_p99 < <(fio_run --ioengine=io_uring --direct=1 --filename="$PLAIN_LOOP" --rw=$rw)
    read -r f_iops f_p99 < <(fio_run --ioengine=io_uring --direct=1 --filename="$LOOP" --rw=$rw)
    rows+=("| loop | $rw | jmpio FUSE bridge $LOOP | $f_iops | $f_p99 | loop on a plain file | $p_iops | $p_p99 | $(python3 -c "print(f'{$f_iops/$p_iops:.2f}')")× |")
    echo "${rows[-1]}"
  done
  bin/jmpio detach --control "$WORK/fuse.sock" > /dev/null
else
  echo "not root: FUSE bridge rows skipped" >&2
fi
bin/jmpio detach --control "$WORK/nbd.sock" > /dev/null

mkdir -p "$(dirname "$OUT")"
{
  echo "| bridge | fio | jmpio | IOPS | p99 µs | baseline | IOPS | p99 µs | jmpio / baseline |"
  echo "|---|---|---|---:|---:|---|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "fio 4 KiB, QD32, one job, ${SECONDS_PER_RUN} s after 2 s ramp; $(nproc) cores; $(uname -r)."
  echo "jmpio: memory LUN on the emulator (both controllers in one process), 4 paths over loopback TCP."
  echo "Command: \`bench/bridges.sh $SECONDS_PER_RUN\`"
} > "$OUT"
echo "wrote $OUT"
