/* gst-hangout — file transfer, version 1 (docs/protocol.md §2): the wire
 * format, a sender and a receiver.
 *
 * Pure logic: nothing here sends or receives. The sender produces the
 * messages to send, the receiver consumes the messages the room hands out
 * ("message" signal) and says what happened; the caller does the I/O (the
 * elements through HangoutRoom, the unit tests directly). So this layer
 * needs no socket; the only thread it starts is a file's SHA-256 (hashing
 * beside the transport, at most 2 MiB behind, joined before a digest is
 * read or the file freed, invisible to the caller). It is not thread-safe:
 * each object is used under its owner's lock.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>

G_BEGIN_DECLS

#define HANGOUT_TRANSFER_VERSION 1
/* Data message header: version byte, 16-byte file id, u64 offset (BE). */
#define HANGOUT_TRANSFER_HEADER_SIZE 25
#define HANGOUT_TRANSFER_FILE_ID_SIZE 16
/* 65536 is what every browser accepts (docs/protocol.md §2.2). */
#define HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE 65536
#define HANGOUT_TRANSFER_MIN_CHUNK_SIZE (HANGOUT_TRANSFER_HEADER_SIZE + 1)
#define HANGOUT_TRANSFER_MAX_CHUNK_SIZE (16 * 1024 * 1024)

/* A receiver's limits per member (docs/protocol.md §2.6). An offer over
 * one is rejected with a reason; the member's other files go on. */
#define HANGOUT_TRANSFER_MAX_NAME_BYTES 1024
#define HANGOUT_TRANSFER_MAX_MIME_BYTES 255
/* Files offered and neither ended nor aborted, declined ones included. */
#define HANGOUT_TRANSFER_MAX_FILES_PER_MEMBER 16
/* A file whose data stops this long while we read from its sender fails. */
#define HANGOUT_TRANSFER_STALL_TIMEOUT_S 60

/* ---- wire format ---- */

typedef enum {
  HANGOUT_TRANSFER_UNKNOWN,     /* a type this version does not know: ignore */
  HANGOUT_TRANSFER_OFFER,
  HANGOUT_TRANSFER_END,
  HANGOUT_TRANSFER_ACK,
  HANGOUT_TRANSFER_REJECT,
  HANGOUT_TRANSFER_ABORT,
} HangoutTransferType;

/* One control message. Strings are owned; which members are set depends on
 * the type (see docs/protocol.md §2.2). */
typedef struct {
  HangoutTransferType type;
  gchar *id;                    /* 32 lower-case hex digits */
  gchar *name;                  /* offer */
  gint64 size;                  /* offer (-1: not known), end */
  gchar *mime;                  /* offer */
  guint chunk_size;             /* offer */
  gchar *sha256;                /* end; ack (NULL when none) */
  gboolean ok;                  /* ack */
  gchar *reason;                /* reject, abort */
} HangoutTransferControl;

void hangout_transfer_control_clear (HangoutTransferControl *control);

/* Parses a control message. Fails with HANGOUT_ERROR_INVALID_MESSAGE for
 * what is not a JSON object, has no string "type", or misses a required
 * member or has one of the wrong kind or range. An unknown type parses
 * (HANGOUT_TRANSFER_UNKNOWN) so that the caller can ignore it. */
gboolean hangout_transfer_parse_control (const gchar *text, gsize len,
    HangoutTransferControl *control, GError **error);

gchar *hangout_transfer_build_offer (const gchar *id, const gchar *name,
    gint64 size, const gchar *mime, guint chunk_size);
gchar *hangout_transfer_build_end (const gchar *id, guint64 size,
    const gchar *sha256);
gchar *hangout_transfer_build_ack (const gchar *id, gboolean ok,
    const gchar *sha256);
gchar *hangout_transfer_build_reject (const gchar *id, const gchar *reason);
gchar *hangout_transfer_build_abort (const gchar *id, const gchar *reason);

/* Parses a data message's header. @id receives the file id as 32 hex digits
 * (33 bytes with the NUL); @payload points into @data. Fails with
 * HANGOUT_ERROR_INVALID_MESSAGE for a wrong version byte or a message with
 * no payload. */
gboolean hangout_transfer_parse_data (const guint8 *data, gsize len,
    gchar id[2 * HANGOUT_TRANSFER_FILE_ID_SIZE + 1], guint64 *offset,
    const guint8 **payload, gsize *payload_len, GError **error);
/* @id: 32 hex digits. */
GBytes *hangout_transfer_build_data (const gchar *id, guint64 offset,
    const guint8 *payload, gsize len);

/* Characters a name chosen by a member must not carry to people as they
 * are: controls (C0, DEL, C1), which drive terminals, and the
 * bidirectional controls that reorder what follows them (U+061C,
 * U+200E/F, U+202A–E, U+2066–9), which make "…exe" look like "…png". */
gboolean hangout_transfer_is_unsafe_char (gunichar c);
/* @text (any bytes) for a terminal, a log or a message: unsafe characters
 * written as \\uXXXX, invalid bytes as \\xXX. (transfer full) */
gchar *hangout_transfer_printable (const gchar *text);

/* How a file is told apart among every member's: "member/id" (ids are
 * chosen by senders, so only the pair is unique). (transfer full) */
gchar *hangout_transfer_file_key (const gchar *member, const gchar *id);

/* ---- sender ---- */

typedef enum {
  HANGOUT_TRANSFER_RECIPIENT_PENDING,   /* no answer yet */
  HANGOUT_TRANSFER_RECIPIENT_OK,        /* ack, digest matches */
  HANGOUT_TRANSFER_RECIPIENT_FAILED,    /* ack with ok false or another digest */
  HANGOUT_TRANSFER_RECIPIENT_REJECTED,  /* did not want the file */
  HANGOUT_TRANSFER_RECIPIENT_LEFT,      /* left before answering */
} HangoutTransferRecipientState;

typedef struct _HangoutTransferSender HangoutTransferSender;

/* A new file with a random id. @size -1: not known in advance. Fails for a
 * chunk size outside [HANGOUT_TRANSFER_MIN_CHUNK_SIZE,
 * HANGOUT_TRANSFER_MAX_CHUNK_SIZE] or an empty name. */
HangoutTransferSender *hangout_transfer_sender_new (const gchar *name,
    gint64 size, const gchar *mime, guint chunk_size, GError **error);
void hangout_transfer_sender_free (HangoutTransferSender *sender);

const gchar *hangout_transfer_sender_get_id (HangoutTransferSender *sender);
guint64 hangout_transfer_sender_get_offset (HangoutTransferSender *sender);
/* The offer, to send to every recipient before any data. */
gchar *hangout_transfer_sender_build_offer (HangoutTransferSender *sender);

/* The members the file is sent to: those connected at offer time. */
void hangout_transfer_sender_add_recipient (HangoutTransferSender *sender,
    const gchar *member);
/* Members in @state (PENDING: those still expected to take data),
 * (transfer full). */
GStrv hangout_transfer_sender_list (HangoutTransferSender *sender,
    HangoutTransferRecipientState state);
HangoutTransferRecipientState hangout_transfer_sender_get_state
    (HangoutTransferSender *sender, const gchar *member);
/* Counts recipients in @state. */
guint hangout_transfer_sender_count (HangoutTransferSender *sender,
    HangoutTransferRecipientState state);

/* Appends file bytes; returns the data messages they complete (each
 * chunk-size long), in order, or NULL when none is complete yet. At most
 * one chunk's payload is held back. Fails (and returns NULL) once the file
 * would exceed its announced size or after finish. (transfer full) */
GPtrArray *hangout_transfer_sender_write (HangoutTransferSender *sender,
    const guint8 *data, gsize len, GError **error);
/* Ends the file: @last receives the final, shorter data message or NULL
 * when nothing is held back; returns the end message. Fails when fewer
 * bytes than announced were written. */
gchar *hangout_transfer_sender_finish (HangoutTransferSender *sender,
    GBytes **last, GError **error);
/* Hex SHA-256 of the whole file once finished, else NULL. */
const gchar *hangout_transfer_sender_get_sha256 (HangoutTransferSender *sender);

/* Feeds an answer from @member (ack or reject). Returns FALSE with
 * HANGOUT_ERROR_INVALID_MESSAGE when it is not for this file, comes from a
 * member that was not sent it or already answered, or (ack) comes before
 * finish. Returns the member's new state in @state. */
gboolean hangout_transfer_sender_handle_answer (HangoutTransferSender *sender,
    const gchar *member, const HangoutTransferControl *control,
    HangoutTransferRecipientState *state, GError **error);
/* An answer from @member judged by the caller (a version 2 ack, compared
 * by root; an offer neither accepted nor rejected in time): @state is OK,
 * FAILED or REJECTED. FALSE when @member is not a pending recipient. */
gboolean hangout_transfer_sender_set_answer (HangoutTransferSender *sender,
    const gchar *member, HangoutTransferRecipientState state);
/* @member left the room: FALSE when it was not a pending recipient. */
gboolean hangout_transfer_sender_member_left (HangoutTransferSender *sender,
    const gchar *member);

/* ---- receiver ---- */

typedef enum {
  HANGOUT_TRANSFER_EVENT_NONE,  /* nothing to report (ignored message) */
  HANGOUT_TRANSFER_EVENT_STARTED,       /* an offer: name, size, mime */
  HANGOUT_TRANSFER_EVENT_DATA,  /* payload at offset */
  HANGOUT_TRANSFER_EVENT_COMPLETE,      /* size and digest verified */
  HANGOUT_TRANSFER_EVENT_FAILED,        /* error says why; never complete */
} HangoutTransferEventType;

typedef struct {
  HangoutTransferEventType type;
  gchar *member;
  gchar *id;
  gchar *name;
  gint64 size;                  /* STARTED: announced (-1 unknown); COMPLETE: final */
  gchar *mime;
  guint64 offset;               /* DATA: of payload; else bytes received */
  GBytes *payload;              /* DATA */
  gchar *sha256;                /* COMPLETE */
  gchar *reply;                 /* a control message to send back to member, or NULL */
  GError *error;                /* FAILED */
} HangoutTransferEvent;

void hangout_transfer_event_clear (HangoutTransferEvent *event);
void hangout_transfer_event_free (HangoutTransferEvent *event);

typedef struct _HangoutTransferReceiver HangoutTransferReceiver;

HangoutTransferReceiver *hangout_transfer_receiver_new (void);
void hangout_transfer_receiver_free (HangoutTransferReceiver *receiver);

/* Feeds one message from @member. Returns FALSE with an error (and a NONE
 * event) for a message to ignore: malformed, or data for a file never
 * offered. Violations within a known file (data out of order, past the
 * announced size, larger than the chunk size; a second offer of the same
 * id) fail that file: TRUE with a FAILED event. An offer over a limit
 * (name, mime, files per member) is TRUE with a NONE event whose reply
 * rejects it. */
gboolean hangout_transfer_receiver_handle (HangoutTransferReceiver *receiver,
    const gchar *member, gboolean is_string, GBytes *message,
    HangoutTransferEvent *event, GError **error);
/* Declines a file just reported STARTED: its data is dropped silently from
 * now on; returns the reject message to send back. */
gchar *hangout_transfer_receiver_reject (HangoutTransferReceiver *receiver,
    const gchar *member, const gchar *id, const gchar *reason);
/* While @held, @member's files do not stall: we stopped reading from it
 * (back-pressure), so no data is its fault. Releasing restarts their
 * clocks. */
void hangout_transfer_receiver_set_held (HangoutTransferReceiver *receiver,
    const gchar *member, gboolean held);
/* Fails every file not held whose data (or end) has not come for
 * @timeout_us (HANGOUT_TRANSFER_STALL_TIMEOUT_S in production): returns a
 * FAILED event for each file in progress, whose reply (a reject) tells its
 * sender; declined or failed ones are forgotten quietly. (transfer full) */
GPtrArray *hangout_transfer_receiver_expire (HangoutTransferReceiver *receiver,
    gint64 timeout_us);
/* @member left (@failure %NULL) or its connection failed (@failure says
 * why): returns a FAILED event for each file of it in progress
 * (HangoutTransferEvent*, transfer full), possibly empty. */
GPtrArray *hangout_transfer_receiver_member_left
    (HangoutTransferReceiver *receiver, const gchar *member,
    const gchar *failure);
/* Files in progress. */
guint hangout_transfer_receiver_get_active (HangoutTransferReceiver *receiver);

G_END_DECLS
