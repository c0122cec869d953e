/* gst-hangout — fuzz target: hangout_json_parse_object, the parser every
 * JSON message from the network goes through (signalling, room control,
 * transfer control).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/json.h>

/* The largest limit any caller uses (the signaller's, for server frames). */
#define MAX_SIZE (128 * 1024)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) object = hangout_json_parse_object ((const gchar *)
      data, size, MAX_SIZE, &error);

  if (object == NULL) {
    FUZZ_CHECK (error != NULL && error->message != NULL);
    return 0;
  }
  FUZZ_CHECK (error == NULL);
  return 0;
}
