/* gst-hangout — fuzz target: the file transfer receiver
 * (hangout_transfer_receiver_handle) fed a sequence of messages from a few
 * members, with members leaving and files declined in between.
 *
 * The input is a sequence of records: one byte, then for the kinds that
 * carry bytes a 16-bit big-endian length and that many bytes. In the byte,
 * bits 4-5 pick the member (one of four) and bits 0-2 the kind:
 *   0, 6  a text message: the bytes, as a control message
 *   1, 7  a binary message: the bytes, as a data message
 *   2     a data message for the member's latest offered file, at the
 *         offset the receiver expects, the bytes as payload
 *   3     the end of the member's latest file, with the size and SHA-256 of
 *         what was fed (what a sender that sent it all would say)
 *   4     the member leaves (hangout_transfer_receiver_member_left);
 *         with bit 3 set, every file not held stalls instead
 *         (hangout_transfer_receiver_expire with no time left)
 *   5     the member's latest file is declined (..._receiver_reject);
 *         with bit 3 set, the member's files are held, or released if
 *         they were (hangout_transfer_receiver_set_held)
 * Kinds 2 and 3 let the fuzzer get through a whole file without guessing a
 * file id in binary or a digest.
 *
 * Alongside, the target keeps its own account of each file from the
 * events, and checks the receiver against it: STARTED only for a file not
 * in progress; DATA only for a started, not declined file, at the offset
 * where the previous data ended; COMPLETE only for a started file, with
 * the size and SHA-256 of exactly the data reported, and an ack that says
 * so; nothing more of a file after FAILED or COMPLETE; after the member
 * left, or the stall, a FAILED for each file in progress it dropped, none
 * for one declined.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/transfer.h>
#include <string.h>

#define N_MEMBERS 4
#define MAX_RECORDS 256

static const gchar *const members[N_MEMBERS] = {
  "member-0", "member-1", "member-2", "member-3",
};

typedef struct {
  gchar *member;
  gchar *id;
  GChecksum *sha256;            /* of the payloads of every DATA event */
  guint64 received;
  gboolean rejected;
  gboolean held;
} File;

static void
file_free (File *file)
{
  g_free (file->member);
  g_free (file->id);
  g_checksum_free (file->sha256);
  g_free (file);
}

typedef struct {
  HangoutTransferReceiver *receiver;
  GHashTable *files;            /* "member/id" → File */
  gchar *latest[N_MEMBERS];     /* id of each member's latest started file */
  gboolean held[N_MEMBERS];     /* as last set for the member's files */
} State;

static gchar *
key_of (const gchar *member, const gchar *id)
{
  return g_strconcat (member, "/", id, NULL);
}

static File *
lookup (State *state, const gchar *member, const gchar *id)
{
  g_autofree gchar *key = key_of (member, id);

  return g_hash_table_lookup (state->files, key);
}

static void
forget (State *state, const gchar *member, const gchar *id)
{
  g_autofree gchar *key = key_of (member, id);

  g_hash_table_remove (state->files, key);
}

static gchar *
digest_of (File *file)
{
  g_autoptr (GChecksum) copy = g_checksum_copy (file->sha256);

  return g_strdup (g_checksum_get_string (copy));
}

static void
check_event (State *state, const gchar *member, HangoutTransferEvent *event)
{
  File *file;

  if (event->type == HANGOUT_TRANSFER_EVENT_NONE)
    return;
  FUZZ_CHECK (g_strcmp0 (event->member, member) == 0 && event->id != NULL);
  file = lookup (state, member, event->id);
  switch (event->type) {
    case HANGOUT_TRANSFER_EVENT_STARTED:
      /* A declined file is forgotten silently at its end or abort. */
      FUZZ_CHECK (file == NULL || file->rejected);
      file = g_new0 (File, 1);
      file->member = g_strdup (member);
      file->id = g_strdup (event->id);
      file->sha256 = g_checksum_new (G_CHECKSUM_SHA256);
      g_hash_table_insert (state->files, key_of (member, event->id), file);
      for (guint i = 0; i < N_MEMBERS; i++)
        if (g_str_equal (members[i], member)) {
          g_free (state->latest[i]);
          state->latest[i] = g_strdup (event->id);
        }
      break;
    case HANGOUT_TRANSFER_EVENT_DATA:{
      gsize len;
      const guint8 *payload = g_bytes_get_data (event->payload, &len);

      FUZZ_CHECK (file != NULL && !file->rejected);
      FUZZ_CHECK (event->offset == file->received && len > 0);
      g_checksum_update (file->sha256, payload, len);
      file->received += len;
      break;
    }
    case HANGOUT_TRANSFER_EVENT_COMPLETE:{
      g_autofree gchar *digest = NULL;
      HangoutTransferControl ack;

      FUZZ_CHECK (file != NULL && !file->rejected);
      digest = digest_of (file);
      FUZZ_CHECK (event->size >= 0 && (guint64) event->size == file->received);
      FUZZ_CHECK (g_strcmp0 (event->sha256, digest) == 0);
      FUZZ_CHECK (event->reply != NULL);
      FUZZ_CHECK (hangout_transfer_parse_control (event->reply,
              strlen (event->reply), &ack, NULL));
      FUZZ_CHECK (ack.type == HANGOUT_TRANSFER_ACK && ack.ok
          && g_strcmp0 (ack.id, event->id) == 0
          && g_strcmp0 (ack.sha256, digest) == 0);
      hangout_transfer_control_clear (&ack);
      forget (state, member, event->id);
      break;
    }
    case HANGOUT_TRANSFER_EVENT_FAILED:
      FUZZ_CHECK (event->error != NULL);
      forget (state, member, event->id);
      break;
    case HANGOUT_TRANSFER_EVENT_NONE:
      break;
  }
}

static void
feed (State *state, const gchar *member, gboolean is_string, GBytes *message)
{
  HangoutTransferEvent event;
  g_autoptr (GError) error = NULL;

  if (hangout_transfer_receiver_handle (state->receiver, member, is_string,
          message, &event, &error)) {
    FUZZ_CHECK (error == NULL);
    check_event (state, member, &event);
  } else {
    FUZZ_CHECK (error != NULL && event.type == HANGOUT_TRANSFER_EVENT_NONE);
  }
  hangout_transfer_event_clear (&event);
}

/* Checks the events of a member leaving (@m) or of a stall (@m < 0), and
 * forgets what the receiver dropped: the member's files, or all not held. */
static void
check_dropped (State *state, gint m, GPtrArray *events)
{
  GHashTableIter iter;
  File *file;

  for (guint i = 0; i < events->len; i++) {
    HangoutTransferEvent *event = g_ptr_array_index (events, i);

    FUZZ_CHECK (event->type == HANGOUT_TRANSFER_EVENT_FAILED
        && event->member != NULL && event->id != NULL);
    file = lookup (state, event->member, event->id);
    /* Failed and declined files go silently. */
    FUZZ_CHECK (file != NULL && !file->rejected);
    if (m >= 0) {
      FUZZ_CHECK (g_str_equal (event->member, members[m]));
    } else {
      HangoutTransferControl reject;

      /* The sender is still there: told by a reject. */
      FUZZ_CHECK (!file->held && event->reply != NULL);
      FUZZ_CHECK (hangout_transfer_parse_control (event->reply,
              strlen (event->reply), &reject, NULL));
      FUZZ_CHECK (reject.type == HANGOUT_TRANSFER_REJECT
          && g_strcmp0 (reject.id, event->id) == 0);
      hangout_transfer_control_clear (&reject);
    }
    check_event (state, event->member, event);
  }
  g_hash_table_iter_init (&iter, state->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & file))
    if (m >= 0 ? g_str_equal (file->member, members[m]) : !file->held)
      g_hash_table_iter_remove (&iter);
}

static void
set_held (State *state, guint m)
{
  GHashTableIter iter;
  File *file;

  state->held[m] = !state->held[m];
  hangout_transfer_receiver_set_held (state->receiver, members[m],
      state->held[m]);
  g_hash_table_iter_init (&iter, state->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & file))
    if (g_str_equal (file->member, members[m]))
      file->held = state->held[m];
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  State state = { 0 };
  const uint8_t *p = data, *end = data + size;

  state.receiver = hangout_transfer_receiver_new ();
  state.files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) file_free);
  for (guint n = 0; p < end && n < MAX_RECORDS; n++) {
    guint8 h = *p;
    guint kind = h & 7, m = (h >> 4) & 3;
    const gchar *member = members[m];
    g_autoptr (GBytes) bytes = NULL;
    File *file = state.latest[m] ? lookup (&state, member, state.latest[m])
        : NULL;

    p++;
    if (kind != 3 && kind != 4 && kind != 5) {
      gsize len = end - p >= 2 ? ((gsize) p[0] << 8 | p[1]) : 0;

      p += MIN (2, end - p);
      len = MIN (len, (gsize) (end - p));
      bytes = g_bytes_new (p, len);
      p += len;
    }
    switch (kind) {
      case 0:
      case 6:
        feed (&state, member, TRUE, bytes);
        break;
      case 1:
      case 7:
        feed (&state, member, FALSE, bytes);
        break;
      case 2:
        if (file != NULL && g_bytes_get_size (bytes) > 0) {
          g_autoptr (GBytes) message = hangout_transfer_build_data (file->id,
              file->received, g_bytes_get_data (bytes, NULL),
              g_bytes_get_size (bytes));

          feed (&state, member, FALSE, message);
        }
        break;
      case 3:
        if (file != NULL) {
          g_autofree gchar *digest = digest_of (file);
          gchar *text = hangout_transfer_build_end (file->id, file->received,
              digest);
          g_autoptr (GBytes) message = g_bytes_new_take (text, strlen (text));

          feed (&state, member, TRUE, message);
        }
        break;
      case 4:{
        g_autoptr (GPtrArray) events = h & 8
            ? hangout_transfer_receiver_expire (state.receiver, 0)
            : hangout_transfer_receiver_member_left (state.receiver, member,
                NULL);

        check_dropped (&state, h & 8 ? -1 : (gint) m, events);
        break;
      }
      case 5:
        if (h & 8) {
          set_held (&state, m);
        } else if (file != NULL) {
          g_autofree gchar *reply = hangout_transfer_receiver_reject
              (state.receiver, member, file->id, "declined");

          FUZZ_CHECK (reply != NULL);
          file->rejected = TRUE;
        }
        break;
    }
  }
  hangout_transfer_receiver_free (state.receiver);
  g_hash_table_unref (state.files);
  for (guint i = 0; i < N_MEMBERS; i++)
    g_free (state.latest[i]);
  return 0;
}
