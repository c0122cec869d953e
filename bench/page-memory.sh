#!/bin/sh
# What a page's browser holds while a pipeline sends it one big file in
# version 2, whose window holds the sharer: with the sink's default
# distribution (direct) and with swarm. Runs the browser suite's
# tests/browser/big-file.test.mjs once per distribution and prints its
# figure lines. Usage: bench/page-memory.sh [MiB]   (default 4096)
# Environment as `meson test browser` sets it (ninja -C build bench-page-memory).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
export HANGOUT_BIG_FILE_MIB="${1:-4096}"
for distribution in direct swarm; do
  HANGOUT_BIG_FILE_DISTRIBUTION=$distribution "$here/tests/browser/run.sh" \
    --test-name-pattern="bounded memory" 2>&1 | grep -a -E "^(swarm|direct): |^not ok|AssertionError" || true
done
