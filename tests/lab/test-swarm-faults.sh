#!/bin/sh
# Swarm distribution (hangoutsink distribution=swarm, docs/protocol.md §4)
# when a member fails it, on bench/swarm.sh's topology (lab_star: one
# sharer and five receivers, each in its own network namespace on a
# bridge, every upload 100 Mbit/s by tbf), a 16 MiB file:
#   killed    five hangoutsrc; one is killed (SIGKILL: no goodbye) once its
#             copy holds 30% of the file. The four others end with the
#             file's SHA-256, and the sharer, with min-acks=4, ends without
#             error, its summary naming the four complete and the victim
#             left;
#   corrupt   four hangoutsrc and a liar (swarm-member --corrupt) that
#             forwards every piece it is handed with a byte changed. The
#             four end with the file's SHA-256, each having warned that
#             pieces from the liar failed verification, and the sharer's
#             summary names the liar, and only it, in swarm-excluded;
#   version1  four hangoutsrc and a member of transfer version 1 alone
#             (swarm-member --version1). All five end with the file's
#             SHA-256, and the sharer's upload, by its tbf's byte counter,
#             carries under three copies of the file: one for the version
#             1 member, and the swarm's about one.
# Every process is bounded by timeout(1), every wait by a deadline.
# Usage: test-swarm-faults.sh killed|corrupt|version1
# Environment: HANGOUT_SERVER, SWARM_MEMBER, GST_PLUGIN_PATH (meson sets
# them). As root; skips without unshare or tc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
case=${1:-}
case $case in
  killed | corrupt | version1) ;;
  *) echo "usage: $0 killed|corrupt|version1" >&2; exit 2 ;;
esac

if [ "${HANGOUT_IN_NETNS:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIP: the lab needs root (namespaces, tc)"; exit 77; }
  for tool in unshare tc; do
    command -v "$tool" >/dev/null 2>&1 \
      || { echo "SKIP: $tool not found (scripts/install-deps.sh installs it)"; exit 77; }
  done
  HANGOUT_IN_NETNS=1 exec "$here/../netns-run.sh" "$0" "$@"
fi

: "${HANGOUT_SERVER:?the hangout-server of a build tree}"
: "${SWARM_MEMBER:?tests/lab/swarm-member of a build tree}"
LAB_ID="swarmlab-$$"
. "$here/lab.sh"

# Each process's limit: a run takes a few seconds; the corrupt case's
# sharer waits ack-timeout (3 s) for the liar's answer, which never comes.
limit=40
receivers=5
file="$LAB_DIR/sent"
lab_random_file "$file" 16M
size=$(stat -c %s "$file")

lab_star "$receivers" 100 "100 100 100 100 100" 500
lab_server

# member NAME: its id, from the sharer's hangout-member-joined (gst-launch
# -m prints each element message), where its display name is NAME.
member() {
  grep 'hangout-member-joined' "$LAB_DIR/s.log" | grep -F "name=(string)$1," \
    | sed -n 's/.* id=(string)\([0-9a-f]*\),.*/\1/p' | head -n 1 | grep . \
    || lab_fail "the sharer never saw $1 join"
}

# summary FIELD: the ids of the sharer's hangout-summary array FIELD, one
# a line ("complete=(string)< id, id >" in gst-launch's print).
summary() {
  grep -m 1 'hangout-summary' "$LAB_DIR/s.log" \
    | sed -n "s/.* $1=(string)< *\([^>]*\) *>.*/\1/p" | tr -d ' ' | tr ',' '\n' | grep . || true
}

# expect_ids FIELD ID...: the summary's FIELD is those ids, in any order.
expect_ids() {
  field=$1; shift
  got=$(summary "$field" | sort | tr '\n' ' ')
  want=$(for id in "$@"; do echo "$id"; done | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || lab_fail "the sharer's summary has $field '$got', expected '$want'"
}

# Receivers r1..r4 are hangoutsrc in every case; r5 is the case's member.
pids=""
for i in 1 2 3 4; do
  lab_receiver "r$i" "r$i" "$LAB_DIR/copy-$i" "$limit"
  pids="$pids $LAB_PID"
done
case $case in
  killed)
    lab_receiver r5 r5 "$LAB_DIR/copy-5" "$limit"
    victim_job=$LAB_PID
    sink_args="min-acks=4" ;;
  corrupt)
    lab_bg r5 liar timeout -s INT -k 5 "$limit" "$SWARM_MEMBER" --corrupt \
      --server "$LAB_SERVER_URL" --room lab --name liar
    liar_job=$LAB_PID
    # The liar never acknowledges: the sharer waits 3 s for it, not 30.
    sink_args="min-acks=4 ack-timeout=3" ;;
  version1)
    lab_bg r5 old timeout -s INT -k 5 "$limit" "$SWARM_MEMBER" --version1 "$LAB_DIR/copy-5" \
      --server "$LAB_SERVER_URL" --room lab --name old
    pids="$pids $LAB_PID"
    sink_args="min-acks=5" ;;
esac
# shellcheck disable=SC2086 # the case's properties, one word each
lab_sender s s "$file" "$limit" min-peers="$receivers" distribution=swarm $sink_args
sender=$LAB_PID
started=$(date +%s)

if [ "$case" = killed ]; then
  # Killed mid-file: once its copy holds 30%, by gst-launch-1.0's own PID
  # (the child of the receiver's timeout(1)), so that it cannot say goodbye.
  lab_wait_for "$limit" "r5's copy to reach 30% of the file" \
    sh -c '[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]' - \
    "$LAB_DIR/copy-5" $((size * 3 / 10))
  victim=$(pgrep -P "$victim_job" -x gst-launch-1.0) || lab_fail "r5 is not running"
  kill -KILL "$victim"
  held=$(stat -c %s "$LAB_DIR/copy-5")
  lab_log "r5 (PID $victim) killed holding $held of $size bytes"
  [ "$held" -lt "$size" ] || lab_fail "r5 had the whole file before it was killed"
fi

n=1
for pid in $pids; do
  lab_expect_exit "$pid" "receiver $n"
  n=$((n + 1))
done
lab_expect_exit "$sender" "the sharer"
lab_log "the sharer ended $(( $(date +%s) - started )) s after it started"
for i in $(seq 1 $((n - 1))); do
  lab_same_file "$file" "$LAB_DIR/copy-$i"
done

case $case in
  killed)
    [ "$(stat -c %s "$LAB_DIR/copy-5")" -lt "$size" ] || lab_fail "r5 has the whole file"
    # What gst-launch-1.0 prints of hangoutsink's warning.
    grep -q "^WARNING: .*: \(The connection to member\|Member\) r5 ($(member r5)) .*before it had the whole file" \
      "$LAB_DIR/s.log" || lab_fail "the sharer did not warn that r5 left"
    expect_ids complete "$(member r1)" "$(member r2)" "$(member r3)" "$(member r4)"
    expect_ids left "$(member r5)"
    ;;
  corrupt)
    liar=$(sed -n 's/^id \([0-9a-f]*\)$/\1/p' "$LAB_DIR/liar.log" | tail -n 1)
    [ "$liar" = "$(member liar)" ] || lab_fail "the liar's id '$liar' is not the one the sharer knows"
    expect_ids swarm-excluded "$liar"
    expect_ids complete "$(member r1)" "$(member r2)" "$(member r3)" "$(member r4)"
    expect_ids no-answer "$liar"
    # What gst-launch-1.0 prints of hangoutsrc's warnings.
    warning="^WARNING: .*: Piece [0-9]* of 'sent' from liar ($liar) failed verification$"
    for i in 1 2 3 4; do
      warned=$(grep -c "$warning" "$LAB_DIR/r$i.log" || true)
      [ "$warned" -ge 1 ] || lab_fail "r$i did not warn of a corrupt piece from the liar"
      lab_log "r$i warned of $warned corrupt pieces from the liar"
    done
    kill -INT "$liar_job"
    lab_expect_exit "$liar_job" "the liar"
    lab_log "the liar: $(grep '^handed' "$LAB_DIR/liar.log")"
    ;;
  version1)
    copies=$(awk -v s="$(lab_tbf_sent s)" -v f="$size" 'BEGIN { printf "%.2f", s / f }')
    lab_log "the sharer sent $copies copies of the file"
    awk -v c="$copies" 'BEGIN { exit !(c < 3) }' \
      || lab_fail "the sharer sent $copies copies: the swarm did not forward"
    expect_ids complete "$(member r1)" "$(member r2)" "$(member r3)" "$(member r4)" "$(member old)"
    ;;
esac
