# Helpers the host-side benchmark scripts source (bench/peers.sh, bench/nbd-qd1.sh); NAME is the script's name.
# wait_file FILE: waits up to 30 s for FILE to be non-empty (a ready file), else says which and exits.
wait_file() {
  for _ in $(seq 1 300); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "${NAME:-bench}: timed out waiting for $1" >&2
  exit 1
}
# json FILE EXPR: prints the value at EXPR (e.g. "['nbd']") of the JSON in FILE.
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d'+sys.argv[1]))" "$2"; }
# free_port: a TCP port on 127.0.0.1 free right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
