#!/bin/sh
# Usage: test-turn.sh symmetric|block-udp
# symmetric: both homes behind symmetric NATs (a port per flow), so the
#   mapping STUN reports is useless to the peer;
# block-udp: endpoint-independent NATs whose routers pass UDP to the public
#   server only, as firewalls that allow nothing but a TURN server do.
# Either way only a pair through coturn's relay can carry the file: the
# members get its address and static user in their turn-server property.
set -eu
. "$(dirname "$0")/lab.sh"

case "${1:-}" in
  symmetric) lab_homes symmetric ;;
  block-udp) lab_homes eim block-udp ;;
  *) echo "usage: $0 symmetric|block-udp" >&2; exit 2 ;;
esac
lab_server
lab_random_file "$LAB_DIR/sent" 4M
lab_receiver h1 receiver "$LAB_DIR/received" 60 stun-server="$LAB_STUN" turn-server="$LAB_TURN"
receiver=$LAB_PID
lab_sender h2 sender "$LAB_DIR/sent" 60 stun-server="$LAB_STUN" turn-server="$LAB_TURN"
sender=$LAB_PID
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
for member in receiver sender; do
  pair=$(lab_pair "$member")
  case "$pair" in
    *relay*) lab_log "$member: selected pair $pair" ;;
    *) lab_fail "$member selected a $pair pair, none of whose ends is relayed" ;;
  esac
done
# coturn saw the allocations, and relayed the file.
grep -q 'ALLOCATE processed, success' "$LAB_DIR/coturn.log" \
  || lab_fail "coturn logged no successful allocation"
