#!/usr/bin/python3
"""Runs COMMAND with its output (stdout and stderr together) prefixed line
by line with the wall-clock time (seconds since the epoch), so that events
of processes in different network namespaces can be put on one time line.
When COMMAND ends, prints the CPU seconds (user + system) of COMMAND and
every process it waited for, and exits with COMMAND's status. SIGTERM is
passed on to COMMAND.

Usage: stamp.py COMMAND [ARGS...]
"""
import resource
import signal
import subprocess
import sys
import time


def main():
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    for line in child.stdout:
        sys.stdout.write(f"{time.time():.6f} {line.decode(errors='replace')}")
        sys.stdout.flush()
    status = child.wait()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{time.time():.6f} cpu-seconds {usage.ru_utime + usage.ru_stime:.2f}", flush=True)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
