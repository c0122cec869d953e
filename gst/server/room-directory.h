/* gst-hangout — rooms shared by several hangout-server processes through
 * Redis (docs/architecture.md, "Rooms across servers"): who is in which
 * room, on which server, lives in Redis; joins and leaves come back as
 * events with a per-room sequence number; a signal for a member of
 * another server goes to that server's channel. Runs on the server's
 * GMainContext, single-threaded like the rest of the server. Knows
 * nothing of WebSockets or clients: server.c calls it and hears from it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "server-log.h"

G_BEGIN_DECLS

/* A server id: g_uuid_string_random()'s 36 characters. */
#define DIRECTORY_SERVER_ID_LEN 36
/* A member id: server.c's 32 lower-case hex digits. */
#define DIRECTORY_MEMBER_ID_LEN 32

typedef struct _RoomDirectory RoomDirectory;

/* A member of @room joined or left, on any server (this one included).
 * @seq grows by one with each join or leave of the room. */
typedef struct {
  const char *room;
  guint64 seq;
  gboolean joined;
  const char *id;
  const char *server;
  const char *name;             /* joined only; NULL for a leave */
} DirectoryEvent;

/* One member of a room as Redis has it. */
typedef struct {
  char id[DIRECTORY_MEMBER_ID_LEN + 1];
  char server[DIRECTORY_SERVER_ID_LEN + 1];
  guint64 seq;                  /* the room's sequence number at its join */
  char *name;
} DirectoryMember;

typedef struct {
  void (*event) (const DirectoryEvent *event, gpointer data);
  /* @frame, a complete signal frame, for this server's member @to of @room. */
  void (*signal) (const char *room, const char *to, const char *frame, gpointer data);
  /* The directory was lost (Redis unreachable, or this server was taken
   * for dead) or is back. */
  void (*available) (gboolean available, gpointer data);
} RoomDirectoryHandlers;

typedef enum {
  DIRECTORY_JOINED,
  DIRECTORY_FULL,
  DIRECTORY_UNAVAILABLE,
} DirectoryJoinResult;

/* @members: DirectoryMember, oldest first, without the newcomer; @seq: the
 * room's sequence number of this join. Both only with DIRECTORY_JOINED. */
typedef void (*RoomDirectoryJoinFunc) (DirectoryJoinResult result, guint64 seq,
    GPtrArray *members, gpointer data);

/* Parses @url ("redis://HOST[:PORT]", or "unix:PATH" or an absolute PATH
 * for a Unix socket) and starts connecting on @context, which the caller
 * has acquired. Fails only on a malformed URL. */
G_GNUC_INTERNAL
RoomDirectory *room_directory_new (const char *url, GMainContext *context,
    const RoomDirectoryHandlers *handlers, gpointer data, const ServerLog *log,
    GError **error);
/* Runs @context until the directory is available, at most @timeout_ms. */
G_GNUC_INTERNAL
gboolean room_directory_wait_available (RoomDirectory *directory,
    guint timeout_ms, GError **error);
/* Takes this server's members out of Redis (the others hear that they
 * left), waits for that a moment, and disconnects. */
G_GNUC_INTERNAL
void room_directory_free (RoomDirectory *directory);

G_GNUC_INTERNAL
gboolean room_directory_is_available (RoomDirectory *directory);
G_GNUC_INTERNAL
const char *room_directory_server_id (RoomDirectory *directory);

/* Adds member @id of this server to @room unless the room has
 * @max_members already, on every server together. @func is called exactly
 * once, also when the directory is lost or freed meanwhile. */
G_GNUC_INTERNAL
void room_directory_join (RoomDirectory *directory, const char *room,
    const char *id, const char *name, guint max_members,
    RoomDirectoryJoinFunc func, gpointer data);
G_GNUC_INTERNAL
void room_directory_leave (RoomDirectory *directory, const char *room,
    const char *id);
/* Hands @frame to @server for its member @to of @room. */
G_GNUC_INTERNAL
void room_directory_signal (RoomDirectory *directory, const char *server,
    const char *room, const char *to, const char *frame);

G_END_DECLS
