/* gst-hangout — benchmark of the elements: hangoutsink and hangoutsrc in
 * separate pipeline processes, a room on hangout-server, loopback.
 *
 * Modes (--mode):
 *   fanout  one sink (min-peers=N) and N sources per room, for every N of
 *           --receivers: per-receiver and aggregate MB/s (10^6 B/s).
 *   rss     one sink and one source moving a file of every size of --sizes
 *           (sparse files: truncate(), no disk): peak RSS of both processes.
 *   link    one sink and one source against the stack's raw throughput
 *           (hangout-bench-throughput --only hangout, same size), alternating,
 *           --repeat times: medians and their ratio.
 *
 * Process layout: the binary re-executes itself once per pipeline
 * (--run 'DESCRIPTION'), a runner the size of gst-launch-1.0: it builds the
 * description with gst_parse_launch(), sets it to PLAYING and runs until EOS
 * or an error. A bus sync handler, which runs in the thread that posts the
 * message, timestamps the elements' own messages on CLOCK_MONOTONIC
 * (g_get_monotonic_time, shared by every process of the machine) and writes
 * them to stdout at once:
 *   @start <µs>                         hangoutsink's "hangout-send" progress
 *                                       start: every member connected, the
 *                                       offer sent, the first chunk next
 *   @complete <µs> <size> <sha256>      hangoutsrc's "hangout-file-complete":
 *                                       the whole file output downstream, its
 *                                       SHA-256 checked against the sender's
 *   @error <text>
 *   @stats <user s> <system s> <ru_maxrss KiB> <VmHWM KiB>   at exit, after
 *                                       the pipeline went to NULL
 * Time of a receiver = its @complete − the sink's @start, so joining (ICE,
 * DTLS, SCTP for every pair) is not counted.
 *
 * Integrity: the parent hashes the source file itself and compares it with
 * the digest every receiver reports. Receivers output to fakesink in the
 * timed runs (disk writes would be measured otherwise); before them, every
 * invocation makes one untimed room whose receivers write to filesink in a
 * temporary directory, and hashes those copies (--no-verify skips it).
 *
 * Every process started is ended by its pid (SIGKILL at --timeout); every
 * temporary file is removed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gst/gst.h>
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Runner: one pipeline                                                     */

static GMutex out_lock;

static void report (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

static void
report (const gchar * format, ...)
{
  va_list args;
  gchar *line;
  gsize len, done = 0;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  len = strlen (line);
  line[len - 1] = '\n';         /* every format ends in a space: replaced */
  g_mutex_lock (&out_lock);
  while (done < len) {
    ssize_t n = write (STDOUT_FILENO, line + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += n;
  }
  g_mutex_unlock (&out_lock);
  g_free (line);
}

static GstBusSyncReply
runner_sync (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_PROGRESS) {
    GstProgressType type;
    gchar *code = NULL, *text = NULL;

    gst_message_parse_progress (msg, &type, &code, &text);
    if (type == GST_PROGRESS_TYPE_START && g_strcmp0 (code, "hangout-send") == 0)
      report ("@start %" G_GINT64_FORMAT " ", now);
    g_free (code);
    g_free (text);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure (msg);
    gint64 size = -1;

    if (s && gst_structure_has_name (s, "hangout-file-complete")) {
      gst_structure_get_int64 (s, "size", &size);
      report ("@complete %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s ", now,
          size, gst_structure_get_string (s, "sha256"));
    }
  }
  return GST_BUS_PASS;
}

typedef struct {
  GMainLoop *loop;
  gboolean ok;
} Runner;

static gboolean
runner_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Runner *r = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      r->ok = TRUE;
      g_main_loop_quit (r->loop);
      break;
    case GST_MESSAGE_ERROR:{
      GError *error = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &error, &debug);
      report ("@error %s: %s (%s) ", GST_OBJECT_NAME (msg->src),
          error->message, debug ? debug : "");
      g_clear_error (&error);
      g_free (debug);
      r->ok = FALSE;
      g_main_loop_quit (r->loop);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static guint64
vm_hwm_kib (void)
{
  gchar *status = NULL, *p;
  guint64 kib = 0;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      && (p = strstr (status, "VmHWM:")) != NULL)
    kib = g_ascii_strtoull (p + 6, NULL, 10);
  g_free (status);
  return kib;
}

static int
runner_main (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  Runner r = { 0 };
  GstBus *bus;
  guint watch;
  struct rusage ru;

  if (pipeline == NULL) {
    report ("@error parse: %s ", error ? error->message : "?");
    return 1;
  }
  r.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, runner_sync, NULL, NULL);
  watch = gst_bus_add_watch (bus, runner_bus, &r);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    report ("@error could not set the pipeline to PLAYING ");
  else
    /* Bounded by the parent, which kills us at its timeout. */
    g_main_loop_run (r.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_source_remove (watch);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (r.loop);
  getrusage (RUSAGE_SELF, &ru);
  report ("@stats %.3f %.3f %ld %" G_GUINT64_FORMAT " ",
      ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
      vm_hwm_kib ());
  return r.ok ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Parent                                                                   */

typedef struct {
  const gchar *self;
  const gchar *server_path;
  const gchar *throughput_path;
  gchar *dir;                   /* temporary, removed at exit */
  gchar *url;
  GSubprocess *server;
  guint blocksize;
  const gchar *distribution;    /* hangoutsink's, or NULL: its default */
  guint timeout_s;
  guint room_seq;
  gboolean verbose;
} Bench;

typedef struct {
  GSubprocess *proc;
  gchar *log_path;
  gchar *out;
  gboolean done;
  gboolean exited_ok;
  /* parsed */
  gint64 t_start, t_complete;
  gint64 size;
  gchar *sha256;
  gchar *error;
  gdouble cpu_user, cpu_sys;
  guint64 maxrss_kib, hwm_kib;
} Proc;

typedef struct {
  guint n;
  guint64 size;
  gdouble secs_last;            /* sink start → last receiver complete */
  gdouble *recv_mbps;           /* per receiver, own time */
  gdouble agg_mbps;             /* n · size / secs_last */
  gdouble sink_cpu, src_cpu_max;
  guint64 sink_rss_kib, src_rss_kib_max;
  gboolean ok;
} RoomResult;

static void
proc_parse (Proc * p)
{
  gchar **lines = g_strsplit (p->out ? p->out : "", "\n", -1);

  for (gchar ** l = lines; *l; l++) {
    gchar sha[65] = "";
    if (sscanf (*l, "@start %" G_GINT64_FORMAT, &p->t_start) == 1)
      continue;
    if (sscanf (*l, "@complete %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %64s",
            &p->t_complete, &p->size, sha) == 3) {
      g_free (p->sha256);
      p->sha256 = g_strdup (sha);
      continue;
    }
    if (g_str_has_prefix (*l, "@error ") && p->error == NULL)
      p->error = g_strdup (*l + 7);
    sscanf (*l, "@stats %lf %lf %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
        &p->cpu_user, &p->cpu_sys, &p->maxrss_kib, &p->hwm_kib);
  }
  g_strfreev (lines);
}

static void
proc_on_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Proc *p = user_data;
  GError *error = NULL;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res,
          &p->out, NULL, &error)) {
    p->error = g_strdup (error->message);
    g_clear_error (&error);
  }
  p->done = TRUE;
  g_main_context_wakeup (NULL);
}

static Proc *
proc_spawn (Bench * b, const gchar * description, const gchar * log_name)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  Proc *p = g_new0 (Proc, 1);
  GError *error = NULL;

  p->log_path = g_build_filename (b->dir, log_name, NULL);
  g_subprocess_launcher_set_stderr_file_path (l, p->log_path);
  p->proc = g_subprocess_launcher_spawn (l, &error, b->self, "--run",
      description, NULL);
  g_object_unref (l);
  if (p->proc == NULL) {
    p->error = g_strdup (error->message);
    p->done = TRUE;
    g_clear_error (&error);
    return p;
  }
  g_subprocess_communicate_utf8_async (p->proc, NULL, NULL, proc_on_done, p);
  return p;
}

static void
proc_free (Proc * p)
{
  if (p->proc)
    g_object_unref (p->proc);
  if (p->log_path)
    g_unlink (p->log_path);
  g_free (p->log_path);
  g_free (p->out);
  g_free (p->sha256);
  g_free (p->error);
  g_free (p);
}

static void
proc_print_log (Proc * p, const gchar * who)
{
  gchar *log = NULL;
  gsize len = 0;

  g_printerr ("--- %s: %s\n", who, p->error ? p->error : "(no error line)");
  if (p->log_path && g_file_get_contents (p->log_path, &log, &len, NULL)) {
    const gchar *tail = len > 3000 ? log + len - 3000 : log;
    g_printerr ("%s\n", tail);
  }
  g_free (log);
}

static gboolean
flag_set (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  g_main_context_wakeup (NULL);
  return G_SOURCE_REMOVE;
}

/* Waits for every process, at most timeout_s; kills (by pid) what is left. */
static gboolean
procs_wait (Proc ** procs, guint n, guint timeout_s)
{
  gboolean timed_out = FALSE, all;
  guint id = g_timeout_add_seconds (timeout_s, flag_set, &timed_out);

  for (;;) {
    all = TRUE;
    for (guint i = 0; i < n; i++)
      all = all && procs[i]->done;
    if (all || timed_out)
      break;
    g_main_context_iteration (NULL, TRUE);
  }
  if (!timed_out)
    g_source_remove (id);
  else {
    for (guint i = 0; i < n; i++)
      if (!procs[i]->done && procs[i]->proc)
        g_subprocess_force_exit (procs[i]->proc);
    /* The killed ones close their stdout: communicate completes. Bounded. */
    gboolean later = FALSE;
    id = g_timeout_add_seconds (10, flag_set, &later);
    for (;;) {
      all = TRUE;
      for (guint i = 0; i < n; i++)
        all = all && procs[i]->done;
      if (all || later)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
    if (!later)
      g_source_remove (id);
  }
  for (guint i = 0; i < n; i++) {
    if (procs[i]->proc && procs[i]->done && !timed_out)
      procs[i]->exited_ok = g_subprocess_wait_check (procs[i]->proc, NULL,
          NULL);
    proc_parse (procs[i]);
  }
  return !timed_out;
}

/* ---- files ---- */

static gchar *
sha256_file (const gchar * path)
{
  int fd = open (path, O_RDONLY);
  gsize bufsize = 1 << 20;
  guint8 *buf;
  guint8 digest[32];
  gnutls_hash_hd_t h;
  gchar *hex;
  ssize_t n;

  if (fd < 0)
    return NULL;
  buf = g_malloc (bufsize);
  gnutls_hash_init (&h, GNUTLS_DIG_SHA256);
  while ((n = read (fd, buf, bufsize)) > 0)
    gnutls_hash (h, buf, n);
  gnutls_hash_deinit (h, digest);
  close (fd);
  g_free (buf);
  if (n < 0)
    return NULL;
  hex = g_malloc (65);
  for (int i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

/* Random bytes (random: TRUE) or a sparse file of zeros. */
static gboolean
make_file (const gchar * path, guint64 size, gboolean random)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  gboolean ok = fd >= 0;

  if (ok && !random)
    ok = ftruncate (fd, size) == 0;
  if (ok && random) {
    gsize bufsize = 1 << 20;
    guint32 *buf = g_malloc (bufsize);
    GRand *rand = g_rand_new ();

    for (guint64 done = 0; ok && done < size;) {
      gsize n = MIN (bufsize, size - done);
      for (gsize i = 0; i < bufsize / 4; i++)
        buf[i] = g_rand_int (rand);
      ok = write (fd, buf, n) == (ssize_t) n;
      done += n;
    }
    g_rand_free (rand);
    g_free (buf);
  }
  if (fd >= 0)
    close (fd);
  return ok;
}

/* ---- the server ---- */

static gboolean
server_start (Bench * b)
{
  GError *error = NULL;
  GSubprocessLauncher *l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  gchar *log = g_build_filename (b->dir, "server.log", NULL);
  GDataInputStream *in;

  g_subprocess_launcher_set_stderr_file_path (l, log);
  g_free (log);
  b->server = g_subprocess_launcher_spawn (l, &error, b->server_path,
      "--port", "0", NULL);
  g_object_unref (l);
  if (b->server == NULL) {
    g_printerr ("cannot start %s: %s\n", b->server_path, error->message);
    g_clear_error (&error);
    return FALSE;
  }
  /* It prints its ws:// URL as its first line once it listens (or exits,
   * which ends the read). */
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->server));
  /* The pipe stays open: a server writing to a closed one would die. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in),
      FALSE);
  b->url = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
  g_object_unref (in);
  if (b->url == NULL) {
    g_printerr ("hangout-server printed no URL%s%s\n", error ? ": " : "",
        error ? error->message : "");
    g_clear_error (&error);
    return FALSE;
  }
  return TRUE;
}

static void
server_on_exit (GObject * source, GAsyncResult * res, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) user_data = TRUE;
  g_main_context_wakeup (NULL);
}

/* SIGTERM, at most 5 s for it to go, then SIGKILL. */
static void
server_stop (Bench * b)
{
  gboolean exited = FALSE, late = FALSE;
  guint id;

  if (b->server == NULL)
    return;
  g_subprocess_send_signal (b->server, SIGTERM);
  id = g_timeout_add_seconds (5, flag_set, &late);
  g_subprocess_wait_async (b->server, NULL, server_on_exit, &exited);
  while (!exited && !late)
    g_main_context_iteration (NULL, TRUE);
  if (!late)
    g_source_remove (id);
  if (!exited) {
    g_subprocess_force_exit (b->server);
    while (!exited)             /* SIGKILL: it goes */
      g_main_context_iteration (NULL, TRUE);
  }
  g_clear_object (&b->server);
}

/* ---- one room ---- */

/* @copies: NULL, or a directory the receivers write copy-I.bin into. */
static gboolean
run_room (Bench * b, const gchar * file, guint64 size, const gchar * sha,
    guint n, const gchar * copies, RoomResult * res)
{
  gchar *room = g_strdup_printf ("bench-%d-%u", (int) getpid (),
      ++b->room_seq);
  Proc **procs = g_new0 (Proc *, n + 1);
  gboolean ok = TRUE;
  gdouble last = 0;
  gchar *desc;

  memset (res, 0, sizeof *res);
  res->n = n;
  res->size = size;
  res->recv_mbps = g_new0 (gdouble, n);

  for (guint i = 0; i < n; i++) {
    gchar *sink = copies ? g_strdup_printf ("filesink location=%s/copy-%u.bin",
        copies, i + 1) : g_strdup ("fakesink");
    gchar *log = g_strdup_printf ("receiver-%u.log", i + 1);

    desc = g_strdup_printf ("hangoutsrc room=%s server=%s display-name=r%u "
        "join-timeout=60 ! %s", room, b->url, i + 1, sink);
    procs[i + 1] = proc_spawn (b, desc, log);
    g_free (desc);
    g_free (sink);
    g_free (log);
  }
  {
    gchar *bs = b->blocksize ? g_strdup_printf (" blocksize=%u",
        b->blocksize) : g_strdup ("");
    gchar *dist = b->distribution ? g_strdup_printf (" distribution=%s",
        b->distribution) : g_strdup ("");
    desc = g_strdup_printf ("filesrc location=%s%s ! hangoutsink room=%s "
        "server=%s display-name=sender min-peers=%u join-timeout=60 "
        "ack-timeout=%u%s", file, bs, room, b->url, n, b->timeout_s, dist);
    g_free (bs);
    g_free (dist);
  }
  procs[0] = proc_spawn (b, desc, "sender.log");
  g_free (desc);

  if (!procs_wait (procs, n + 1, b->timeout_s)) {
    g_printerr ("room %s: timed out after %u s, processes killed\n", room,
        b->timeout_s);
    ok = FALSE;
  }
  for (guint i = 0; i <= n; i++) {
    gchar *who = i ? g_strdup_printf ("receiver %u", i) : g_strdup ("sender");
    if (!procs[i]->exited_ok || procs[i]->error) {
      ok = FALSE;
      proc_print_log (procs[i], who);
    }
    g_free (who);
  }
  if (ok && procs[0]->t_start == 0) {
    g_printerr ("room %s: the sink reported no start\n", room);
    ok = FALSE;
  }
  for (guint i = 1; ok && i <= n; i++) {
    Proc *p = procs[i];
    gdouble secs = (p->t_complete - procs[0]->t_start) / 1e6;

    if (p->t_complete == 0 || p->size != (gint64) size
        || g_strcmp0 (p->sha256, sha) != 0) {
      g_printerr ("receiver %u: size %" G_GINT64_FORMAT ", SHA-256 %s; "
          "expected %" G_GUINT64_FORMAT ", %s\n", i, p->size, p->sha256,
          size, sha);
      ok = FALSE;
      break;
    }
    res->recv_mbps[i - 1] = secs > 0 ? size / secs / 1e6 : 0;
    last = MAX (last, secs);
    res->src_cpu_max = MAX (res->src_cpu_max, p->cpu_user + p->cpu_sys);
    res->src_rss_kib_max = MAX (res->src_rss_kib_max, p->maxrss_kib);
  }
  if (ok) {
    res->secs_last = last;
    res->agg_mbps = last > 0 ? n * (gdouble) size / last / 1e6 : 0;
    res->sink_cpu = procs[0]->cpu_user + procs[0]->cpu_sys;
    res->sink_rss_kib = procs[0]->maxrss_kib;
  }
  if (b->verbose)
    for (guint i = 0; i <= n; i++)
      g_printerr ("[%u] %s", i, procs[i]->out ? procs[i]->out : "");
  for (guint i = 0; i <= n; i++)
    proc_free (procs[i]);
  g_free (procs);
  g_free (room);
  res->ok = ok;
  return ok;
}

static void
room_result_clear (RoomResult * r)
{
  g_free (r->recv_mbps);
  r->recv_mbps = NULL;
}

/* The copies written by filesink have the source's digest; removed after. */
static gboolean
verify_copies (Bench * b, const gchar * file, guint64 size, const gchar * sha,
    guint n)
{
  gchar *copies = g_build_filename (b->dir, "copies", NULL);
  RoomResult res;
  gboolean ok;

  g_mkdir (copies, 0700);
  ok = run_room (b, file, size, sha, n, copies, &res);
  for (guint i = 1; i <= n; i++) {
    gchar *path = g_strdup_printf ("%s/copy-%u.bin", copies, i);
    gchar *got = ok ? sha256_file (path) : NULL;

    if (ok && g_strcmp0 (got, sha) != 0) {
      g_printerr ("copy %u: SHA-256 %s, expected %s\n", i, got, sha);
      ok = FALSE;
    }
    g_free (got);
    g_unlink (path);
    g_free (path);
  }
  g_rmdir (copies);
  g_free (copies);
  if (ok)
    g_print ("verified: %u copies written by filesink have SHA-256 %s "
        "(the source's)\n", n, sha);
  room_result_clear (&res);
  return ok;
}

/* ---- the raw stack: hangout-bench-throughput ---- */

static gboolean
run_raw (Bench * b, guint64 size, gdouble * mbps, gdouble * cpu)
{
  gchar *sz = g_strdup_printf ("%" G_GUINT64_FORMAT, size >> 20);
  gchar *out = NULL;
  GError *error = NULL;
  GSubprocess *p;
  gboolean ok = FALSE;

  /* It bounds its own runs (timeout 60 s + 1 s per MiB, children killed). */
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
      b->throughput_path, "--only", "hangout", "-s", sz, "-r", "1", NULL);
  if (p && g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error)) {
    gchar **lines = g_strsplit (out, "\n", -1);
    for (gchar ** l = lines; *l; l++) {
      gdouble secs, cs, cr, sum;
      if (sscanf (*l, "hangout %lf %lf %lf %lf %lf", mbps, &secs, &cs, &cr,
              &sum) == 5) {
        *cpu = sum;
        ok = TRUE;
      }
    }
    g_strfreev (lines);
  }
  if (!ok)
    g_printerr ("hangout-bench-throughput: %s\n%s\n",
        error ? error->message : "no result", out ? out : "");
  g_clear_error (&error);
  g_clear_object (&p);
  g_free (out);
  g_free (sz);
  return ok;
}

/* ---- modes ---- */

static gboolean
mode_fanout (Bench * b, const gchar * file, guint64 size, const gchar * sha,
    GArray * ns, guint repeat)
{
  gboolean all_ok = TRUE;

  g_print ("%-3s %-3s %9s %9s %9s %9s %8s %8s %8s %9s %9s\n", "N", "run",
      "recvMin", "recvMed", "recvMax", "aggMB/s", "lastSec", "CPUsink",
      "CPUsrc", "RSSsinkMB", "RSSsrcMB");
  for (guint k = 0; k < ns->len; k++) {
    guint n = g_array_index (ns, guint, k);
    gdouble *med = g_new0 (gdouble, repeat), *agg = g_new0 (gdouble, repeat);
    gdouble *mn = g_new0 (gdouble, repeat), *mx = g_new0 (gdouble, repeat);
    guint good = 0;

    for (guint r = 0; r < repeat; r++) {
      RoomResult res;

      if (run_room (b, file, size, sha, n, NULL, &res)) {
        gdouble *v = res.recv_mbps;
        gdouble lo = v[0], hi = v[0];
        for (guint i = 1; i < n; i++) {
          lo = MIN (lo, v[i]);
          hi = MAX (hi, v[i]);
        }
        med[good] = bench_median (v, n);
        mn[good] = lo;
        mx[good] = hi;
        agg[good] = res.agg_mbps;
        good++;
        g_print ("%-3u %-3u %9.1f %9.1f %9.1f %9.1f %8.2f %8.2f %8.2f %9.1f "
            "%9.1f\n", n, r + 1, lo, bench_median (v, n), hi, res.agg_mbps,
            res.secs_last, res.sink_cpu, res.src_cpu_max,
            res.sink_rss_kib / 1024.0, res.src_rss_kib_max / 1024.0);
      } else {
        g_print ("%-3u %-3u FAILED\n", n, r + 1);
        all_ok = FALSE;
      }
      room_result_clear (&res);
    }
    if (good > 0)
      g_print ("N=%u medians of %u: per-receiver %.1f MB/s (min %.1f, max "
          "%.1f), aggregate %.1f MB/s\n", n, good, bench_median (med, good),
          bench_median (mn, good), bench_median (mx, good), bench_median (agg, good));
    g_free (med);
    g_free (agg);
    g_free (mn);
    g_free (mx);
  }
  return all_ok;
}

static gboolean
mode_link (Bench * b, const gchar * file, guint64 size, const gchar * sha,
    guint repeat)
{
  gdouble *el = g_new0 (gdouble, repeat), *raw = g_new0 (gdouble, repeat);
  gdouble *elcpu = g_new0 (gdouble, repeat), *rawcpu = g_new0 (gdouble,
      repeat);
  guint ne = 0, nr = 0;
  gboolean ok = TRUE;

  g_print ("%-9s %-3s %9s %9s\n", "what", "run", "MB/s", "CPU-s");
  for (guint r = 0; r < repeat; r++) {
    RoomResult res;
    gdouble m, c;

    if (run_room (b, file, size, sha, 1, NULL, &res)) {
      el[ne] = res.recv_mbps[0];
      elcpu[ne] = res.sink_cpu + res.src_cpu_max;
      g_print ("%-9s %-3u %9.1f %9.2f\n", "elements", r + 1, el[ne],
          elcpu[ne]);
      ne++;
    } else {
      g_print ("elements  %-3u FAILED\n", r + 1);
      ok = FALSE;
    }
    room_result_clear (&res);
    if (run_raw (b, size, &m, &c)) {
      raw[nr] = m;
      rawcpu[nr] = c;
      g_print ("%-9s %-3u %9.1f %9.2f\n", "raw", r + 1, m, c);
      nr++;
    } else {
      g_print ("raw       %-3u FAILED\n", r + 1);
      ok = FALSE;
    }
  }
  if (ne && nr)
    g_print ("medians: elements %.1f MB/s (%.2f CPU-s), raw stack %.1f MB/s "
        "(%.2f CPU-s); elements/raw %.1f%%\n", bench_median (el, ne),
        bench_median (elcpu, ne), bench_median (raw, nr), bench_median (rawcpu, nr),
        100 * bench_median (el, ne) / bench_median (raw, nr));
  g_free (el);
  g_free (raw);
  g_free (elcpu);
  g_free (rawcpu);
  return ok;
}

static GArray *
parse_list (const gchar * text)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint));
  gchar **parts = g_strsplit (text, ",", -1);

  for (gchar ** p = parts; *p; p++) {
    guint v = (guint) g_ascii_strtoull (*p, NULL, 10);
    if (v > 0)
      g_array_append_val (a, v);
  }
  g_strfreev (parts);
  return a;
}

int
main (int argc, char **argv)
{
  gchar *mode = NULL, *run = NULL, *receivers = NULL, *sizes = NULL;
  gchar *server = NULL, *throughput = NULL, *distribution = NULL;
  gint size_mib = 256, repeat = 3, blocksize = 0, timeout_s = 0;
  gboolean no_verify = FALSE, verbose = FALSE;
  GOptionEntry entries[] = {
    {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
        "fanout (default), rss or link", "MODE"},
    {"size", 's', 0, G_OPTION_ARG_INT, &size_mib,
        "MiB of random bytes (fanout, link; default 256)", "MIB"},
    {"receivers", 'n', 0, G_OPTION_ARG_STRING, &receivers,
        "Room sizes for fanout (default 1,2,4,7)", "N,N,…"},
    {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes,
        "File sizes in MiB for rss, sparse files (default 256,4096)", "MIB,…"},
    {"repeat", 'r', 0, G_OPTION_ARG_INT, &repeat,
        "Runs of each case; medians are reported (default 3)", "R"},
    {"blocksize", 0, 0, G_OPTION_ARG_INT, &blocksize,
        "filesrc blocksize (default: filesrc's own, 4096)", "BYTES"},
    {"distribution", 0, 0, G_OPTION_ARG_STRING, &distribution,
        "hangoutsink's distribution (default: the element's)", "MODE"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
        "Seconds one room may take (default 60 + 1 per MiB)", "S"},
    {"no-verify", 0, 0, G_OPTION_ARG_NONE, &no_verify,
        "Skip the untimed room whose copies go to disk and are hashed", NULL},
    {"server", 0, 0, G_OPTION_ARG_STRING, &server,
        "hangout-server (default: the build tree's)", "PATH"},
    {"throughput", 0, 0, G_OPTION_ARG_STRING, &throughput,
        "hangout-bench-throughput (default: the build tree's)", "PATH"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
        "Print every process's report lines", NULL},
    {"run", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &run, NULL, NULL},
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *octx;
  GError *error = NULL;
  Bench b = { 0 };
  gboolean ok = TRUE;
  gchar *file, *sha;

  octx = g_option_context_new ("- hangoutsink and hangoutsrc in separate "
      "processes: 1 → N rooms, peak RSS, one link against the raw stack");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_add_group (octx, gst_init_get_option_group ());
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (octx);

  if (run)
    return runner_main (run);

  if (size_mib <= 0 || repeat <= 0 || blocksize < 0 || timeout_s < 0) {
    g_printerr ("--size and --repeat must be positive\n");
    return 2;
  }
  if (mode == NULL)
    mode = g_strdup ("fanout");
  if (!g_str_equal (mode, "fanout") && !g_str_equal (mode, "rss")
      && !g_str_equal (mode, "link")) {
    g_printerr ("--mode takes fanout, rss or link\n");
    return 2;
  }
  b.self = g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE)
      && strchr (argv[0], '/') ? argv[0] : "/proc/self/exe";
  b.self = g_canonicalize_filename (b.self, NULL);
  if (g_str_equal (b.self, "/proc/self/exe"))
    b.self = g_file_read_link ("/proc/self/exe", NULL);
  b.server_path = server ? server : HANGOUT_SERVER_PATH;
  b.throughput_path = throughput ? throughput : HANGOUT_BENCH_THROUGHPUT_PATH;
  b.blocksize = blocksize;
  b.distribution = distribution;
  b.verbose = verbose;
  b.dir = g_dir_make_tmp ("hangout-bench-XXXXXX", &error);
  if (b.dir == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (!server_start (&b)) {
    server_stop (&b);
    g_rmdir (b.dir);
    return 1;
  }
  file = g_build_filename (b.dir, "shared.bin", NULL);

  if (g_str_equal (mode, "rss")) {
    GArray *list = parse_list (sizes ? sizes : "256,4096");

    g_print ("peak RSS (getrusage ru_maxrss, after the pipeline stopped) of "
        "one sink and one source process, sparse files, fakesink\n");
    g_print ("%-8s %-3s %8s %10s %10s %8s %8s\n", "MiB", "run", "MB/s",
        "RSSsinkMiB", "RSSsrcMiB", "CPUsink", "CPUsrc");
    for (guint k = 0; ok && k < list->len; k++) {
      guint64 size = (guint64) g_array_index (list, guint, k) << 20;

      b.timeout_s = timeout_s ? (guint) timeout_s : 60 + (size >> 20);
      if (!make_file (file, size, FALSE)
          || (sha = sha256_file (file)) == NULL) {
        g_printerr ("cannot make %s\n", file);
        ok = FALSE;
        break;
      }
      for (gint r = 0; r < repeat; r++) {
        RoomResult res;
        if (run_room (&b, file, size, sha, 1, NULL, &res))
          g_print ("%-8" G_GUINT64_FORMAT " %-3d %8.1f %10.1f %10.1f %8.2f "
              "%8.2f\n", size >> 20, r + 1, res.recv_mbps[0],
              res.sink_rss_kib / 1024.0, res.src_rss_kib_max / 1024.0,
              res.sink_cpu, res.src_cpu_max);
        else {
          g_print ("%-8" G_GUINT64_FORMAT " %-3d FAILED\n", size >> 20, r + 1);
          ok = FALSE;
        }
        room_result_clear (&res);
      }
      g_free (sha);
      g_unlink (file);
    }
    g_array_unref (list);
  } else {
    guint64 size = (guint64) size_mib << 20;

    b.timeout_s = timeout_s ? (guint) timeout_s : 60 + (size >> 20);
    g_print ("%" G_GUINT64_FORMAT " MiB of random bytes (%" G_GUINT64_FORMAT
        " B), filesrc blocksize %u, receivers to fakesink; MB/s = 10^6 B/s; "
        "time from the sink's hangout-send start\n", size >> 20, size,
        blocksize ? (guint) blocksize : 4096);
    if (!make_file (file, size, TRUE) || (sha = sha256_file (file)) == NULL) {
      g_printerr ("cannot make %s\n", file);
      ok = FALSE;
    } else {
      if (!no_verify)
        ok = verify_copies (&b, file, size, sha, 2);
      if (ok && g_str_equal (mode, "fanout")) {
        GArray *ns = parse_list (receivers ? receivers : "1,2,4,7");
        ok = mode_fanout (&b, file, size, sha, ns, repeat);
        g_array_unref (ns);
      } else if (ok)
        ok = mode_link (&b, file, size, sha, repeat);
      g_free (sha);
    }
    g_unlink (file);
  }

  server_stop (&b);
  {
    gchar *log = g_build_filename (b.dir, "server.log", NULL);
    g_unlink (log);
    g_free (log);
  }
  g_free (file);
  if (g_rmdir (b.dir) != 0)
    g_printerr ("could not remove %s\n", b.dir);
  g_free (b.dir);
  g_free (b.url);
  g_free (mode);
  g_free (receivers);
  g_free (sizes);
  g_free (server);
  g_free (throughput);
  g_free (distribution);
  return ok ? 0 : 1;
}
