#!/bin/sh
# The main job: a room sharing a file. hangout-server, one gst-launch-1.0
# pipeline sharing a random file (hangoutsink) and three receiving it
# (hangoutsrc), then a check that every copy is identical.
#
# Usage (inside a private network namespace, as scripts/quickstart.sh demo
# runs it): demo-room.sh BUILD_DIR [MIB]
set -eu

build=$(cd "$1" && pwd)
mib=${2:-64}
export GST_PLUGIN_PATH="$build/gst/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

dir=$(mktemp -d)
server_pid=
cleanup () {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

echo "== a $mib MiB file of random bytes"
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$dir/shared.bin"

# The server prints its ws:// URL as its first line once it listens.
mkfifo "$dir/server.out"
"$build/gst/server/hangout-server" --port 0 > "$dir/server.out" 2> "$dir/server.log" &
server_pid=$!
exec 3< "$dir/server.out"
read -r url <&3 || { echo "hangout-server printed no URL"; exit 1; }
echo "== hangout-server at $url"

pids=
for i in 1 2 3; do
  timeout 300 gst-launch-1.0 -q hangoutsrc room=demo server="$url" \
      display-name="receiver-$i" ! filesink location="$dir/copy-$i.bin" \
      > "$dir/receiver-$i.log" 2>&1 &
  pids="$pids $!"
done
echo "== three receivers joined room 'demo'; sharing (progress below)"
start=$(date +%s.%N)
timeout 300 gst-launch-1.0 filesrc location="$dir/shared.bin" \
    ! hangoutsink room=demo server="$url" display-name=sender min-peers=3 \
    | grep --line-buffered -E "Progress|WARNING|ERROR" || true
status=0
i=0
for pid in $pids; do
  i=$((i + 1))
  wait "$pid" || { echo "receiver $i failed:"; cat "$dir/receiver-$i.log"; status=1; }
done
end=$(date +%s.%N)
[ $status = 0 ] || exit 1

echo "== SHA-256 of the original and of every copy"
sha256sum "$dir/shared.bin" "$dir"/copy-*.bin | sed "s|$dir/||"
want=$(sha256sum < "$dir/shared.bin")
for i in 1 2 3; do
  [ "$(sha256sum < "$dir/copy-$i.bin")" = "$want" ] \
    || { echo "copy $i differs from the original"; exit 1; }
done
echo "== all three copies are identical: $mib MiB to 3 members in" \
  "$(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
