#!/bin/sh
# gst-hangout — the gst-launch-1.0 examples as a user runs them:
# examples/open-room.sh opens a room with no other process (run-server) and
# shares a file; two examples/receive-file.sh join it and must end with
# identical copies; the pipeline that opened the room must tell where
# browsers join.
#
# Environment: GST_PLUGIN_PATH (the plugin). Run inside tests/netns-run.sh
# (port 8080 is free there). Every wait is bounded (timeout(1)); no sleeps:
# the receivers retry until the room's server is up.
set -eu

examples=$(cd "$(dirname "$0")/../../examples" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

head -c $((24 * 1024 * 1024)) /dev/urandom > "$dir/in.bin"

pids=
for i in 1 2; do
  timeout 60 "$examples/receive-file.sh" "$dir/out-$i.bin" lan \
      > "$dir/recv-$i.log" 2>&1 &
  pids="$pids $!"
done
timeout 60 "$examples/open-room.sh" "$dir/in.bin" lan 8080 2 \
    > "$dir/open.log" 2>&1 || { echo "open-room failed:"; cat "$dir/open.log"; exit 1; }
i=0
for pid in $pids; do
  i=$((i + 1))
  wait "$pid" || { echo "receiver $i failed:"; cat "$dir/recv-$i.log"; exit 1; }
done
for i in 1 2; do
  cmp "$dir/in.bin" "$dir/out-$i.bin" || { echo "copy $i differs"; exit 1; }
done
grep -q "browsers join at http://0.0.0.0:8080/?room=lan" "$dir/open.log" || {
  echo "open-room did not say where browsers join:"; cat "$dir/open.log"; exit 1; }
echo "OK: a room opened by one pipeline; two receivers have identical copies"
