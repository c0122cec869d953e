#!/bin/sh
# linkem itself: what the other lab tests and bench/lossy.sh rely on. UDP
# datagrams from m1 to m2 carry their send time (CLOCK_MONOTONIC, which both
# namespaces share), and the receiver reports how many arrived and when:
#   delay:  delay=30 → no datagram in under 30 ms, the median under 40 ms
#   loss:   loss=10 → 900 ± 50 of 1000 arrive (binomial: σ ≈ 9.5),
#           and the same seed loses the same datagrams in a second run
#   rate:   rate=8000 (1 MB/s) with a large queue → 300 × 1000 bytes sent at
#           once take 0.3 s ± 20% to arrive, none lost; with a 16 KiB queue,
#           the queue's worth arrives and the rest is dropped (drop-tail)
set -eu
. "$(dirname "$0")/lab.sh"
lab_require python3

# udp_run SPEC COUNT SIZE: sends COUNT datagrams of SIZE bytes at once (with
# a 1 ms pause every 10: the sender's socket buffer must not be the
# bottleneck) and writes "RECEIVED MIN_MS MEDIAN_MS SPREAD_S" to
# $LAB_DIR/result, linkem's a->b counters to $LAB_DIR/counters.
udp_run() {
  lab_link "$1"
  lab_bg m2 udp-receiver python3 -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("198.18.1.2", 9000))
print("bound", flush=True)
# Half a second of silence: everything that was coming has come.
s.settimeout(0.5)
delays, arrivals = [], []
try:
    while True:
        data = s.recv(65536)
        now = time.monotonic()
        delays.append(now - struct.unpack("d", data[:8])[0])
        arrivals.append(now)
except socket.timeout:
    pass
delays.sort()
print("%d %.1f %.1f %.3f" % (len(delays), delays[0] * 1000 if delays else 0,
      delays[len(delays) // 2] * 1000 if delays else 0,
      (arrivals[-1] - arrivals[0]) if arrivals else 0))
'
  receiver=$LAB_PID
  lab_wait_for 10 "the UDP receiver" grep -q '^bound' "$LAB_DIR/udp-receiver.log"
  lab_in m1 python3 -c '
import socket, struct, sys, time
count, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    s.sendto(struct.pack("d", time.monotonic()).ljust(size, b"x"), ("198.18.1.2", 9000))
    if i % 10 == 9:
        time.sleep(0.001)
' "$2" "$3"
  wait "$receiver"
  tail -n 1 "$LAB_DIR/udp-receiver.log" >"$LAB_DIR/result"
  lab_linkem_counters 2>&1 | grep '^a->b' >"$LAB_DIR/counters"
  lab_teardown
}

in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

udp_run "delay=30" 200 100
set -- $(cat "$LAB_DIR/result")
lab_log "delay=30: $1 of 200, min $2 ms, median $3 ms"
[ "$1" = 200 ] || lab_fail "delay=30: $1 of 200 datagrams arrived"
in_range "$2" 30 1000 || lab_fail "delay=30: a datagram took $2 ms"
in_range "$3" 30 40 || lab_fail "delay=30: median $3 ms"

udp_run "loss=10" 1000 100
set -- $(cat "$LAB_DIR/result")
first=$(cat "$LAB_DIR/counters")
lab_log "loss=10: $1 of 1000; $first"
in_range "$1" 850 950 || lab_fail "loss=10: $1 of 1000 arrived"
udp_run "loss=10" 1000 100
second=$(cat "$LAB_DIR/counters")
[ "$first" = "$second" ] || lab_fail "loss=10, same seed, different losses: $first / $second"

udp_run "rate=8000,queue=1024" 300 1000
set -- $(cat "$LAB_DIR/result")
lab_log "rate=8000: $1 of 300 in $4 s"
[ "$1" = 300 ] || lab_fail "rate=8000, large queue: $1 of 300 arrived"
in_range "$4" 0.24 0.36 || lab_fail "rate=8000: 300 KB took $4 s"

udp_run "rate=8000,queue=16" 300 1000
set -- $(cat "$LAB_DIR/result")
lab_log "rate=8000, 16 KiB queue: $1 of 300"
# 16 KiB holds 16 datagrams of ~1 KB; the link drains a few more meanwhile.
in_range "$1" 16 120 || lab_fail "rate=8000, 16 KiB queue: $1 of 300 arrived"
