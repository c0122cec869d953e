/* gst-hangout — DTLS layer: DTLS 1.2 (GnuTLS) over one ICE component, with the
 * certificate fingerprints of the SDP as the only trust anchor (RFC 8827).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>

G_BEGIN_DECLS

/* A self-signed ECDSA P-256 certificate with its private key. */
typedef struct _HangoutCertificate HangoutCertificate;

/* The process-wide certificate, generated on first use and reused afterwards
 * (generating a key costs milliseconds, and one identity per process is what
 * browsers do per RTCPeerConnection anyway). Never fails: a key generation
 * failure is a programming or system error and aborts. Not to be unreffed. */
HangoutCertificate *hangout_certificate_get_default (void);
HangoutCertificate *hangout_certificate_new (GError **error);
HangoutCertificate *hangout_certificate_ref (HangoutCertificate *cert);
void hangout_certificate_unref (HangoutCertificate *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutCertificate, hangout_certificate_unref)
/* SHA-256 fingerprint as SDP writes it: upper-case hex pairs joined by ':'. */
const gchar *hangout_certificate_get_fingerprint (HangoutCertificate *cert);

/* RFC 7983 demultiplexing: TRUE when the first byte is a DTLS content type (20..63). */
gboolean hangout_dtls_is_dtls_packet (const guint8 *data, gsize len);

/* Largest DTLS datagram written during the handshake: fits a 1200-byte path MTU. */
#define HANGOUT_DTLS_HANDSHAKE_MTU 1200
/* Largest DTLS datagram, at most, written after the handshake: GnuTLS caps a
 * DTLS record, header and AEAD expansion included, at 2^14 bytes. Also what
 * we read (our a=x-hangout-max-datagram). */
#define HANGOUT_DTLS_MAX_DATAGRAM 16384

typedef struct _HangoutDtls HangoutDtls;

/**
 * HangoutDtlsCallbacks:
 * @send_datagram: write one datagram to the transport. Called from the owner
 *   thread and, for application records, from the thread that calls
 *   hangout_dtls_send() (calls are serialised).
 * @connected: the handshake finished and the peer certificate matched the
 *   remote fingerprint. Owner thread.
 * @received: one decrypted application record. Owner thread.
 * @closed: the session ended: @error is %NULL for a close_notify from the peer,
 *   else says why (handshake failure, fingerprint mismatch, timeout, …).
 *   Called at most once, on the owner thread. After it nothing else is called.
 */
typedef struct {
  void (*send_datagram) (gpointer user_data, const guint8 *data, gsize len);
  void (*connected) (gpointer user_data);
  void (*received) (gpointer user_data, const guint8 *data, gsize len);
  void (*closed) (gpointer user_data, const GError *error);
} HangoutDtlsCallbacks;

/* A DTLS endpoint whose timers run on @context (its owner thread is the one
 * iterating @context). @is_client selects the DTLS role (a=setup:active is the
 * client). @certificate may be %NULL only on a client, to test that servers
 * refuse clients without one. */
HangoutDtls *hangout_dtls_new (GMainContext *context, gboolean is_client,
    HangoutCertificate *certificate, const HangoutDtlsCallbacks *callbacks,
    gpointer user_data);
/* Frees the session at once without sending anything; no callback follows. */
void hangout_dtls_free (HangoutDtls *dtls);

/* The fingerprint the peer certificate must have, from the remote SDP.
 * Only "sha-256" (and stronger sha-384/sha-512) are accepted. Must be set
 * before the handshake completes. */
gboolean hangout_dtls_set_remote_fingerprint (HangoutDtls *dtls,
    const gchar *algorithm, const gchar *fingerprint, GError **error);

/* Starts the handshake (a client sends its ClientHello; a server waits for it). */
void hangout_dtls_start (HangoutDtls *dtls);
/* Feeds one datagram received from the transport. Owner thread. */
void hangout_dtls_receive (HangoutDtls *dtls, const guint8 *data, gsize len);
/* Encrypts and sends one application record of at most
 * hangout_dtls_get_max_payload() bytes. Thread-safe. */
gboolean hangout_dtls_send (HangoutDtls *dtls, const guint8 *data, gsize len,
    GError **error);
/* Largest application payload one record can carry. */
gsize hangout_dtls_get_max_payload (HangoutDtls *dtls);
/* Sends close_notify; @closed is not called for a local close. */
void hangout_dtls_close (HangoutDtls *dtls);

gboolean hangout_dtls_is_connected (HangoutDtls *dtls);
/* After the handshake: TRUE if the extended master secret (RFC 7627) was negotiated. */
gboolean hangout_dtls_uses_extended_master_secret (HangoutDtls *dtls);
/* After the handshake: e.g. "ECDHE-ECDSA-AES-128-GCM" / "DTLS1.2", for logs and tests. */
gchar *hangout_dtls_describe_session (HangoutDtls *dtls);
/* After the handshake: @len bytes of keying material exported under
 * @label (RFC 5705, no context), a key that only both ends know. FALSE
 * when GnuTLS refuses (no session). */
gboolean hangout_dtls_export_key (HangoutDtls *dtls, const gchar *label,
    guint8 *out, gsize len);

G_END_DECLS
