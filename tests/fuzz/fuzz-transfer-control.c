/* gst-hangout — fuzz target: hangout_transfer_parse_control, for the file
 * transfer's text messages (docs/protocol.md §2.2).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/transfer.h>
#include <string.h>

static gboolean
is_file_id (const gchar *id)
{
  if (id == NULL || strlen (id) != 2 * HANGOUT_TRANSFER_FILE_ID_SIZE)
    return FALSE;
  for (const gchar *p = id; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  HangoutTransferControl control;
  g_autoptr (GError) error = NULL;

  if (!hangout_transfer_parse_control ((const gchar *) data, size, &control,
          &error)) {
    FUZZ_CHECK (error != NULL);
    return 0;
  }
  /* What the receiver and sender rely on once a message parsed. */
  switch (control.type) {
    case HANGOUT_TRANSFER_OFFER:
      FUZZ_CHECK (is_file_id (control.id) && control.name != NULL
          && control.mime != NULL && control.size >= -1);
      break;
    case HANGOUT_TRANSFER_END:
      FUZZ_CHECK (is_file_id (control.id) && control.size >= 0
          && control.sha256 != NULL);
      break;
    case HANGOUT_TRANSFER_ACK:
      FUZZ_CHECK (is_file_id (control.id));
      break;
    case HANGOUT_TRANSFER_REJECT:
    case HANGOUT_TRANSFER_ABORT:
      FUZZ_CHECK (is_file_id (control.id) && control.reason != NULL);
      break;
    case HANGOUT_TRANSFER_UNKNOWN:
      break;
  }
  hangout_transfer_control_clear (&control);
  return 0;
}
