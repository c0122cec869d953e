#!/bin/sh
# A receiver whose downstream is slow: hangoutsrc's filesink writes into a
# pipe that is read at 50 KB/s for 65 s, then at full speed. The receiver
# holds at most 8 MiB of the file, so for most of that minute the sender
# can send nothing (SCTP's window is closed). A slow receiver is no reason
# to give up: the sender must wait, and the file must arrive intact.
set -eu
. "$(dirname "$0")/lab.sh"

lab_link "delay=5"
lab_server
lab_random_file "$LAB_DIR/sent" 12M
mkfifo "$LAB_DIR/pipe"
# 50 KiB a second (dd copies exactly one block per call), then the rest.
(
  i=0
  while [ $i -lt 65 ]; do
    dd bs=51200 count=1 iflag=fullblock status=none
    sleep 1
    i=$((i + 1))
  done
  cat
) <"$LAB_DIR/pipe" >"$LAB_DIR/received" &
reader=$!
LAB_PIDS="$LAB_PIDS $reader"
lab_receiver m2 receiver "$LAB_DIR/pipe" 150
receiver=$LAB_PID
lab_sender m1 sender "$LAB_DIR/sent" 150
sender=$LAB_PID
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_expect_exit "$reader" "the slow reader"
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
