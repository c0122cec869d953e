#!/bin/sh
# gst-hangout — a file over a slow link (1 Mbit/s, tc tbf on a veth pair):
# the whole file is queued at once, so `end` leaves the sender seconds after
# it was queued, and the receiver's ack comes later than hangoutsink's
# ack-timeout (2 s here) after that. The sender must wait while the data
# still drains, finish without a warning, and the copy must be identical.
#
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH (as test-elements.sh). Run
# inside tests/netns-run.sh: the receiver gets a network namespace of its
# own, joined to ours by the veth pair.
set -eu
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"
LIMIT=60

dir=$(mktemp -d)
server_pid= receiver_pid=
cleanup () {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

head -c $((1024 * 1024)) /dev/urandom > "$dir/in.bin"
mkfifo "$dir/ready" "$dir/url" "$dir/server.out"

# The receiver, in its namespace: says when that exists, and starts once it
# is told the server's URL.
unshare --net -- sh -c 'echo > "$1" && read -r url < "$2" &&
    GST_DEBUG=${RECEIVER_DEBUG:-} exec timeout "$3" gst-launch-1.0 -q hangoutsrc room=slow server="$url" \
      num-files=1 display-name=receiver ! filesink location="$4"' \
    sh "$dir/ready" "$dir/url" "$LIMIT" "$dir/out.bin" > "$dir/recv.log" 2>&1 &
receiver_pid=$!
read -r _ < "$dir/ready"
ip link add slow0 type veth peer name slow1 netns "$receiver_pid"
ip addr add 198.18.5.1/24 dev slow0
ip link set slow0 up
nsenter --target "$receiver_pid" --net sh -c 'ip link set lo up &&
    ip addr add 198.18.5.2/24 dev slow1 && ip link set slow1 up'
# ICE gathers on the addresses of links that are up: wait for the carrier.
for i in $(seq 100); do
  nsenter --target "$receiver_pid" --net ip -o link show slow1 \
    | grep -q "state UP" && break
  [ "$i" = 100 ] && { echo "the veth link did not come up"; exit 1; }
  sleep 0.05
done
# The sender's direction: 1 Mbit/s behind a short queue, so that SCTP's
# buffers hold what waits, as on a real slow uplink.
tc qdisc add dev slow0 root tbf rate 1mbit burst 16kb latency 100ms

"$HANGOUT_SERVER" --host 198.18.5.1 --port 0 > "$dir/server.out" &
server_pid=$!
exec 3< "$dir/server.out"
read -r url <&3 || { echo "hangout-server printed no URL"; exit 1; }
echo "$url" > "$dir/url"

start=$(date +%s.%N)
GST_DEBUG=${SENDER_DEBUG:-} timeout "$LIMIT" gst-launch-1.0 filesrc location="$dir/in.bin" \
    ! hangoutsink room=slow server="$url" display-name=sender ack-timeout=2 \
    > "$dir/send.log" 2>&1 || { echo "sender failed:"; cat "$dir/send.log";
      echo "receiver:"; cat "$dir/recv.log"; exit 1; }
end=$(date +%s.%N)
if grep -E "WARNING|ERROR" "$dir/send.log"; then
  echo "the sender did not complete cleanly:"; cat "$dir/send.log"; exit 1
fi
wait "$receiver_pid" || { echo "receiver failed:"; cat "$dir/recv.log"; exit 1; }
receiver_pid=
cmp "$dir/in.bin" "$dir/out.bin" || { echo "the copy differs"; exit 1; }
echo "OK: 1 MiB over 1 Mbit/s in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s, acknowledged"
