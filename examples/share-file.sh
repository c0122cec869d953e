#!/bin/sh
# Shares FILE with every member of ROOM: one gst-launch-1.0 pipeline.
#
#   examples/share-file.sh FILE ROOM [SERVER] [MIN_PEERS]
#
# SERVER is the signalling server's URL (default ws://127.0.0.1:8080/ws,
# hangout-server's default); the file goes to the members connected once
# MIN_PEERS (default 1) are there. A 1 MiB filesrc block size saves
# renders and reads (docs/performance.md).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 FILE ROOM [SERVER] [MIN_PEERS]" >&2; exit 2; }
exec gst-launch-1.0 filesrc location="$1" blocksize=1048576 \
  ! hangoutsink room="$2" server="${3:-ws://127.0.0.1:8080/ws}" \
    min-peers="${4:-1}"
