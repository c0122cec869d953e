/* gst-hangout — fuzz target: hangout_sdp_description_parse, for the offers
 * and answers a member receives. The first byte picks the type.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/sdp.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (HangoutSdpDescription) desc = NULL;
  g_autoptr (HangoutSdpDescription) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *written = NULL;
  HangoutSdpType type;

  if (size < 1)
    return 0;
  type = data[0] & 1 ? HANGOUT_SDP_ANSWER : HANGOUT_SDP_OFFER;
  /* It arrives as a JSON string: NUL-terminated, no NUL inside. */
  text = g_strndup ((const gchar *) data + 1, size - 1);
  desc = hangout_sdp_description_parse (text, type, &error);
  if (desc == NULL) {
    FUZZ_CHECK (error != NULL);
    return 0;
  }
  FUZZ_CHECK (desc->ice_ufrag != NULL && desc->ice_pwd != NULL
      && desc->fingerprint != NULL && desc->candidates != NULL);
  /* What we parsed we can write out and parse again. */
  written = hangout_sdp_description_to_string (desc);
  again = hangout_sdp_description_parse (written, type, NULL);
  FUZZ_CHECK (again != NULL);
  return 0;
}
