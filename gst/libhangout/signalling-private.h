/* gst-hangout — what the WebSocket signaller makes of a server's text frame
 * (docs/protocol.md §1.4), apart from the connection so that it can be
 * tested and fuzzed (tests/fuzz) without one; not public.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/signalling.h>

G_BEGIN_DECLS

typedef enum {
  HANGOUT_SERVER_MESSAGE_UNKNOWN,       /* no type, or one we do not know */
  HANGOUT_SERVER_MESSAGE_WELCOME,
  HANGOUT_SERVER_MESSAGE_ERROR,
  HANGOUT_SERVER_MESSAGE_MEMBER_JOINED,
  HANGOUT_SERVER_MESSAGE_MEMBER_LEFT,
  HANGOUT_SERVER_MESSAGE_SIGNAL,
} HangoutServerMessageType;

/* One message from the server. @complete is FALSE when a member that @type
 * requires is missing or of the wrong kind (welcome: id and the members
 * array; member-joined and member-left: id; signal: from and an object
 * payload): such a message is ignored. A welcome's iceServers that are
 * malformed or name what we cannot use are left out, one URL at a time. The strings and @payload belong to
 * @object. */
typedef struct {
  HangoutServerMessageType type;
  const gchar *type_name;       /* "type" as sent, for logs; NULL if none */
  gboolean complete;
  const gchar *id;              /* welcome (our id), member-joined, member-left */
  const gchar *name;            /* member-joined; "" when absent */
  GPtrArray *members;           /* welcome: HangoutSignallerMember, the others */
  GPtrArray *ice_servers;       /* welcome: HangoutIceServer, maybe empty */
  const gchar *code;            /* error; "unknown" when absent */
  const gchar *reason;          /* error; "no reason given" when absent */
  const gchar *from;            /* signal */
  JsonObject *payload;          /* signal */
  JsonObject *object;
} HangoutServerMessage;

/* Decodes the @len bytes of one text frame. Fails, with the parser's
 * error, only for what is not a JSON object; unknown types and incomplete
 * messages decode. */
G_GNUC_INTERNAL
gboolean hangout_server_message_parse (const gchar *text, gsize len,
    HangoutServerMessage *message, GError **error);
G_GNUC_INTERNAL
void hangout_server_message_clear (HangoutServerMessage *message);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HangoutServerMessage,
    hangout_server_message_clear)

G_END_DECLS
