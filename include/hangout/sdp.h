/* gst-hangout — SDP layer: the data-channel-only offer/answer that Chromium speaks,
 * built and parsed with GstSDPMessage.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>

G_BEGIN_DECLS

typedef enum {
  HANGOUT_SDP_OFFER,
  HANGOUT_SDP_ANSWER,
} HangoutSdpType;

/* a=setup (RFC 8842): the offerer says actpass, the answerer active or passive. */
typedef enum {
  HANGOUT_SDP_SETUP_ACTPASS,
  HANGOUT_SDP_SETUP_ACTIVE,
  HANGOUT_SDP_SETUP_PASSIVE,
} HangoutSdpSetup;

/* The default SCTP port of RFC 8841, used by every browser. */
#define HANGOUT_SDP_DEFAULT_SCTP_PORT 5000
/* RFC 8841 §6: an absent a=max-message-size means 64 KiB. */
#define HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE 65536

/**
 * HangoutSdpDescription:
 * @type: offer or answer
 * @session_id: the o= session id
 * @ice_ufrag: ICE username fragment
 * @ice_pwd: ICE password
 * @fingerprint_algorithm: hash function of @fingerprint, lower case ("sha-256")
 * @fingerprint: certificate fingerprint, upper-case hex pairs joined by ':'
 * @setup: DTLS role negotiation
 * @mid: the media id of the application m-line ("0" in what we offer)
 * @sctp_port: a=sctp-port
 * @max_message_size: a=max-message-size as advertised; %HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE
 *   when absent; 0 means the peer sets no limit
 * @max_datagram_size: a=x-hangout-max-datagram ("N UFRAG"), the largest UDP
 *   payload the peer reads; 0 when absent or when its ufrag is not this
 *   description's (an echo of ours), and then no datagram may exceed 1232
 *   bytes, what an IPv6 minimum-MTU path carries (docs/protocol.md §1.8)
 * @fec: a=x-hangout-fec ("1 UFRAG", UFRAG this description's own): the peer
 *   reads the parity and loss reports of docs/protocol.md §1.9
 * @candidates: (element-type utf8): ICE candidates in the browsers' form, without "a="
 *   ("candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host")
 * @end_of_candidates: a=end-of-candidates was present
 *
 * Everything a data-channel-only session description carries. All strings are owned.
 */
typedef struct {
  HangoutSdpType type;
  guint64 session_id;
  gchar *ice_ufrag;
  gchar *ice_pwd;
  gchar *fingerprint_algorithm;
  gchar *fingerprint;
  HangoutSdpSetup setup;
  gchar *mid;
  guint sctp_port;
  guint64 max_message_size;
  guint max_datagram_size;
  gboolean fec;
  GPtrArray *candidates;
  gboolean end_of_candidates;
} HangoutSdpDescription;

HangoutSdpDescription *hangout_sdp_description_new (HangoutSdpType type);
void hangout_sdp_description_free (HangoutSdpDescription *desc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutSdpDescription, hangout_sdp_description_free)

/* Serialises @desc in the shape Chromium produces (BUNDLE group, one
 * "m=application 9 UDP/DTLS/SCTP webrtc-datachannel" section, CRLF line ends).
 * Returns a newly allocated string. */
gchar *hangout_sdp_description_to_string (const HangoutSdpDescription *desc);

/* Parses @text as an SDP of the given @type. Session-level attributes are used
 * when the application section lacks them. Fails with HANGOUT_ERROR_INVALID_SDP
 * and a message that names what is wrong when the text is not SDP, has no
 * "UDP/DTLS/SCTP webrtc-datachannel" (or legacy "DTLS/SCTP") section, lacks ICE
 * credentials or a fingerprint, has an invalid a=setup for its type, or a
 * malformed sctp-port or max-message-size. */
HangoutSdpDescription *hangout_sdp_description_parse (const gchar *text,
    HangoutSdpType type, GError **error);

const gchar *hangout_sdp_type_to_string (HangoutSdpType type);
/* "offer" / "answer" (as in RTCSessionDescription.type); FALSE for anything else. */
gboolean hangout_sdp_type_from_string (const gchar *str, HangoutSdpType *type);

G_END_DECLS
