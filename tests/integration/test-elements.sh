#!/bin/sh
# gst-hangout — the elements end to end with real processes: hangout-server,
# one gst-launch-1.0 sender (hangoutsink min-peers=3) and three receivers
# (hangoutsrc), a random file; every copy must be byte-identical.
#
# Environment: HANGOUT_SERVER (server binary), GST_PLUGIN_PATH (the plugin),
# optional HANGOUT_TEST_MIB (file size, default 200). Run inside
# tests/netns-run.sh. Every wait is bounded (timeout(1)); no sleeps: the
# receivers need not be up first, the sender waits for them (min-peers).
set -eu
. "$(dirname "$0")/server.sh"

MIB=${HANGOUT_TEST_MIB:-200}
LIMIT=${HANGOUT_TEST_TIMEOUT:-100}
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"

dir=$(mktemp -d)
server_pid=
cleanup () {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

head -c "$((MIB * 1024 * 1024))" /dev/urandom > "$dir/in.bin"

start_server "$dir"

start=$(date +%s.%N)
pids=
for i in 1 2 3; do
  timeout "$LIMIT" gst-launch-1.0 -q hangoutsrc room=t server="$url" \
      display-name="receiver-$i" ! filesink location="$dir/out-$i.bin" \
      > "$dir/recv-$i.log" 2>&1 &
  pids="$pids $!"
done
timeout "$LIMIT" gst-launch-1.0 -q filesrc location="$dir/in.bin" \
    ! hangoutsink room=t server="$url" display-name=sender min-peers=3 \
      join-timeout=60 > "$dir/send.log" 2>&1 || {
  echo "sender failed:"; cat "$dir/send.log"; exit 1; }
sent=$(date +%s.%N)
status=0
i=0
for pid in $pids; do
  i=$((i + 1))
  if ! wait "$pid"; then
    echo "receiver $i failed:"; cat "$dir/recv-$i.log"; status=1
  fi
done
[ $status = 0 ] || exit 1
for i in 1 2 3; do
  cmp "$dir/in.bin" "$dir/out-$i.bin" || { echo "copy $i differs"; exit 1; }
done
end=$(date +%s.%N)
echo "OK: $MIB MiB to 3 receivers, identical;" \
  "sender done in $(echo "$sent - $start" | bc) s, all in $(echo "$end - $start" | bc) s"
