#!/bin/sh
# Receives the next file shared in ROOM into OUT: one gst-launch-1.0
# pipeline. It ends with an error, and OUT must not be trusted, if the
# sender leaves mid-file or the SHA-256 differs.
#
#   examples/receive-file.sh OUT ROOM [SERVER]
#
# To keep every file under its own name, use examples/hangout-receive.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT ROOM [SERVER]" >&2; exit 2; }
exec gst-launch-1.0 hangoutsrc room="$2" \
    server="${3:-ws://127.0.0.1:8080/ws}" ! filesink location="$1"
