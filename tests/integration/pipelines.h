/* gst-hangout — what the integration tests that run pipelines in their
 * own process share: processes they start (servers, openssl), pipelines
 * and their end, files and their SHA-256, self-signed certificates.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/check/gstcheck.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Starts @argv, which dies with the test (SIGTERM); fails the test when it
 * cannot be started. */
GSubprocess *spawn (GSubprocessFlags flags, const gchar *const *argv);
/* SIGTERM, waits for it, drops it. */
void stop_process (GSubprocess *proc);

/* hangout-server ($HANGOUT_SERVER) on a free port, with @args (NULL
 * terminated; may be NULL) after its own; @url is the ws:// or wss:// URL
 * it printed. Its standard error goes to ours. */
typedef struct {
  GSubprocess *proc;
  gchar *url;
} Server;

Server *server_start (const gchar *const *args);
void server_stop (Server *server);

/* gst_parse_launch(), failing the test on a bad @description. */
GstElement *parse (const gchar *description);
/* parse(), then PLAYING. */
GstElement *launch (const gchar *description);
/* Fails the test unless @pipeline reaches EOS within @timeout, without an
 * error; @who names it in the failure. */
void wait_eos (GstElement *pipeline, const gchar *who, GstClockTime timeout);

gchar *file_sha256 (const gchar *path);

/* For a fixture's setup: loads the plugin of the build tree
 * (HANGOUT_PLUGIN_PATH) by path, so neither GST_PLUGIN_PATH nor the
 * registry is involved, and returns a new temporary directory named after
 * @name. */
gchar *make_workdir (const gchar *name);
/* For its teardown: stop_leftovers(), then @workdir and the files in it
 * are removed and it is freed. */
void remove_workdir (gchar *workdir);
/* @size random bytes (a multiple of 4) in @path. */
void write_random_file (const gchar *path, gsize size);

/* Stops every process spawn() started that still runs (SIGCONT first, in
 * case a test froze it, then stop_process()) and sets every pipeline
 * launch() made to NULL. For a fixture's teardown: a check that fails
 * jumps out of its test, past the test's own cleanup, and what it left
 * running would hold ports and threads until the program is killed. */
void stop_leftovers (void);

/* A self-signed certificate (P-256, two days) for @name, made by openssl:
 * subject CN=@name and subjectAltName @san ("IP:127.0.0.1",
 * "DNS:example.org"); PEM files @cert and @key. */
void make_certificate (const gchar *cert, const gchar *key,
    const gchar *name, const gchar *san);

G_END_DECLS
