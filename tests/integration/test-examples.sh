#!/bin/sh
# gst-hangout — the gst-launch-1.0 examples as a user runs them:
# examples/open-room.sh opens a room with no other process (run-server) and
# shares a file; two examples/receive-file.sh join it and must end with
# identical copies; the pipeline that opened the room must tell where
# browsers join.
#
# Environment: GST_PLUGIN_PATH (the plugin). Run inside tests/netns-run.sh
# (port 8080 is free there). Every wait is bounded (timeout(1)); no sleeps:
# the receivers start once the pipeline says where browsers join (its
# server listens then), since a receiver with no server to reach fails at
# once.
set -eu

examples=$(cd "$(dirname "$0")/../../examples" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

head -c $((24 * 1024 * 1024)) /dev/urandom > "$dir/in.bin"

mkfifo "$dir/open.out" "$dir/ready"
timeout 60 "$examples/open-room.sh" "$dir/in.bin" lan 8080 2 \
    > "$dir/open.out" 2>&1 &
opener=$!
# Its output, kept for the checks below; "up" on the ready FIFO once the
# room is open (the wait for it is bounded if that never comes).
while IFS= read -r line; do
  printf '%s\n' "$line" >> "$dir/open.log"
  case $line in *"browsers join at"*) echo up > "$dir/ready" ;; esac
done < "$dir/open.out" &
reader=$!
timeout 30 sh -c 'read -r state < "$1" && [ "$state" = up ]' sh "$dir/ready" || {
  echo "open-room did not open the room:"; cat "$dir/open.log"; exit 1; }
pids=
for i in 1 2; do
  timeout 60 "$examples/receive-file.sh" "$dir/out-$i.bin" lan \
      > "$dir/recv-$i.log" 2>&1 &
  pids="$pids $!"
done
wait "$opener" || { echo "open-room failed:"; cat "$dir/open.log"; exit 1; }
wait "$reader"
i=0
for pid in $pids; do
  i=$((i + 1))
  wait "$pid" || { echo "receiver $i failed:"; cat "$dir/recv-$i.log"; exit 1; }
done
for i in 1 2; do
  cmp "$dir/in.bin" "$dir/out-$i.bin" || { echo "copy $i differs"; exit 1; }
done
# On every address it names one a browser can open: in this namespace,
# which has loopback alone, 127.0.0.1.
grep -q "browsers join at http://127.0.0.1:8080/?room=lan" "$dir/open.log" || {
  echo "open-room did not say where browsers join:"; cat "$dir/open.log"; exit 1; }
echo "OK: a room opened by one pipeline; two receivers have identical copies"
