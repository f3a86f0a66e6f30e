#!/usr/bin/env bash
# Starts dockerd in the background when no daemon answers (machines without systemd), and waits for it.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null || { echo "start-dockerd.sh: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO sh -c 'nohup dockerd > /var/log/jmpio-dockerd.log 2>&1 &'
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && { echo "start-dockerd.sh: dockerd is up" >&2; exit 0; }
  sleep 0.5
done
echo "start-dockerd.sh: dockerd did not come up in 60 s:" >&2
tail -20 /var/log/jmpio-dockerd.log >&2 || true
exit 1
