#!/bin/sh
# Swarm benchmark: one sharer and N receivers, each in its own network
# namespace, all on one bridge (the hub namespace, which also runs
# hangout-server), every member's upload shaped by a tbf qdisc on its veth
# (this kernel has no netem), its queue deep enough by default that no
# datagram overflows it (-q: with 50 ms, SCTP's retransmissions and the
# loss repair's parity take a quarter of the sharer's upload, and the
# benchmark would measure loss recovery, not distribution); downloads are
# not shaped. The same file goes
# to all receivers
#   gst   from `filesrc ! hangoutsink` to N `hangoutsrc ! filesink`
#         (gst-launch-1.0, the build tree's plugin), from the sink's
#         hangout-send start (all N joined, the offer sent) to the last
#         hangout-file-complete (a copy pushed out, its SHA-256 checked);
#   swarm the same with hangoutsink distribution=swarm (transfer version 2:
#         the sink hands each piece to one receiver, which forwards it);
#   bt    from one libtorrent seed to N leechers (bench/swarm/torrent.py:
#         TCP, 256 KiB pieces, DHT/LSD/UPnP/NAT-PMP off, peers given), from
#         the moment all start at once to the last leecher holding every
#         piece, verified against the torrent's hashes.
# Every copy's SHA-256 is then checked against the original's; a run with a
# missing or different copy counts as failed. Each time is reported as a
# multiple of the Kumar-Ross bound for the topology,
#   T_min = max(F/u_s, F/d_min, N*F/(u_s + sum u_i))
# (F/d_min is 0 here: downloads run as fast as the bridge). The stacks
# alternate within each repetition; medians per row at the end. Each run
# also reports the sharer's upload in copies of F (its tbf's byte counter),
# the fastest one-second rate that tbf let out (the shaping holds when it is
# not above u_s), how much of each member's upload rate was used during the
# transfer, how busy the machine's cores were meanwhile, the CPU seconds of
# the members (all, and the busiest one) and the load average before and
# after.
#
# Usage: swarm.sh [-n "N..."] [-s MIB] [-u MBIT] [-U "RATES..."] [-r RUNS]
#                 [-q MS] [-o "gst swarm bt"] [-T SECONDS]
#   -n  receiver counts (3 7)      -s  file size (64 MiB)
#   -u  the sharer's upload, Mbit/s (100)
#   -U  receivers' uploads: MBIT each, or LO-HI spread evenly (100 20-100)
#   -q  the queue of every upload, in ms at its rate (500)
#   -r  repetitions (3)            -o  stacks (gst swarm bt)
#   -T  limit of one run (300 s)
# Environment: HANGOUT_SERVER, GST_PLUGIN_PATH (ninja -C build bench-swarm
# sets them). As root; python3-libtorrent from scripts/install-deps.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's interpreter, the one python3-libtorrent is installed for.
python=/usr/bin/python3

counts="3 7" mib=64 sharer_mbit=100 receiver_rates="100 20-100" runs=3
stacks="gst swarm bt" limit=300 queue_ms=500
while getopts n:s:u:U:q:r:o:T: opt; do
  case $opt in
    n) counts=$OPTARG ;; s) mib=$OPTARG ;; u) sharer_mbit=$OPTARG ;;
    U) receiver_rates=$OPTARG ;; q) queue_ms=$OPTARG ;; r) runs=$OPTARG ;; o) stacks=$OPTARG ;;
    T) limit=$OPTARG ;;
    *) sed -n '/^# Usage/,/^# Env/p' "$0" >&2; exit 2 ;;
  esac
done

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  case " $stacks " in
    *" bt "*) "$python" -c 'import libtorrent' 2>/dev/null || {
      echo "python3-libtorrent not found: scripts/install-deps.sh installs it" >&2; exit 1; } ;;
  esac
  HANGOUT_IN_NETNS=1 exec "$here/../tests/netns-run.sh" "$0" "$@"
fi

: "${HANGOUT_SERVER:?the hangout-server of a build tree (ninja -C build bench-swarm sets it)}"
LAB_ID="swarmbench-$$"
. "$here/../tests/lab/lab.sh"
lab_require tc "$python"
# Every member's output stamped with the time, its CPU seconds at its end.
stamped="$python $here/swarm/stamp.py"
LAB_GST_WRAPPER=$stamped

file="$LAB_DIR/sent"
lab_random_file "$file" "${mib}M"
bytes=$(stat -c %s "$file")
want=$(sha256sum <"$file" | cut -d' ' -f1)
"$python" "$here/swarm/torrent.py" make "$file" "$LAB_DIR/sent.torrent"

# rates N SPEC: the receivers' uploads in Mbit/s, one a line: SPEC each,
# or LO-HI spread evenly from the first receiver to the last.
rates() {
  awk -v n="$1" -v spec="$2" 'BEGIN {
    if (split(spec, r, "-") == 1) r[2] = r[1]
    for (i = 0; i < n; i++) printf "%g\n", n == 1 ? r[2] : r[1] + (r[2] - r[1]) * i / (n - 1) }'
}

# stamp LOG PATTERN: the time of the first line of LOG matching PATTERN.
stamp() {
  grep -m 1 -e "$2" "$LAB_DIR/$1.log" | cut -d' ' -f1 | grep . \
    || { echo "$1: no line matches '$2'" >&2; return 1; }
}

# last_stamp N PATTERN: the latest of the receivers' stamps.
last_stamp() {
  times=$(for i in $(seq "$1"); do stamp "r$i" "$2" || exit 1; done) || return 1
  echo "$times" | sort -n | tail -n 1
}

# watch_uploads N: once a second, the tbf byte counters of the sharer and
# the N receivers into uploads (a line: the time, then s r1 ... rN), and the
# machine's CPU counters (/proc/stat's first line) into cpu.stat, until the
# file stop-watch exists or the sharer's namespace is gone (the script
# ended), bounded by the run's limit.
watch_uploads() {
  : >"$LAB_DIR/uploads"
  : >"$LAB_DIR/cpu.stat"
  (
    end=$(( $(date +%s) + limit ))
    while [ ! -e "$LAB_DIR/stop-watch" ] && [ "$(date +%s)" -lt "$end" ] \
        && counters=$(for name in s $(seq -f 'r%g' "$1"); do lab_tbf_sent "$name" \
          || exit 1; done 2>/dev/null) && [ -n "$counters" ]; do
      now=$(date +%s.%N)
      echo "$now" $counters >>"$LAB_DIR/uploads"
      echo "$now $(head -n 1 /proc/stat)" >>"$LAB_DIR/cpu.stat"
      sleep 1
    done
  ) &
  watcher=$!
}

# verify N PATH-PATTERN: every copy (the receiver's number for %d) is the
# original, byte for byte.
verify() {
  for i in $(seq "$1"); do
    copy=$(printf "$2" "$i")
    [ -f "$copy" ] || { echo "receiver $i: no copy" >&2; return 1; }
    [ "$(sha256sum <"$copy" | cut -d' ' -f1)" = "$want" ] \
      || { echo "receiver $i: copy differs ($(stat -c %s "$copy") bytes)" >&2; return 1; }
  done
}

# run_gst N [PROPERTY=VALUE...]: start and end times on stdout, or why it
# failed on stderr; the properties are the sink's.
run_gst() {
  n=$1
  shift
  lab_server
  receivers=""
  for i in $(seq "$n"); do
    lab_receiver "r$i" "r$i" "$LAB_DIR/copy-$i" "$limit"
    receivers="$receivers $LAB_PID"
  done
  lab_sender s s "$file" "$limit" min-peers="$n" "$@"
  sender=$LAB_PID
  for pid in $receivers; do
    wait "$pid" || { echo "a receiver exited with status $?" >&2; return 1; }
  done
  wait "$sender" || { echo "the sharer exited with status $?" >&2; return 1; }
  verify "$n" "$LAB_DIR/copy-%d"
  echo "$(stamp s 'start, code=(string)hangout-send') $(last_stamp "$n" 'hangout-file-complete')"
}

run_swarm() {
  run_gst "$1" distribution=swarm
}

# peers_of I N: the addresses leecher I is told: the seed's and the other
# leechers'.
peers_of() {
  echo 198.18.0.10
  for j in $(seq "$2"); do
    [ "$j" = "$1" ] || echo "198.18.0.$((10 + j))"
  done
}

run_bt() {
  mkdir "$LAB_DIR/bt-s"
  ln "$file" "$LAB_DIR/bt-s/sent"
  lab_bg s s $stamped timeout -k 5 "$limit" "$python" "$here/swarm/torrent.py" \
    seed "$LAB_DIR/sent.torrent" "$LAB_DIR/bt-s" 198.18.0.10 "$LAB_DIR/go"
  for i in $(seq "$1"); do
    mkdir "$LAB_DIR/bt-$i"
    lab_bg "r$i" "r$i" $stamped timeout -k 5 "$limit" "$python" "$here/swarm/torrent.py" \
      leech "$LAB_DIR/sent.torrent" "$LAB_DIR/bt-$i" "198.18.0.$((10 + i))" "$LAB_DIR/go" \
      $(peers_of "$i" "$1")
  done
  for name in s $(seq -f 'r%g' "$1"); do
    lab_wait_for 30 "libtorrent member $name" grep -q ' ready$' "$LAB_DIR/$name.log"
  done
  start=$(date +%s.%N)
  touch "$LAB_DIR/go"
  deadline=$(( $(date +%s) + limit ))
  for i in $(seq "$1"); do
    until grep -q ' complete$' "$LAB_DIR/r$i.log"; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "leecher $i: not complete within $limit s" >&2; return 1; }
      sleep 0.05
    done
  done
  verify "$1" "$LAB_DIR/bt-%d/sent"
  echo "$start $(last_stamp "$1" ' complete$')"
}

# busy START END: how busy the machine's cores were between the first and
# the last sample of cpu.stat within START..END (all processes, the
# emulated network's softirqs included, but not niced work, which yields to
# the benchmark), as a percentage.
busy() {
  awk -v s="$1" -v e="$2" '$1 >= s && $1 <= e {
      idle = $4 + $6 + $7; total = 0; for (i = 3; i <= 10; i++) total += $i
      if (!seen) { i0 = idle; t0 = total; seen = 1 } i1 = idle; t1 = total }
    END { if (t1 > t0) printf "%.0f%%", 100 * (1 - (i1 - i0) / (t1 - t0)); else print "?" }' \
    "$LAB_DIR/cpu.stat"
}

# used START END MBIT...: how much of its rate (MBIT, the sharer's first)
# each member's upload carried between the first and the last sample of
# uploads within START..END, as percentages (tbf counts whole packets).
used() {
  awk -v s="$1" -v e="$2" -v rates="$(shift 2; echo "$@")" '
    BEGIN { n = split(rates, r, " ") }
    $1 >= s && $1 <= e { if (!seen) { t0 = $1; for (i = 1; i <= n; i++) b0[i] = $(i + 1); seen = 1 }
      t1 = $1; for (i = 1; i <= n; i++) b1[i] = $(i + 1) }
    END { if (t1 <= t0) { print "?"; exit }
      for (i = 1; i <= n; i++)
        printf "%s%s %.0f%%", (i > 1 ? ", " : ""), (i == 1 ? "s" : "r" (i - 1)),
          100 * (b1[i] - b0[i]) * 8 / ((t1 - t0) * r[i] * 1e6) }' "$LAB_DIR/uploads"
}

median() {
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

load() { cut -d' ' -f1 /proc/loadavg; }

echo "swarm benchmark: $mib MiB, sharer $sharer_mbit Mbit/s, queues of $queue_ms ms, $runs run(s) per stack and row, limit $limit s"
summary="$LAB_DIR/summary"
: >"$summary"
for n in $counts; do
  for spec in $receiver_rates; do
    rates=$(rates "$n" "$spec")
    # T_min in seconds: F in bits over Mbit/s.
    tmin=$(echo "$rates" | awk -v f="$bytes" -v n="$n" -v us="$sharer_mbit" '
      { sum += $1 } END { a = f * 8 / (us * 1e6); b = n * f * 8 / ((us + sum) * 1e6)
        printf "%.3f\n", (a > b ? a : b) }')
    echo "1 + $n, receivers' uploads $(echo $rates) Mbit/s: T_min $tmin s"
    for stack in $stacks; do
      : >"$LAB_DIR/$stack.x"; : >"$LAB_DIR/$stack.s"; : >"$LAB_DIR/$stack.copies"
      eval "failed_$stack=0"
    done
    run=1
    while [ "$run" -le "$runs" ]; do
      for stack in $stacks; do
        rm -rf "$LAB_DIR"/copy-* "$LAB_DIR"/bt-* "$LAB_DIR/go" "$LAB_DIR/stop-watch"
        load_before=$(load)
        lab_star "$n" "$sharer_mbit" "$rates" "$queue_ms"
        watch_uploads "$n"
        # Not in a subshell: lab_teardown must know what the run started.
        if "run_$stack" "$n" >"$LAB_DIR/times" 2>"$LAB_DIR/why"; then ok=1; else ok=0; fi
        touch "$LAB_DIR/stop-watch"
        wait "$watcher"
        sharer_bytes=$(lab_tbf_sent s)
        sharer_dropped=$(lab_tbf_dropped s)
        uploads=$(for name in $(seq -f 'r%g' "$n"); do lab_tbf_sent "$name"; done \
          | awk -v f="$bytes" '{ s += $1 } END { printf "%.2f", s / f }')
        lab_teardown
        load_after=$(load)
        # CPU seconds, now that every member has ended and said it.
        cpu=$(cat "$LAB_DIR"/s.log "$LAB_DIR"/r*.log | awk '$2 == "cpu-seconds" {
          s += $3; if ($3 > m) m = $3 } END { printf "%.1f (busiest %.1f)", s, m }')
        peak=$(awk -v us="$sharer_mbit" 'NR > 1 && $1 > t + 0.5 {
            r = ($2 - b) * 8 / ($1 - t) / 1e6; if (r > m) m = r }
          { t = $1; b = $2 } END { printf "%.1f", m }' "$LAB_DIR/uploads")
        copies=$(awk -v s="$sharer_bytes" -v f="$bytes" 'BEGIN { printf "%.2f", s / f }')
        if [ "$ok" = 1 ]; then
          read -r start end <"$LAB_DIR/times"
          x=$(awk -v s="$start" -v e="$end" -v t="$tmin" 'BEGIN { printf "%.2f", (e - s) / t }')
          echo "$x" >>"$LAB_DIR/$stack.x"
          awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }' >>"$LAB_DIR/$stack.s"
          echo "$copies" >>"$LAB_DIR/$stack.copies"
          result=$(awk -v s="$start" -v e="$end" -v x="$x" 'BEGIN { printf "%.2f s = %s x T_min", e - s, x }')
          result="$result, machine $(busy "$start" "$end") busy, uploads used $(used "$start" "$end" "$sharer_mbit" $rates)"
        else
          eval "failed_$stack=\$((failed_$stack + 1))"
          result="FAILED: $(head -n 3 "$LAB_DIR/why" | tr '\n' ' ')"
        fi
        echo "  run $run $stack: $result; sharer sent $copies copies (peak $peak Mbit/s, $sharer_dropped packets dropped), receivers $uploads; CPU-s $cpu; load $load_before -> $load_after"
      done
      run=$((run + 1))
    done
    row="| 1 + $n | $spec | $tmin s"
    for stack in $stacks; do
      eval "failed=\$failed_$stack"
      row="$row | $(median <"$LAB_DIR/$stack.x") × ($(median <"$LAB_DIR/$stack.s") s; sharer $(median <"$LAB_DIR/$stack.copies") copies; $failed failed)"
    done
    echo "$row |" >>"$summary"
  done
done
echo
echo "| members | receivers' uploads, Mbit/s | T_min | $(echo $stacks | sed 's/ / | /g') |"
echo "|---|---|---|$(for s in $stacks; do printf -- '---|'; done)"
cat "$summary"
