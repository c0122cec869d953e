#!/bin/sh
# run-fuzz.sh TARGET SECONDS CORPUS WORK [DICT]
# Runs a libFuzzer TARGET for SECONDS, starting from the seed CORPUS (left
# as it is: what the run finds goes to WORK, and so do crash reproducers)
# with DICT if given. Exits non-zero on any crash.
set -eu
target=$1 seconds=$2 corpus=$3 work=$4 dict=${5:-}

mkdir -p "$work"
set -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$work/" -print_final_stats=1
[ -n "$dict" ] && set -- "$@" -dict="$dict"
exec "$target" "$@" "$work" "$corpus"
