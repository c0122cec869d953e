/* gst-hangout — where hangout-server's log lines go (server-log.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server-log.h"

void
server_log (const ServerLog *log, GLogLevelFlags level, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  if (log->func == NULL) {
    g_logv (G_LOG_DOMAIN, level, format, args);
  } else {
    char *line = g_strdup_vprintf (format, args);

    log->func (level, line, log->data);
    g_free (line);
  }
  va_end (args);
}
