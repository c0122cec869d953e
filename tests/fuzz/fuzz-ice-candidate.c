/* gst-hangout — fuzz target: hangout_ice_add_remote_candidate, which every
 * trickled remote candidate goes through
 * (hangout_peer_connection_add_ice_candidate). Each line of the input is
 * one candidate, given to one fresh agent that has the peer's credentials
 * but gathers nothing, so no socket is opened.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/ice.h>

/* A few per agent: libnice keeps at most 25 remote candidates. */
#define MAX_CANDIDATES 32

static void
on_local_candidate (gpointer user_data, const gchar *candidate)
{
}

static void
on_state_changed (gpointer user_data, HangoutIceState state)
{
}

static void
on_received (gpointer user_data, const guint8 *data, gsize len)
{
}

static const HangoutIceCallbacks callbacks = {
  on_local_candidate, on_state_changed, on_received,
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_auto (GStrv) lines = g_strsplit (text, "\n", MAX_CANDIDATES + 1);
  GMainContext *context = g_main_context_new ();
  HangoutIceConfig config = { .stun_server = NULL };
  HangoutIce *ice = hangout_ice_new (context, TRUE, &config, &callbacks, NULL,
      NULL);

  FUZZ_CHECK (ice != NULL);
  FUZZ_CHECK (hangout_ice_set_remote_credentials (ice, "fuzz",
          "fuzzfuzzfuzzfuzzfuzzfuzz", NULL));
  for (guint i = 0; lines[i] != NULL && i < MAX_CANDIDATES; i++) {
    g_autoptr (GError) error = NULL;

    if (!hangout_ice_add_remote_candidate (ice, lines[i], &error))
      FUZZ_CHECK (error != NULL);
  }
  hangout_ice_free (ice);
  /* The agent is released from an idle source of its context. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_unref (context);
  return 0;
}
