#!/bin/sh
# The signalling server under many members: hangout-server, PeerJS's
# server (npm `peer`, the reference) and libsoup's own WebSocket server
# doing nothing (soup-floor, the least a libsoup server keeps per member;
# it relays nothing), one after the other in every
# repetition, under the same load from one Node process
# (bench/server-load/load.mjs says what is measured and how).
#
# Usage: server-load.sh [-n MEMBERS] [-p PROBES] [-s SIGNALS] [-r RUNS]
#                       [-o "hangout peerjs"]
#   -n  members let in and kept idle (10000)
#   -p  joins measured one at a time with all of them in (200)
#   -s  signals relayed, 500 a second (1000)
#   -r  repetitions (3)      -o  servers (hangout peerjs libsoup)
# Environment: HANGOUT_SERVER, SOUP_FLOOR (ninja -C build bench-server sets
# them; without SOUP_FLOOR there is no libsoup run). Runs
# itself in a private network namespace with only loopback up. Each
# process needs a descriptor per member: the limit of open files must
# exceed MEMBERS + PROBES + 100.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
members=10000 probes=200 signals=1000 runs=3 servers="hangout peerjs libsoup"
while getopts n:p:s:r:o: opt; do
  case $opt in
    n) members=$OPTARG ;; p) probes=$OPTARG ;; s) signals=$OPTARG ;;
    r) runs=$OPTARG ;; o) servers=$OPTARG ;;
    *) sed -n '/^# Usage/,/^# Env/p' "$0" >&2; exit 2 ;;
  esac
done
if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  : "${HANGOUT_SERVER:?the hangout-server of a build tree (ninja -C build bench-server sets it)}"
  command -v node >/dev/null 2>&1 || { echo "node not found: scripts/install-deps.sh installs it" >&2; exit 1; }
  # npm needs the network, so before the private namespace.
  if [ ! -f "$here/server-load/node_modules/peer/package.json" ] \
      || [ "$here/server-load/package-lock.json" -nt "$here/server-load/node_modules/.package-lock.json" ]; then
    (cd "$here/server-load" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  HANGOUT_IN_NETNS=1 exec "$here/../tests/netns-run.sh" "$0" "$@"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -le $((members + probes + 100)) ]; then
  ulimit -n $((members + probes + 1100)) 2>/dev/null \
    || { echo "server-load: $((members + probes + 100)) open files needed, the limit is $(ulimit -n)" >&2; exit 1; }
fi
if [ -z "${SOUP_FLOOR:-}" ]; then
  servers=$(echo "$servers" | sed 's/libsoup//')
fi
exec node "$here/server-load/load.mjs" --hangout-server "$HANGOUT_SERVER" \
  --soup-floor "${SOUP_FLOOR:-}" \
  --members "$members" --probes "$probes" --signals "$signals" --runs "$runs" \
  --servers "$servers"
