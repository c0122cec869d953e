/* gst-hangout — unit tests for the DTLS layer.
 *
 * Two HangoutDtls endpoints live in one process on one GMainContext and are
 * wired through an in-memory "network": send_datagram() queues the datagram
 * for the other endpoint and an idle source on the context delivers it. The
 * network can drop, re-fragment or renumber datagrams. Tests never sleep;
 * they iterate the context until a condition holds or a deadline fails them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gst/check/gstcheck.h>
#include <hangout/dtls.h>

#include <errno.h>
#include <string.h>

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define DTLS_RECORD_HEADER 13
#define DTLS_HANDSHAKE_HEADER 12
#define CONTENT_CHANGE_CIPHER_SPEC 20
#define CONTENT_HANDSHAKE 22
#define CONTENT_APPLICATION_DATA 23
#define HANDSHAKE_CLIENT_HELLO 1

typedef struct _Net Net;
typedef struct _Endpoint Endpoint;

struct _Endpoint
{
  Net *net;
  Endpoint *peer;
  const gchar *name;
  HangoutDtls *dtls;
  HangoutCertificate *cert;

  /* What the callbacks saw (owner thread). */
  guint connected;
  guint closed;
  GError *close_error;
  guint events_after_close;
  GPtrArray *received;          /* GBytes */

  /* What this endpoint wrote (under net->lock: senders may be threads). */
  guint datagrams_sent;
  guint sent_after_close;
  guint client_hellos;          /* ClientHello transmissions */
  gsize max_control_datagram;   /* largest non-application datagram */
  gsize max_app_datagram;       /* largest application-data datagram */

  /* Impairments applied to what this endpoint sends. */
  guint drop_first;             /* drop this many of its first datagrams */
  gboolean drop_first_ccs;      /* drop the first datagram opening with CCS */
  gboolean fragment_client_hello;
  gboolean reverse_fragments;
  guint fragments_made;
  guint64 epoch0_seq_shift;     /* renumber epoch-0 records after a split */
  guint dropped;

  gboolean free_in_closed;
  gboolean free_in_received;

  /* A bare GnuTLS client standing in for this endpoint instead of dtls, for
   * what HangoutDtls itself never does (asking to renegotiate). */
  gnutls_session_t raw;
  gnutls_certificate_credentials_t raw_credentials;
  gchar *raw_fingerprint;
  const guint8 *raw_pending;
  gsize raw_pending_len;
  gboolean raw_renegotiating;
  gint raw_alert;               /* last warning alert received, or -1 */
};

typedef struct
{
  Endpoint *to;
  GBytes *data;
} Packet;

struct _Net
{
  GMainContext *ctx;
  GMutex lock;
  GQueue packets;
  GSource *idle;
  Endpoint client;
  Endpoint server;
};

static void raw_receive (Endpoint * ep, const guint8 * data, gsize len);

/* ---------------------------------------------------------------------- */
/* The in-memory network */

static gboolean
deliver_cb (gpointer user_data)
{
  Net *net = user_data;
  GQueue batch;
  Packet *p;

  g_mutex_lock (&net->lock);
  batch = net->packets;
  g_queue_init (&net->packets);
  g_clear_pointer (&net->idle, g_source_unref);
  g_mutex_unlock (&net->lock);

  while ((p = g_queue_pop_head (&batch))) {
    gsize len;
    const guint8 *data = g_bytes_get_data (p->data, &len);

    if (p->to->dtls)
      hangout_dtls_receive (p->to->dtls, data, len);
    else if (p->to->raw)
      raw_receive (p->to, data, len);
    g_bytes_unref (p->data);
    g_free (p);
  }
  return G_SOURCE_REMOVE;
}

/* Called with net->lock held. */
static void
enqueue (Net * net, Endpoint * to, const guint8 * data, gsize len)
{
  Packet *p = g_new0 (Packet, 1);

  p->to = to;
  p->data = g_bytes_new (data, len);
  g_queue_push_tail (&net->packets, p);
  if (net->idle == NULL) {
    net->idle = g_idle_source_new ();
    g_source_set_callback (net->idle, deliver_cb, net, NULL);
    g_source_attach (net->idle, net->ctx);
  }
}

static guint64
read_be48 (const guint8 * p)
{
  guint64 v = 0;

  for (int i = 0; i < 6; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
write_be48 (guint8 * p, guint64 v)
{
  for (int i = 5; i >= 0; i--, v >>= 8)
    p[i] = v & 0xff;
}

static guint32
read_be24 (const guint8 * p)
{
  return (p[0] << 16) | (p[1] << 8) | p[2];
}

static void
write_be24 (guint8 * p, guint32 v)
{
  p[0] = v >> 16;
  p[1] = v >> 8;
  p[2] = v;
}

/* Epoch-0 records carry no MAC, so the network may renumber them: after a
 * split consumed an extra sequence number, later records move up by one so
 * the server's replay window does not mistake them for replays. */
static void
shift_epoch0_sequence (guint8 * data, gsize len, guint64 shift)
{
  gsize off = 0;

  while (off + DTLS_RECORD_HEADER <= len) {
    guint8 *rec = data + off;
    guint16 epoch = (rec[3] << 8) | rec[4];
    guint16 rec_len = (rec[11] << 8) | rec[12];

    if (epoch == 0)
      write_be48 (rec + 5, read_be48 (rec + 5) + shift);
    off += DTLS_RECORD_HEADER + rec_len;
  }
}

/* Splits a single-record ClientHello datagram into two datagrams, each one
 * record carrying one fragment of the handshake message (RFC 6347 4.2.3), as
 * a browser does with a post-quantum key share too big for one datagram. */
static gboolean
fragment_client_hello (Endpoint * from, const guint8 * data, gsize len)
{
  Net *net = from->net;
  guint16 rec_len;
  guint32 msg_len, body_len, half;
  guint64 seq;
  guint8 *frag[2];
  gsize frag_size[2];

  if (len < DTLS_RECORD_HEADER + DTLS_HANDSHAKE_HEADER ||
      data[0] != CONTENT_HANDSHAKE || data[3] != 0 || data[4] != 0 ||
      data[DTLS_RECORD_HEADER] != HANDSHAKE_CLIENT_HELLO)
    return FALSE;
  rec_len = (data[11] << 8) | data[12];
  msg_len = read_be24 (data + 14);
  /* One record, one unfragmented message filling it. */
  fail_unless_equals_int (DTLS_RECORD_HEADER + rec_len, len);
  fail_unless_equals_int (read_be24 (data + 19), 0);
  fail_unless_equals_int (read_be24 (data + 22), msg_len);
  fail_unless_equals_int (DTLS_HANDSHAKE_HEADER + msg_len, rec_len);

  body_len = msg_len;
  half = body_len / 2;
  seq = read_be48 (data + 5);

  for (int i = 0; i < 2; i++) {
    guint32 offset = i == 0 ? 0 : half;
    guint32 flen = i == 0 ? half : body_len - half;
    guint8 *f;

    frag_size[i] = DTLS_RECORD_HEADER + DTLS_HANDSHAKE_HEADER + flen;
    f = frag[i] = g_malloc (frag_size[i]);
    /* Record header: same type/version/epoch, own sequence number. */
    memcpy (f, data, DTLS_RECORD_HEADER);
    write_be48 (f + 5, seq + from->epoch0_seq_shift + i);
    f[11] = (DTLS_HANDSHAKE_HEADER + flen) >> 8;
    f[12] = (DTLS_HANDSHAKE_HEADER + flen) & 0xff;
    /* Handshake header: same type/length/message_seq, own fragment. */
    memcpy (f + DTLS_RECORD_HEADER, data + DTLS_RECORD_HEADER,
        DTLS_HANDSHAKE_HEADER);
    write_be24 (f + 19, offset);
    write_be24 (f + 22, flen);
    memcpy (f + DTLS_RECORD_HEADER + DTLS_HANDSHAKE_HEADER,
        data + DTLS_RECORD_HEADER + DTLS_HANDSHAKE_HEADER + offset, flen);
  }

  for (int i = 0; i < 2; i++) {
    int k = from->reverse_fragments ? 1 - i : i;

    enqueue (net, from->peer, frag[k], frag_size[k]);
    g_free (frag[k]);
  }
  from->epoch0_seq_shift++;
  from->fragments_made += 2;
  return TRUE;
}

static void
ep_send_datagram (gpointer user_data, const guint8 * data, gsize len)
{
  Endpoint *ep = user_data;
  Net *net = ep->net;

  fail_unless (len > 0);
  g_mutex_lock (&net->lock);
  ep->datagrams_sent++;
  if (ep->closed)
    ep->sent_after_close++;
  /* Everything but application data is handshake or alert traffic, which
   * must fit the 1200-byte path MTU. */
  if (data[0] != CONTENT_APPLICATION_DATA)
    ep->max_control_datagram = MAX (ep->max_control_datagram, len);
  else
    ep->max_app_datagram = MAX (ep->max_app_datagram, len);
  if (len > DTLS_RECORD_HEADER && data[0] == CONTENT_HANDSHAKE &&
      data[3] == 0 && data[4] == 0 &&
      data[DTLS_RECORD_HEADER] == HANDSHAKE_CLIENT_HELLO)
    ep->client_hellos++;

  if (ep->drop_first > 0) {
    ep->drop_first--;
    ep->dropped++;
  } else if (ep->drop_first_ccs && data[0] == CONTENT_CHANGE_CIPHER_SPEC) {
    ep->drop_first_ccs = FALSE;
    ep->dropped++;
  } else if (ep->fragment_client_hello &&
      fragment_client_hello (ep, data, len)) {
    /* queued as two datagrams */
  } else if (ep->epoch0_seq_shift) {
    guint8 *copy = g_memdup2 (data, len);

    shift_epoch0_sequence (copy, len, ep->epoch0_seq_shift);
    enqueue (net, ep->peer, copy, len);
    g_free (copy);
  } else {
    enqueue (net, ep->peer, data, len);
  }
  g_mutex_unlock (&net->lock);
}

static void
ep_connected (gpointer user_data)
{
  Endpoint *ep = user_data;

  if (ep->closed)
    ep->events_after_close++;
  ep->connected++;
}

static void
ep_received (gpointer user_data, const guint8 * data, gsize len)
{
  Endpoint *ep = user_data;

  if (ep->closed)
    ep->events_after_close++;
  g_ptr_array_add (ep->received, g_bytes_new (data, len));
  if (ep->free_in_received)
    g_clear_pointer (&ep->dtls, hangout_dtls_free);
}

static void
ep_closed (gpointer user_data, const GError * error)
{
  Endpoint *ep = user_data;

  if (ep->closed)
    ep->events_after_close++;
  ep->closed++;
  if (error && ep->close_error == NULL)
    ep->close_error = g_error_copy (error);
  if (ep->free_in_closed)
    g_clear_pointer (&ep->dtls, hangout_dtls_free);
}

static const HangoutDtlsCallbacks ep_callbacks = {
  .send_datagram = ep_send_datagram,
  .connected = ep_connected,
  .received = ep_received,
  .closed = ep_closed,
};

static void
endpoint_init (Net * net, Endpoint * ep, Endpoint * peer, const gchar * name,
    gboolean is_client, HangoutCertificate * cert)
{
  ep->net = net;
  ep->peer = peer;
  ep->name = name;
  ep->cert = cert ? hangout_certificate_ref (cert) : NULL;
  ep->received =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ep->dtls = hangout_dtls_new (net->ctx, is_client, cert, &ep_callbacks, ep);
  fail_unless (ep->dtls != NULL);
}

static void
endpoint_clear (Endpoint * ep)
{
  g_clear_pointer (&ep->dtls, hangout_dtls_free);
  g_clear_pointer (&ep->raw, gnutls_deinit);
  g_clear_pointer (&ep->raw_credentials, gnutls_certificate_free_credentials);
  g_clear_pointer (&ep->raw_fingerprint, g_free);
  g_clear_pointer (&ep->cert, hangout_certificate_unref);
  g_clear_error (&ep->close_error);
  g_clear_pointer (&ep->received, g_ptr_array_unref);
}

/* A client and a server; a NULL certificate means a fresh one. */
static Net *
net_new (HangoutCertificate * client_cert, HangoutCertificate * server_cert)
{
  Net *net = g_new0 (Net, 1);
  g_autoptr (HangoutCertificate) own_client = NULL;
  g_autoptr (HangoutCertificate) own_server = NULL;

  net->ctx = g_main_context_new ();
  g_mutex_init (&net->lock);
  g_queue_init (&net->packets);
  if (client_cert == NULL)
    client_cert = own_client = hangout_certificate_new (NULL);
  if (server_cert == NULL)
    server_cert = own_server = hangout_certificate_new (NULL);
  fail_unless (client_cert && server_cert);
  endpoint_init (net, &net->client, &net->server, "client", TRUE, client_cert);
  endpoint_init (net, &net->server, &net->client, "server", FALSE,
      server_cert);
  return net;
}

/* Like net_new, but the client has no certificate at all. */
static Net *
net_new_anonymous_client (void)
{
  Net *net = g_new0 (Net, 1);
  g_autoptr (HangoutCertificate) server_cert = hangout_certificate_new (NULL);

  net->ctx = g_main_context_new ();
  g_mutex_init (&net->lock);
  g_queue_init (&net->packets);
  endpoint_init (net, &net->client, &net->server, "client", TRUE, NULL);
  endpoint_init (net, &net->server, &net->client, "server", FALSE,
      server_cert);
  return net;
}

static void
set_fingerprint (Endpoint * ep, const gchar * fingerprint)
{
  GError *error = NULL;

  fail_unless (hangout_dtls_set_remote_fingerprint (ep->dtls, "sha-256",
          fingerprint, &error), "%s", error ? error->message : "?");
}

/* What the SDP exchange would do: each side learns the other's fingerprint. */
static void
net_exchange_fingerprints (Net * net)
{
  fail_unless (net->client.cert != NULL);
  set_fingerprint (&net->client,
      hangout_certificate_get_fingerprint (net->server.cert));
  set_fingerprint (&net->server,
      hangout_certificate_get_fingerprint (net->client.cert));
}

static void
net_free (Net * net)
{
  Packet *p;

  endpoint_clear (&net->client);
  endpoint_clear (&net->server);
  if (net->idle) {
    g_source_destroy (net->idle);
    g_source_unref (net->idle);
  }
  while ((p = g_queue_pop_head (&net->packets))) {
    g_bytes_unref (p->data);
    g_free (p);
  }
  /* Whatever the endpoints left attached must be gone: no dangling sources. */
  while (g_main_context_iteration (net->ctx, FALSE));
  g_main_context_unref (net->ctx);
  g_mutex_clear (&net->lock);
  g_free (net);
}

static gboolean
deadline_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the network's context until @cond holds; fails the test after
 * @timeout_ms. A deadline source keeps the blocking iteration bounded. */
#define WAIT_UNTIL(net, cond, timeout_ms) \
  G_STMT_START { \
    gboolean expired_ = FALSE; \
    GSource *deadline_ = g_timeout_source_new (timeout_ms); \
    g_source_set_callback (deadline_, deadline_cb, &expired_, NULL); \
    g_source_attach (deadline_, (net)->ctx); \
    while (!(cond) && !expired_) \
      g_main_context_iteration ((net)->ctx, TRUE); \
    g_source_destroy (deadline_); \
    g_source_unref (deadline_); \
    fail_unless ((cond), "timed out after %d ms waiting for: %s", \
        (int) (timeout_ms), #cond); \
  } G_STMT_END

/* Delivers everything queued (and anything that triggers) without waiting
 * for timers. */
static void
net_settle (Net * net)
{
  while (g_main_context_iteration (net->ctx, FALSE));
}

static void
net_handshake (Net * net)
{
  hangout_dtls_start (net->server.dtls);
  hangout_dtls_start (net->client.dtls);
  WAIT_UNTIL (net, net->client.connected && net->server.connected, 10000);
}

static GBytes *
make_payload (gsize len, guint8 seed)
{
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + seed + (i >> 8));
  return g_bytes_new_take (data, len);
}

static void
send_bytes (Endpoint * ep, GBytes * bytes)
{
  GError *error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  fail_unless (hangout_dtls_send (ep->dtls, data, len, &error),
      "%s could not send %" G_GSIZE_FORMAT " bytes: %s", ep->name, len,
      error ? error->message : "?");
}

/* Sends 1 B, 1200 B and a maximal record each way and checks they arrive. */
static void
check_data_both_ways (Net * net)
{
  Endpoint *eps[2] = { &net->client, &net->server };

  for (int e = 0; e < 2; e++) {
    Endpoint *from = eps[e], *to = eps[1 - e];
    gsize sizes[] = { 1, 1200, hangout_dtls_get_max_payload (from->dtls) };
    guint base = to->received->len;
    GBytes *payloads[G_N_ELEMENTS (sizes)];

    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
      payloads[i] = make_payload (sizes[i], i + 17 * e);
      send_bytes (from, payloads[i]);
    }
    WAIT_UNTIL (net, to->received->len >= base + G_N_ELEMENTS (sizes), 5000);
    fail_unless_equals_int (to->received->len, base + G_N_ELEMENTS (sizes));
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
      fail_unless (g_bytes_equal (payloads[i],
              g_ptr_array_index (to->received, base + i)),
          "record %u (%" G_GSIZE_FORMAT " B) %s -> %s corrupted", i, sizes[i],
          from->name, to->name);
      g_bytes_unref (payloads[i]);
    }
  }
}

static void
check_session (Endpoint * ep)
{
  g_autofree gchar *description = hangout_dtls_describe_session (ep->dtls);

  fail_unless (hangout_dtls_is_connected (ep->dtls));
  fail_unless (hangout_dtls_uses_extended_master_secret (ep->dtls),
      "%s: no extended master secret", ep->name);
  /* ECDSA certificates on both ends and AES-128-GCM preferred. */
  fail_unless_equals_string (description, "DTLS1.2 ECDHE-ECDSA-AES-128-GCM");
  /* A record carries (almost) 16 KiB: GnuTLS counts the record header and
   * AEAD expansion against its 2^14 MTU cap. */
  fail_unless (hangout_dtls_get_max_payload (ep->dtls) >= 16384 - 64);
  fail_unless (hangout_dtls_get_max_payload (ep->dtls) <= 16384);
  fail_unless (ep->max_control_datagram > 0);
  fail_unless (ep->max_control_datagram <= HANGOUT_DTLS_HANDSHAKE_MTU,
      "%s sent a %" G_GSIZE_FORMAT "-byte handshake datagram", ep->name,
      ep->max_control_datagram);
  fail_unless_equals_int (ep->closed, 0);
}

/* ---------------------------------------------------------------------- */
/* A bare GnuTLS DTLS client, driven like HangoutDtls but by the test */

static ssize_t
raw_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  ep_send_datagram (ptr, data, len);
  return len;
}

static ssize_t
raw_pull (gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  Endpoint *ep = ptr;

  if (ep->raw_pending == NULL) {
    gnutls_transport_set_errno (ep->raw, EAGAIN);
    return -1;
  }
  len = MIN (len, ep->raw_pending_len);
  memcpy (data, ep->raw_pending, len);
  ep->raw_pending = NULL;
  return len;
}

static int
raw_pull_timeout (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  return ((Endpoint *) ptr)->raw_pending != NULL;
}

static void
raw_handshake (Endpoint * ep)
{
  int ret = gnutls_handshake (ep->raw);

  if (ret == GNUTLS_E_SUCCESS) {
    ep->connected++;
    ep->raw_renegotiating = FALSE;
  } else if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED) {
    /* The answer to a renegotiation attempt; the session goes on. */
    ep->raw_alert = gnutls_alert_get (ep->raw);
    ep->raw_renegotiating = FALSE;
  } else {
    fail_unless (ret == GNUTLS_E_AGAIN, "raw handshake: %s",
        gnutls_strerror (ret));
  }
}

static void
raw_receive (Endpoint * ep, const guint8 * data, gsize len)
{
  ep->raw_pending = data;
  ep->raw_pending_len = len;
  if (!ep->connected || ep->raw_renegotiating) {
    raw_handshake (ep);
  } else {
    guint8 buf[20000];
    ssize_t ret;

    while ((ret = gnutls_record_recv (ep->raw, buf, sizeof (buf))) > 0)
      g_ptr_array_add (ep->received, g_bytes_new (buf, ret));
    fail_unless (ret == GNUTLS_E_AGAIN, "raw record_recv: %s",
        gnutls_strerror (ret));
  }
  ep->raw_pending = NULL;
}

/* Replaces @ep's HangoutDtls with a plain GnuTLS client with its own
 * self-signed certificate. */
static void
endpoint_make_raw_client (Endpoint * ep)
{
  gnutls_x509_privkey_t key;
  gnutls_x509_crt_t crt;
  guint8 serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  guint8 digest[32];
  size_t digest_size = sizeof (digest);
  GString *fp = g_string_new (NULL);

  g_clear_pointer (&ep->dtls, hangout_dtls_free);
  fail_unless (gnutls_x509_privkey_init (&key) == 0);
  fail_unless (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
          GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0) == 0);
  fail_unless (gnutls_x509_crt_init (&crt) == 0);
  gnutls_x509_crt_set_version (crt, 3);
  gnutls_x509_crt_set_serial (crt, serial, sizeof (serial));
  gnutls_x509_crt_set_activation_time (crt, time (NULL) - 3600);
  gnutls_x509_crt_set_expiration_time (crt, time (NULL) + 3600);
  gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, "raw",
      3);
  gnutls_x509_crt_set_key (crt, key);
  fail_unless (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256,
          0) == 0);
  fail_unless (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256,
          digest, &digest_size) == 0);
  for (gsize i = 0; i < digest_size; i++)
    g_string_append_printf (fp, i ? ":%02X" : "%02X", digest[i]);
  ep->raw_fingerprint = g_string_free (fp, FALSE);

  fail_unless (gnutls_certificate_allocate_credentials
      (&ep->raw_credentials) == 0);
  fail_unless (gnutls_certificate_set_x509_key (ep->raw_credentials, &crt, 1,
          key) == 0);
  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);

  fail_unless (gnutls_init (&ep->raw,
          GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK) == 0);
  fail_unless (gnutls_set_default_priority (ep->raw) == 0);
  gnutls_credentials_set (ep->raw, GNUTLS_CRD_CERTIFICATE,
      ep->raw_credentials);
  gnutls_transport_set_ptr (ep->raw, ep);
  gnutls_transport_set_push_function (ep->raw, raw_push);
  gnutls_transport_set_pull_function (ep->raw, raw_pull);
  gnutls_transport_set_pull_timeout_function (ep->raw, raw_pull_timeout);
  gnutls_dtls_set_mtu (ep->raw, 1200);
  ep->raw_alert = -1;
}

/* ---------------------------------------------------------------------- */
/* Tests */

GST_START_TEST (test_certificate)
{
  HangoutCertificate *a = hangout_certificate_get_default ();
  HangoutCertificate *b = hangout_certificate_get_default ();
  g_autoptr (HangoutCertificate) fresh = hangout_certificate_new (NULL);
  g_autoptr (GRegex) re =
      g_regex_new ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", 0, 0, NULL);
  const guint8 dtls_first[] = { 20 }, dtls_last[] = { 63 };
  const guint8 stun[] = { 0 }, rtp[] = { 128 }, above[] = { 64 };

  fail_unless (a != NULL);
  fail_unless (a == b, "the default certificate must be made once");
  fail_unless (fresh != NULL && fresh != a);
  fail_unless (g_regex_match (re, hangout_certificate_get_fingerprint (a), 0,
          NULL), "bad fingerprint %s", hangout_certificate_get_fingerprint (a));
  fail_unless (g_regex_match (re, hangout_certificate_get_fingerprint (fresh),
          0, NULL));
  fail_if (g_str_equal (hangout_certificate_get_fingerprint (a),
          hangout_certificate_get_fingerprint (fresh)));

  /* Refcounting keeps the object alive and the default one usable. */
  hangout_certificate_unref (hangout_certificate_ref (a));
  fail_unless (hangout_certificate_get_default () == a);

  fail_unless (hangout_dtls_is_dtls_packet (dtls_first, 1));
  fail_unless (hangout_dtls_is_dtls_packet (dtls_last, 1));
  fail_if (hangout_dtls_is_dtls_packet (stun, 1));
  fail_if (hangout_dtls_is_dtls_packet (rtp, 1));
  fail_if (hangout_dtls_is_dtls_packet (above, 1));
  fail_if (hangout_dtls_is_dtls_packet (dtls_first, 0));
}

GST_END_TEST;

/* Builds the default certificate in several threads at once. */
static gpointer
get_default_thread (gpointer data)
{
  return hangout_certificate_get_default ();
}

GST_START_TEST (test_certificate_default_threads)
{
  GThread *threads[8];
  gpointer results[8];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("cert", get_default_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    results[i] = g_thread_join (threads[i]);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    fail_unless (results[i] == hangout_certificate_get_default ());
}

GST_END_TEST;

GST_START_TEST (test_remote_fingerprint_validation)
{
  Net *net = net_new (NULL, NULL);
  HangoutDtls *dtls = net->client.dtls;
  const gchar *good = hangout_certificate_get_fingerprint (net->server.cert);
  g_autofree gchar *lower = g_ascii_strdown (good, -1);
  g_autofree gchar *short_fp = g_strndup (good, strlen (good) - 3);
  g_autofree gchar *bad_char = g_strdup (good);
  GError *error = NULL;

  bad_char[4] = 'G';
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-1", good, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_FINGERPRINT));
  g_clear_error (&error);
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "md5", good, NULL));
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-256", short_fp,
          &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_FINGERPRINT));
  g_clear_error (&error);
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-256", bad_char,
          NULL));
  /* SHA-256 length but announced as SHA-384. */
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-384", good, NULL));
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-256", "", NULL));

  /* Case does not matter, in the value or the algorithm name. */
  fail_unless (hangout_dtls_set_remote_fingerprint (dtls, "SHA-256", lower,
          &error));
  set_fingerprint (&net->server,
      hangout_certificate_get_fingerprint (net->client.cert));
  net_handshake (net);
  check_session (&net->client);

  /* After the handshake only a repeat of the same value is accepted. */
  fail_unless (hangout_dtls_set_remote_fingerprint (dtls, "sha-256", good,
          NULL));
  fail_if (hangout_dtls_set_remote_fingerprint (dtls, "sha-256",
          hangout_certificate_get_fingerprint (net->client.cert), &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_STATE));
  g_clear_error (&error);
  net_free (net);
}

GST_END_TEST;

/* Variant 0: the server starts first, client uses the default certificate.
 * Variant 1: the client starts first, the server uses the default one. */
GST_START_TEST (test_handshake)
{
  HangoutCertificate *def = hangout_certificate_get_default ();
  Net *net = __i__ == 0 ? net_new (def, NULL) : net_new (NULL, def);
  GError *error = NULL;
  guint8 byte = 0;
  g_autofree gchar *before = hangout_dtls_describe_session (net->client.dtls);

  fail_unless (before != NULL);
  fail_if (hangout_dtls_is_connected (net->client.dtls));
  fail_if (hangout_dtls_uses_extended_master_secret (net->client.dtls));
  /* Nothing can be sent before the handshake. */
  fail_if (hangout_dtls_send (net->client.dtls, &byte, 1, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_STATE));
  g_clear_error (&error);

  net_exchange_fingerprints (net);
  if (__i__ == 0) {
    hangout_dtls_start (net->server.dtls);
    net_settle (net);
    hangout_dtls_start (net->client.dtls);
  } else {
    hangout_dtls_start (net->client.dtls);
    net_settle (net);
    hangout_dtls_start (net->server.dtls);
  }
  WAIT_UNTIL (net, net->client.connected && net->server.connected, 10000);
  net_settle (net);

  check_session (&net->client);
  check_session (&net->server);
  fail_unless_equals_int (net->client.connected, 1);
  fail_unless_equals_int (net->server.connected, 1);
  fail_unless_equals_int (net->client.dropped + net->server.dropped, 0);
  /* A clean network needs no retransmission. */
  fail_unless_equals_int (net->client.client_hellos, 1);
  net_free (net);
}

GST_END_TEST;

GST_START_TEST (test_application_data)
{
  Net *net = net_new (NULL, NULL);
  GError *error = NULL;
  gsize max;
  g_autoptr (GBytes) too_big = NULL;

  net_exchange_fingerprints (net);
  net_handshake (net);
  check_data_both_ways (net);
  /* Again, to be sure nothing was a one-off. */
  check_data_both_ways (net);

  max = hangout_dtls_get_max_payload (net->client.dtls);
  too_big = make_payload (max + 1, 3);
  fail_if (hangout_dtls_send (net->client.dtls,
          g_bytes_get_data (too_big, NULL), max + 1, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_MESSAGE_TOO_BIG), "%s", error->message);
  g_clear_error (&error);

  /* After the handshake the MTU is raised: a maximal record travels as one
   * datagram of up to 2^14 bytes, while every handshake datagram stayed
   * within 1200. */
  fail_unless (net->client.max_app_datagram > max);
  fail_unless (net->client.max_app_datagram <= 16384);
  fail_unless (net->server.max_app_datagram > max);
  fail_unless (net->client.max_control_datagram <= HANGOUT_DTLS_HANDSHAKE_MTU);
  fail_unless (net->server.max_control_datagram <= HANGOUT_DTLS_HANDSHAKE_MTU);
  net_settle (net);
  fail_unless_equals_int (net->client.closed + net->server.closed, 0);
  net_free (net);
}

GST_END_TEST;

/* Variant 0: the client expects the wrong fingerprint; 1: the server does. */
GST_START_TEST (test_wrong_fingerprint)
{
  Net *net = net_new (NULL, NULL);
  g_autoptr (HangoutCertificate) other = hangout_certificate_new (NULL);
  Endpoint *victim = __i__ == 0 ? &net->client : &net->server;
  Endpoint *impostor = victim->peer;

  set_fingerprint (victim, hangout_certificate_get_fingerprint (other));
  set_fingerprint (impostor,
      hangout_certificate_get_fingerprint (victim->cert));
  /* The failing side frees itself from inside closed(). */
  victim->free_in_closed = TRUE;
  hangout_dtls_start (net->server.dtls);
  hangout_dtls_start (net->client.dtls);
  WAIT_UNTIL (net, victim->closed && impostor->closed, 10000);
  net_settle (net);

  fail_unless (victim->dtls == NULL);
  fail_unless (g_error_matches (victim->close_error, HANGOUT_ERROR,
          HANGOUT_ERROR_FINGERPRINT), "%s",
      victim->close_error ? victim->close_error->message : "no error");
  fail_unless (strstr (victim->close_error->message,
          "does not match the remote description") != NULL);
  /* The other side hears a fatal alert rather than waiting 30 s. */
  fail_unless (impostor->close_error != NULL);
  fail_unless (g_error_matches (impostor->close_error, HANGOUT_ERROR,
          HANGOUT_ERROR_DTLS), "%s", impostor->close_error->message);
  fail_unless_equals_int (victim->connected, 0);
  fail_unless_equals_int (impostor->connected, 0);
  fail_unless_equals_int (victim->received->len, 0);
  fail_unless_equals_int (impostor->received->len, 0);
  fail_unless_equals_int (victim->closed, 1);
  fail_unless_equals_int (impostor->closed, 1);
  fail_unless_equals_int (victim->events_after_close, 0);
  fail_unless_equals_int (impostor->events_after_close, 0);
  fail_unless_equals_int (victim->sent_after_close, 0);
  fail_unless_equals_int (impostor->sent_after_close, 0);
  fail_if (hangout_dtls_is_connected (impostor->dtls));
  net_free (net);
}

GST_END_TEST;

GST_START_TEST (test_client_without_certificate)
{
  Net *net = net_new_anonymous_client ();

  set_fingerprint (&net->client,
      hangout_certificate_get_fingerprint (net->server.cert));
  /* Whatever the server expects, there is nothing to compare it with. */
  set_fingerprint (&net->server,
      hangout_certificate_get_fingerprint (net->server.cert));
  hangout_dtls_start (net->server.dtls);
  hangout_dtls_start (net->client.dtls);
  WAIT_UNTIL (net, net->server.closed && net->client.closed, 10000);
  net_settle (net);

  fail_unless (g_error_matches (net->server.close_error, HANGOUT_ERROR,
          HANGOUT_ERROR_DTLS), "%s",
      net->server.close_error ? net->server.close_error->message : "no error");
  fail_unless (strstr (net->server.close_error->message, "no certificate"),
      "unclear error: %s", net->server.close_error->message);
  fail_unless (net->client.close_error != NULL);
  fail_unless_equals_int (net->server.connected, 0);
  fail_unless_equals_int (net->client.connected, 0);
  fail_unless_equals_int (net->server.received->len, 0);
  fail_unless_equals_int (net->client.received->len, 0);
  fail_unless_equals_int (net->server.events_after_close, 0);
  fail_unless_equals_int (net->client.events_after_close, 0);
  net_free (net);
}

GST_END_TEST;

/* The first datagram in each direction is lost (the ClientHello, then the
 * first of the server's flight): retransmission timers must recover. */
GST_START_TEST (test_handshake_loss)
{
  Net *net = net_new (NULL, NULL);
  gint64 start;

  net_exchange_fingerprints (net);
  net->client.drop_first = 1;
  net->server.drop_first = 1;
  start = g_get_monotonic_time ();
  net_handshake (net);
  GST_INFO ("handshake with loss took %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - start) / 1000);
  fail_unless_equals_int (net->client.dropped, 1);
  fail_unless_equals_int (net->server.dropped, 1);
  check_session (&net->client);
  check_session (&net->server);
  check_data_both_ways (net);
  net_free (net);
}

GST_END_TEST;

/* The server's last flight (ChangeCipherSpec + Finished) is lost after the
 * server already considers itself connected: the client retransmits its
 * flight and the server must answer from the record layer. */
GST_START_TEST (test_final_flight_loss)
{
  Net *net = net_new (NULL, NULL);

  net_exchange_fingerprints (net);
  net->server.drop_first_ccs = TRUE;
  net_handshake (net);
  fail_unless_equals_int (net->server.dropped, 1);
  check_session (&net->client);
  check_session (&net->server);
  check_data_both_ways (net);
  net_free (net);
}

GST_END_TEST;

/* Every ClientHello arrives split over two datagrams.
 * Variant 0, in order: the server must reassemble it from the first
 * transmission, no retransmission allowed.
 * Variant 1, reversed: GnuTLS 3.7 loses track of the message end when an
 * earlier fragment follows a later one (merge_handshake_packet() keeps the
 * MIN of the end offsets), so it completes only with the fragments of the
 * retransmitted ClientHello, after ~1 s. This checks we recover. */
GST_START_TEST (test_fragmented_client_hello)
{
  Net *net = net_new (NULL, NULL);

  net_exchange_fingerprints (net);
  net->client.fragment_client_hello = TRUE;
  net->client.reverse_fragments = __i__ == 1;
  net_handshake (net);
  fail_unless (net->client.fragments_made >= 2);
  if (__i__ == 0) {
    fail_unless_equals_int (net->client.client_hellos, 1);
    fail_unless_equals_int (net->client.fragments_made, 2);
  }
  check_session (&net->client);
  check_session (&net->server);
  check_data_both_ways (net);
  net_free (net);
}

GST_END_TEST;

/* Spoofed or corrupted datagrams must not end an established session. */
GST_START_TEST (test_garbage_after_connect)
{
  Net *net = net_new (NULL, NULL);
  GRand *rand = g_rand_new_with_seed (7);
  Endpoint *eps[2] = { &net->client, &net->server };

  net_exchange_fingerprints (net);
  net_handshake (net);

  for (int e = 0; e < 2; e++) {
    for (guint n = 0; n < 64; n++) {
      guint8 buf[300];
      gsize len = g_rand_int_range (rand, 1, sizeof (buf));

      for (gsize i = 0; i < len; i++)
        buf[i] = g_rand_int (rand);
      if (n % 4 != 3 && len >= DTLS_RECORD_HEADER) {
        /* A well-formed header for epoch 1 whose payload is garbage, so it
         * reaches decryption (and fails it). */
        buf[0] = n % 4 == 2 ? CONTENT_HANDSHAKE : CONTENT_APPLICATION_DATA;
        buf[1] = 0xfe;
        buf[2] = 0xfd;
        buf[3] = 0;
        buf[4] = 1;
        write_be48 (buf + 5, 1000 + n);
        buf[11] = (len - DTLS_RECORD_HEADER) >> 8;
        buf[12] = (len - DTLS_RECORD_HEADER) & 0xff;
      }
      hangout_dtls_receive (eps[e]->dtls, buf, len);
    }
  }
  /* Plaintext (epoch 0) records an attacker could inject without keys: a
   * fatal alert, a close_notify, a HelloRequest and a ClientHello. */
  for (int e = 0; e < 2; e++) {
    const guint8 fatal_alert[] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 50,
      0, 2, 2, 40
    };
    const guint8 close_notify[] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 51,
      0, 2, 1, 0
    };
    const guint8 hello_request[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 52,
      0, 12, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0
    };
    guint8 client_hello[DTLS_RECORD_HEADER + DTLS_HANDSHAKE_HEADER + 40] = {
      22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 53, 0, DTLS_HANDSHAKE_HEADER + 40,
      HANDSHAKE_CLIENT_HELLO, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 40, 0xfe, 0xfd
    };

    hangout_dtls_receive (eps[e]->dtls, fatal_alert, sizeof (fatal_alert));
    hangout_dtls_receive (eps[e]->dtls, close_notify, sizeof (close_notify));
    hangout_dtls_receive (eps[e]->dtls, hello_request, sizeof (hello_request));
    hangout_dtls_receive (eps[e]->dtls, client_hello, sizeof (client_hello));
  }
  net_settle (net);
  fail_unless_equals_int (net->client.closed + net->server.closed, 0);
  fail_unless_equals_int (net->client.received->len, 0);
  fail_unless_equals_int (net->server.received->len, 0);
  fail_unless (hangout_dtls_is_connected (net->client.dtls));
  fail_unless (hangout_dtls_is_connected (net->server.dtls));
  check_data_both_ways (net);
  g_rand_free (rand);
  net_free (net);
}

GST_END_TEST;

/* Variant 0: the client closes; 1: the server closes. The other side gets
 * closed(NULL) and frees itself inside the callback. */
GST_START_TEST (test_close_notify)
{
  Net *net = net_new (NULL, NULL);
  Endpoint *closer = __i__ == 0 ? &net->client : &net->server;
  Endpoint *other = closer->peer;
  GError *error = NULL;
  guint8 byte = 1;

  net_exchange_fingerprints (net);
  net_handshake (net);
  check_data_both_ways (net);

  other->free_in_closed = TRUE;
  hangout_dtls_close (closer->dtls);
  fail_if (hangout_dtls_is_connected (closer->dtls));
  fail_if (hangout_dtls_send (closer->dtls, &byte, 1, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR, HANGOUT_ERROR_CLOSED));
  g_clear_error (&error);
  /* Closing twice is harmless and sends nothing more. */
  hangout_dtls_close (closer->dtls);

  WAIT_UNTIL (net, other->closed, 5000);
  net_settle (net);
  fail_unless (other->close_error == NULL, "%s", other->close_error ?
      other->close_error->message : "");
  fail_unless (other->dtls == NULL);
  fail_unless_equals_int (other->closed, 1);
  fail_unless_equals_int (closer->closed, 0);
  fail_unless_equals_int (other->events_after_close, 0);
  net_free (net);
}

GST_END_TEST;

/* A peer that never answers: the handshake gives up after ~30 s, as a
 * client (variant 0, every ClientHello lost) and as a server (variant 1, no
 * ClientHello ever comes). Slow, so only run with HANGOUT_SLOW_TESTS set. */
GST_START_TEST (test_dead_peer_timeout)
{
  Net *net = net_new (NULL, NULL);
  Endpoint *ep = __i__ == 0 ? &net->client : &net->server;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed_ms;

  net_exchange_fingerprints (net);
  net->client.drop_first = G_MAXUINT;
  hangout_dtls_start (ep->dtls);
  WAIT_UNTIL (net, ep->closed, 45000);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  GST_INFO ("%s gave up after %" G_GINT64_FORMAT " ms", ep->name, elapsed_ms);
  fail_unless (g_error_matches (ep->close_error, HANGOUT_ERROR,
          HANGOUT_ERROR_DTLS));
  fail_unless_equals_string (ep->close_error->message,
      "DTLS handshake timed out");
  fail_unless (elapsed_ms >= 29000 && elapsed_ms <= 40000);
  net_free (net);
}

GST_END_TEST;

/* A peer asking to renegotiate gets a no_renegotiation warning (RFC 8827)
 * and the session carries on. The peer is plain GnuTLS, which also shows we
 * talk to another configuration than our own (its default priorities). */
GST_START_TEST (test_renegotiation_refused)
{
  Net *net = net_new (NULL, NULL);
  Endpoint *raw = &net->client;
  g_autoptr (GBytes) payload = make_payload (500, 9);
  guint8 ping[] = "ping";

  endpoint_make_raw_client (raw);
  set_fingerprint (&net->server, raw->raw_fingerprint);
  hangout_dtls_start (net->server.dtls);
  raw_handshake (raw);
  WAIT_UNTIL (net, raw->connected && net->server.connected, 10000);
  check_session (&net->server);

  /* Client-initiated renegotiation: a new ClientHello inside epoch 1. */
  raw->raw_renegotiating = TRUE;
  raw_handshake (raw);
  WAIT_UNTIL (net, !raw->raw_renegotiating, 5000);
  fail_unless_equals_int (raw->raw_alert, GNUTLS_A_NO_RENEGOTIATION);
  fail_unless (hangout_dtls_is_connected (net->server.dtls));

  send_bytes (&net->server, payload);
  fail_unless (gnutls_record_send (raw->raw, ping, sizeof (ping)) ==
      sizeof (ping));
  WAIT_UNTIL (net, raw->received->len == 1 && net->server.received->len == 1,
      5000);
  fail_unless (g_bytes_equal (payload, g_ptr_array_index (raw->received, 0)));
  fail_unless_equals_int (g_bytes_get_size (g_ptr_array_index
          (net->server.received, 0)), sizeof (ping));
  fail_unless_equals_int (net->server.closed, 0);
  net_free (net);
}

GST_END_TEST;

/* Freeing the endpoint from inside received() is safe. */
GST_START_TEST (test_free_in_received)
{
  Net *net = net_new (NULL, NULL);
  g_autoptr (GBytes) payload = make_payload (100, 1);

  net_exchange_fingerprints (net);
  net_handshake (net);
  net->server.free_in_received = TRUE;
  send_bytes (&net->client, payload);
  send_bytes (&net->client, payload);
  WAIT_UNTIL (net, net->server.dtls == NULL, 5000);
  net_settle (net);
  fail_unless_equals_int (net->server.received->len, 1);
  fail_unless_equals_int (net->server.closed, 0);
  net_free (net);
}

GST_END_TEST;

typedef struct
{
  Endpoint *ep;
  guint8 id;
  guint count;
  GError *error;                /* why a send failed */
  guint sent;
} SenderArgs;

#define SENDER_RECORDS 3000

static gpointer
sender_thread (gpointer data)
{
  SenderArgs *args = data;
  guint8 buf[64];

  memset (buf, args->id, sizeof (buf));
  for (guint i = 0; i < args->count; i++) {
    buf[1] = i >> 8;
    buf[2] = i & 0xff;
    if (!hangout_dtls_send (args->ep->dtls, buf, sizeof (buf),
            &args->error))
      return GUINT_TO_POINTER (FALSE);
    args->sent = i + 1;
  }
  return GUINT_TO_POINTER (TRUE);
}

/* hangout_dtls_send from two threads on the client while the owner thread
 * receives, and sends the other way itself. */
GST_START_TEST (test_concurrent_senders)
{
  Net *net = net_new (NULL, NULL);
  SenderArgs args[2];
  GThread *threads[2];
  guint next[2] = { 0, 0 };
  guint8 reply[1000];

  net_exchange_fingerprints (net);
  net_handshake (net);
  for (guint t = 0; t < 2; t++) {
    args[t].ep = &net->client;
    args[t].id = t;
    args[t].count = SENDER_RECORDS;
    args[t].error = NULL;
    args[t].sent = 0;
    threads[t] = g_thread_new ("sender", sender_thread, &args[t]);
  }
  /* Meanwhile the owner thread receives and talks back. */
  for (guint i = 0; i < SENDER_RECORDS; i++) {
    memset (reply, i & 0xff, sizeof (reply));
    fail_unless (hangout_dtls_send (net->server.dtls, reply, sizeof (reply),
            NULL));
    g_main_context_iteration (net->ctx, FALSE);
  }
  for (guint t = 0; t < 2; t++)
    fail_unless (g_thread_join (threads[t]), "sender %u, after %u records: %s",
        t, args[t].sent, args[t].error ? args[t].error->message : "?");
  WAIT_UNTIL (net, net->server.received->len == 2 * SENDER_RECORDS &&
      net->client.received->len == SENDER_RECORDS, 20000);

  for (guint i = 0; i < net->server.received->len; i++) {
    gsize len;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index
        (net->server.received, i), &len);

    fail_unless_equals_int (len, 64);
    fail_unless (d[0] < 2);
    /* Each thread's records arrive complete and in its order. */
    fail_unless_equals_int ((d[1] << 8) | d[2], next[d[0]]);
    next[d[0]]++;
  }
  fail_unless_equals_int (next[0], SENDER_RECORDS);
  fail_unless_equals_int (next[1], SENDER_RECORDS);
  for (guint i = 0; i < net->client.received->len; i++) {
    gsize len;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index
        (net->client.received, i), &len);

    fail_unless_equals_int (len, sizeof (reply));
    fail_unless_equals_int (d[0], i & 0xff);
    fail_unless_equals_int (d[len - 1], i & 0xff);
  }
  fail_unless_equals_int (net->client.closed + net->server.closed, 0);
  net_free (net);
}

GST_END_TEST;

static Suite *
dtls_suite (void)
{
  Suite *s = suite_create ("dtls");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_certificate);
  tcase_add_test (tc, test_certificate_default_threads);
  tcase_add_test (tc, test_remote_fingerprint_validation);
  tcase_add_loop_test (tc, test_handshake, 0, 2);
  tcase_add_test (tc, test_application_data);
  tcase_add_loop_test (tc, test_wrong_fingerprint, 0, 2);
  tcase_add_test (tc, test_client_without_certificate);
  tcase_add_test (tc, test_handshake_loss);
  tcase_add_test (tc, test_final_flight_loss);
  tcase_add_loop_test (tc, test_fragmented_client_hello, 0, 2);
  tcase_add_test (tc, test_garbage_after_connect);
  tcase_add_loop_test (tc, test_close_notify, 0, 2);
  tcase_add_test (tc, test_concurrent_senders);
  tcase_add_test (tc, test_renegotiation_refused);
  tcase_add_test (tc, test_free_in_received);

  if (g_getenv ("HANGOUT_SLOW_TESTS")) {
    TCase *slow = tcase_create ("slow");

    tcase_set_timeout (slow, 50);
    suite_add_tcase (s, slow);
    tcase_add_loop_test (slow, test_dead_peer_timeout, 0, 2);
  }
  return s;
}

GST_CHECK_MAIN (dtls);
