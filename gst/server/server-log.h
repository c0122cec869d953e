/* gst-hangout — where hangout-server's log lines go: GLib's log in the
 * "hangout-server" domain, or the function of HangoutServerOptions'
 * log_func (a pipeline's run-server hands them to GStreamer's debug log
 * instead of its host application's stderr).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/server.h>

G_BEGIN_DECLS

typedef struct {
  HangoutServerLogFunc func;    /* NULL: GLib's log */
  gpointer data;
} ServerLog;

/* One line at @level: G_LOG_LEVEL_MESSAGE (an event: a start, a stop, a
 * join, a leave) or G_LOG_LEVEL_INFO (a connection's details: refused,
 * closed, an error sent). Any thread. */
G_GNUC_INTERNAL
void server_log (const ServerLog *log, GLogLevelFlags level,
    const char *format, ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
