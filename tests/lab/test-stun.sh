#!/bin/sh
# Two homes behind endpoint-independent NATs: the members learn their public
# mappings from STUN (coturn) and connect on a server-reflexive pair, the
# only kind that can work here (neither home routes to the other, and no
# TURN server is given).
set -eu
. "$(dirname "$0")/lab.sh"

lab_homes eim
lab_server
lab_random_file "$LAB_DIR/sent" 4M
lab_receiver h1 receiver "$LAB_DIR/received" 40 stun-server="$LAB_STUN"
receiver=$LAB_PID
lab_sender h2 sender "$LAB_DIR/sent" 40 stun-server="$LAB_STUN"
sender=$LAB_PID
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
for member in receiver sender; do
  pair=$(lab_pair "$member")
  [ "$pair" = "srflx srflx" ] || lab_fail "$member selected a $pair pair, not server-reflexive at both ends"
  lab_log "$member: selected pair $pair"
done
