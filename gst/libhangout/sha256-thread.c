/* gst-hangout — HangoutSha256Thread (sha256-thread-private.h): the
 * SHA-256 of a whole file, off the data path.
 *
 * Both ends hash every byte of a file on the path of the data: the sender
 * in its streaming thread, which also runs the SCTP and DTLS send path, the
 * receiver on the room's network thread, which runs the receive path. Two
 * choices keep the hash off those threads' time:
 *
 * - GnuTLS (Nettle) computes it, with the CPU's SHA extensions where there
 *   are some: about 2 GB/s with SHA-NI here, against 0.5 GB/s for GLib's
 *   portable GChecksum, which is slower than the link on loopback.
 *   GChecksum remains the fallback should GnuTLS refuse the digest.
 * - The messages themselves (GBytes, immutable) are hashed by a thread of
 *   the file's own, in order, so that on a multi-core machine the hash
 *   overlaps with the transport instead of adding to it. At most
 *   HASH_BACKLOG bytes wait for it; beyond that the caller waits (as if it
 *   hashed itself), so memory stays bounded whatever the file size. The
 *   digest is read once the thread has caught up.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sha256-thread-private.h"
#include <gnutls/crypto.h>

#define HASH_BACKLOG (2 * 1024 * 1024)
/* The thread is woken once this much has gathered (or the file ends), not
 * for every message: a wake-up costs more than hashing a small message. */
#define HASH_BATCH (256 * 1024)

typedef struct {
  GBytes *bytes;
  gsize offset;
  gsize len;
} HashItem;

struct _HangoutSha256Thread {
  gnutls_hash_hd_t hd;          /* NULL: glib is used */
  GChecksum *glib;
  gchar hex[65];                /* once finished */
  gboolean finished;

  GThread *thread;              /* started with the first bytes */
  GMutex lock;
  GCond cond;
  GQueue queue;                 /* HashItem, in file order */
  gsize backlog;                /* bytes in queue or being hashed */
  gboolean worker_idle;         /* the thread waits for a batch */
  gboolean producer_blocked;    /* the caller waits for the backlog */
  gboolean stop;                /* no more items: exit once drained */
  gboolean discard;             /* exit at once */
};

HangoutSha256Thread *
hangout_sha256_thread_new (void)
{
  HangoutSha256Thread *sha = g_new0 (HangoutSha256Thread, 1);

  if (gnutls_hash_init (&sha->hd, GNUTLS_DIG_SHA256) < 0) {
    sha->hd = NULL;
    sha->glib = g_checksum_new (G_CHECKSUM_SHA256);
  }
  g_mutex_init (&sha->lock);
  g_cond_init (&sha->cond);
  g_queue_init (&sha->queue);
  return sha;
}

static void
hash_item_free (HashItem *item)
{
  g_bytes_unref (item->bytes);
  g_free (item);
}

static gpointer
hash_thread (gpointer data)
{
  HangoutSha256Thread *sha = data;
  HashItem *item;

  g_mutex_lock (&sha->lock);
  for (;;) {
    if (g_queue_is_empty (&sha->queue)) {
      while (sha->backlog < HASH_BATCH && !sha->stop && !sha->discard) {
        sha->worker_idle = TRUE;
        g_cond_wait (&sha->cond, &sha->lock);
        sha->worker_idle = FALSE;
      }
    }
    if (sha->discard || (sha->stop && g_queue_is_empty (&sha->queue)))
      break;
    item = g_queue_pop_head (&sha->queue);
    g_mutex_unlock (&sha->lock);
    {
      const guint8 *bytes = (const guint8 *) g_bytes_get_data (item->bytes,
          NULL) + item->offset;

      if (sha->hd != NULL)
        gnutls_hash (sha->hd, bytes, item->len);
      else
        g_checksum_update (sha->glib, bytes, item->len);
    }
    g_mutex_lock (&sha->lock);
    sha->backlog -= item->len;
    hash_item_free (item);
    if (sha->producer_blocked && sha->backlog <= HASH_BACKLOG)
      g_cond_signal (&sha->cond);
  }
  g_mutex_unlock (&sha->lock);
  return NULL;
}

/* Hashes @len bytes of @bytes from @offset, after everything given before.
 * Waits while more than HASH_BACKLOG bytes are still to be hashed. */
void
hangout_sha256_thread_update (HangoutSha256Thread *sha, GBytes *bytes,
    gsize offset, gsize len)
{
  HashItem *item;

  g_return_if_fail (!sha->finished);
  if (len == 0)
    return;
  if (sha->thread == NULL)
    sha->thread = g_thread_new ("hangout-sha256", hash_thread, sha);
  item = g_new (HashItem, 1);
  item->bytes = g_bytes_ref (bytes);
  item->offset = offset;
  item->len = len;
  g_mutex_lock (&sha->lock);
  while (sha->backlog > HASH_BACKLOG) {
    sha->producer_blocked = TRUE;
    g_cond_wait (&sha->cond, &sha->lock);
    sha->producer_blocked = FALSE;
  }
  g_queue_push_tail (&sha->queue, item);
  sha->backlog += len;
  /* Only one of the two ever waits: the caller while the backlog is full,
   * the thread while it is nearly empty. */
  if (sha->worker_idle && sha->backlog >= HASH_BATCH)
    g_cond_signal (&sha->cond);
  g_mutex_unlock (&sha->lock);
}

/* Ends the thread: once it has hashed everything (@discard FALSE), or at
 * once, dropping what waits. */
static void
hash_join (HangoutSha256Thread *sha, gboolean discard)
{
  if (sha->thread == NULL)
    return;
  g_mutex_lock (&sha->lock);
  sha->stop = TRUE;
  sha->discard = discard;
  g_cond_broadcast (&sha->cond);
  g_mutex_unlock (&sha->lock);
  g_thread_join (sha->thread);
  sha->thread = NULL;
  g_queue_clear_full (&sha->queue, (GDestroyNotify) hash_item_free);
  sha->backlog = 0;
}

/* Lower-case hex; the digest is final from then on, as GChecksum's. */
const gchar *
hangout_sha256_thread_get_string (HangoutSha256Thread *sha)
{
  if (!sha->finished) {
    hash_join (sha, FALSE);
    if (sha->hd != NULL) {
      guint8 digest[32];
      gsize i;

      gnutls_hash_deinit (sha->hd, digest);
      sha->hd = NULL;
      for (i = 0; i < sizeof digest; i++)
        g_snprintf (sha->hex + 2 * i, 3, "%02x", digest[i]);
    } else {
      g_strlcpy (sha->hex, g_checksum_get_string (sha->glib), sizeof sha->hex);
    }
    sha->finished = TRUE;
  }
  return sha->hex;
}

void
hangout_sha256_thread_free (HangoutSha256Thread *sha)
{
  if (sha == NULL)
    return;
  hash_join (sha, TRUE);
  if (sha->hd != NULL)
    gnutls_hash_deinit (sha->hd, NULL);
  if (sha->glib != NULL)
    g_checksum_free (sha->glib);
  g_mutex_clear (&sha->lock);
  g_cond_clear (&sha->cond);
  g_free (sha);
}
