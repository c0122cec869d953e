/* gst-hangout — fuzz target: what the signalling client makes of a text
 * frame from the server (hangout_server_message_parse, the decoding half
 * of the WebSocket signaller's message handler).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include "signalling-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (HangoutServerMessage) msg = { 0 };
  g_autoptr (GError) error = NULL;

  if (!hangout_server_message_parse ((const gchar *) data, size, &msg,
          &error)) {
    FUZZ_CHECK (error != NULL && msg.object == NULL);
    return 0;
  }
  FUZZ_CHECK (msg.object != NULL);
  /* What the signaller passes on to the room, unchecked. */
  if (!msg.complete)
    return 0;
  switch (msg.type) {
    case HANGOUT_SERVER_MESSAGE_WELCOME:
      FUZZ_CHECK (msg.id != NULL && msg.members != NULL);
      for (guint i = 0; i < msg.members->len; i++) {
        HangoutSignallerMember *member = g_ptr_array_index (msg.members, i);

        FUZZ_CHECK (member->id != NULL && member->name != NULL);
      }
      break;
    case HANGOUT_SERVER_MESSAGE_ERROR:
      FUZZ_CHECK (msg.code != NULL && msg.reason != NULL);
      break;
    case HANGOUT_SERVER_MESSAGE_MEMBER_JOINED:
      FUZZ_CHECK (msg.id != NULL && msg.name != NULL);
      break;
    case HANGOUT_SERVER_MESSAGE_MEMBER_LEFT:
      FUZZ_CHECK (msg.id != NULL);
      break;
    case HANGOUT_SERVER_MESSAGE_SIGNAL:
      FUZZ_CHECK (msg.from != NULL && msg.payload != NULL);
      break;
    case HANGOUT_SERVER_MESSAGE_UNKNOWN:
      break;
  }
  return 0;
}
