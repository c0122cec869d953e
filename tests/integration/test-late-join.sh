#!/bin/sh
# gst-hangout — members that join late (docs/protocol.md §4.8), with real
# gst-launch-1.0 processes: a sender (filesrc ! hangoutsink
# distribution=swarm linger=…, so the sink reads its file in pull mode and
# can read it again) and two receivers (hangoutsrc); a third receiver
# starts while the file is being shared, a fourth once the first two have
# the whole file. Every copy must be byte-identical, every receiver must
# report the file complete, and the sender must exit 0 with all four in
# its summary's complete, having sent the late ones what they lacked
# (swarm-caught-up). Loopback is held to 200 Mbit/s (tc tbf) so that the
# file takes seconds and "while it is shared" is real.
#
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH. Run inside
# tests/netns-run.sh (its own loopback, root in it for tc). Every wait is
# bounded: timeout(1) on each process, a deadline on each poll.
set -eu
. "$(dirname "$0")/server.sh"

MIB=32
LIMIT=${HANGOUT_TEST_TIMEOUT:-60}
LINGER=6
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"
SIZE=$((MIB * 1024 * 1024))
PIECES=$((SIZE / 65536))

command -v tc > /dev/null || { echo "SKIP: no tc"; exit 77; }
tc qdisc add dev lo root tbf rate 200mbit burst 64kb latency 50ms \
  || { echo "SKIP: cannot shape loopback"; exit 77; }

. "$(dirname "$0")/processes.sh"

head -c "$SIZE" /dev/urandom > "$dir/in.bin"
start_server "$dir"

receive () {
  run "recv_$1" gst-launch-1.0 -m hangoutsrc room=late server="$url" \
      display-name="receiver-$1" ! filesink location="$dir/out-$1.bin"
}

receive 1
receive 2
run send gst-launch-1.0 -m filesrc location="$dir/in.bin" \
    ! hangoutsink room=late server="$url" display-name=sender min-peers=2 \
      distribution=swarm linger=$LINGER join-timeout=30

# The third once a quarter of the file reached receiver-1, not all of it.
n=0
while [ "$(size_of "$dir/out-1.bin")" -lt $((SIZE / 4)) ]; do
  n=$((n + 1)); [ $n -le $((LIMIT * 20)) ] || { echo "no progress"; exit 1; }
  sleep 0.05
done
at=$(size_of "$dir/out-1.bin")
[ "$at" -lt "$SIZE" ] || {
  echo "the whole file arrived before the third receiver started"; exit 1; }
receive 3
echo "receiver-3 started with receiver-1 at $at of $SIZE bytes"

fail=0
for i in 1 2; do
  eval job=\$recv_${i}_job
  reap "$job"
  [ "$s" = 0 ] || { echo "receiver-$i exited $s"; fail=1; }
done
# The sender lingers: the fourth joins after the end.
receive 4
echo "receiver-4 started after the first two had the file"
for i in 3 4; do
  eval job=\$recv_${i}_job
  reap "$job"
  [ "$s" = 0 ] || { echo "receiver-$i exited $s"; fail=1; }
done
reap "$send_job"
[ "$s" = 0 ] || { echo "the sender exited $s"; fail=1; }
for i in 1 2 3 4; do
  grep -q "hangout-file-complete" "$dir/recv_$i.log" || {
    echo "receiver-$i did not report the file complete"; fail=1; }
  cmp "$dir/in.bin" "$dir/out-$i.bin" || {
    echo "receiver-$i's copy differs"; fail=1; }
done
summary=$(grep -o 'hangout-summary.*' "$dir/send.log" || true)
complete=$(echo "$summary" | sed -n 's/.*complete=(string)<\([^>]*\)>.*/\1/p' \
  | tr ',' '\n' | grep -c '[0-9a-f]' || true)
caught=$(echo "$summary" | sed -n 's/.*swarm-caught-up=(guint64)\([0-9]*\).*/\1/p')
[ "$complete" = 4 ] || { echo "the summary has $complete complete: $summary"
  fail=1; }
# Receiver-4 lacked every piece; receiver-3 at least those before it.
[ -n "$caught" ] && [ "$caught" -gt "$PIECES" ] || {
  echo "the sender sent late members ${caught:-no} pieces, fewer than" \
    "$PIECES + those receiver-3 lacked"; fail=1; }
if [ $fail != 0 ]; then
  for f in send recv_1 recv_2 recv_3 recv_4; do
    echo "---- $f"; tail -n 5 "$dir/$f.log"; cat "$dir/$f.err"; done
  exit 1
fi
echo "OK: four identical copies, two of them to members that joined late" \
  "(the sender sent them $caught pieces of $PIECES)"
