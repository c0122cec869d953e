/* gst-hangout — errors shared by every layer of libhangout.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HANGOUT_ERROR (hangout_error_quark ())
GQuark hangout_error_quark (void);

/**
 * HangoutError:
 * @HANGOUT_ERROR_INVALID_SDP: a session description could not be parsed or lacks
 *   something WebRTC data channels need.
 * @HANGOUT_ERROR_INVALID_CANDIDATE: an ICE candidate could not be parsed.
 * @HANGOUT_ERROR_INVALID_MESSAGE: a malformed protocol message (DCEP, …).
 * @HANGOUT_ERROR_MESSAGE_TOO_BIG: a message larger than the negotiated maximum.
 * @HANGOUT_ERROR_INVALID_STATE: the call does not fit the object's state.
 * @HANGOUT_ERROR_ICE: connectivity could not be established or was lost.
 * @HANGOUT_ERROR_DTLS: the DTLS handshake or a record failed.
 * @HANGOUT_ERROR_FINGERPRINT: the peer certificate does not match the SDP fingerprint.
 * @HANGOUT_ERROR_SCTP: the SCTP association failed or was aborted.
 * @HANGOUT_ERROR_CLOSED: the object was closed.
 * @HANGOUT_ERROR_SIGNALLING: the signalling server could not be reached, dropped
 *   the connection, or refused a message.
 * @HANGOUT_ERROR_NO_SUCH_MEMBER: no member of the room has this id, or it is
 *   not connected (yet).
 * @HANGOUT_ERROR_JOIN_REFUSED: the signalling server refused to let us join
 *   (bad room or name, room full).
 * @HANGOUT_ERROR_INCOMPLETE: fewer members than required have the whole file.
 * @HANGOUT_ERROR_TLS: the TLS connection to the signalling server failed
 *   other than by its certificate (not TLS there, a handshake error).
 * @HANGOUT_ERROR_TLS_CERTIFICATE: the signalling server's TLS certificate did
 *   not pass GIO's verification (unknown authority, another host name,
 *   expired, …); the message says which checks failed.
 */
typedef enum {
  HANGOUT_ERROR_INVALID_SDP,
  HANGOUT_ERROR_INVALID_CANDIDATE,
  HANGOUT_ERROR_INVALID_MESSAGE,
  HANGOUT_ERROR_MESSAGE_TOO_BIG,
  HANGOUT_ERROR_INVALID_STATE,
  HANGOUT_ERROR_ICE,
  HANGOUT_ERROR_DTLS,
  HANGOUT_ERROR_FINGERPRINT,
  HANGOUT_ERROR_SCTP,
  HANGOUT_ERROR_CLOSED,
  HANGOUT_ERROR_SIGNALLING,
  HANGOUT_ERROR_NO_SUCH_MEMBER,
  HANGOUT_ERROR_JOIN_REFUSED,
  HANGOUT_ERROR_INCOMPLETE,
  HANGOUT_ERROR_TLS,
  HANGOUT_ERROR_TLS_CERTIFICATE,
} HangoutError;

G_END_DECLS
