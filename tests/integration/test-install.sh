#!/bin/sh
# gst-hangout — `meson install` of this build tree into a DESTDIR, checked
# as a user checks an install (README "Install"):
#  - the plugin is in GStreamer's plugin directory (under the default
#    prefix, the one pkg-config names) and gst-inspect-1.0 loads it there;
#  - every public header is installed, and nothing else beside them (no
#    *-private.h anywhere);
#  - a program that includes <hangout/room.h> builds with `pkg-config
#    --cflags --libs hangout-1.0` and runs against the installed library,
#    which exports only what the installed headers declare;
#  - the systemd unit starts the installed hangout-server and passes
#    `systemd-analyze verify` and a hardening threshold (skipped, with a
#    message, without systemd-analyze).
#
# Environment (tests/integration/meson.build): MESON, CC, HANGOUT_BUILD_ROOT,
# HANGOUT_SOURCE_ROOT, HANGOUT_PREFIX, HANGOUT_BINDIR, HANGOUT_LIBDIR,
# HANGOUT_INCLUDEDIR (absolute), HANGOUT_PLUGINS_INSTALL_DIR (the option),
# HANGOUT_UNIT_DIR (absolute, or "no").
set -eu

top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT INT TERM
dest=$top/dest

fail () {
  echo "FAIL: $*" >&2
  exit 1
}

$MESON install -C "$HANGOUT_BUILD_ROOT" --no-rebuild --quiet --destdir "$dest" \
  > "$top/install.log" 2>&1 || { cat "$top/install.log" >&2; fail "meson install"; }

# The plugin: one copy, where GStreamer looks.
plugins=$(find "$dest" -name libgsthangout.so)
[ "$(echo "$plugins" | wc -w)" = 1 ] || fail "plugin installed as: '$plugins'"
plugin_dir=$(dirname "${plugins#"$dest"}")
if [ "$HANGOUT_PREFIX" = /usr/local ] && [ -z "$HANGOUT_PLUGINS_INSTALL_DIR" ]; then
  gst_dir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
  [ "$plugin_dir" = "$gst_dir" ] \
    || fail "plugin in $plugin_dir, not in GStreamer's $gst_dir"
fi
# Only the staged plugin, even where one is installed already.
GST_PLUGIN_PATH=$dest$plugin_dir GST_PLUGIN_SYSTEM_PATH_1_0='' \
  GST_REGISTRY=$top/registry.bin gst-inspect-1.0 hangoutsink > "$top/inspect.txt" 2>&1 \
  || { cat "$top/inspect.txt" >&2; fail "gst-inspect-1.0 hangoutsink"; }
grep -q "Filename  *$dest$plugin_dir/libgsthangout.so" "$top/inspect.txt" \
  || fail "gst-inspect-1.0 loaded hangoutsink from elsewhere"
echo "plugin: $plugin_dir"

# The headers: exactly those of include/hangout/.
headers=$dest$HANGOUT_INCLUDEDIR/hangout-1.0/hangout
(cd "$HANGOUT_SOURCE_ROOT/include/hangout" && ls -- *.h) > "$top/public"
(cd "$headers" && ls) > "$top/installed" || fail "no $headers"
diff -u "$top/public" "$top/installed" \
  || fail "installed headers differ from include/hangout/*.h"
[ -z "$(find "$dest" -name '*-private.h')" ] || fail "a private header is installed"
echo "headers: $(wc -l < "$top/installed") in $HANGOUT_INCLUDEDIR/hangout-1.0"

# A program built against the installed library. The .pc names the final
# paths under the prefix; until a package puts them there, they are under
# DESTDIR. (pkg-config's --define-prefix and PKG_CONFIG_SYSROOT_DIR would
# move the system's dependencies too, or guess the prefix wrong under a
# multiarch libdir.)
pcdir=$dest$HANGOUT_LIBDIR/pkgconfig
[ -f "$pcdir/hangout-1.0.pc" ] || fail "no hangout-1.0.pc in $HANGOUT_LIBDIR/pkgconfig"
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs hangout-1.0) \
  || fail "pkg-config hangout-1.0"
flags=$(echo " $flags" | sed "s# -\([IL]\)$HANGOUT_PREFIX/# -\1$dest$HANGOUT_PREFIX/#g")
cat > "$top/embed.c" <<'EOF'
#include <hangout/room.h>

int
main (void)
{
  HangoutRoom *room = hangout_room_new ("install", "embedder", NULL);
  gchar *name = NULL;

  g_object_get (room, "room", &name, NULL);
  g_print ("room %s\n", name);
  g_free (name);
  g_object_unref (room);
  return 0;
}
EOF
# shellcheck disable=SC2086 # $CC and $flags are lists of words
$CC -std=c11 -Wall -Wextra -Werror -o "$top/embed" "$top/embed.c" $flags \
  || fail "the program does not build with pkg-config's flags: $flags"
out=$(LD_LIBRARY_PATH=$dest$HANGOUT_LIBDIR "$top/embed") || fail "the program failed"
[ "$out" = "room install" ] || fail "the program printed '$out'"
LD_LIBRARY_PATH=$dest$HANGOUT_LIBDIR ldd "$top/embed" \
  | grep -q "libhangout-1.0.so.0 => $dest$HANGOUT_LIBDIR/" \
  || fail "the program did not use the installed libhangout-1.0"
echo "pkg-config hangout-1.0: built and ran a program"

# The ABI is what the headers declare: every symbol the library exports is
# a name they mention.
nm -D --defined-only "$dest$HANGOUT_LIBDIR/libhangout-1.0.so.0" \
  | awk '{ print $3 }' | sort -u > "$top/exported"
cat "$headers"/*.h | grep -o '[A-Za-z_][A-Za-z0-9_]*' | sort -u > "$top/declared"
undeclared=$(comm -23 "$top/exported" "$top/declared")
[ -z "$undeclared" ] || fail "exported but in no public header:" "$undeclared"
echo "libhangout-1.0: $(wc -l < "$top/exported") symbols, all public"

# The systemd unit.
if [ "$HANGOUT_UNIT_DIR" = no ]; then
  echo "systemd unit: not installed (systemdsystemunitdir=no)"
  exit 0
fi
unit=$dest$HANGOUT_UNIT_DIR/hangout-server.service
[ -f "$unit" ] || fail "no $HANGOUT_UNIT_DIR/hangout-server.service"
grep -q "^ExecStart=$HANGOUT_BINDIR/hangout-server " "$unit" \
  || fail "the unit does not start $HANGOUT_BINDIR/hangout-server"
[ -x "$dest$HANGOUT_BINDIR/hangout-server" ] || fail "no $HANGOUT_BINDIR/hangout-server"
if ! command -v systemd-analyze > /dev/null; then
  echo "systemd unit: installed; not verified (no systemd-analyze)"
  exit 0
fi
# --root: ExecStart's program is looked up in the DESTDIR, which has none
# of the system's units (sysinit.target, network.target), so errors of
# the units ours refers to are left out. A warning (an unknown key) fails.
out=$(systemd-analyze verify --root="$dest" --recursive-errors=no "$unit" 2>&1) \
  || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
# Its exposure is 1.5 of 10 (systemd 252); over 2.0, hardening was lost.
systemd-analyze security --offline=true --root="$dest" --threshold=20 "$unit" \
  > "$top/security.txt" 2>&1 \
  || { cat "$top/security.txt" >&2; fail "systemd-analyze security: more exposed than 2.0"; }
echo "systemd unit: $HANGOUT_UNIT_DIR/hangout-server.service, verified, $(grep -o 'exposure level.*' "$top/security.txt")"
