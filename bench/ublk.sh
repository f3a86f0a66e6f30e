#!/usr/bin/env bash
# ublk bridge benchmark for a real ublk host (root): 4k randread, QD32 per queue, through /dev/ublkbN on
# the multipath device over a null-backed LUN of the emulator, with 1 queue and with N queues (one fio job
# per queue), and the kernel loop device over a tmpfs file with the same fio command, for a ratio.
# Usage: bench/ublk.sh [SECONDS] [N_QUEUES]      (build first: mvn -q -DskipTests package)
# In the qemu guest: ublk-bridge/guest/guest.sh -- bench/ublk.sh 10 2
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
NQ=${2:-$(nproc)}
W=$(mktemp -d /tmp/jmpio-ublk-bench.XXXXXX)
export JMPIO_RUN_DIR=$W/run
PIDS=()
cleanup() {
  set +e
  [ -n "${LOOP:-}" ] && losetup -d "$LOOP"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 2; rm -rf "$W"
}
trap cleanup EXIT
[ -e /dev/ublk-control ] || { echo "ublk.sh: no /dev/ublk-control (load ublk_drv; or run it in the guest)" >&2; exit 1; }
wait_file() { for _ in $(seq 1 900); do [ -s "$1" ] && return 0; sleep 0.2; done; echo "timed out waiting for $1" >&2; exit 1; }
json() { python3 -c "import json; print(json.load(open('$1'))$2)"; }
fio_iops() { # fio_iops DEV JOBS -> total IOPS
  fio --output-format=json --name=r --filename="$1" --ioengine=io_uring --direct=1 --rw=randread --bs=4k \
    --iodepth=32 --numjobs="$2" --group_reporting --time_based --runtime="$SECS" --ramp_time=2 --size=512m \
    | python3 -c "import json,sys; print(int(json.load(sys.stdin)['jobs'][0]['read']['iops']))"
}

bin/jmpio emu start --base-port 0 --backend null --data-dir "$W/array" --lun lun0:1G:A --ready-file "$W/array.json" \
  --heartbeat-interval 500 --heartbeat-timeout 4000 > "$W/array.log" 2>&1 &
PIDS+=($!)
wait_file "$W/array.json"
PORTAL=$(json "$W/array.json" "['controllers'][0]['ports'][0]")

truncate -s 1G /dev/shm/jmpio-bench.img
LOOP=$(losetup --find --show --direct-io=on /dev/shm/jmpio-bench.img 2>/dev/null || losetup --find --show /dev/shm/jmpio-bench.img)
LOOP1=$(fio_iops "$LOOP" 1)
LOOPN=$(fio_iops "$LOOP" "$NQ")
losetup -d "$LOOP"; LOOP=""; rm -f /dev/shm/jmpio-bench.img

rows=()
for q in 1 "$NQ"; do
  bin/jmpio attach --portal "$PORTAL" --host-id bench --bridge ublk --bridge-option queues="$q" \
    --probe-timeout 5000 --io-timeout 15000 --ready-file "$W/a$q.json" --control "$W/ctl$q.sock" > "$W/a$q.log" 2>&1 &
  PIDS+=($!)
  wait_file "$W/a$q.json"
  DEV=$(json "$W/a$q.json" "['device']")
  IOPS=$(fio_iops "$DEV" "$q")
  bin/jmpio detach --control "$W/ctl$q.sock" > /dev/null
  sleep 2
  [ "$q" = 1 ] && BASE=$LOOP1 || BASE=$LOOPN
  rows+=("| $q | $IOPS | $BASE | $(python3 -c "print(f'{$IOPS/$BASE:.2f}')") |")
done
echo "| queues (fio jobs, QD32 each) | jmpio /dev/ublkbN IOPS | kernel loop on tmpfs IOPS | ratio |"
echo "|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "4k randread, io_uring, direct, ${SECS} s after 2 s ramp; $(nproc) CPUs; $(uname -r); null-backed LUN."
