#!/usr/bin/env bash
# jmpio against C programs doing the same hops, side by side in one run with the same fio command (a benchmark,
# not a test; figures as ratios, since a 2-core host is noisy):
#   NBD:   jmpio's NBD export (multipath device over NVMe/TCP to the emulated pair, memory LUN, mirroring on)
#          vs `nbdkit nbd` proxying to `nbdkit memory` (two hops, like jmpio's host and array)
#   FUSE:  /dev/loopN on jmpio's FUSE bridge (each FUSE transport this kernel offers)
#          vs /dev/loopN on `qemu-storage-daemon`'s FUSE export of an NBD client to `nbdkit memory`
#          vs /dev/loopN on `qemu-storage-daemon`'s FUSE export of `null-co` (no back end at all)
#          and a loop device on a plain file (the ceiling)
# 4 KiB randread and randwrite at QD32 and QD1; the CPU time (user+sys, from /proc) every server process
# spent per I/O. Root (FUSE, loop). Usage: [WARM=8] bench/peers.sh [SECONDS] [OUT.md]  (build first: mvn -q -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
OUT=${2:-docs/bench/peers.md}
W=$(mktemp -d /tmp/jmpio-peers.XXXXXX)
PIDS=()
LOOPS=()
MOUNTS=()
ENABLE=/sys/module/fuse/parameters/enable_uring
URING_BEFORE=$(cat "$ENABLE" 2>/dev/null || echo "")
cleanup() {
  [ -n "$URING_BEFORE" ] && { [ "$URING_BEFORE" = Y ] && echo 1 > "$ENABLE" || echo 0 > "$ENABLE"; } 2>/dev/null || true
  for d in "${LOOPS[@]}"; do losetup -d "$d" 2>/dev/null || true; done
  for m in "${MOUNTS[@]}"; do fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "peers.sh: run as root (FUSE mounts and loop devices)" >&2; exit 1; }
for t in fio nbdkit qemu-storage-daemon losetup; do
  command -v $t > /dev/null || { echo "peers.sh: $t is not installed (Debian: fio nbdkit qemu-system-common util-linux)" >&2; exit 1; }
done
[ -f dist/target/jmpio.jar ] || { echo "peers.sh: build first (mvn -q -DskipTests package)" >&2; exit 1; }

NAME=peers.sh
. bench/lib.sh
# CPU ticks (user+sys, all threads) of the given processes together
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
HZ=$(getconf CLK_TCK)

# run LABEL "PIDS" fio-args...: one fio job; prints "IOPS p50us p99us cpu_us_per_io"
run() {
  local pids=$1; shift
  local before after out
  before=$(ticks $pids)
  out=$(fio --output-format=json --name=b --bs=4k --time_based --runtime="$SECS" --ramp_time=2 "$@")
  after=$(ticks $pids)
  python3 - "$out" "$before" "$after" "$HZ" "$SECS" <<'PY'
import json, sys
j = json.loads(sys.argv[1][sys.argv[1].index('{'):])["jobs"][0]
side = j["read"] if j["read"]["io_bytes"] > 0 else j["write"]
pct = side["clat_ns"]["percentile"]
ios = side["total_ios"] or 1
# the server's CPU covers ramp and run; fio counts the run's I/Os: scale by the time share
secs = float(sys.argv[5]); cpu_s = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
print(f"{side['iops']:.0f} {pct.get('50.000000', 0) / 1000:.0f} {pct.get('99.000000', 0) / 1000:.0f} "
      f"{cpu_s * secs / (secs + 2) / ios * 1e6:.1f}")
PY
}

echo "== the emulated array (memory LUN) and jmpio's NBD export"
bin/jmpio emu start --base-port 0 --backend memory --data-dir "$W/array" --lun lun0:1G:A \
  --ready-file "$W/array.json" > "$W/array.log" 2>&1 &
ARRAY=$!; PIDS+=($ARRAY)
wait_file "$W/array.json"
PORTAL=$(json "$W/array.json" "['controllers'][0]['ports'][0]")
sleep 2 # the controllers link up: writes are mirrored from here on
bin/jmpio attach --portal "$PORTAL" --name nbd --host-id nqn.2014-08.io.jmpio:bench-nbd --bridge nbd \
  --nbd-listen 127.0.0.1:0 --control "$W/nbd.sock" --ready-file "$W/nbd.json" > "$W/nbd.log" 2>&1 &
JNBD=$!; PIDS+=($JNBD)
wait_file "$W/nbd.json"
JMPIO_NBD=$(json "$W/nbd.json" "['nbd']")

echo "== nbdkit nbd -> nbdkit memory"
MEM_PORT=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$MEM_PORT" memory 1G > "$W/nbdkit-mem.log" 2>&1 &
MEM=$!; PIDS+=($MEM)
PROXY_PORT=$(free_port)
sleep 0.5
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$PROXY_PORT" nbd hostname=127.0.0.1 port="$MEM_PORT" \
  > "$W/nbdkit-nbd.log" 2>&1 &
PROXY=$!; PIDS+=($PROXY)
sleep 0.5

echo "== FUSE: jmpio's bridge, qemu-storage-daemon over NBD and over null-co, a plain loop"
fuse_jmpio() { # NAME TRANSPORT-OPTION...
  local name=$1; shift
  bin/jmpio attach --portal "$PORTAL" --name "$name" --host-id "nqn.2014-08.io.jmpio:bench-$name" --bridge fuse \
    --fuse-mount "$W/$name.mnt" --loop "$@" --control "$W/$name.sock" --ready-file "$W/$name.json" > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  echo $! > "$W/$name.pid"
  wait_file "$W/$name.json"
}
fuse_jmpio fuse --bridge-option io-uring=off
JFUSE=$(cat "$W/fuse.pid")
JFUSE_DEV=$(json "$W/fuse.json" "['device']")
JFUSEU=""
if [ -n "$URING_BEFORE" ]; then
  echo 1 > "$ENABLE"   # read at FUSE_INIT: restored on exit
  fuse_jmpio fuseu
  JFUSEU=$(cat "$W/fuseu.pid")
  JFUSEU_DEV=$(json "$W/fuseu.json" "['device']")
  JFUSE_HOW="$(json "$W/fuseu.json" "['transport']")"
else
  JFUSE_HOW="no FUSE over io_uring in this kernel"
fi

MEM2_PORT=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$MEM2_PORT" memory 1G > "$W/nbdkit-mem2.log" 2>&1 &
MEM2=$!; PIDS+=($MEM2)
sleep 0.5
qsd() { # NAME BLOCKDEV
  local name=$1 blockdev=$2
  touch "$W/$name.img"
  qemu-storage-daemon --blockdev "$blockdev" \
    --export "type=fuse,id=e0,node-name=n0,mountpoint=$W/$name.img,writable=on" > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  echo $! > "$W/$name.pid"
  MOUNTS+=("$W/$name.img")
  for _ in $(seq 1 100); do [ "$(stat -c %s "$W/$name.img")" -gt 0 ] && break; sleep 0.1; done
  local dev
  dev=$(losetup --find --show --direct-io=on "$W/$name.img" 2>/dev/null || losetup --find --show "$W/$name.img")
  LOOPS+=("$dev")
  echo "$dev" > "$W/$name.dev"
}
qsd qsdnbd "driver=nbd,node-name=n0,server.type=inet,server.host=127.0.0.1,server.port=$MEM2_PORT"
qsd qsdnull "driver=null-co,node-name=n0,size=1073741824,read-zeroes=on"
truncate -s 1G "$W/plain.img"
PLAIN=$(losetup --find --show --direct-io=on "$W/plain.img"); LOOPS+=("$PLAIN")
for d in "$JFUSE_DEV" ${JFUSEU:+"$JFUSEU_DEV"} "$(cat "$W/qsdnbd.dev")" "$(cat "$W/qsdnull.dev")" "$PLAIN"; do
  dd if=/dev/zero of="$d" bs=1M count=256 oflag=direct status=none 2>/dev/null || true
done

# Every server gets the same warm-up before any row is measured: a JVM serves at full speed only once its JIT has
# compiled the hot paths (seconds of work on 2 busy cores), which fio's 2 s ramp does not cover; the C servers
# need none, and the same run costs them nothing.
WARM=${WARM:-8}
warm() { fio --name=w --bs=4k --time_based --runtime="$WARM" --rw=randrw --iodepth=32 "$@" > /dev/null 2>&1 || true; }
echo "== warm-up: ${WARM} s of 4 KiB randrw QD32 on every server"
warm --ioengine=nbd --uri="$JMPIO_NBD" --size=1g
warm --ioengine=nbd --uri="nbd://127.0.0.1:$PROXY_PORT" --size=1g
for d in "$JFUSE_DEV" ${JFUSEU:+"$JFUSEU_DEV"} "$(cat "$W/qsdnbd.dev")" "$(cat "$W/qsdnull.dev")"; do
  warm --ioengine=io_uring --direct=1 --filename="$d" --size=256m
done

rows=()
row() { # GROUP RW QD LABEL PIDS fio-args
  local group=$1 rw=$2 qd=$3 label=$4 pids=$5; shift 5
  local r
  r=$(run "$pids" --rw="$rw" --iodepth="$qd" "$@")
  rows+=("$group|$rw|$qd|$label|$r")
  printf '%-5s %-9s QD%-2s %-46s %s\n' "$group" "$rw" "$qd" "$label" "$r"
}
for qd in 32 1; do
  for rw in randread randwrite; do
    row NBD "$rw" "$qd" "jmpio NBD (host + array)" "$JNBD $ARRAY" --ioengine=nbd --uri="$JMPIO_NBD" --size=1g
    row NBD "$rw" "$qd" "nbdkit nbd -> nbdkit memory" "$PROXY $MEM" --ioengine=nbd --uri="nbd://127.0.0.1:$PROXY_PORT" --size=1g
    row FUSE "$rw" "$qd" "jmpio FUSE (/dev/fuse) + loop (host + array)" "$JFUSE $ARRAY" --ioengine=io_uring --direct=1 --filename="$JFUSE_DEV" --size=256m
    if [ -n "$JFUSEU" ]; then
      row FUSE "$rw" "$qd" "jmpio FUSE (io_uring) + loop (host + array)" "$JFUSEU $ARRAY" --ioengine=io_uring --direct=1 --filename="$JFUSEU_DEV" --size=256m
    fi
    row FUSE "$rw" "$qd" "qsd FUSE -> NBD -> nbdkit memory, + loop" "$(cat "$W/qsdnbd.pid") $MEM2" --ioengine=io_uring --direct=1 --filename="$(cat "$W/qsdnbd.dev")" --size=256m
    row FUSE "$rw" "$qd" "qsd FUSE on null-co, + loop" "$(cat "$W/qsdnull.pid")" --ioengine=io_uring --direct=1 --filename="$(cat "$W/qsdnull.dev")" --size=256m
    row FUSE "$rw" "$qd" "loop on a plain file (ceiling)" "" --ioengine=io_uring --direct=1 --filename="$PLAIN" --size=256m
  done
done
bin/jmpio detach --control "$W/fuse.sock" > /dev/null || true
[ -n "$JFUSEU" ] && { bin/jmpio detach --control "$W/fuseu.sock" > /dev/null || true; }
bin/jmpio detach --control "$W/nbd.sock" > /dev/null || true

mkdir -p "$(dirname "$OUT")"
python3 - "$OUT" "$SECS" "$(nproc)" "$(uname -r)" "${JFUSE_HOW:-FUSE transport: see the attach log}" "$WARM" "${rows[@]}" <<'PY'
import sys
out, secs, cores, kernel, how, warm, *rows = sys.argv[1:]
table = [r.split("|") for r in rows]
base = {("NBD",): "nbdkit nbd -> nbdkit memory", ("FUSE",): "qsd FUSE -> NBD -> nbdkit memory, + loop"}
def ref(group, rw, qd, label):
    for g, r, q, l, res in table:
        if g == group and r == rw and q == qd and l == label:
            return res.split()
    return None
lines = ["| group | fio | QD | server | IOPS | p50 µs | p99 µs | server CPU µs/IO | IOPS vs C chain |",
         "|---|---|---:|---|---:|---:|---:|---:|---:|"]
for g, rw, qd, label, res in table:
    iops, p50, p99, cpu = res.split()
    b = ref(g, rw, qd, base[(g,)])
    ratio = f"{float(iops) / float(b[0]):.2f}×" if b and float(b[0]) > 0 else ""
    lines.append(f"| {g} | {rw} | {qd} | {label} | {iops} | {p50} | {p99} | {cpu if label != 'loop on a plain file (ceiling)' else '(kernel)'} | {ratio} |")
def find(group, rw, qd, label):
    r = ref(group, rw, qd, label)
    return float(r[0]) if r else None
notes = []
for rw in ("randread", "randwrite"):
    for qd in ("32", "1"):
        u = find("FUSE", rw, qd, "jmpio FUSE (io_uring) + loop (host + array)")
        n = find("FUSE", rw, qd, "qsd FUSE on null-co, + loop")
        if u and n:
            notes.append(f"jmpio FUSE over io_uring / qsd FUSE on null-co, {rw} QD{qd}: {u / n:.2f}×")
lines += [""] + notes
lines += ["", f"fio 4 KiB random, one job, {secs} s after 2 s ramp, same command per row group; {cores} cores; {kernel}.",
          "jmpio: a multipath device over NVMe/TCP (4 paths) to the emulated controller pair in another process, memory LUN,",
          "writes mirrored to the peer controller; its server CPU is both processes'. The C chains: two processes too.",
          f"jmpio's FUSE bridge: {how}. Every server was warmed up first with {warm} s of randrw QD32.",
          f"Command: `bench/peers.sh {secs}`"]
open(out, "w").write("\n".join(lines) + "\n")
print("wrote " + out)
PY
