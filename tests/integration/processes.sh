# gst-hangout — sourced by the integration scripts that run several
# gst-launch-1.0 processes: a temporary directory $dir for their files and
# logs, the cleanup that ends every process they started (by PID), and
# run, pid_of, size_of, reap. Needs LIMIT (seconds each process may run).
dir=$(mktemp -d)
server_pid=
pids=
cleanup () {
  # The gst-launch-1.0 processes first (killing a timeout(1) leaves its
  # child running), then the timeouts and the server.
  for f in "$dir"/*.pid; do
    [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  for p in $pids $server_pid; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# run NAME CMD...: starts CMD under timeout(1) in the background, its
# output in $dir/NAME.log and its errors in $dir/NAME.err (apart: stdout to
# a file is block-buffered and would cut stderr's lines in two). The shell
# records its own PID, then becomes gst-launch-1.0, so $dir/NAME.pid is the
# process to kill (killing timeout(1) would leave its child running). The
# job's PID goes into the variable NAME_job.
run () {
  name=$1; shift
  timeout "$LIMIT" sh -c 'echo $$ > "$0"; exec "$@"' "$dir/$name.pid" "$@" \
      > "$dir/$name.log" 2> "$dir/$name.err" &
  pids="$pids $!"
  eval "${name}_job=\$!"
}

# The PID a run() wrote, waiting (bounded) for the file to appear.
pid_of () {
  n=0
  while [ ! -s "$dir/$1.pid" ]; do
    n=$((n + 1)); [ $n -le 200 ] || { echo "$1 did not start"; exit 1; }
    sleep 0.05
  done
  cat "$dir/$1.pid"
}

size_of () { stat -c %s "$1" 2>/dev/null || echo 0; }

# reap JOB: sets s to JOB's exit status without set -e ending us (not in
# $(...): a subshell cannot wait for its parent's children).
reap () { s=0; wait "$1" || s=$?; }
