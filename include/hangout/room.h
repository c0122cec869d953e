/* gst-hangout — a room: the full mesh of peer connections between its
 * members, formed through a signalling server.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>
#include <gst/gst.h>
#include <hangout/error.h>
#include <hangout/channel.h>
#include <hangout/signalling.h>

G_BEGIN_DECLS

/* Every pair of members shares two negotiated (no DCEP), reliable, ordered
 * data channels, created by both sides before the offer/answer:
 * the application's channel, whose messages the room hands out as
 * "message", and the room's own control channel (liveness, id changes). */
#define HANGOUT_ROOM_CHANNEL_LABEL "hangout"
#define HANGOUT_ROOM_CHANNEL_ID 0
#define HANGOUT_ROOM_CONTROL_LABEL "hangout-control"
#define HANGOUT_ROOM_CONTROL_ID 1

/* How long a member the server says has left may take to answer a ping on
 * the control channel before we give up on it too. */
#define HANGOUT_ROOM_LIVENESS_TIMEOUT_MS 2000

/* Transfer versions (docs/protocol.md §4.1) as a set of bits. Every member
 * says which it speaks in "capabilities" on the control channel as soon as
 * both channels open; one that has said nothing when this long has passed
 * since, or sends application data first, speaks version 1 alone (version
 * 1 members send no capabilities). "peer-connected" waits for them, so a
 * member's versions are known from then on. */
#define HANGOUT_ROOM_TRANSFER_V(version) (1u << (version))
#define HANGOUT_ROOM_CAPABILITIES_WAIT_MS 500

/* The reasons of "member-refused" (docs/protocol.md §3). */
#define HANGOUT_ROOM_REFUSED_WRONG_PROOF \
  "wrong room secret proof: another secret, or someone in the middle"
#define HANGOUT_ROOM_REFUSED_NO_PROOF "no room secret proof within 10 s"
#define HANGOUT_ROOM_REFUSED_TOO_MUCH \
  "sent too much before its room secret proof"

#define HANGOUT_TYPE_ROOM (hangout_room_get_type ())
G_DECLARE_FINAL_TYPE (HangoutRoom, hangout_room, HANGOUT, ROOM, GObject)

/*
 * Properties: "room", "name", "server" (ws:// URL of the signalling server),
 * "stun-server", "turn-server" (as for HangoutPeerConnection; read at
 * start; each overrides the servers of its kind that the signalling
 * server's welcome hands out, which are used otherwise), "relay-only"
 * (TURN only, like iceTransportPolicy "relay"; read at start), "secret" (the room secret, never sent to the server; read at
 * start; NULL or empty: none), "tls-database" (GTlsDatabase: what a wss://
 * server's certificate is verified against, by GIO; NULL: the system's
 * authorities; read at start), "ssl-strict" (default TRUE: a certificate
 * that fails verification fails the room; FALSE accepts it, and "error"
 * says what was wrong; read at start), "id" (read-only: our id on the signalling server, NULL until
 * joined; it changes when the room rejoins after a lost connection;
 * notified on the network thread, and by hangout_room_stop() on its
 * caller's thread).
 *
 * Signals, all emitted on the room's network thread (never the caller's):
 *   "member-joined" (const gchar *id, const gchar *name): a new member began
 *       connecting to us (its offer arrived, or its answer to ours);
 *   "peer-connected" (const gchar *id): its data channel is open (and,
 *       with a secret, its proof checked out), and its transfer versions
 *       are known: send works;
 *   "member-refused" (const gchar *id, const gchar *name, const gchar
 *       *reason): with a secret, it sent a wrong proof or none within
 *       HANGOUT_AUTH_TIMEOUT_MS of its channels opening (or more than 4 MiB
 *       before its proof); its connection is
 *       closed and "member-left" follows. Nothing it sent was handed out;
 *   "member-left" (const gchar *id, const gchar *failure): it is gone;
 *       @failure is %NULL when it left (closed its connection or left the
 *       room) and says what failed when it did not ("ICE consent expired:
 *       …", "SCTP: the association was lost: …", "DTLS: …"); follows every
 *       "member-joined" once, except after hangout_room_stop(), which emits
 *       nothing;
 *   "message" (const gchar *id, gboolean is_string, GBytes *data): a message
 *       on the member's channel (a string message's bytes carry no NUL),
 *       never before its "peer-connected";
 *   "error" (GError *error): informational: the signalling connection
 *       dropped or a message was refused, or (ssl-strict FALSE) the
 *       server's certificate was accepted although it failed verification
 *       (HANGOUT_ERROR_TLS_CERTIFICATE). The room keeps going;
 *   "failed" (GError *error): the room cannot join: the server refused the
 *       join (bad room or name, room full: HANGOUT_ERROR_JOIN_REFUSED), or
 *       could not be reached when the room started (no server there, not
 *       a WebSocket: HANGOUT_ERROR_SIGNALLING; a server certificate that
 *       failed verification: HANGOUT_ERROR_TLS_CERTIFICATE, its message
 *       naming the checks that failed; not TLS there:
 *       HANGOUT_ERROR_TLS). Nothing more happens until hangout_room_stop().
 *
 * A member's id is the signalling id we first knew it by; it stays the same
 * while its peer connection lives, even when that member rejoins the
 * signalling server under a new id.
 *
 * Threads: every function may be called from any thread, except
 * hangout_room_stop() (and the last unref of a running room), which must
 * not be called from the room's own thread, i.e. from its signal handlers.
 */

HangoutRoom *hangout_room_new (const gchar *room, const gchar *name,
    const gchar *server);
/* How the connection to a connected @member runs (see
 * hangout_peer_connection_dup_transport(): the selected ICE pair, SCTP
 * packet size, DTLS), or %NULL. Only from the room's signal handlers (its
 * network thread). */
GstStructure *hangout_room_dup_member_transport (HangoutRoom *room,
    const gchar *member);

/* Makes a room's signaller, on its network thread (@context), each time
 * it starts. */
typedef HangoutSignaller *(*HangoutSignallerFactory) (GMainContext *context,
    gpointer data);
/* Before hangout_room_start(): the room gets its signaller from @factory
 * (say hangout_local_signaller_factory(), signalling-local.h) instead of
 * a WebSocket one to "server", which is then unused. @destroy frees
 * @data when the room is finalized or another factory is set. */
void hangout_room_set_signaller_factory (HangoutRoom *room,
    HangoutSignallerFactory factory, gpointer data, GDestroyNotify destroy);

/* Starts the network thread and joins. Returns once joining has begun (not
 * once joined: watch "id"); fails for missing or bad properties (a
 * stun-server or turn-server that does not parse), or when already
 * started. */
gboolean hangout_room_start (HangoutRoom *room, GError **error);
/* Closes every peer connection, leaves, and joins the network thread.
 * Idempotent. The room may be started again. */
void hangout_room_stop (HangoutRoom *room);

/* Our signalling id, or NULL. */
gchar *hangout_room_dup_id (HangoutRoom *room);
/* The context of the network thread while started, else NULL. Layers above
 * use it to run code on the network thread. (transfer none) */
GMainContext *hangout_room_get_context (HangoutRoom *room);

/* Thread-safe. Fail with HANGOUT_ERROR_NO_SUCH_MEMBER when @member is not
 * connected, and as hangout_data_channel_send_*() otherwise. */
gboolean hangout_room_send (HangoutRoom *room, const gchar *member,
    GBytes *data, GError **error);
gboolean hangout_room_send_string (HangoutRoom *room, const gchar *member,
    const gchar *text, GError **error);
/* To every connected member. TRUE when every one took the message (also
 * when there is none); otherwise the others still got it, and @error tells
 * about the first refusal. */
gboolean hangout_room_broadcast (HangoutRoom *room, GBytes *data,
    GError **error);
gboolean hangout_room_broadcast_string (HangoutRoom *room, const gchar *text,
    GError **error);

/* Answers a message from @member (a reject, an ack) unless more than
 * HANGOUT_ROOM_REPLY_BACKLOG bytes of earlier replies still wait in our
 * buffer for it: then the reply is dropped (FALSE,
 * HANGOUT_ERROR_INVALID_STATE). A member that sends and never reads must
 * not grow our memory with the answers; what else we send it does not
 * count, so a member busy with our own data still gets its answers. */
#define HANGOUT_ROOM_REPLY_BACKLOG (256 * 1024)
gboolean hangout_room_send_reply (HangoutRoom *room, const gchar *member,
    const gchar *text, GError **error);

/* Stops or resumes reading what @member sends (default: reading), for a
 * receiver slower than the link: while stopped, the member's sends wait
 * in its own buffered amount (SCTP's window closes), and nothing piles up
 * here. Its control channel waits too, except while the room checks that
 * it is alive. Thread-safe; takes effect on the network thread (at once
 * when called there, e.g. from "message"). */
void hangout_room_set_receiving (HangoutRoom *room, const gchar *member,
    gboolean receiving);

/* The application channel to @member, for flow control (buffered-amount,
 * buffered-amount-low), or NULL when it is not connected. (transfer full) */
HangoutDataChannel *hangout_room_get_channel (HangoutRoom *room,
    const gchar *member);
/* Ids of the connected members. (transfer full) */
GStrv hangout_room_list_connected (HangoutRoom *room);
/* The display name of a member we know, or NULL. */
gchar *hangout_room_dup_member_name (HangoutRoom *room, const gchar *member);
/* Before hangout_room_start(): the transfer versions we speak, as
 * HANGOUT_ROOM_TRANSFER_V() bits (default: version 1 alone), sent to every
 * member in "capabilities"; 0 sends none, as members from before version 2
 * did (they are taken for version 1). */
void hangout_room_set_transfer_versions (HangoutRoom *room, guint versions);
/* The transfer versions @member speaks, as HANGOUT_ROOM_TRANSFER_V() bits;
 * 0 before its "peer-connected" or when it is not a member. Any thread. */
guint hangout_room_get_member_transfer_versions (HangoutRoom *room,
    const gchar *member);
/* The short authentication string of our connection to @member: six
 * digits, the same on its side unless someone sits in the middle
 * (docs/protocol.md §3); NULL before DTLS has checked its certificate. */
gchar *hangout_room_dup_member_sas (HangoutRoom *room, const gchar *member);

G_END_DECLS
