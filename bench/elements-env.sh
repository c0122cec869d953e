#!/bin/sh
# The environment of hangout-bench-elements: the plugin from the build tree
# and a registry of its own (the system's must not learn about a build tree).
# Usage: elements-env.sh BUILD_DIR PROGRAM [ARGS...]
set -e
build=$1
shift
export GST_PLUGIN_PATH="$build/gst/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="$build/bench/elements-registry.bin"
exec "$@"
