#!/bin/sh
# Usage: test-lossy.sh random|bursts
# A file over a bad link, 100 ms round trip (50 ms each way) through linkem:
# random: 5% of the packets lost each way, independently;
# bursts: 20% lost each way, in bursts of 10 packets on average
#   (Gilbert–Elliott: the bad state, where every packet is lost, is entered
#   with 2.5% per packet and left with 10%, so it holds 20% of the time).
#   A burst counts packets, not time: when SCTP backs off to one
#   retransmission per timeout, one burst lasts many seconds, so the file
#   is small (measured: ~10 KB/s).
# SCTP retransmits what is lost, and the connectivity checks that keep the
# ICE pair alive (consent freshness) must survive the same losses: the file
# arrives intact or the test fails.
set -eu
. "$(dirname "$0")/lab.sh"
export GST_DEBUG="$GST_DEBUG,hangout-fec:4"

# In bursts SCTP's timer backs off to 10 s and a few retransmissions in a
# row can be lost: 30 s without an acknowledged byte happen (seen on a
# busy machine), which the sender's default ack-timeout takes for a
# receiver that stopped reading. The test is about the link, not that
# policy: the sender waits longer.
case "${1:-}" in
  random) lab_link "delay=50,loss=5"; size=2M; patience= ;;
  bursts) lab_link "delay=50,burst-enter=2.5,burst-length=10"; size=512K
    patience=ack-timeout=80 ;;
  *) echo "usage: $0 random|bursts" >&2; exit 2 ;;
esac
lab_server
lab_random_file "$LAB_DIR/sent" "$size"
lab_receiver m2 receiver "$LAB_DIR/received" 100
receiver=$LAB_PID
lab_sender m1 sender "$LAB_DIR/sent" 100 $patience
sender=$LAB_PID
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_linkem_counters
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
# Random loss is what parity repairs (docs/architecture.md, "Loss"): the
# receiver must have rebuilt records, not only SCTP have resent them.
if [ "$1" = random ]; then
  grep 'hangout-fec.*of them repaired' "$LAB_DIR/receiver.log" >&2 || true
  grep -q 'lost, [1-9][0-9]* of them repaired' "$LAB_DIR/receiver.log" \
    || lab_fail "the receiver repaired no lost record from parity"
fi
