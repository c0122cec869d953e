/* gst-hangout — the SHA-256 of a whole file, hashed by a thread of its
 * own as the file's bytes pass (private; sha256-thread.c says why).
 *
 * One producer thread at a time; not for a digest the caller needs
 * before the file ends.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HangoutSha256Thread HangoutSha256Thread;

G_GNUC_INTERNAL HangoutSha256Thread *hangout_sha256_thread_new (void);
/* Hashes @len bytes of @bytes from @offset, after everything given
 * before (keeps a reference to @bytes until then). Waits while more than
 * a bounded backlog is still to be hashed. */
G_GNUC_INTERNAL void hangout_sha256_thread_update (HangoutSha256Thread *sha,
    GBytes *bytes, gsize offset, gsize len);
/* The digest in lower-case hex, once the thread caught up; final from
 * then on (owned by @sha). */
G_GNUC_INTERNAL const gchar *hangout_sha256_thread_get_string
    (HangoutSha256Thread *sha);
/* Drops what still waits to be hashed. */
G_GNUC_INTERNAL void hangout_sha256_thread_free (HangoutSha256Thread *sha);

G_END_DECLS
