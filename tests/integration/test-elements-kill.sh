#!/bin/sh
# gst-hangout — the elements when a process dies mid-transfer (SIGKILL, so
# nothing is said goodbye): hangout-server, one gst-launch-1.0 sender
# (hangoutsink min-peers=3) and three receivers (hangoutsrc).
#  a) a receiver killed: the other two complete with identical bytes; the
#     sender exits 0 with a WARNING naming the member that left;
#  b) the sender killed: every receiver exits non-zero with an error that
#     says the connection to the sender failed and why, and none reports
#     the file complete.
#
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH, optional HANGOUT_TEST_MIB
# (file size, default 128: large enough that the kill lands mid-file).
# Run inside tests/netns-run.sh. Every wait is bounded: timeout(1) on each
# process, and a deadline on the one poll (the victim's progress).
set -eu
. "$(dirname "$0")/server.sh"

MIB=${HANGOUT_TEST_MIB:-128}
LIMIT=${HANGOUT_TEST_TIMEOUT:-60}
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"
SIZE=$((MIB * 1024 * 1024))
# "Mid-transfer": the victim holds at least this much, and not all of it.
MARK=$((4 * 1024 * 1024))

. "$(dirname "$0")/processes.sh"

head -c "$SIZE" /dev/urandom > "$dir/in.bin"

start_server "$dir"

# Polls (deadline: LIMIT s) until FILE holds at least MARK bytes, then
# checks it does not hold everything: a kill now is mid-transfer.
wait_mid_transfer () {
  n=0
  while [ "$(size_of "$1")" -lt $MARK ]; do
    n=$((n + 1))
    [ $n -le $((LIMIT * 20)) ] || { echo "no progress in $1"; exit 1; }
    sleep 0.05
  done
  [ "$(size_of "$1")" -lt $SIZE ] || {
    echo "the whole file arrived before the kill: raise HANGOUT_TEST_MIB"
    exit 1; }
}

start_receivers () {
  for i in 1 2 3; do
    run "$1_recv_$i" gst-launch-1.0 -m hangoutsrc room="$1" server="$url" \
        display-name="receiver-$i" ! filesink location="$dir/$1-out-$i.bin"
  done
}

start_sender () {
  run "$1_send" gst-launch-1.0 filesrc location="$dir/in.bin" \
      ! hangoutsink room="$1" server="$url" display-name=sender min-peers=3 \
        join-timeout=30
}

# ---- a) a receiver killed mid-transfer ----
start_receivers a
start_sender a
wait_mid_transfer "$dir/a-out-2.bin"
kill -KILL "$(pid_of a_recv_2)"
echo "a) killed receiver-2 at $(size_of "$dir/a-out-2.bin") of $SIZE bytes"
fail=0
reap "$a_send_job"
[ "$s" = 0 ] || { echo "a) sender exited $s"; fail=1; }
grep -q "WARNING: .*receiver-2" "$dir/a_send.log" || {
  echo "a) the sender did not warn about receiver-2"; fail=1; }
for i in 1 3; do
  eval job=\$a_recv_${i}_job
  reap "$job"
  [ "$s" = 0 ] || { echo "a) receiver-$i exited $s"; fail=1; }
  grep -q "hangout-file-complete" "$dir/a_recv_$i.log" || {
    echo "a) receiver-$i did not report the file complete"; fail=1; }
  cmp "$dir/in.bin" "$dir/a-out-$i.bin" || {
    echo "a) receiver-$i's copy differs"; fail=1; }
done
reap "$a_recv_2_job"
[ "$s" != 0 ] || { echo "a) the killed receiver exited 0"; fail=1; }
if [ $fail != 0 ]; then
  for f in a_send a_recv_1 a_recv_3; do
    echo "---- $f"; tail -n 5 "$dir/$f.log"; cat "$dir/$f.err"; done
  exit 1
fi
grep "WARNING" "$dir/a_send.log"
rm -f "$dir"/a-out-*.bin
echo "a) OK: the other receivers have identical copies, the sender warned"

# ---- b) the sender killed mid-transfer ----
start_receivers b
start_sender b
wait_mid_transfer "$dir/b-out-1.bin"
kill -KILL "$(pid_of b_send)"
echo "b) killed the sender at $(size_of "$dir/b-out-1.bin") of $SIZE bytes"
reap "$b_send_job"
for i in 1 2 3; do
  eval job=\$b_recv_${i}_job
  reap "$job"
  # 124: timeout(1) ended it; the receiver did not notice by itself.
  [ "$s" != 0 ] && [ "$s" != 124 ] || {
    echo "b) receiver-$i exited $s"; fail=1; }
  # Named as the user knows it, by its display name, though it has left.
  grep -q "ERROR: .*Receiving 'in.bin' from sender failed: the connection to the sender failed before the end of the file (it left the signalling server and did not answer a ping" \
      "$dir/b_recv_$i.err" || {
    echo "b) receiver-$i did not say the sender failed it"; fail=1; }
  ! grep -q "hangout-file-complete" "$dir/b_recv_$i.log" || {
    echo "b) receiver-$i reported the file complete"; fail=1; }
done
if [ $fail != 0 ]; then
  for i in 1 2 3; do echo "---- b_recv_$i"; tail -n 5 "$dir/b_recv_$i.log"
    cat "$dir/b_recv_$i.err"; done
  exit 1
fi
grep -h "ERROR" "$dir"/b_recv_*.err
echo "b) OK: every receiver failed with an error, none reported completion"
