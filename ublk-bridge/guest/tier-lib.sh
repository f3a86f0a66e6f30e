# Sourced by the shell tiers (ublk, nvme, nvmet) after they set W (their work directory): the guest's pace
# (pace.sh) and the helpers every tier uses. Each tier defines its own fail(), which prints what that tier's
# failures need (logs, kernel messages, the driver's status) and exits.
. "$(dirname "${BASH_SOURCE[0]}")/pace.sh"
T0=$(date +%s)
# C1 only and the serial collector: under TCG the JIT's warm-up dominates, not peak speed.
export JMPIO_JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
step() { echo "=== [$(( $(date +%s) - T0 )) s] $*"; }
pass() { echo "PASS: $*"; }
# json FILE FILTER: one value from a JSON file (jq starts in a fraction of a second under TCG; python3 takes ~8 s)
json() { jq -er "$2" "$1" || { echo "FAIL: no $2 in $1: $(head -c 400 "$1")" >&2; return 1; }; }
# fault VERB TARGET ADMIN: a fault through the array's admin endpoint (HTTP+JSON) with curl, no extra JVM start
# under emulation; the admin token is in the array's data directory (created at its first start, mode 0600).
fault() { curl -sf --max-time 120 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$W/array/admin.token")" \
  -d "{\"verb\":\"$1\",\"target\":\"$2\"}" "http://$3/faults"; }
