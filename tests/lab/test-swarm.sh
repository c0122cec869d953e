#!/bin/sh
# Swarm distribution on shaped links: one sharer and five receivers, each in
# its own network namespace on a bridge, every upload 100 Mbit/s by tbf
# (bench/swarm.sh's topology, one run of its swarm stack: hangoutsink
# distribution=swarm, five hangoutsrc). Every copy must have the original's
# SHA-256 (the benchmark checks each, and reports the run FAILED
# otherwise), and the sharer's upload, by its tbf's byte counter, must
# carry markedly fewer than the five copies direct distribution sends:
# under two.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$("$here/../../bench/swarm.sh" -n 5 -s 8 -U 100 -r 1 -o swarm -T 60) \
  || { echo "$out"; echo "FAIL: the benchmark did not run" >&2; exit 1; }
echo "$out"
line=$(echo "$out" | grep ' run 1 swarm: ') || { echo "FAIL: no run" >&2; exit 1; }
case "$line" in
  *FAILED*) echo "FAIL: $line" >&2; exit 1 ;;
esac
copies=$(echo "$line" | sed -n 's/.*sharer sent \([0-9.]*\) copies.*/\1/p')
awk -v c="$copies" 'BEGIN { exit !(c != "" && c + 0 < 2) }' \
  || { echo "FAIL: the sharer sent $copies copies of the file" >&2; exit 1; }
echo "the sharer sent $copies copies for 5 receivers"
