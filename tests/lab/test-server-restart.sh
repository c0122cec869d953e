#!/bin/sh
# hangout-server dies (SIGKILL) while a file is on its way, and comes back
# on the same address. The members' connection does not go through the
# server, so the transfer must go on and the file arrive intact.
set -eu
. "$(dirname "$0")/lab.sh"

# 16 Mbit/s: the 16 MiB file takes about 9 s, time to kill and restart.
lab_link "delay=10,rate=16000,queue=128"
lab_server
lab_random_file "$LAB_DIR/sent" 16M
lab_receiver m2 receiver "$LAB_DIR/received" 60
receiver=$LAB_PID
lab_sender m1 sender "$LAB_DIR/sent" 60
sender=$LAB_PID
received_over() {
  [ "$(stat -c %s "$LAB_DIR/received" 2>/dev/null || echo 0)" -gt "$1" ]
}
lab_wait_for 30 "the first 2 MiB" received_over 2097152
kill -KILL "$LAB_SERVER_PID"
wait "$LAB_SERVER_PID" || true
lab_log "hangout-server killed after $(stat -c %s "$LAB_DIR/received") bytes"
lab_server server-restarted
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
