/* gst-hangout example: two peer connections in one process, joined by
 * handing each other's descriptions and candidates across directly (a real
 * application sends them through a signalling server), then one data
 * channel carrying a greeting and an answer.
 *
 *   build/examples/hangout-two-peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/peer.h>

typedef struct {
  GMainLoop *loop;
  HangoutPeerConnection *alice, *bob;
} Example;

static void
forward_candidate (HangoutPeerConnection *from, const gchar *candidate,
    HangoutPeerConnection *to)
{
  GError *error = NULL;

  /* NULL marks the end of the sender's candidates; the receiver takes it. */
  if (!hangout_peer_connection_add_ice_candidate (to, candidate, &error)) {
    g_printerr ("candidate refused: %s\n", error->message);
    g_error_free (error);
  }
}

static void
on_bob_message (HangoutDataChannel *channel, const gchar *text, Example *ex)
{
  g_print ("bob got: %s\n", text);
  hangout_data_channel_send_string (channel, "hello alice", NULL);
}

static void
on_bob_channel (HangoutPeerConnection *pc, HangoutDataChannel *channel,
    Example *ex)
{
  g_print ("bob: alice opened channel '%s'\n",
      hangout_data_channel_get_label (channel));
  g_signal_connect (channel, "message-string", G_CALLBACK (on_bob_message),
      ex);
}

static void
on_alice_open (HangoutDataChannel *channel, Example *ex)
{
  hangout_data_channel_send_string (channel, "hello bob", NULL);
}

static void
on_alice_message (HangoutDataChannel *channel, const gchar *text,
    Example *ex)
{
  g_print ("alice got: %s\n", text);
  g_main_loop_quit (ex->loop);
}

static void
on_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state,
    Example *ex)
{
  if (state == HANGOUT_PEER_CONNECTION_STATE_FAILED) {
    g_printerr ("connection failed: %s\n",
        hangout_peer_connection_get_error (pc)->message);
    g_main_loop_quit (ex->loop);
  }
}

int
main (void)
{
  Example ex;
  HangoutDataChannel *channel;
  GError *error = NULL;
  gchar *offer, *answer;
  int status = 0;

  ex.loop = g_main_loop_new (NULL, FALSE);
  ex.alice = hangout_peer_connection_new (NULL);
  ex.bob = hangout_peer_connection_new (NULL);
  g_signal_connect (ex.alice, "ice-candidate", G_CALLBACK (forward_candidate),
      ex.bob);
  g_signal_connect (ex.bob, "ice-candidate", G_CALLBACK (forward_candidate),
      ex.alice);
  g_signal_connect (ex.alice, "state-changed", G_CALLBACK (on_state), &ex);
  g_signal_connect (ex.bob, "data-channel", G_CALLBACK (on_bob_channel), &ex);

  channel = hangout_peer_connection_create_data_channel (ex.alice, "chat",
      NULL, &error);
  g_signal_connect (channel, "open", G_CALLBACK (on_alice_open), &ex);
  g_signal_connect (channel, "message-string", G_CALLBACK (on_alice_message),
      &ex);

  offer = hangout_peer_connection_create_offer (ex.alice, &error);
  if (offer == NULL
      || !hangout_peer_connection_set_remote_description (ex.bob,
          HANGOUT_SDP_OFFER, offer, &error)
      || (answer = hangout_peer_connection_create_answer (ex.bob,
              &error)) == NULL
      || !hangout_peer_connection_set_remote_description (ex.alice,
          HANGOUT_SDP_ANSWER, answer, &error)) {
    g_printerr ("negotiation failed: %s\n", error->message);
    return 1;
  }
  g_free (offer);
  g_free (answer);

  g_main_loop_run (ex.loop);
  if (hangout_peer_connection_get_state (ex.alice) !=
      HANGOUT_PEER_CONNECTION_STATE_CONNECTED)
    status = 1;

  hangout_peer_connection_close (ex.alice);
  g_object_unref (channel);
  g_object_unref (ex.alice);
  g_object_unref (ex.bob);
  g_main_loop_unref (ex.loop);
  return status;
}
