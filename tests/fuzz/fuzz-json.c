/* gst-hangout — fuzz target: hangout_json_parse_object, the parser every
 * JSON message from the network goes through (signalling, room control,
 * transfer control).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/json.h>
#include <string.h>

/* The largest limit any caller uses (the signaller's, for server frames). */
#define MAX_SIZE (128 * 1024)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) object = hangout_json_parse_object ((const gchar *)
      data, size, MAX_SIZE, &error);

  gboolean valid = size <= MAX_SIZE
      && hangout_json_is_valid ((const gchar *) data, size);

  if (object == NULL) {
    FUZZ_CHECK (error != NULL && error->message != NULL);
    /* json-glib parses whatever passed our checks: only a value that is
     * not an object is refused then. */
    if (valid)
      FUZZ_CHECK (strcmp (error->message, "not a JSON object") == 0);
    return 0;
  }
  FUZZ_CHECK (error == NULL && valid);
  return 0;
}
