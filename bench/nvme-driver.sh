#!/usr/bin/env bash
# jmpio's NVMe/TCP multipath against Linux's native NVMe multipath, in the test guest (a real 6.12 kernel), to
# the same emulated array over the same four NVMe/TCP paths, one after the other in one boot: the same fio
# command through jmpio's ublk device and through /dev/nvmeXnY; then the failover stall of each (longest run
# of 100 ms intervals without a completion) when controller A is killed under a read load.
# Usage (build first: mvn -q -DskipTests package): ublk-bridge/guest/guest.sh -- bench/nvme-driver.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
W=$(mktemp -d /tmp/jmpio-nvme-driver.XXXXXX)
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6a6d7069-6f00-4e56-4d65-000000000003
export JMPIO_JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
export JMPIO_RUN_DIR=$W/run
cleanup() {
  set +e
  nvme disconnect-all > /dev/null 2>&1
  pkill -f "jmpio.jar attach"; pkill -f "jmpio.jar emu"; sleep 1; pkill -9 -f jmpio.jar
}
trap cleanup EXIT
json() { python3 -c "import json,sys; print(json.load(open('$1'))$2)"; }
fio_iops() { # fio_iops DEV RW QD -> IOPS
  fio --output-format=json --name=b --filename="$1" --ioengine=libaio --direct=1 --rw="$2" --bs=4k --iodepth="$3" \
    --time_based --runtime="$SECS" --ramp_time=2 --size=192m \
    | python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]; print(int(j['read']['iops'] + j['write']['iops']))"
}
array() { # array NAME: a fresh emulator (memory LUN), timers stretched for the slow guest
  bin/jmpio emu start --base-port 0 --backend memory --data-dir "$W/$1" --lun lun0:256M:A --ready-file "$W/$1.json" \
    --heartbeat-interval 500 --heartbeat-timeout 4000 > "$W/$1.log" 2>&1 &
  echo $! > "$W/$1.pid"
  for _ in $(seq 1 900); do [ -s "$W/$1.json" ] && break; sleep 0.2; done
  PORT=$(json "$W/$1.json" "['controllers'][0]['ports'][0]")
  ADMIN_B=$(json "$W/$1.json" "['controllers'][1]['admin']")
  TOKEN=$W/$1/admin.token
  sleep 3
}
stall() { # stall DEV LABEL: reads at QD16, A killed 8 s in; prints the longest gap
  fio --name=stall --filename="$1" --ioengine=libaio --direct=1 --rw=randread --bs=4k --iodepth=16 --time_based \
    --runtime=30 --size=192m --log_avg_msec=100 --write_iops_log="$W/stall-$2" > /dev/null &
  local f=$!
  sleep 8
  curl -sf -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$TOKEN")" \
    -d '{"verb":"kill","target":"A"}' "http://$ADMIN_B/faults" > /dev/null
  wait $f
  python3 - "$W"/stall-"$2"_iops*.log <<'PY'
import sys
rows = [l.split(',') for l in open(sys.argv[1]) if l.strip()]
t = [int(r[0]) for r in rows if int(r[1]) > 0]
print(max([b - a - 100 for a, b in zip(t, t[1:])] + [0]))
PY
}

# jmpio: its NVMe/TCP transport and the ublk bridge
array one
bin/jmpio attach --transport nvme-tcp --portal "$PORT" --host-id "$HOSTNQN" --bridge ublk --bridge-option queues=2 \
  --probe-timeout 5000 --io-timeout 15000 --connect-timeout 15000 --check-interval 1000 --scan-interval 5000 \
  --ready-file "$W/attach.json" --control "$W/ctl.sock" > "$W/attach.log" 2>&1 &
for _ in $(seq 1 900); do [ -s "$W/attach.json" ] && break; sleep 0.2; done
JDEV=$(json "$W/attach.json" "['device']")
declare -A J N
for rw in randread randwrite; do for qd in 32 1; do J[$rw$qd]=$(fio_iops "$JDEV" $rw $qd); done; done
JSTALL=$(stall "$JDEV" jmpio)
bin/jmpio detach --control "$W/ctl.sock" > /dev/null 2>&1 || true
kill "$(cat "$W/one.pid")" 2>/dev/null; sleep 2; pkill -9 -f "jmpio.jar emu" || true

# Linux's native NVMe multipath to a fresh emulator
array two
nvme connect-all -t tcp -a "${PORT%:*}" -s "${PORT##*:}" -q "$HOSTNQN" > /dev/null
NQN=$(json "$W/two.json" "['subsystemNqn']")
NDEV=""
for _ in $(seq 1 150); do
  for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
    for b in "$s"/nvme*n1; do [ -b "/dev/$(basename "$b")" ] && NDEV=/dev/$(basename "$b"); done
  done
  [ -n "$NDEV" ] && [ "$(blockdev --getsize64 "$NDEV" 2>/dev/null || echo 0)" -gt 0 ] && break
  sleep 0.2
done
for rw in randread randwrite; do for qd in 32 1; do N[$rw$qd]=$(fio_iops "$NDEV" $rw $qd); done; done
NSTALL=$(stall "$NDEV" native)

echo "fio 4 KiB, libaio, ${SECS}s each, in the guest (TCG), memory LUN, 4 NVMe/TCP paths to the emulator"
printf '%-10s %-4s %14s %14s %8s\n' workload QD "jmpio (ublk)" "native mpath" ratio
for rw in randread randwrite; do for qd in 32 1; do
  printf '%-10s %-4s %14s %14s %8s\n' $rw $qd "${J[$rw$qd]}" "${N[$rw$qd]}" \
    "$(python3 -c "print(f'{${J[$rw$qd]}/max(${N[$rw$qd]},1):.2f}')")"
done; done
echo "failover stall on a kill of A (longest time without a completion, 100 ms resolution): jmpio ${JSTALL} ms, native ${NSTALL} ms"
