/* gst-hangout — what every fuzz target shares: quiet logs, fatal criticals.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

/* Logging every malformed input would make the fuzzer spend its time in
 * printf; a fatal level still aborts after the writer returns. */
static GLogWriterOutput
drop_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
    gpointer user_data)
{
  return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A critical is a broken precondition (g_return_if_fail): a bug to
   * report, not a message to skip. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  if (g_getenv ("HANGOUT_FUZZ_LOG") == NULL)
    g_log_set_writer_func (drop_log, NULL, NULL);
  return 0;
}
