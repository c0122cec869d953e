/* gst-hangout — helpers of the integration tests (pipelines.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipelines.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

/* What spawn() and launch() started, each with a reference. */
static GPtrArray *processes, *pipelines;

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocess *
spawn (GSubprocessFlags flags, const gchar *const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL,
      NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  fail_unless (proc != NULL, "spawn %s: %s", argv[0],
      error ? error->message : "");
  if (processes == NULL)
    processes = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (processes, g_object_ref (proc));
  return proc;
}

void
stop_process (GSubprocess *proc)
{
  g_subprocess_send_signal (proc, SIGTERM);
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  g_object_unref (proc);
}

Server *
server_start (const gchar *const *args)
{
  Server *server = g_new0 (Server, 1);
  const gchar *program = g_getenv ("HANGOUT_SERVER");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) argv = NULL;
  g_autoptr (GDataInputStream) out = NULL;

  fail_unless (program != NULL, "HANGOUT_SERVER is not set");
  g_strv_builder_add_many (builder, program, "--port", "0", NULL);
  if (args != NULL)
    g_strv_builder_addv (builder, (const gchar **) args);
  argv = g_strv_builder_end (builder);
  server->proc = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE,
      (const gchar * const *) argv);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->proc));
  server->url = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  fail_unless (server->url != NULL, "hangout-server printed no URL");
  return server;
}

void
server_stop (Server *server)
{
  stop_process (server->proc);
  g_free (server->url);
  g_free (server);
}

GstElement *
parse (const gchar *description)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "");
  return pipeline;
}

GstElement *
launch (const gchar *description)
{
  GstElement *pipeline = parse (description);

  if (pipelines == NULL)
    pipelines = g_ptr_array_new_with_free_func (gst_object_unref);
  g_ptr_array_add (pipelines, gst_object_ref (pipeline));
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

void
wait_eos (GstElement *pipeline, const gchar *who, GstClockTime timeout)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *message = gst_bus_timed_pop_filtered (bus, timeout,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (message != NULL, "%s: no EOS within %" GST_TIME_FORMAT, who,
      GST_TIME_ARGS (timeout));
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *debug = NULL;

    gst_message_parse_error (message, &error, &debug);
    fail ("%s: %s (%s)", who, error->message, debug ? debug : "");
  }
  gst_message_unref (message);
}

void
stop_leftovers (void)
{
  for (guint i = 0; pipelines != NULL && i < pipelines->len; i++)
    gst_element_set_state (pipelines->pdata[i], GST_STATE_NULL);
  g_clear_pointer (&pipelines, g_ptr_array_unref);
  for (guint i = 0; processes != NULL && i < processes->len; i++) {
    GSubprocess *proc = processes->pdata[i];

    if (g_subprocess_get_identifier (proc) != NULL) {  /* not reaped yet */
      g_subprocess_send_signal (proc, SIGCONT);
      stop_process (g_object_ref (proc));
    }
  }
  g_clear_pointer (&processes, g_ptr_array_unref);
}

gchar *
make_workdir (const gchar *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *template = g_strdup_printf ("hangout-%s-XXXXXX", name);
  GstPlugin *plugin = gst_plugin_load_file (HANGOUT_PLUGIN_PATH, &error);
  gchar *workdir;

  fail_unless (plugin != NULL, "cannot load %s: %s", HANGOUT_PLUGIN_PATH,
      error ? error->message : "");
  gst_object_unref (plugin);
  workdir = g_dir_make_tmp (template, &error);
  fail_unless (workdir != NULL, "%s", error ? error->message : "");
  return workdir;
}

void
remove_workdir (gchar *workdir)
{
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  stop_leftovers ();
  dir = g_dir_open (workdir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (workdir, name, NULL);

    g_unlink (path);
  }
  g_rmdir (workdir);
  g_free (workdir);
}

void
write_random_file (const gchar *path, gsize size)
{
  g_autofree guint32 *data = g_new (guint32, size / 4);
  g_autoptr (GRand) rand = g_rand_new ();

  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (rand);
  fail_unless (g_file_set_contents (path, (gchar *) data, size, NULL), "%s",
      path);
}

gchar *
file_sha256 (const gchar *path)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "%s", path);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
}

void
make_certificate (const gchar *cert, const gchar *key, const gchar *name,
    const gchar *san)
{
  g_autofree gchar *subject = g_strconcat ("/CN=", name, NULL);
  g_autofree gchar *alt = g_strconcat ("subjectAltName=", san, NULL);
  const gchar *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", subject, "-addext", alt, "-keyout", key, "-out", cert, NULL
  };
  g_autoptr (GSubprocess) proc = spawn (G_SUBPROCESS_FLAGS_STDERR_SILENCE,
      argv);
  g_autoptr (GError) error = NULL;

  fail_unless (g_subprocess_wait_check (proc, NULL, &error), "openssl: %s",
      error ? error->message : "");
}
