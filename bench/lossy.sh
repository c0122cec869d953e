#!/bin/sh
# Lossy-link benchmark: the same file over the same emulated links (linkem,
# tests/lab/lab.sh: one-way delay RTT/2 and random loss each way, the same
# seed for every run), between two gst-launch-1.0 pipelines (filesrc !
# hangoutsink, hangoutsrc ! filesink, through hangout-server) and between
# two libdatachannel peers (node-datachannel, bench/lossy/peer.mjs) on one
# reliable ordered data channel. The stacks alternate within each
# repetition. Prints MB/s (10^6 B/s) per run, from the first sign of the
# file at the receiver to its last byte (the elements' hangout-file-started
# and hangout-file-complete; the first message and the last byte for
# libdatachannel), then the medians and their ratio per link. A run whose
# copy is missing, short or different counts as failed and is reported.
#
# Usage: lossy.sh [-s MIB] [-r RUNS] [-l "LOSS%..."] [-t "RTT_MS..."] [-T SECONDS]
#                  [-o gst|ldc]
#   -s  file size (32 MiB)     -r  repetitions (1)
#   -l  loss rates (0 1 5)     -t  round-trip times (50 100)
#   -T  limit of one run (600 s)
#   -o  only one stack: gst (gst-hangout) or ldc (libdatachannel)
# Environment: as tests/lab/lab.sh (ninja -C build bench-lossy sets it).
# As root; the benchmark runs in a private network namespace of its own.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

mib=32 runs=1 losses="0 1 5" rtts="50 100" limit=600 stacks="gst ldc"
while getopts s:r:l:t:T:o: opt; do
  case $opt in
    s) mib=$OPTARG ;; r) runs=$OPTARG ;; l) losses=$OPTARG ;;
    t) rtts=$OPTARG ;; T) limit=$OPTARG ;; o) stacks=$OPTARG ;;
    *) sed -n '/^# Usage/,/^# Env/p' "$0" >&2; exit 2 ;;
  esac
done

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  command -v node >/dev/null 2>&1 || { echo "node not found: scripts/install-deps.sh installs it" >&2; exit 1; }
  # node-datachannel ships libdatachannel prebuilt in its npm package; npm
  # needs the network, so before the private namespace.
  if [ ! -f "$here/lossy/node_modules/node-datachannel/package.json" ] \
      || [ "$here/lossy/package-lock.json" -nt "$here/lossy/node_modules/.package-lock.json" ]; then
    (cd "$here/lossy" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  HANGOUT_IN_NETNS=1 exec "$here/../tests/netns-run.sh" "$0" "$@"
fi

. "$here/../tests/lab/lab.sh"

file="$LAB_DIR/sent"
lab_random_file "$file" "${mib}M"
bytes=$(stat -c %s "$file")
want=$(sha256sum <"$file" | cut -d' ' -f1)
# The receiver's INFO lines carry its clock: when the file began and ended.
export GST_DEBUG="$GST_DEBUG,hangoutsrc:4"

# gst-launch's elapsed time (H:MM:SS.NNNNNNNNN) of the first line matching $2.
gst_time() {
  grep -m 1 "$2" "$LAB_DIR/$1.log" | awk '{ split($1, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3] }'
}

# run_gst: MB/s on stdout, or the reason it failed on stderr (status 1).
run_gst() {
  rm -f "$LAB_DIR/received"
  lab_server
  lab_receiver m2 gst-receiver "$LAB_DIR/received" "$limit"
  receiver=$LAB_PID
  lab_sender m1 gst-sender "$file" "$limit"
  wait "$receiver" || {
    echo "receiver exited with status $?: $(grep -m 1 '^ERROR' "$LAB_DIR/gst-receiver.log")" >&2
    return 1
  }
  [ "$(sha256sum <"$LAB_DIR/received" | cut -d' ' -f1)" = "$want" ] \
    || { echo "copy differs ($(stat -c %s "$LAB_DIR/received") bytes)" >&2; return 1; }
  start=$(gst_time gst-receiver 'hangoutsrc.*receiving ')
  end=$(gst_time gst-receiver 'hangoutsrc.*intact')
  awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", b / 1e6 / (e - s) }'
}

run_ldc() {
  lab_bg m2 ldc-receiver timeout -k 5 "$limit" node "$here/lossy/peer.mjs" receive \
    198.18.1.2 "$bytes"
  receiver=$LAB_PID
  lab_wait_for 10 "the libdatachannel receiver" grep -q '^listening' "$LAB_DIR/ldc-receiver.log"
  lab_bg m1 ldc-sender timeout -k 5 "$limit" node "$here/lossy/peer.mjs" send \
    198.18.1.1 "$file" 198.18.1.2
  wait "$receiver" || {
    echo "receiver exited with status $?: $(grep -v '^listening' "$LAB_DIR/ldc-receiver.log" | head -n 1)" >&2
    return 1
  }
  result=$(grep '^{' "$LAB_DIR/ldc-receiver.log")
  case "$result" in
    *"\"sha256\":\"$want\""*) ;;
    *) echo "copy differs: $result" >&2; return 1 ;;
  esac
  echo "$result" | awk -v b="$bytes" -F'"seconds":' '{ split($2, s, ","); printf "%.2f\n", b / 1e6 / s[1] }'
}

median() {
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "lossy-link benchmark: $mib MiB, $runs run(s) per stack and link, limit $limit s"
summary="$LAB_DIR/summary"
: >"$summary"
for rtt in $rtts; do
  for loss in $losses; do
    : >"$LAB_DIR/gst.mbs"
    : >"$LAB_DIR/ldc.mbs"
    failed_gst=0 failed_ldc=0
    run=1
    while [ "$run" -le "$runs" ]; do
      for stack in $stacks; do
        lab_link "delay=$((rtt / 2)),loss=$loss"
        # Not in a subshell: lab_teardown must know what the run started.
        if "run_$stack" >"$LAB_DIR/mbs" 2>"$LAB_DIR/why"; then
          mbs=$(cat "$LAB_DIR/mbs")
          echo "$mbs" >>"$LAB_DIR/$stack.mbs"
          echo "rtt $rtt ms loss $loss%: run $run $stack $mbs MB/s"
        else
          eval "failed_$stack=\$((failed_$stack + 1))"
          echo "rtt $rtt ms loss $loss%: run $run $stack FAILED: $(cat "$LAB_DIR/why")"
        fi
        # The link's counters: what each stack met.
        lab_linkem_counters 2>&1 | sed 's/^/    linkem /'
        lab_teardown
      done
      run=$((run + 1))
    done
    gst=$(median <"$LAB_DIR/gst.mbs")
    ldc=$(median <"$LAB_DIR/ldc.mbs")
    ratio=$(awk -v g="$gst" -v l="$ldc" 'BEGIN { if (g == "-" || l == "-" || l == 0) print "-"; else printf "%.2f\n", g / l }')
    printf '| %s ms | %s%% | %s | %s | %s | %s / %s |\n' "$rtt" "$loss" "$gst" "$ldc" \
      "$ratio" "$failed_gst" "$failed_ldc" >>"$summary"
  done
done
echo
echo "| RTT | loss | gst-hangout MB/s | libdatachannel MB/s | ratio | failed gst / ldc |"
echo "|---|---|---|---|---|---|"
cat "$summary"
