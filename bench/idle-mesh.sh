#!/bin/sh
# What an idle mesh costs: M gst-launch-1.0 members (`hangoutsrc ! fakesink`)
# join one room on hangout-server and wait for files that never come. Once
# every member is connected to every other (each has posted M - 1
# hangout-member-joined), the CPU seconds of all M processes are read from
# /proc over a window, and reported per link (M (M - 1) / 2 of them) and
# second: the cost of keeping a connection alive (consent heartbeats, SCTP's
# timers, the main loops), which grows a room's cost with its square.
#
# Usage: idle-mesh.sh [-m "M..."] [-w SECONDS] [-T SECONDS]
#   -m  room sizes (8 16 32)   -w  measuring window (30 s)
#   -T  limit for the mesh to form (60 s)
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH, GST_REGISTRY (ninja -C build
# bench-idle sets them). Runs itself in a private network namespace with
# only loopback up.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sizes="8 16 32" window=30 limit=60
while getopts m:w:T: opt; do
  case $opt in
    m) sizes=$OPTARG ;; w) window=$OPTARG ;; T) limit=$OPTARG ;;
    *) sed -n '/^# Usage/,/^# Env/p' "$0" >&2; exit 2 ;;
  esac
done
if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  HANGOUT_IN_NETNS=1 exec "$here/../tests/netns-run.sh" "$0" "$@"
fi
: "${HANGOUT_SERVER:?the hangout-server of a build tree (ninja -C build bench-idle sets it)}"

dir=$(mktemp -d "${TMPDIR:-/tmp}/idle-mesh.XXXXXX")
server=""
members=""
cleanup() {
  # Only what this script started, by PID.
  for pid in $members $server; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$HANGOUT_SERVER" --host 127.0.0.1 --port 0 --max-members 64 >"$dir/server.out" 2>"$dir/server.log" &
server=$!
deadline=$(( $(date +%s) + 10 ))
until url=$(head -n 1 "$dir/server.out" 2>/dev/null) && [ -n "$url" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "hangout-server did not start" >&2; exit 1; }
  sleep 0.1
done

# cpu_ticks: the user and system clock ticks of the members, summed.
cpu_ticks() {
  for pid in $members; do cut -d' ' -f14,15 "/proc/$pid/stat"; done \
    | awk '{ s += $1 + $2 } END { print s }'
}

hz=$(getconf CLK_TCK)
echo "idle mesh: hangoutsrc members on loopback, $window s window"
echo "| members | links | CPU-s in the window | ms per link and second |"
echo "|---|---|---|---|"
for m in $sizes; do
  members=""
  for i in $(seq "$m"); do
    gst-launch-1.0 -m hangoutsrc room="idle$m" server="$url" display-name="m$i" \
      ! fakesink >"$dir/m$i.log" 2>&1 &
    members="$members $!"
  done
  deadline=$(( $(date +%s) + limit ))
  for i in $(seq "$m"); do
    until [ "$(grep -c 'hangout-member-joined' "$dir/m$i.log")" -ge $((m - 1)) ]; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "M = $m: member $i not connected to all within $limit s" >&2; exit 1; }
      sleep 0.2
    done
  done
  # Let the joins' own traffic and timers settle (SCTP's clock stays quick
  # 3 s after the last data).
  sleep 5
  before=$(cpu_ticks) start=$(date +%s.%N)
  sleep "$window"
  after=$(cpu_ticks) end=$(date +%s.%N)
  awk -v m="$m" -v a="$before" -v b="$after" -v s="$start" -v e="$end" -v hz="$hz" 'BEGIN {
    links = m * (m - 1) / 2; cpu = (b - a) / hz
    printf "| %d | %d | %.2f | %.3f |\n", m, links, cpu, cpu * 1000 / (e - s) / links }'
  for pid in $members; do kill "$pid" 2>/dev/null || true; done
  for pid in $members; do wait "$pid" 2>/dev/null || true; done
  members=""
done
