/* gst-hangout — signalling: join a room, learn its members, relay opaque
 * payloads (offers, answers, candidates) between them.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hangout/error.h>
#include <hangout/iceserver.h>

G_BEGIN_DECLS

/**
 * HangoutSignallerState:
 * @HANGOUT_SIGNALLER_STATE_STOPPED: not started, or stopped.
 * @HANGOUT_SIGNALLER_STATE_CONNECTING: first connection and join under way.
 * @HANGOUT_SIGNALLER_STATE_JOINED: in the room; "welcome" was emitted.
 * @HANGOUT_SIGNALLER_STATE_RECONNECTING: the connection was lost; retrying.
 *   A new "welcome" (with a new own id) follows a successful rejoin.
 * @HANGOUT_SIGNALLER_STATE_FAILED: the server refused the join (bad room or
 *   name, room full, …), or the first connection could not be made (no
 *   server there, not a WebSocket, TLS); no retry. "error" told why.
 */
typedef enum {
  HANGOUT_SIGNALLER_STATE_STOPPED,
  HANGOUT_SIGNALLER_STATE_CONNECTING,
  HANGOUT_SIGNALLER_STATE_JOINED,
  HANGOUT_SIGNALLER_STATE_RECONNECTING,
  HANGOUT_SIGNALLER_STATE_FAILED,
} HangoutSignallerState;

GType hangout_signaller_state_get_type (void);
#define HANGOUT_TYPE_SIGNALLER_STATE (hangout_signaller_state_get_type ())

/**
 * HangoutSignallerMember:
 * @id: the member's id, as the signalling server assigned it
 * @name: its display name (not unique)
 *
 * One member listed in "welcome".
 */
typedef struct {
  gchar *id;
  gchar *name;
} HangoutSignallerMember;

GType hangout_signaller_member_get_type (void);
#define HANGOUT_TYPE_SIGNALLER_MEMBER (hangout_signaller_member_get_type ())
HangoutSignallerMember *hangout_signaller_member_new (const gchar *id,
    const gchar *name);
HangoutSignallerMember *hangout_signaller_member_copy (const HangoutSignallerMember *member);
void hangout_signaller_member_free (HangoutSignallerMember *member);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutSignallerMember, hangout_signaller_member_free)

#define HANGOUT_TYPE_SIGNALLER (hangout_signaller_get_type ())
G_DECLARE_INTERFACE (HangoutSignaller, hangout_signaller, HANGOUT, SIGNALLER,
    GObject)

/**
 * HangoutSignallerInterface:
 * @start: connect and join @room as @name. Returns FALSE only for errors
 *   known at once (bad arguments, wrong state); everything later is reported
 *   by "error" and the "state" property.
 * @stop: leave the room and stop retrying. No signal is emitted after it
 *   returns. Idempotent.
 * @send: relay @payload to the member @to; FALSE when not joined.
 *
 * A signaller belongs to one #GMainContext: every call is made on the thread
 * that iterates it, and every signal is emitted there.
 *
 * Properties: "state" (#HangoutSignallerState, read-only).
 *
 * Signals:
 *   "welcome" (const gchar *own_id, GPtrArray *members, GPtrArray
 *       *ice_servers): joined (or joined again after a reconnect, with a
 *       new id); @members holds #HangoutSignallerMember, the others
 *       already in the room; @ice_servers the #HangoutIceServer the
 *       server hands out (iceServers), maybe none;
 *   "member-joined" (const gchar *id, const gchar *name);
 *   "member-left" (const gchar *id);
 *   "signal" (const gchar *from, JsonObject *payload);
 *   "error" (GError *error): the server refused a message, or the connection
 *       failed or dropped (HANGOUT_ERROR_SIGNALLING; a refused join:
 *       HANGOUT_ERROR_JOIN_REFUSED; a server certificate that failed
 *       verification: HANGOUT_ERROR_TLS_CERTIFICATE, its message naming
 *       the checks that failed; another TLS failure: HANGOUT_ERROR_TLS).
 *       Informational unless "state" becomes
 *       %HANGOUT_SIGNALLER_STATE_FAILED (with "ssl-strict" off, a
 *       certificate accepted despite its errors is one too).
 */
struct _HangoutSignallerInterface {
  GTypeInterface parent_iface;

  gboolean (*start) (HangoutSignaller *signaller, const gchar *room,
      const gchar *name, GError **error);
  void (*stop) (HangoutSignaller *signaller);
  gboolean (*send) (HangoutSignaller *signaller, const gchar *to,
      JsonObject *payload, GError **error);
};

gboolean hangout_signaller_start (HangoutSignaller *signaller,
    const gchar *room, const gchar *name, GError **error);
void hangout_signaller_stop (HangoutSignaller *signaller);
/* @payload is not taken over. */
gboolean hangout_signaller_send (HangoutSignaller *signaller, const gchar *to,
    JsonObject *payload, GError **error);
HangoutSignallerState hangout_signaller_get_state (HangoutSignaller *signaller);

/* ---- for implementations: emit the interface's signals ---- */

/* @members: element type HangoutSignallerMember; @ice_servers:
 * HangoutIceServer. */
void hangout_signaller_emit_welcome (HangoutSignaller *signaller,
    const gchar *own_id, GPtrArray *members, GPtrArray *ice_servers);
void hangout_signaller_emit_member_joined (HangoutSignaller *signaller,
    const gchar *id, const gchar *name);
void hangout_signaller_emit_member_left (HangoutSignaller *signaller,
    const gchar *id);
void hangout_signaller_emit_signal (HangoutSignaller *signaller,
    const gchar *from, JsonObject *payload);
void hangout_signaller_emit_error (HangoutSignaller *signaller,
    const GError *error);

/* ---- the WebSocket implementation (docs/protocol.md §1) ---- */

/* Reconnection: the first retry after HANGOUT_WEBSOCKET_SIGNALLER_BACKOFF_MIN_MS,
 * doubling up to ..._MAX_MS, each delay drawn uniformly from [d/2, d]. */
#define HANGOUT_WEBSOCKET_SIGNALLER_BACKOFF_MIN_MS 100
#define HANGOUT_WEBSOCKET_SIGNALLER_BACKOFF_MAX_MS 5000

#define HANGOUT_TYPE_WEBSOCKET_SIGNALLER (hangout_websocket_signaller_get_type ())
G_DECLARE_FINAL_TYPE (HangoutWebSocketSignaller, hangout_websocket_signaller,
    HANGOUT, WEBSOCKET_SIGNALLER, GObject)

/* Properties: "url" (ws:// or wss://, construct-only), "context"
 * (GMainContext*, construct-only; NULL: the thread default at construction),
 * "tls-database" (GTlsDatabase*: what a wss:// server's certificate is
 * verified against; NULL: GIO's default, the system's authorities),
 * "ssl-strict" (default TRUE; FALSE accepts a certificate that fails
 * verification, with a warning); both read at start.
 * Create it on the thread that iterates @context. */
HangoutSignaller *hangout_websocket_signaller_new (const gchar *url,
    GMainContext *context);

G_END_DECLS
