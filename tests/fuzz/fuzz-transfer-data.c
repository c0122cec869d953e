/* gst-hangout — fuzz target: hangout_transfer_parse_data, for the file
 * transfer's binary messages (docs/protocol.md §2.3).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/transfer.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gchar id[2 * HANGOUT_TRANSFER_FILE_ID_SIZE + 1];
  const guint8 *payload;
  gsize payload_len;
  guint64 offset;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) built = NULL;

  if (!hangout_transfer_parse_data (data, size, id, &offset, &payload,
          &payload_len, &error)) {
    FUZZ_CHECK (error != NULL);
    return 0;
  }
  FUZZ_CHECK (payload_len >= 1 && payload >= data
      && payload + payload_len == data + size);
  FUZZ_CHECK (strlen (id) == 2 * HANGOUT_TRANSFER_FILE_ID_SIZE);
  /* The sender's builder gives the same bytes back. */
  built = hangout_transfer_build_data (id, offset, payload, payload_len);
  FUZZ_CHECK (g_bytes_get_size (built) == size
      && memcmp (g_bytes_get_data (built, NULL), data, size) == 0);
  return 0;
}
