#!/bin/sh
# Two members joined by one clean link through linkem: the lab's baseline.
set -eu
. "$(dirname "$0")/lab.sh"

lab_link "delay=10"
lab_server
lab_random_file "$LAB_DIR/sent" 2M
lab_receiver m2 receiver "$LAB_DIR/received" 40
receiver=$LAB_PID
lab_sender m1 sender "$LAB_DIR/sent" 40
sender=$LAB_PID
lab_expect_exit "$receiver" receiver
lab_expect_exit "$sender" sender
lab_linkem_counters
lab_same_file "$LAB_DIR/sent" "$LAB_DIR/received"
