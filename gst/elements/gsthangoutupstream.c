/* gst-hangout — the stream hangoutsink is fed: names, size, liveness, the
 * spool and the segments (gsthangoutupstream.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutupstream.h"
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_hangout_upstream_debug);
#define GST_CAT_DEFAULT gst_hangout_upstream_debug

/* What a spooled file is read back in. */
#define SPOOL_READ_SIZE (256 * 1024)

G_DEFINE_ENUM_TYPE (GstHangoutSinkNextFile, gst_hangout_sink_next_file,
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_STREAM, "stream"),
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_BUFFER, "buffer"))

G_DEFINE_ENUM_TYPE (GstHangoutSinkSpool, gst_hangout_sink_spool,
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_SPOOL_AUTO, "auto"),
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_SPOOL_NEVER, "never"))

struct _GstHangoutUpstream {
  GstBaseSink *sink;            /* not a reference: it owns us */

  /* Properties, under the sink's object lock. */
  gchar *filename;
  GstHangoutSinkNextFile next_file;
  GstHangoutSinkSpool spool_mode;

  /* Streaming thread. */
  guint files;                  /* files ended since the reset */
  /* The current file: where it began in upstream's bytes (concat counts
   * on from the stream before), and the spool that holds it when it is
   * offered at its end. */
  guint64 start;
  GstHangoutSpool *spool;
  gboolean damaged;
};

#define PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS \
    | GST_PARAM_MUTABLE_READY)

void
gst_hangout_upstream_install_properties (GObjectClass *klass)
{
  /* The sink's class_init: once, before any object is made. */
  GST_DEBUG_CATEGORY_INIT (gst_hangout_upstream_debug, "hangoutupstream", 0,
      "hangoutsink: the stream it is fed");
  g_object_class_install_property (klass, GST_HANGOUT_UPSTREAM_PROP_FILENAME,
      g_param_spec_string ("filename", "File name",
          "Name the file is announced with (NULL: the base name of the "
          "upstream URI, e.g. filesrc's location, else hangout-DATE.bin); "
          "with several files, a %d in it becomes the file's number (from "
          "0, as in multifilesrc's location), else the second and later get "
          "-N before the extension", NULL, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_UPSTREAM_PROP_NEXT_FILE,
      g_param_spec_enum ("next-file", "Next file",
          "When to begin sharing another file: at each new stream (a "
          "stream-start event after the first) or at each buffer (a whole "
          "file each, as multifilesrc makes them)",
          GST_TYPE_HANGOUT_SINK_NEXT_FILE, GST_HANGOUT_SINK_NEXT_FILE_STREAM,
          PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_UPSTREAM_PROP_SPOOL,
      g_param_spec_enum ("spool", "Spool",
          "auto: a stream whose size upstream cannot tell and that is not "
          "live (a muxer's, which may seek back to rewrite its header) is "
          "held in a temporary file in $TMPDIR until its end, then offered "
          "with its size, so that members get exactly what a filesink "
          "would have written; never: share every byte as it arrives "
          "(upstream rewriting bytes already sent fails the file)",
          GST_TYPE_HANGOUT_SINK_SPOOL, GST_HANGOUT_SINK_SPOOL_AUTO,
          PARAM_FLAGS));
}

GstHangoutUpstream *
gst_hangout_upstream_new (GstBaseSink *sink)
{
  GstHangoutUpstream *upstream = g_new0 (GstHangoutUpstream, 1);

  upstream->sink = sink;
  upstream->next_file = GST_HANGOUT_SINK_NEXT_FILE_STREAM;
  upstream->spool_mode = GST_HANGOUT_SINK_SPOOL_AUTO;
  return upstream;
}

void
gst_hangout_upstream_free (GstHangoutUpstream *upstream)
{
  gst_hangout_upstream_reset (upstream);
  g_free (upstream->filename);
  g_free (upstream);
}

gboolean
gst_hangout_upstream_set_property (GstHangoutUpstream *upstream,
    guint prop_id, const GValue *value)
{
  gboolean known = TRUE;

  GST_OBJECT_LOCK (upstream->sink);
  switch (prop_id) {
    case GST_HANGOUT_UPSTREAM_PROP_FILENAME:
      g_free (upstream->filename);
      upstream->filename = g_value_dup_string (value);
      break;
    case GST_HANGOUT_UPSTREAM_PROP_NEXT_FILE:
      upstream->next_file = g_value_get_enum (value);
      break;
    case GST_HANGOUT_UPSTREAM_PROP_SPOOL:
      upstream->spool_mode = g_value_get_enum (value);
      break;
    default:
      known = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (upstream->sink);
  return known;
}

gboolean
gst_hangout_upstream_get_property (GstHangoutUpstream *upstream,
    guint prop_id, GValue *value)
{
  gboolean known = TRUE;

  GST_OBJECT_LOCK (upstream->sink);
  switch (prop_id) {
    case GST_HANGOUT_UPSTREAM_PROP_FILENAME:
      g_value_set_string (value, upstream->filename);
      break;
    case GST_HANGOUT_UPSTREAM_PROP_NEXT_FILE:
      g_value_set_enum (value, upstream->next_file);
      break;
    case GST_HANGOUT_UPSTREAM_PROP_SPOOL:
      g_value_set_enum (value, upstream->spool_mode);
      break;
    default:
      known = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (upstream->sink);
  return known;
}

void
gst_hangout_upstream_reset (GstHangoutUpstream *upstream)
{
  g_clear_pointer (&upstream->spool, gst_hangout_spool_free);
  upstream->files = 0;
  upstream->start = 0;
  upstream->damaged = FALSE;
}

gboolean
gst_hangout_upstream_buffer_is_file (GstHangoutUpstream *upstream)
{
  gboolean each_buffer;

  GST_OBJECT_LOCK (upstream->sink);
  each_buffer = upstream->next_file == GST_HANGOUT_SINK_NEXT_FILE_BUFFER;
  GST_OBJECT_UNLOCK (upstream->sink);
  return each_buffer;
}

guint
gst_hangout_upstream_count_files (GstHangoutUpstream *upstream)
{
  return upstream->files;
}

void
gst_hangout_upstream_end_file (GstHangoutUpstream *upstream)
{
  upstream->files++;
  upstream->start = 0;
}

/* The name of the file numbered @index of this stream (takes @name): a
 * "%d" (or "%05d") in it, as multifilesrc's and multifilesink's locations
 * have, becomes the number; otherwise files after the first get "-N"
 * before the extension. */
static gchar *
number_filename (gchar *name, guint index)
{
  const gchar *percent = strchr (name, '%');
  const gchar *end = percent;
  const gchar *dot;
  gchar *numbered;

  if (percent != NULL) {
    guint width = 0;

    for (end = percent + 1; g_ascii_isdigit (*end); end++)
      width = MIN (width * 10 + (guint) (*end - '0'), 20);
    if (*end == 'd' && strchr (end + 1, '%') == NULL) {
      numbered = g_strdup_printf ("%.*s%0*u%s", (int) (percent - name), name,
          (int) width, index, end + 1);
      g_free (name);
      return numbered;
    }
  }
  if (index == 0)
    return name;
  dot = strrchr (name, '.');
  if (dot == NULL || dot == name)
    dot = name + strlen (name);
  numbered = g_strdup_printf ("%.*s-%u%s", (int) (dot - name), name, index,
      dot);
  g_free (name);
  return numbered;
}

gchar *
gst_hangout_upstream_choose_filename (GstHangoutUpstream *upstream)
{
  gchar *name = NULL;
  GstQuery *query;

  GST_OBJECT_LOCK (upstream->sink);
  name = g_strdup (upstream->filename);
  GST_OBJECT_UNLOCK (upstream->sink);
  if (name != NULL && *name != '\0')
    return number_filename (name, upstream->files);
  g_free (name);
  name = NULL;

  query = gst_query_new_uri ();
  if (gst_pad_peer_query (GST_BASE_SINK_PAD (upstream->sink), query)) {
    g_autofree gchar *uri = NULL;
    g_autoptr (GUri) parsed = NULL;

    gst_query_parse_uri (query, &uri);
    parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL) : NULL;
    if (parsed != NULL) {
      g_autofree gchar *path = g_uri_unescape_string (g_uri_get_path (parsed),
          NULL);

      if (path != NULL) {
        name = g_path_get_basename (path);
        if (g_str_equal (name, "/") || g_str_equal (name, ".")) {
          g_free (name);
          name = NULL;
        }
      }
    }
  }
  gst_query_unref (query);
  if (name == NULL) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

    name = g_date_time_format (now, "hangout-%Y%m%d-%H%M%S.bin");
  }
  return number_filename (name, upstream->files);
}

/* Known for sure only from a byte source that can seek (a file). Others
 * answer a duration too, an estimate from upstream's bitrate (matroskamux:
 * 3,456,000 bytes for 30 frames it writes in a few KB), and announcing it
 * would make every receiver fail the file; -1 then, the protocol's null. */
gint64
gst_hangout_upstream_query_size (GstHangoutUpstream *upstream)
{
  GstPad *pad = GST_BASE_SINK_PAD (upstream->sink);
  GstQuery *query;
  gboolean seekable = FALSE;
  gint64 size = -1;

  /* Queries answer for the whole stream: only its first file's size is
   * known (concat answers the first input's duration for the next). */
  if (upstream->files > 0)
    return -1;
  query = gst_query_new_seeking (GST_FORMAT_BYTES);
  if (gst_pad_peer_query (pad, query))
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
  gst_query_unref (query);
  if (!seekable || !gst_pad_peer_query_duration (pad, GST_FORMAT_BYTES, &size)
      || size < 0)
    return -1;
  return size;
}

/* Upstream is live: its stream is made as it goes, and is shared so. */
static gboolean
upstream_live (GstHangoutUpstream *upstream)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (GST_BASE_SINK_PAD (upstream->sink), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  return live;
}

/* Upstream may rewrite the file (its size is unknown, it is not live),
 * and each buffer is not a file of its own. */
gboolean
gst_hangout_upstream_wants_spool (GstHangoutUpstream *upstream, gint64 size)
{
  gboolean spool;

  GST_OBJECT_LOCK (upstream->sink);
  spool = upstream->spool_mode == GST_HANGOUT_SINK_SPOOL_AUTO
      && upstream->next_file == GST_HANGOUT_SINK_NEXT_FILE_STREAM;
  GST_OBJECT_UNLOCK (upstream->sink);
  return spool && size < 0 && !upstream_live (upstream);
}

gboolean
gst_hangout_upstream_begin_spool (GstHangoutUpstream *upstream)
{
  g_autoptr (GError) error = NULL;

  upstream->spool = gst_hangout_spool_new (upstream->start, &error);
  if (upstream->spool == NULL) {
    GST_ELEMENT_ERROR (upstream->sink, RESOURCE, OPEN_WRITE,
        ("Cannot hold this file until its end (spool)"), ("%s",
            error->message));
    return FALSE;
  }
  GST_INFO_OBJECT (upstream->sink, "upstream may rewrite this file: holding "
      "it until its end");
  return TRUE;
}

gboolean
gst_hangout_upstream_is_spooling (GstHangoutUpstream *upstream)
{
  return upstream->spool != NULL;
}

gboolean
gst_hangout_upstream_spool_write (GstHangoutUpstream *upstream,
    const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (gst_hangout_spool_write (upstream->spool, data, len, &error))
    return TRUE;
  GST_ELEMENT_ERROR (upstream->sink, RESOURCE, WRITE,
      ("Cannot hold this file until its end (spool)"), ("%s",
          error->message));
  return FALSE;
}

GstHangoutSpool *
gst_hangout_upstream_take_spool (GstHangoutUpstream *upstream)
{
  return g_steal_pointer (&upstream->spool);
}

GstFlowReturn
gst_hangout_upstream_drain_spool (GstHangoutUpstream *upstream,
    GstHangoutSpool *spool,
    GstFlowReturn (*send) (const guint8 *data, gsize len, gpointer user_data),
    gpointer user_data)
{
  g_autofree guint8 *data = g_malloc (SPOOL_READ_SIZE);
  guint64 size = gst_hangout_spool_get_size (spool);

  for (guint64 offset = 0; offset < size;) {
    g_autoptr (GError) error = NULL;
    gssize n = gst_hangout_spool_read (spool, offset, data, SPOOL_READ_SIZE,
        &error);
    GstFlowReturn ret;

    if (n <= 0) {
      GST_ELEMENT_ERROR (upstream->sink, RESOURCE, READ,
          ("Cannot read back the file held until its end (spool)"), ("%s",
              error ? error->message : "it is shorter than written"));
      return GST_FLOW_ERROR;
    }
    if ((ret = send (data, n, user_data)) != GST_FLOW_OK)
      return ret;
    offset += n;
  }
  return GST_FLOW_OK;
}

/* filesink seeks where a byte segment says: into a spool that is fine;
 * bytes already sent cannot be taken back. */
gboolean
gst_hangout_upstream_follow_segment (GstHangoutUpstream *upstream,
    const GstSegment *segment, gboolean has_file, guint64 sent)
{
  if (segment->format != GST_FORMAT_BYTES)
    return TRUE;
  if (upstream->spool != NULL)
    return gst_hangout_spool_seek (upstream->spool, segment->start);
  if (!has_file) {
    upstream->start = segment->start;
    return TRUE;
  }
  if (segment->start == upstream->start + sent)
    return TRUE;
  GST_ELEMENT_ERROR (upstream->sink, STREAM, FAILED,
      ("Upstream moves to byte %" G_GINT64_FORMAT " of this file after "
          "%" G_GUINT64_FORMAT " bytes were sent, which members cannot "
          "follow", (gint64) (segment->start - upstream->start), sent),
      ("a stream of a known size or live is shared as it arrives; "
          "spool=auto holds other streams until their end"));
  upstream->damaged = TRUE;
  return FALSE;
}

gboolean
gst_hangout_upstream_is_damaged (GstHangoutUpstream *upstream)
{
  return upstream->damaged;
}

void
gst_hangout_upstream_new_stream (GstHangoutUpstream *upstream)
{
  upstream->damaged = FALSE;
}

/* A muxer asks whether it may seek back to rewrite what it wrote: it may
 * when the file is held until its end. */
void
gst_hangout_upstream_answer_seeking (GstHangoutUpstream *upstream,
    GstQuery *query, gboolean has_file)
{
  GstFormat format;

  gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
  gst_query_set_seeking (query, format, format == GST_FORMAT_BYTES
      && (upstream->spool != NULL || (!has_file
              && gst_hangout_upstream_wants_spool (upstream,
                  gst_hangout_upstream_query_size (upstream)))), 0, -1);
}
