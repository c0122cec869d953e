/* gst-hangout — fuzz target: hangout_dcep_parse_open, for the
 * DATA_CHANNEL_OPEN messages a peer sends (RFC 8832). The first byte
 * places the message at an offset from 0 to 7 in its buffer, as a message
 * may lie anywhere in what SCTP hands over.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/channel.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  HangoutDcepOpen open;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) built = NULL;
  g_autofree guint8 *buffer = NULL;
  gsize shift, len;

  if (size < 1)
    return 0;
  shift = data[0] % 8;
  len = size - 1;
  buffer = g_malloc (shift + len + 1);
  memcpy (buffer + shift, data + 1, len);
  if (!hangout_dcep_parse_open (buffer + shift, len, &open, &error)) {
    FUZZ_CHECK (error != NULL);
    return 0;
  }
  /* Building it again gives the same bytes. */
  built = hangout_dcep_build_open (&open);
  FUZZ_CHECK (g_bytes_get_size (built) == len
      && memcmp (g_bytes_get_data (built, NULL), buffer + shift, len) == 0);
  hangout_dcep_open_clear (&open);
  return 0;
}
