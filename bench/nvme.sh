#!/usr/bin/env bash
# NVMe/TCP benchmark in the test guest (a real 6.12 kernel with nvme-tcp and nvmet): the same fio command
# through Linux's native NVMe multipath to the emulator's NVMe/TCP target (memory LUN, four paths) and
# through Linux's own nvmet target (a tmpfs file, one TCP port on loopback), side by side in one boot; then
# the failover stall of native multipath (longest run of 100 ms intervals without a completion) when the
# emulator's controller A is killed under a read load.
# Usage (build first: mvn -q -DskipTests package): ublk-bridge/guest/guest.sh -- bench/nvme.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
W=$(mktemp -d /tmp/jmpio-nvme-bench.XXXXXX)
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6a6d7069-6f00-4e56-4d65-000000000002
CFG=/sys/kernel/config/nvmet
export JMPIO_JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
cleanup() {
  set +e
  nvme disconnect-all > /dev/null 2>&1
  rm -f $CFG/ports/1/subsystems/nqn.2026-11.io.jmpio:bench 2>/dev/null
  rmdir $CFG/subsystems/nqn.2026-11.io.jmpio:bench/namespaces/1 $CFG/subsystems/nqn.2026-11.io.jmpio:bench \
    $CFG/ports/1 2>/dev/null
  pkill -f "jmpio.jar emu"; sleep 1; pkill -9 -f jmpio.jar
  umount "$W/t" 2>/dev/null
}
trap cleanup EXIT
json() { python3 -c "import json,sys; print(json.load(open('$1'))$2)"; }
dev_of() { # dev_of NQN -> /dev/nvmeXnY of that subsystem
  for _ in $(seq 1 150); do
    for s in /sys/class/nvme-subsystem/nvme-subsys*; do
      [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
      for b in "$s"/nvme*n1; do
        d=/dev/$(basename "$b")
        # the namespace is scanned after the controller is live: wait until it has a size
        [ -b "$d" ] && [ "$(blockdev --getsize64 "$d" 2>/dev/null || echo 0)" -gt 0 ] && { echo "$d"; return; }
      done
    done
    sleep 0.2
  done
  echo "no device for $1" >&2; exit 1
}
fio_iops() { # fio_iops DEV RW QD -> IOPS
  fio --output-format=json --name=b --filename="$1" --ioengine=libaio --direct=1 --rw="$2" --bs=4k --iodepth="$3" \
    --time_based --runtime="$SECS" --ramp_time=2 --size=192m \
    | python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]; print(int(j['read']['iops'] + j['write']['iops']))"
}

# the emulator, attached by Linux's native multipath
bin/jmpio emu start --base-port 0 --backend memory --data-dir "$W/array" --lun lun0:256M:A --ready-file "$W/array.json" \
  --heartbeat-interval 500 --heartbeat-timeout 4000 > "$W/array.log" 2>&1 &
for _ in $(seq 1 900); do [ -s "$W/array.json" ] && break; sleep 0.2; done
PORT=$(json "$W/array.json" "['controllers'][0]['ports'][0]")
ADMIN_B=$(json "$W/array.json" "['controllers'][1]['admin']")
sleep 3
nvme connect-all -t tcp -a "${PORT%:*}" -s "${PORT##*:}" -q "$HOSTNQN" > /dev/null
EMU=$(dev_of "$(json "$W/array.json" "['subsystemNqn']")")

# Linux's nvmet on a tmpfs file, one port on loopback
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
# a real tmpfs: nvmet's file backend sees a size of 0 for a file on the guest's overlay root
mkdir -p "$W/t" && mount -t tmpfs -o size=300m tmpfs "$W/t"
truncate -s 256M "$W/t/nvmet.img"
S=$CFG/subsystems/nqn.2026-11.io.jmpio:bench
mkdir -p "$S/namespaces/1"
echo 1 > "$S/attr_allow_any_host"
echo "$W/t/nvmet.img" > "$S/namespaces/1/device_path"
echo 1 > "$S/namespaces/1/buffered_io"   # tmpfs has no O_DIRECT
echo 1 > "$S/namespaces/1/enable"
mkdir -p $CFG/ports/1
echo tcp > $CFG/ports/1/addr_trtype; echo ipv4 > $CFG/ports/1/addr_adrfam
echo 127.0.0.1 > $CFG/ports/1/addr_traddr; echo 4420 > $CFG/ports/1/addr_trsvcid
ln -s "$S" $CFG/ports/1/subsystems/
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n nqn.2026-11.io.jmpio:bench -q "$HOSTNQN" > /dev/null
NVMET=$(dev_of nqn.2026-11.io.jmpio:bench)

echo "fio 4 KiB, libaio, ${SECS}s each, in the guest (TCG): emulator $EMU (4 paths) vs nvmet $NVMET"
printf '%-10s %-4s %12s %12s %8s\n' workload QD emulator nvmet ratio
for rw in randread randwrite; do
  for qd in 32 1; do
    e=$(fio_iops "$EMU" "$rw" "$qd"); n=$(fio_iops "$NVMET" "$rw" "$qd")
    printf '%-10s %-4s %12s %12s %8s\n' "$rw" "$qd" "$e" "$n" "$(python3 -c "print(f'{$e/max($n,1):.2f}')")"
  done
done

# failover stall of native multipath: reads at QD16, A killed 8 s in
fio --name=stall --filename="$EMU" --ioengine=libaio --direct=1 --rw=randread --bs=4k --iodepth=16 --time_based \
  --runtime=30 --size=192m --log_avg_msec=100 --write_iops_log="$W/stall" > /dev/null &
FIO=$!
sleep 8
curl -sf -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$W/array/admin.token")" \
  -d '{"verb":"kill","target":"A"}' "http://$ADMIN_B/faults" > /dev/null
wait $FIO
python3 - "$W"/stall_iops*.log <<'PY'
import sys
# fio writes one line per 100 ms window with completions; a stall shows as windows of 0 or as missing ones
rows = [l.split(',') for l in open(sys.argv[1]) if l.strip()]
t = [int(r[0]) for r in rows if int(r[1]) > 0]
worst = max((b - a - 100 for a, b in zip(t, t[1:])), default=0)
print(f"native multipath failover stall on a kill of A: {max(worst, 0)} ms (longest time without a completion, "
      f"100 ms resolution; {len(rows)} windows logged)")
PY
