/* gst-hangout — DTLS layer: DTLS 1.2 over one ICE component with GnuTLS.
 *
 * Trust model (RFC 8827): certificates are self-signed, the only anchor is the
 * fingerprint from the remote SDP, so peer verification is a fingerprint
 * comparison and no chain validation happens.
 *
 * Threading: everything except hangout_dtls_send() (and the read-only
 * getters) runs on the owner thread, the one iterating the GMainContext and
 * feeding hangout_dtls_receive(). GnuTLS allows one receiving and one sending
 * thread on a session at once but not two senders, so every call that writes
 * records (record_send, alerts, bye) holds send_lock; the push callback holds
 * push_lock because GnuTLS may also write from the receiving side (it
 * retransmits its last handshake flight from record_recv when the peer
 * repeats its own), and send_datagram() calls are promised to be serialised.
 *
 * Lifetime: hangout_dtls_free() may be called from inside any callback except
 * send_datagram(); it is then deferred until the outermost entry point
 * (receive, start or the timer) unwinds, and nothing is called any more.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <hangout/dtls.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/dtls.h>
#include <gnutls/x509.h>
#include "debug-private.h"
#include "timers-private.h"

#define GST_CAT_DEFAULT hangout_debug_dtls

/* DTLS 1.2 only: GnuTLS 3.7 has no DTLS 1.3 and browsers fall back through
 * supported_versions. AEAD suites with ECDHE only, AES-128-GCM first (the RFC
 * 8827 mandatory suite, and the cheapest with AES instructions; as a server
 * we impose that order), X25519/P-256 key exchange; no compression (RFC
 * 8261). SECP384R1 stays for peers whose certificates use P-384. */
#define DTLS_PRIORITY \
  "NONE:%SERVER_PRECEDENCE:+VERS-DTLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:" \
  "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AEAD:+SIGN-ALL:" \
  "+COMP-NULL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+CTYPE-X509"

/* The SRTP profiles every WebRTC stack has (GnuTLS 3.7 knows no GCM ones). */
#define SRTP_PROFILES "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32"

/* RFC 6347 4.2.4.1: start at 1 s; give up on a dead peer after 30 s. */
#define RETRANSMIT_TIMEOUT_MS 1000
#define TOTAL_TIMEOUT_MS 30000

/* The largest plaintext a TLS record may carry (RFC 6347 / 5246: 2^14). */
#define MAX_RECORD_PLAINTEXT 16384
/* record_recv hands out at most one record's plaintext; the slack guards
 * against a peer that negotiated a larger record_size_limit. */
#define RECV_BUFFER_SIZE (MAX_RECORD_PLAINTEXT + 2048)

/* Longest hex fingerprint we format: SHA-512, 64 bytes as "XX:" each. */
#define MAX_DIGEST_SIZE 64
#define MAX_FINGERPRINT_CHARS (MAX_DIGEST_SIZE * 3)

struct _HangoutCertificate
{
  gatomicrefcount ref;
  /* Holds copies of the key and certificate; shared by every session that
   * uses this identity (GnuTLS credentials are read-only once set up). */
  gnutls_certificate_credentials_t credentials;
  gchar *fingerprint;
};

typedef enum
{
  STATE_NEW,
  STATE_HANDSHAKING,
  STATE_CONNECTED,
  STATE_CLOSED,
} DtlsState;

struct _HangoutDtls
{
  gnutls_session_t session;
  GMainContext *context;
  /* Retransmission timer: one for the whole life of the session, armed
   * and disarmed. */
  HangoutTimer *timer;
  gboolean is_client;

  HangoutCertificate *certificate;      /* NULL for a certificate-less client */
  gnutls_certificate_credentials_t empty_credentials;       /* when it is */

  HangoutDtlsCallbacks callbacks;
  gpointer user_data;

  /* Written under send_lock (so hangout_dtls_send sees it consistently),
   * read atomically elsewhere. */
  gint state;
  gboolean handshake_done;
  /* Set when hangout_dtls_free() ran inside a callback: no callback and no
   * datagram after that, the memory goes when the outermost call returns. */
  gboolean free_pending;
  guint depth;

  gnutls_digest_algorithm_t remote_digest;
  gchar *remote_fingerprint;    /* upper case */
  /* Why the verify callback rejected the peer, reported when the handshake
   * fails (GnuTLS itself only says "certificate error"). */
  GError *verify_error;

  /* The datagram hangout_dtls_receive() is feeding, for the pull callback. */
  const guint8 *pending;
  gsize pending_len;

  gsize max_payload;
  guint8 *recv_buffer;

  GMutex send_lock;
  GMutex push_lock;
};

/* ---------------------------------------------------------------------- */
/* Certificates */

static gchar *
format_fingerprint (const guint8 * digest, gsize len, gchar * out)
{
  static const gchar hex[] = "0123456789ABCDEF";
  gchar *p = out;

  for (gsize i = 0; i < len; i++) {
    if (i > 0)
      *p++ = ':';
    *p++ = hex[digest[i] >> 4];
    *p++ = hex[digest[i] & 0xf];
  }
  *p = '\0';
  return out;
}

static void
set_gnutls_error (GError ** error, gint code, const gchar * what, int ret)
{
  g_set_error (error, HANGOUT_ERROR, code, "%s: %s", what,
      gnutls_strerror (ret));
}

HangoutCertificate *
hangout_certificate_new (GError ** error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_certificate_credentials_t credentials = NULL;
  HangoutCertificate *cert = NULL;
  guint8 serial[16];
  guint8 digest[32];
  gchar fingerprint[MAX_FINGERPRINT_CHARS];
  size_t digest_size = sizeof (digest);
  time_t now = time (NULL);
  const gchar *what;
  int ret;

  hangout_debug_init ();
  /* Each call either succeeds or leaves "what" naming the failing step. */
  what = "cannot generate the DTLS key";
  if ((ret = gnutls_x509_privkey_init (&key)) < 0 ||
      (ret = gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
              GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
    goto fail;

  what = "cannot create the DTLS certificate";
  if ((ret = gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof (serial))) < 0)
    goto fail;
  /* A positive INTEGER (top bit clear) whose DER form keeps all 16 bytes. */
  serial[0] = (serial[0] & 0x7f) | 0x40;

  if ((ret = gnutls_x509_crt_init (&crt)) < 0 ||
      (ret = gnutls_x509_crt_set_version (crt, 3)) < 0 ||
      (ret = gnutls_x509_crt_set_serial (crt, serial, sizeof (serial))) < 0 ||
      (ret = gnutls_x509_crt_set_activation_time (crt, now - 3600)) < 0 ||
      (ret = gnutls_x509_crt_set_expiration_time (crt,
              now + 365 * 24 * 3600)) < 0 ||
      (ret = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME,
              0, "hangout", strlen ("hangout"))) < 0 ||
      (ret = gnutls_x509_crt_set_key (crt, key)) < 0 ||
      (ret = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
    goto fail;

  what = "cannot compute the certificate fingerprint";
  if ((ret = gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest,
              &digest_size)) < 0)
    goto fail;

  what = "cannot set up the DTLS credentials";
  /* set_x509_key copies both, so crt and key can go right after. */
  if ((ret = gnutls_certificate_allocate_credentials (&credentials)) < 0 ||
      (ret = gnutls_certificate_set_x509_key (credentials, &crt, 1, key)) < 0)
    goto fail;

  cert = g_new0 (HangoutCertificate, 1);
  g_atomic_ref_count_init (&cert->ref);
  cert->credentials = credentials;
  cert->fingerprint = g_strdup (format_fingerprint (digest, digest_size,
          fingerprint));
  credentials = NULL;

fail:
  if (cert == NULL)
    set_gnutls_error (error, HANGOUT_ERROR_DTLS, what, ret);
  if (credentials)
    gnutls_certificate_free_credentials (credentials);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  if (key)
    gnutls_x509_privkey_deinit (key);
  return cert;
}

HangoutCertificate *
hangout_certificate_get_default (void)
{
  static gsize default_cert = 0;

  if (g_once_init_enter (&default_cert)) {
    GError *error = NULL;
    HangoutCertificate *cert = hangout_certificate_new (&error);

    if (cert == NULL)
      g_error ("%s", error->message);
    /* The process keeps this reference forever. */
    g_once_init_leave (&default_cert, (gsize) cert);
  }
  return (HangoutCertificate *) default_cert;
}

HangoutCertificate *
hangout_certificate_ref (HangoutCertificate * cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  g_atomic_ref_count_inc (&cert->ref);
  return cert;
}

void
hangout_certificate_unref (HangoutCertificate * cert)
{
  g_return_if_fail (cert != NULL);
  if (!g_atomic_ref_count_dec (&cert->ref))
    return;
  gnutls_certificate_free_credentials (cert->credentials);
  g_free (cert->fingerprint);
  g_free (cert);
}

const gchar *
hangout_certificate_get_fingerprint (HangoutCertificate * cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->fingerprint;
}

gboolean
hangout_dtls_is_dtls_packet (const guint8 * data, gsize len)
{
  return len > 0 && data[0] >= 20 && data[0] <= 63;
}

/* ---------------------------------------------------------------------- */
/* Session plumbing */

static DtlsState
get_state (HangoutDtls * dtls)
{
  return (DtlsState) g_atomic_int_get (&dtls->state);
}

static void
set_state (HangoutDtls * dtls, DtlsState state)
{
  g_mutex_lock (&dtls->send_lock);
  g_atomic_int_set (&dtls->state, state);
  g_mutex_unlock (&dtls->send_lock);
}

/* TRUE once no callback may be called any more. */
static gboolean
is_stopped (HangoutDtls * dtls)
{
  return dtls->free_pending || get_state (dtls) == STATE_CLOSED;
}

static void
arm_timer (HangoutDtls * dtls, guint ms)
{
  hangout_timer_set (dtls->timer,
      g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND);
}

/* After gnutls_handshake returned EAGAIN: wake up when GnuTLS wants to
 * retransmit, 1 ms late so that its own millisecond clock agrees the timer
 * expired. It reports 0 when no flight is outstanding (a server waiting for a
 * ClientHello, or for the rest of a fragmented one); poll at the base
 * interval then, so the overall deadline is still enforced without spinning. */
static void
arm_retransmit_timer (HangoutDtls * dtls)
{
  guint ms = gnutls_dtls_get_timeout (dtls->session);

  arm_timer (dtls, ms > 0 ? ms + 1 : RETRANSMIT_TIMEOUT_MS);
}

static void
disarm_timer (HangoutDtls * dtls)
{
  hangout_timer_set (dtls->timer, -1);
}

static ssize_t
push_cb (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  HangoutDtls *dtls = ptr;

  g_mutex_lock (&dtls->push_lock);
  if (G_LIKELY (!dtls->free_pending))
    dtls->callbacks.send_datagram (dtls->user_data, data, len);
  g_mutex_unlock (&dtls->push_lock);
  /* Datagrams are fire and forget: a lost one is DTLS's business. */
  return len;
}

static ssize_t
pull_cb (gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  HangoutDtls *dtls = ptr;
  gsize n;

  /* Each fed datagram goes to GnuTLS exactly once; then "nothing yet". */
  if (dtls->pending == NULL) {
    gnutls_transport_set_errno (dtls->session, EAGAIN);
    return -1;
  }
  n = MIN (len, dtls->pending_len);
  memcpy (data, dtls->pending, n);
  dtls->pending = NULL;
  dtls->pending_len = 0;
  return n;
}

static int
pull_timeout_cb (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  HangoutDtls *dtls = ptr;

  /* Never blocks: the timer stands in for waiting. */
  return dtls->pending != NULL ? 1 : 0;
}

/* Writes an alert on the owner thread; serialised with application senders. */
static void
send_alert (HangoutDtls * dtls, gnutls_alert_level_t level,
    gnutls_alert_description_t desc)
{
  g_mutex_lock (&dtls->send_lock);
  gnutls_alert_send (dtls->session, level, desc);
  g_mutex_unlock (&dtls->send_lock);
}

static void
emit_closed (HangoutDtls * dtls, const GError * error)
{
  if (is_stopped (dtls))
    return;
  set_state (dtls, STATE_CLOSED);
  disarm_timer (dtls);
  if (error)
    GST_DEBUG ("DTLS %s closed: %s", dtls->is_client ? "client" : "server",
        error->message);
  if (dtls->callbacks.closed)
    dtls->callbacks.closed (dtls->user_data, error);
}

static void
emit_closed_error (HangoutDtls * dtls, gint code, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);

static void
emit_closed_error (HangoutDtls * dtls, gint code, const gchar * format, ...)
{
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (HANGOUT_ERROR, code, format, args);
  va_end (args);
  emit_closed (dtls, error);
  g_error_free (error);
}

/* The fingerprint check of RFC 8122 / 8827: the peer's end-entity
 * certificate must hash to what its SDP announced. */
static gboolean
check_peer_certificate (HangoutDtls * dtls, GError ** error)
{
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  guint8 digest[MAX_DIGEST_SIZE];
  gchar fingerprint[MAX_FINGERPRINT_CHARS];
  size_t digest_size = sizeof (digest);
  int ret;

  peers = gnutls_certificate_get_peers (dtls->session, &n_peers);
  if (peers == NULL || n_peers == 0) {
    g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_DTLS,
        "peer presented no certificate");
    return FALSE;
  }
  if (dtls->remote_fingerprint == NULL) {
    g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_FINGERPRINT,
        "no remote fingerprint was set before the DTLS handshake completed");
    return FALSE;
  }
  ret = gnutls_fingerprint (dtls->remote_digest, &peers[0], digest,
      &digest_size);
  if (ret < 0) {
    set_gnutls_error (error, HANGOUT_ERROR_DTLS,
        "cannot compute the peer certificate fingerprint", ret);
    return FALSE;
  }
  format_fingerprint (digest, digest_size, fingerprint);
  if (g_ascii_strcasecmp (fingerprint, dtls->remote_fingerprint) != 0) {
    g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_FINGERPRINT,
        "peer certificate fingerprint does not match the remote description");
    return FALSE;
  }
  return TRUE;
}

/* Runs inside gnutls_handshake as soon as the peer's Certificate arrives, so
 * a mismatch aborts before we reveal anything more (and before a server sends
 * its Finished). */
static int
verify_cb (gnutls_session_t session)
{
  HangoutDtls *dtls = gnutls_session_get_ptr (session);

  g_clear_error (&dtls->verify_error);
  return check_peer_certificate (dtls, &dtls->verify_error) ? 0 : -1;
}

static void receive_records (HangoutDtls * dtls);

static void
handshake_failed (HangoutDtls * dtls, int ret)
{
  /* Tell the peer at once rather than let it retransmit for 30 s. */
  if (dtls->verify_error && g_error_matches (dtls->verify_error,
          HANGOUT_ERROR, HANGOUT_ERROR_FINGERPRINT)) {
    send_alert (dtls, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
  } else if (dtls->verify_error || ret == GNUTLS_E_NO_CERTIFICATE_FOUND) {
    send_alert (dtls, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
  } else if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED && ret != GNUTLS_E_TIMEDOUT) {
    g_mutex_lock (&dtls->send_lock);
    gnutls_alert_send_appropriate (dtls->session, ret);
    g_mutex_unlock (&dtls->send_lock);
  }

  if (dtls->verify_error) {
    GError *error = g_steal_pointer (&dtls->verify_error);

    emit_closed (dtls, error);
    g_error_free (error);
  } else if (ret == GNUTLS_E_TIMEDOUT) {
    emit_closed_error (dtls, HANGOUT_ERROR_DTLS, "DTLS handshake timed out");
  } else if (ret == GNUTLS_E_NO_CERTIFICATE_FOUND) {
    emit_closed_error (dtls, HANGOUT_ERROR_DTLS,
        "peer presented no certificate");
  } else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
    emit_closed_error (dtls, HANGOUT_ERROR_DTLS,
        "DTLS handshake failed: peer sent fatal alert \"%s\"",
        gnutls_alert_get_name (gnutls_alert_get (dtls->session)));
  } else {
    emit_closed_error (dtls, HANGOUT_ERROR_DTLS,
        "DTLS handshake failed: %s", gnutls_strerror (ret));
  }
}

static void
handshake_complete (HangoutDtls * dtls)
{
  GError *error = NULL;
  size_t overhead;

  disarm_timer (dtls);
  dtls->handshake_done = TRUE;

  /* The verify callback already accepted the peer; check once more so that
   * no path through GnuTLS can yield a session we did not authenticate. */
  if (!check_peer_certificate (dtls, &error)) {
    send_alert (dtls, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
    emit_closed (dtls, error);
    g_error_free (error);
    return;
  }

  /* Handshake flights had to fit a 1200-byte path; application records may
   * be as large as a TLS record allows (RFC 8261: SCTP does the sizing).
   * GnuTLS caps the DTLS MTU, record header and AEAD expansion included, at
   * 2^14, so the payload ends up a few dozen bytes short of 16 KiB. */
  overhead = gnutls_record_overhead_size (dtls->session);
  gnutls_dtls_set_mtu (dtls->session, MAX_RECORD_PLAINTEXT + overhead);
  dtls->max_payload = MIN (gnutls_dtls_get_data_mtu (dtls->session),
      MAX_RECORD_PLAINTEXT);

  set_state (dtls, STATE_CONNECTED);
  GST_DEBUG ("DTLS %s connected (max payload %" G_GSIZE_FORMAT ")",
      dtls->is_client ? "client" : "server", dtls->max_payload);
  if (dtls->callbacks.connected)
    dtls->callbacks.connected (dtls->user_data);

  /* The datagram that finished the handshake may carry application records
   * behind the Finished; GnuTLS keeps them buffered for record_recv. */
  if (!is_stopped (dtls))
    receive_records (dtls);
}

static void
handshake_step (HangoutDtls * dtls)
{
  /* A few retries for non-fatal returns (warning alerts) and for the rare
   * case GnuTLS returns EAGAIN before it read the datagram being fed. */
  for (guint attempt = 0; attempt < 4; attempt++) {
    int ret = gnutls_handshake (dtls->session);

    if (ret == GNUTLS_E_SUCCESS) {
      handshake_complete (dtls);
      return;
    }
    if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
      arm_retransmit_timer (dtls);
      if (dtls->pending == NULL)
        return;
      continue;
    }
    if (gnutls_error_is_fatal (ret)) {
      disarm_timer (dtls);
      handshake_failed (dtls, ret);
      return;
    }
    GST_DEBUG ("DTLS handshake: %s", gnutls_strerror (ret));
    arm_retransmit_timer (dtls);
  }
}

static void
receive_records (HangoutDtls * dtls)
{
  guint errors = 0;

  /* Bounded: a run of bad records must not spin forever. */
  while (errors < 16) {
    ssize_t ret = gnutls_record_recv (dtls->session, dtls->recv_buffer,
        RECV_BUFFER_SIZE);

    if (ret > 0) {
      if (dtls->callbacks.received)
        dtls->callbacks.received (dtls->user_data, dtls->recv_buffer, ret);
      if (is_stopped (dtls))
        return;
      continue;
    }

    switch (ret) {
      case 0:                  /* close_notify */
      case GNUTLS_E_PREMATURE_TERMINATION:
        emit_closed (dtls, NULL);
        return;
      case GNUTLS_E_AGAIN:
      case GNUTLS_E_INTERRUPTED:
        return;
      case GNUTLS_E_REHANDSHAKE:
        /* RFC 8827: renegotiation is not supported; refuse politely. */
        send_alert (dtls, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
        break;
      case GNUTLS_E_WARNING_ALERT_RECEIVED:
        GST_DEBUG ("DTLS peer sent warning alert \"%s\"",
            gnutls_alert_get_name (gnutls_alert_get (dtls->session)));
        break;
      case GNUTLS_E_FATAL_ALERT_RECEIVED:
        emit_closed_error (dtls, HANGOUT_ERROR_DTLS,
            "peer sent fatal alert \"%s\"",
            gnutls_alert_get_name (gnutls_alert_get (dtls->session)));
        return;
      case GNUTLS_E_INVALID_SESSION:
      case GNUTLS_E_INTERNAL_ERROR:
      case GNUTLS_E_MEMORY_ERROR:
        emit_closed_error (dtls, HANGOUT_ERROR_DTLS,
            "DTLS session failed: %s", gnutls_strerror (ret));
        return;
      default:
        /* Anyone can spoof a datagram: a record that does not decrypt or
         * parse is dropped, never a reason to end the session. */
        GST_DEBUG ("DTLS dropped a record: %s", gnutls_strerror (ret));
        errors++;
        break;
    }
  }
}

/* Entry points that can call back bracket themselves with enter/leave so that
 * a hangout_dtls_free() from inside a callback is deferred to the end. */
static void dtls_destroy (HangoutDtls * dtls);

static void
enter (HangoutDtls * dtls)
{
  dtls->depth++;
}

static void
leave (HangoutDtls * dtls)
{
  if (--dtls->depth == 0 && dtls->free_pending)
    dtls_destroy (dtls);
}

static void
on_timer (gpointer data)
{
  HangoutDtls *dtls = data;

  enter (dtls);
  if (get_state (dtls) == STATE_HANDSHAKING && !dtls->free_pending)
    handshake_step (dtls);      /* retransmits, or fails on the total timeout */
  leave (dtls);
}

/* ---------------------------------------------------------------------- */
/* Public API */

HangoutDtls *
hangout_dtls_new (GMainContext * context, gboolean is_client,
    HangoutCertificate * certificate, const HangoutDtlsCallbacks * callbacks,
    gpointer user_data)
{
  HangoutDtls *dtls;
  gnutls_certificate_credentials_t credentials;
  const char *error_pos = NULL;
  unsigned int flags;
  int ret;

  hangout_debug_init ();
  g_return_val_if_fail (context != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL, NULL);
  g_return_val_if_fail (callbacks->send_datagram != NULL, NULL);
  g_return_val_if_fail (certificate != NULL || is_client, NULL);

  flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS |
      (is_client ? GNUTLS_CLIENT : GNUTLS_SERVER);

  dtls = g_new0 (HangoutDtls, 1);
  dtls->context = g_main_context_ref (context);
  dtls->is_client = is_client;
  dtls->callbacks = *callbacks;
  dtls->user_data = user_data;
  dtls->state = STATE_NEW;
  dtls->recv_buffer = g_malloc (RECV_BUFFER_SIZE);
  g_mutex_init (&dtls->send_lock);
  g_mutex_init (&dtls->push_lock);

  if (certificate) {
    dtls->certificate = hangout_certificate_ref (certificate);
    credentials = certificate->credentials;
  } else {
    /* GnuTLS needs certificate credentials for an ECDHE-ECDSA/RSA handshake
     * even when it has nothing to present. */
    ret = gnutls_certificate_allocate_credentials (&dtls->empty_credentials);
    if (ret < 0)
      g_error ("gnutls_certificate_allocate_credentials: %s",
          gnutls_strerror (ret));
    credentials = dtls->empty_credentials;
  }

  ret = gnutls_init (&dtls->session, flags);
  if (ret < 0)
    g_error ("gnutls_init: %s", gnutls_strerror (ret));
  ret = gnutls_priority_set_direct (dtls->session, DTLS_PRIORITY, &error_pos);
  if (ret < 0)
    g_error ("DTLS priority string rejected at \"%s\": %s",
        error_pos ? error_pos : "?", gnutls_strerror (ret));
  ret = gnutls_credentials_set (dtls->session, GNUTLS_CRD_CERTIFICATE,
      credentials);
  if (ret < 0)
    g_error ("gnutls_credentials_set: %s", gnutls_strerror (ret));
  /* WebRTC authenticates both ends; a GnuTLS server does not even ask for
   * a client certificate unless told to. */
  if (!is_client)
    gnutls_certificate_server_set_request (dtls->session, GNUTLS_CERT_REQUIRE);
  /* use_srtp (RFC 5764), although no media flows: RFC 8827 has every WebRTC
   * endpoint support it, and GStreamer's dtlssrtpdec (webrtcbin) fails the
   * connection when a handshake negotiated no SRTP profile. */
  ret = gnutls_srtp_set_profile_direct (dtls->session, SRTP_PROFILES, NULL);
  if (ret < 0)
    g_error ("gnutls_srtp_set_profile_direct: %s", gnutls_strerror (ret));

  gnutls_session_set_ptr (dtls->session, dtls);
  gnutls_session_set_verify_function (dtls->session, verify_cb);
  gnutls_transport_set_ptr (dtls->session, dtls);
  gnutls_transport_set_push_function (dtls->session, push_cb);
  gnutls_transport_set_pull_function (dtls->session, pull_cb);
  gnutls_transport_set_pull_timeout_function (dtls->session, pull_timeout_cb);
  gnutls_dtls_set_mtu (dtls->session, HANGOUT_DTLS_HANDSHAKE_MTU);
  gnutls_dtls_set_timeouts (dtls->session, RETRANSMIT_TIMEOUT_MS,
      TOTAL_TIMEOUT_MS);

  dtls->timer = hangout_timer_new (dtls->context, on_timer, dtls);

  return dtls;
}

static void
dtls_destroy (HangoutDtls * dtls)
{
  hangout_timer_free (dtls->timer);
  gnutls_deinit (dtls->session);
  if (dtls->empty_credentials)
    gnutls_certificate_free_credentials (dtls->empty_credentials);
  g_clear_pointer (&dtls->certificate, hangout_certificate_unref);
  g_main_context_unref (dtls->context);
  g_clear_error (&dtls->verify_error);
  g_free (dtls->remote_fingerprint);
  g_free (dtls->recv_buffer);
  g_mutex_clear (&dtls->send_lock);
  g_mutex_clear (&dtls->push_lock);
  g_free (dtls);
}

/* Owner thread only, and no thread may be inside hangout_dtls_send(). From
 * inside a callback (other than send_datagram) the memory is released when
 * the call that ran the callback returns; nothing is called back after. */
void
hangout_dtls_free (HangoutDtls * dtls)
{
  if (dtls == NULL)
    return;
  if (dtls->depth > 0) {
    g_mutex_lock (&dtls->send_lock);
    dtls->free_pending = TRUE;
    g_atomic_int_set (&dtls->state, STATE_CLOSED);
    g_mutex_unlock (&dtls->send_lock);
    disarm_timer (dtls);
    return;
  }
  dtls_destroy (dtls);
}

static gnutls_digest_algorithm_t
parse_digest_name (const gchar * algorithm)
{
  if (g_ascii_strcasecmp (algorithm, "sha-256") == 0)
    return GNUTLS_DIG_SHA256;
  if (g_ascii_strcasecmp (algorithm, "sha-384") == 0)
    return GNUTLS_DIG_SHA384;
  if (g_ascii_strcasecmp (algorithm, "sha-512") == 0)
    return GNUTLS_DIG_SHA512;
  return GNUTLS_DIG_UNKNOWN;
}

/* TRUE if @fingerprint is exactly @digest_len hex pairs joined by ':'. */
static gboolean
fingerprint_is_well_formed (const gchar * fingerprint, gsize digest_len)
{
  gsize len = strlen (fingerprint);

  if (len != digest_len * 3 - 1)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (i % 3 == 2 ? fingerprint[i] != ':' : !g_ascii_isxdigit (fingerprint[i]))
      return FALSE;
  }
  return TRUE;
}

gboolean
hangout_dtls_set_remote_fingerprint (HangoutDtls * dtls,
    const gchar * algorithm, const gchar * fingerprint, GError ** error)
{
  gnutls_digest_algorithm_t digest;
  gchar *normalized;

  g_return_val_if_fail (dtls != NULL, FALSE);
  g_return_val_if_fail (algorithm != NULL, FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);

  digest = parse_digest_name (algorithm);
  if (digest == GNUTLS_DIG_UNKNOWN) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_FINGERPRINT,
        "unsupported fingerprint algorithm \"%s\" (need sha-256 or stronger)",
        algorithm);
    return FALSE;
  }
  if (!fingerprint_is_well_formed (fingerprint, gnutls_hash_get_len (digest))) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_FINGERPRINT,
        "malformed %s fingerprint \"%s\"", algorithm, fingerprint);
    return FALSE;
  }
  normalized = g_ascii_strup (fingerprint, -1);

  if (dtls->handshake_done) {
    /* The peer is already authenticated against the old value; only a
     * repeat of it (a renegotiated SDP) is acceptable. */
    gboolean same = dtls->remote_fingerprint && digest == dtls->remote_digest
        && strcmp (normalized, dtls->remote_fingerprint) == 0;

    g_free (normalized);
    if (!same)
      g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
          "the remote fingerprint cannot change after the DTLS handshake");
    return same;
  }

  g_free (dtls->remote_fingerprint);
  dtls->remote_fingerprint = normalized;
  dtls->remote_digest = digest;
  return TRUE;
}

void
hangout_dtls_start (HangoutDtls * dtls)
{
  g_return_if_fail (dtls != NULL);

  if (get_state (dtls) != STATE_NEW)
    return;
  set_state (dtls, STATE_HANDSHAKING);
  /* Both roles enter the handshake now: the client sends its ClientHello,
   * the server starts the total timeout, so a peer that never shows up is
   * reported after ~30 s either way. */
  enter (dtls);
  handshake_step (dtls);
  leave (dtls);
}

void
hangout_dtls_receive (HangoutDtls * dtls, const guint8 * data, gsize len)
{
  DtlsState state;

  g_return_if_fail (dtls != NULL);

  if (len == 0)
    return;
  state = get_state (dtls);
  if (state == STATE_NEW) {
    if (dtls->is_client) {
      GST_DEBUG ("DTLS client got a datagram before start, dropped");
      return;
    }
    /* A ClientHello can overtake our own start(); answer it anyway. */
    set_state (dtls, STATE_HANDSHAKING);
    state = STATE_HANDSHAKING;
  }
  if (state == STATE_CLOSED || dtls->free_pending)
    return;

  enter (dtls);
  dtls->pending = data;
  dtls->pending_len = len;
  if (state == STATE_HANDSHAKING)
    handshake_step (dtls);
  else
    receive_records (dtls);
  if (dtls->pending != NULL)
    GST_DEBUG ("DTLS ignored a %" G_GSIZE_FORMAT "-byte datagram", len);
  dtls->pending = NULL;
  dtls->pending_len = 0;
  leave (dtls);
}

gboolean
hangout_dtls_send (HangoutDtls * dtls, const guint8 * data, gsize len,
    GError ** error)
{
  ssize_t ret;

  /* Hot path: one lock, one record, no allocation unless it fails. */
  g_mutex_lock (&dtls->send_lock);
  /* state and max_payload are read under the lock that published them. */
  if (G_UNLIKELY (dtls->state != STATE_CONNECTED || len > dtls->max_payload)) {
    DtlsState state = dtls->state;
    gsize max_payload = dtls->max_payload;

    g_mutex_unlock (&dtls->send_lock);
    if (state == STATE_CLOSED)
      g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
          "the DTLS session is closed");
    else if (state != STATE_CONNECTED)
      g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
          "the DTLS handshake has not completed");
    else
      g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
          "DTLS record of %" G_GSIZE_FORMAT " bytes exceeds the maximum of %"
          G_GSIZE_FORMAT, len, max_payload);
    return FALSE;
  }
  if (G_UNLIKELY (len == 0)) {
    /* An empty record carries nothing a peer could see. */
    g_mutex_unlock (&dtls->send_lock);
    return TRUE;
  }
  ret = gnutls_record_send (dtls->session, data, len);
  g_mutex_unlock (&dtls->send_lock);

  if (G_LIKELY (ret == (ssize_t) len))
    return TRUE;
  GST_DEBUG ("DTLS record_send: %s", ret < 0 ? gnutls_strerror (ret) : "short");
  if (ret == GNUTLS_E_LARGE_PACKET)
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
        "DTLS record of %" G_GSIZE_FORMAT " bytes is too large", len);
  else
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_DTLS,
        "cannot send a DTLS record: %s",
        ret < 0 ? gnutls_strerror (ret) : "short write");
  return FALSE;
}

gsize
hangout_dtls_get_max_payload (HangoutDtls * dtls)
{
  g_return_val_if_fail (dtls != NULL, 0);
  return dtls->max_payload;
}

void
hangout_dtls_close (HangoutDtls * dtls)
{
  DtlsState state;

  g_return_if_fail (dtls != NULL);

  g_mutex_lock (&dtls->send_lock);
  state = dtls->state;
  if (state == STATE_CONNECTED)
    gnutls_bye (dtls->session, GNUTLS_SHUT_WR); /* push never blocks */
  g_atomic_int_set (&dtls->state, STATE_CLOSED);
  g_mutex_unlock (&dtls->send_lock);
  disarm_timer (dtls);
}

gboolean
hangout_dtls_is_connected (HangoutDtls * dtls)
{
  g_return_val_if_fail (dtls != NULL, FALSE);
  return get_state (dtls) == STATE_CONNECTED;
}

gboolean
hangout_dtls_uses_extended_master_secret (HangoutDtls * dtls)
{
  g_return_val_if_fail (dtls != NULL, FALSE);
  return dtls->handshake_done &&
      gnutls_session_ext_master_secret_status (dtls->session) != 0;
}

gboolean
hangout_dtls_export_key (HangoutDtls * dtls, const gchar * label,
    guint8 * out, gsize len)
{
  g_return_val_if_fail (dtls != NULL, FALSE);

  return dtls->handshake_done && gnutls_prf_rfc5705 (dtls->session,
      strlen (label), label, 0, NULL, len, (char *) out) == GNUTLS_E_SUCCESS;
}

gchar *
hangout_dtls_describe_session (HangoutDtls * dtls)
{
  g_return_val_if_fail (dtls != NULL, NULL);

  if (!dtls->handshake_done)
    return g_strdup ("(no DTLS session yet)");
  return g_strdup_printf ("%s %s-%s",
      gnutls_protocol_get_name (gnutls_protocol_get_version (dtls->session)),
      gnutls_kx_get_name (gnutls_kx_get (dtls->session)),
      gnutls_cipher_get_name (gnutls_cipher_get (dtls->session)));
}
