#!/bin/sh
# Opens ROOM and shares FILE in it with no other process: the pipeline runs
# the signalling server and the web client itself (run-server). Browsers on
# other machines join at http://THIS-HOST:PORT/?room=ROOM (the pipeline
# prints the address); the file is sent once MIN_PEERS members are there.
#
#   examples/open-room.sh FILE [ROOM] [PORT] [MIN_PEERS]
#
# Listens on every address (0.0.0.0): anyone who can reach PORT can join.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 FILE [ROOM] [PORT] [MIN_PEERS]" >&2; exit 2; }
exec gst-launch-1.0 filesrc location="$1" blocksize=1048576 \
  ! hangoutsink room="${2:-team}" run-server=true \
    server="ws://0.0.0.0:${3:-8080}/ws" min-peers="${4:-1}" join-timeout=3600
