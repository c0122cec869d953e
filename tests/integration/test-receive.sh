#!/bin/sh
# gst-hangout — examples/hangout-receive end to end: hangout-server, the
# receiver, and a gst-launch-1.0 sender whose file name is hostile
# ("../../escape.bin"). The file must land inside --dir under a safe name
# with identical bytes, and nothing may be written outside --dir.
#
# Environment: HANGOUT_SERVER, HANGOUT_RECEIVE (the example), GST_PLUGIN_PATH.
# Run inside tests/netns-run.sh. Every wait is bounded by timeout(1).
set -eu
. "$(dirname "$0")/server.sh"

LIMIT=${HANGOUT_TEST_TIMEOUT:-60}
: "${HANGOUT_SERVER:?HANGOUT_SERVER is not set}"
: "${HANGOUT_RECEIVE:?HANGOUT_RECEIVE is not set}"

top=$(mktemp -d)
server_pid=
recv_pid=
cleanup () {
  [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$top"
}
trap cleanup EXIT INT TERM

# --dir is two levels down, so "../../escape.bin" taken literally would
# land in $top, where we look for it.
mkdir -p "$top/a/b/dir"
dir=$top/a/b/dir
head -c $((3 * 1024 * 1024)) /dev/urandom > "$top/in.bin"

start_server "$top"

# The receiver runs from inside --dir's parent, so a name taken relative
# to the working directory would show up too.
(cd "$top/a/b" && exec timeout "$LIMIT" "$HANGOUT_RECEIVE" --room esc \
    --server "$url" --name receiver --dir "$dir" --count 1) \
    > "$top/recv.log" 2>&1 &
recv_pid=$!
timeout "$LIMIT" gst-launch-1.0 -q filesrc location="$top/in.bin" \
    ! hangoutsink room=esc server="$url" display-name=sender min-peers=1 \
      join-timeout=30 filename=../../escape.bin > "$top/send.log" 2>&1 || {
  echo "sender failed:"; cat "$top/send.log"; exit 1; }
if ! wait "$recv_pid"; then
  recv_pid=
  echo "hangout-receive failed:"; cat "$top/recv.log"; exit 1
fi
recv_pid=
cat "$top/recv.log"

# Exactly one file, in --dir, named safely, with the sender's bytes.
ls -A "$dir" > "$top/listing"
[ "$(cat "$top/listing")" = "escape.bin" ] || {
  echo "unexpected contents of --dir:"; cat "$top/listing"; exit 1; }
cmp "$top/in.bin" "$dir/escape.bin" || { echo "the copy differs"; exit 1; }
# Nothing else anywhere under $top: only what this script made.
# (Listed into a variable: a file for it would race with find.)
all=$(find "$top" -mindepth 1 | sed "s|^$top/||" | LC_ALL=C sort)
want=$(printf '%s\n' a a/b a/b/dir a/b/dir/escape.bin in.bin listing \
    recv.log send.log server.out | LC_ALL=C sort)
[ "$all" = "$want" ] || {
  echo "files written outside --dir:"; echo "$all"; exit 1; }
echo "OK: ../../escape.bin saved as $dir/escape.bin, identical"
