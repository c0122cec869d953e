/* gst-hangout — SDP layer: the data-channel-only offer/answer that Chromium
 * speaks, built and parsed with GstSDPMessage.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/* Decisions worth knowing when you use this layer:
 *
 * - GstSDPMessage does the tokenising; it is very lenient (it skips lines it
 *   does not understand and accepts "hello world" as an empty message), so
 *   everything WebRTC needs is validated here, after parsing.
 * - Attribute values are trimmed of surrounding whitespace before they are
 *   checked: hand-written SDP (tests, JavaScript template strings) often has
 *   trailing blanks, and no value we read may legitimately contain them.
 * - s= and t= are not required: they carry nothing for a data channel and
 *   every real peer sends them anyway; v=0 and a numeric o= session id are.
 * - An absent a=setup means actpass in an offer and active in an answer. This
 *   follows libwebrtc (Chrome), not RFC 4145 §4.1 (which says "active" in an
 *   offer and "passive" in an answer): Chrome is the peer we must agree with,
 *   it treats a missing role in a remote answer as "the remote is the DTLS
 *   client", and a remote offer without a role as leaving the choice to us.
 * - With several a=fingerprint lines (RFC 8122 allows one per hash function)
 *   the sha-256 one is kept, because that is what the DTLS layer verifies;
 *   otherwise the first supported one. md2/md5 are refused.
 * - A single-valued attribute (ice-ufrag, ice-pwd, setup, mid, sctp-port,
 *   max-message-size) given twice at the same level is an error rather than a
 *   guess. */

#include <hangout/sdp.h>

#include <string.h>
#include <gst/sdp/sdp.h>
#include "debug-private.h"

#define GST_CAT_DEFAULT hangout_debug_sdp

/* RFC 8839 §5.4: ice-ufrag = 4*256ice-char, ice-pwd = 22*256ice-char. */
#define ICE_UFRAG_MIN_LEN 4
#define ICE_PWD_MIN_LEN 22
#define ICE_CREDENTIAL_MAX_LEN 256

/* How much of an untrusted value an error message may quote. */
#define QUOTE_MAX_LEN 64

#define DATACHANNEL_PROTO "UDP/DTLS/SCTP"
#define DATACHANNEL_FORMAT "webrtc-datachannel"
/* Ours: "N UFRAG", the largest UDP payload a member reads and its own ICE
 * username fragment. Other stacks ignore it, and without it no datagram
 * exceeds 1232 bytes (docs/protocol.md §1.8). The ufrag tells it from an
 * echo: libdatachannel copies the offer's unknown attributes into its
 * answer. */
#define MAX_DATAGRAM_ATTRIBUTE "x-hangout-max-datagram"
/* Ours too: "1 UFRAG", the peer reads parity and loss reports below DTLS
 * (docs/protocol.md §1.9); the ufrag again tells it from an echo. */
#define FEC_ATTRIBUTE "x-hangout-fec"
/* draft-ietf-mmusic-sctp-sdp-05 and older, still sent by old peers: the SCTP
 * port is the m-line's format. */
#define LEGACY_DATACHANNEL_PROTO "DTLS/SCTP"

typedef struct
{
  const gchar *name;
  guint length;                 /* digest size in bytes */
} HashFunction;

/* RFC 8122 §5 hash functions; md2 and md5 are left out on purpose (RFC 8122
 * forbids them for new fingerprints, and no browser sends them). */
static const HashFunction hash_functions[] = {
  {"sha-1", 20},
  {"sha-224", 28},
  {"sha-256", 32},
  {"sha-384", 48},
  {"sha-512", 64},
};

static gboolean set_sdp_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

/* Always returns FALSE so that callers can "return set_sdp_error (...)". */
static gboolean
set_sdp_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_SDP,
      message);
  g_free (message);
  return FALSE;
}

/* Remote SDP is untrusted: error messages quote only a short, escaped prefix
 * of a value so that a hostile peer can neither flood nor garble logs. */
static gchar *
quote_value (const gchar * value)
{
  g_autofree gchar *prefix = g_strndup (value, QUOTE_MAX_LEN);
  g_autofree gchar *escaped = g_strescape (prefix, NULL);

  if (strlen (value) > QUOTE_MAX_LEN)
    return g_strconcat ("'", escaped, "'...", NULL);
  return g_strconcat ("'", escaped, "'", NULL);
}

static gchar *
trimmed_copy (const gchar * value)
{
  return g_strstrip (g_strdup (value != NULL ? value : ""));
}

/* Fetches a single-valued attribute, media level first, session level as the
 * fallback (RFC 8839/8842/8122 allow ICE credentials, setup and fingerprint at
 * either level; Firefox puts its fingerprint at session level). *value is a
 * trimmed copy, or NULL when the attribute is absent at both levels. */
static gboolean
get_single_attribute (const GstSDPMessage * msg, const GstSDPMedia * media,
    const gchar * key, gchar ** value, GError ** error)
{
  const gchar *found;

  *value = NULL;

  found = gst_sdp_media_get_attribute_val (media, key);
  if (found != NULL) {
    if (gst_sdp_media_get_attribute_val_n (media, key, 1) != NULL)
      return set_sdp_error (error, "a=%s appears more than once in the "
          "m=application section", key);
  } else {
    found = gst_sdp_message_get_attribute_val (msg, key);
    if (found != NULL && gst_sdp_message_get_attribute_val_n (msg, key,
            1) != NULL)
      return set_sdp_error (error, "a=%s appears more than once at session "
          "level", key);
  }

  if (found != NULL)
    *value = trimmed_copy (found);
  return TRUE;
}

static gboolean
has_attribute (const GstSDPMessage * msg, const GstSDPMedia * media,
    const gchar * key)
{
  return gst_sdp_media_get_attribute_val (media, key) != NULL
      || gst_sdp_message_get_attribute_val (msg, key) != NULL;
}

static gboolean
is_ice_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

static gboolean
check_ice_credential (const gchar * key, const gchar * what,
    const gchar * value, gsize min_len, GError ** error)
{
  gsize len;
  const gchar *p;

  if (value == NULL)
    return set_sdp_error (error, "SDP has no ICE %s (a=%s)", what, key);

  len = strlen (value);
  if (len < min_len || len > ICE_CREDENTIAL_MAX_LEN)
    return set_sdp_error (error, "a=%s must be %" G_GSIZE_FORMAT " to %d "
        "characters long (RFC 8839), got %" G_GSIZE_FORMAT, key, min_len,
        ICE_CREDENTIAL_MAX_LEN, len);

  for (p = value; *p != '\0'; p++) {
    if (!is_ice_char (*p))
      return set_sdp_error (error, "a=%s contains invalid character '%c'; "
          "ICE allows only letters, digits, '+' and '/' (RFC 8839)", key,
          g_ascii_isprint (*p) ? *p : '?');
  }
  return TRUE;
}

static const HashFunction *
find_hash_function (const gchar * name)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (hash_functions); i++) {
    if (g_ascii_strcasecmp (hash_functions[i].name, name) == 0)
      return &hash_functions[i];
  }
  return NULL;
}

/* RFC 8122 §5: fingerprint = 2UHEX *(":" 2UHEX). Lower-case hex is accepted
 * (some stacks send it) and normalised, so that comparing with the
 * certificate's digest is a plain string compare. */
static gchar *
normalise_fingerprint (const gchar * hex, guint length)
{
  gsize i;

  if (strlen (hex) != (gsize) length * 3 - 1)
    return NULL;

  for (i = 0; hex[i] != '\0'; i++) {
    if (i % 3 == 2) {
      if (hex[i] != ':')
        return NULL;
    } else if (!g_ascii_isxdigit (hex[i])) {
      return NULL;
    }
  }
  return g_ascii_strup (hex, -1);
}

/* Parses one "a=fingerprint:<hash-func> <hex>" value. Returns FALSE with
 * @error set when it is malformed; TRUE with *algorithm left NULL when it is
 * well-formed but uses a hash function we do not support. */
static gboolean
parse_fingerprint (const gchar * raw, gchar ** algorithm,
    gchar ** fingerprint, gchar ** unsupported, GError ** error)
{
  g_autofree gchar *value = trimmed_copy (raw);
  g_autofree gchar *quoted = NULL;
  const HashFunction *hash;
  gchar *hex;

  *algorithm = NULL;
  *fingerprint = NULL;

  hex = strpbrk (value, " \t");
  if (hex == NULL) {
    quoted = quote_value (value);
    return set_sdp_error (error, "a=fingerprint %s is malformed: expected "
        "'<hash-function> <hex pairs>'", quoted);
  }
  *hex++ = '\0';
  while (*hex == ' ' || *hex == '\t')
    hex++;

  hash = find_hash_function (value);
  if (hash == NULL) {
    if (*unsupported == NULL)
      *unsupported = g_ascii_strdown (value, -1);
    return TRUE;
  }

  *fingerprint = normalise_fingerprint (hex, hash->length);
  if (*fingerprint == NULL) {
    quoted = quote_value (hex);
    return set_sdp_error (error, "a=fingerprint %s is malformed: a %s "
        "fingerprint is %u colon-separated hex pairs", quoted, hash->name,
        hash->length);
  }
  *algorithm = g_strdup (hash->name);
  return TRUE;
}

static gboolean
parse_fingerprints (const GstSDPMessage * msg, const GstSDPMedia * media,
    HangoutSdpDescription * desc, GError ** error)
{
  /* Fingerprints at media level replace the session-level ones as a set
   * (RFC 8122 §5), they are not merged. */
  gboolean media_level =
      gst_sdp_media_get_attribute_val (media, "fingerprint") != NULL;
  g_autofree gchar *unsupported = NULL;
  guint i;

  for (i = 0;; i++) {
    const gchar *raw = media_level ?
        gst_sdp_media_get_attribute_val_n (media, "fingerprint", i) :
        gst_sdp_message_get_attribute_val_n (msg, "fingerprint", i);
    gchar *algorithm, *fingerprint;

    if (raw == NULL)
      break;

    if (!parse_fingerprint (raw, &algorithm, &fingerprint, &unsupported,
            error))
      return FALSE;
    if (algorithm == NULL)
      continue;

    /* Keep the first one, unless a sha-256 one comes later. */
    if (desc->fingerprint == NULL
        || (strcmp (desc->fingerprint_algorithm, "sha-256") != 0
            && strcmp (algorithm, "sha-256") == 0)) {
      g_free (desc->fingerprint_algorithm);
      g_free (desc->fingerprint);
      desc->fingerprint_algorithm = algorithm;
      desc->fingerprint = fingerprint;
    } else {
      g_free (algorithm);
      g_free (fingerprint);
    }
  }

  if (desc->fingerprint != NULL)
    return TRUE;
  if (unsupported != NULL) {
    g_autofree gchar *quoted = quote_value (unsupported);
    return set_sdp_error (error, "SDP has no fingerprint with a supported "
        "hash function (got %s; need sha-1, sha-224, sha-256, sha-384 or "
        "sha-512)", quoted);
  }
  return set_sdp_error (error, "SDP has no DTLS fingerprint (a=fingerprint)");
}

static gboolean
parse_setup (const gchar * value, HangoutSdpType type,
    HangoutSdpSetup * setup, GError ** error)
{
  g_autofree gchar *quoted = NULL;

  if (value == NULL) {
    /* See the note at the top of the file. */
    *setup = type == HANGOUT_SDP_OFFER ?
        HANGOUT_SDP_SETUP_ACTPASS : HANGOUT_SDP_SETUP_ACTIVE;
    return TRUE;
  }

  if (g_ascii_strcasecmp (value, "actpass") == 0) {
    /* RFC 8842 §5.3: the answerer must pick a role. */
    if (type == HANGOUT_SDP_ANSWER)
      return set_sdp_error (error, "a=setup:actpass is not allowed in an "
          "answer; an answer must say active or passive");
    *setup = HANGOUT_SDP_SETUP_ACTPASS;
  } else if (g_ascii_strcasecmp (value, "active") == 0) {
    *setup = HANGOUT_SDP_SETUP_ACTIVE;
  } else if (g_ascii_strcasecmp (value, "passive") == 0) {
    *setup = HANGOUT_SDP_SETUP_PASSIVE;
  } else if (g_ascii_strcasecmp (value, "holdconn") == 0) {
    /* A held connection never starts DTLS; there is nothing to set up. */
    return set_sdp_error (error, "a=setup:holdconn is not supported");
  } else {
    quoted = quote_value (value);
    return set_sdp_error (error, "a=setup has unknown role %s (expected "
        "actpass, active or passive)", quoted);
  }
  return TRUE;
}

/* A decimal integer and nothing else: g_ascii_string_to_unsigned already
 * refuses signs, blanks, hex and trailing garbage. */
static gboolean
parse_decimal (const gchar * value, guint64 min, guint64 max, guint64 * out)
{
  return g_ascii_string_to_unsigned (value, 10, min, max, out, NULL);
}

static gboolean
parse_sctp_port (const gchar * what, const gchar * value, guint * port,
    GError ** error)
{
  guint64 number;

  if (!parse_decimal (value, 1, G_MAXUINT16, &number)) {
    g_autofree gchar *quoted = quote_value (value);
    return set_sdp_error (error, "%s must be a port number between 1 and "
        "65535, got %s", what, quoted);
  }
  *port = (guint) number;
  return TRUE;
}

/* RFC 5888 §4: identification-tag = token (RFC 4566 token-char). */
static gboolean
is_token (const gchar * value)
{
  const gchar *p;

  if (*value == '\0')
    return FALSE;
  for (p = value; *p != '\0'; p++) {
    guchar c = (guchar) *p;

    if (c < 0x21 || c > 0x7e || strchr ("\"(),/:;<=>?@[\\]{}", c) != NULL)
      return FALSE;
  }
  return TRUE;
}

static gboolean
is_datachannel_media (const GstSDPMedia * media, gboolean * legacy)
{
  const gchar *kind = gst_sdp_media_get_media (media);
  const gchar *proto = gst_sdp_media_get_proto (media);
  guint i;

  if (kind == NULL || proto == NULL
      || g_ascii_strcasecmp (kind, "application") != 0)
    return FALSE;

  if (g_ascii_strcasecmp (proto, LEGACY_DATACHANNEL_PROTO) == 0) {
    *legacy = TRUE;
    return TRUE;
  }
  if (g_ascii_strcasecmp (proto, DATACHANNEL_PROTO) != 0)
    return FALSE;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    if (g_strcmp0 (gst_sdp_media_get_format (media, i),
            DATACHANNEL_FORMAT) == 0) {
      *legacy = FALSE;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
parse_origin (const GstSDPMessage * msg, HangoutSdpDescription * desc,
    GError ** error)
{
  const GstSDPOrigin *origin = gst_sdp_message_get_origin (msg);
  g_autofree gchar *quoted = NULL;

  if (origin->sess_id == NULL || origin->sess_id[0] == '\0')
    return set_sdp_error (error, "SDP has no o= line with a session id");

  if (!parse_decimal (origin->sess_id, 0, G_MAXUINT64, &desc->session_id)) {
    quoted = quote_value (origin->sess_id);
    return set_sdp_error (error, "o= session id %s is not a decimal number "
        "of at most 64 bits", quoted);
  }
  return TRUE;
}

static gboolean
parse_candidates (const GstSDPMedia * media, HangoutSdpDescription * desc,
    GError ** error)
{
  guint i;

  /* Candidates are media-level only (RFC 8839 §5.1). They are kept as text:
   * the ICE layer owns their grammar, and libnice parses them. */
  for (i = 0;; i++) {
    const gchar *raw = gst_sdp_media_get_attribute_val_n (media, "candidate",
        i);
    g_autofree gchar *value = NULL;

    if (raw == NULL)
      break;
    value = trimmed_copy (raw);
    if (value[0] == '\0')
      return set_sdp_error (error, "an a=candidate line is empty");
    g_ptr_array_add (desc->candidates, g_strconcat ("candidate:", value,
            NULL));
  }
  return TRUE;
}

static gboolean
parse_media (const GstSDPMessage * msg, const GstSDPMedia * media,
    gboolean legacy, HangoutSdpDescription * desc, GError ** error)
{
  g_autofree gchar *ufrag = NULL;
  g_autofree gchar *pwd = NULL;
  g_autofree gchar *setup = NULL;
  g_autofree gchar *mid = NULL;
  g_autofree gchar *sctp_port = NULL;
  g_autofree gchar *max_message_size = NULL;
  g_autofree gchar *max_datagram = NULL;
  g_autofree gchar *fec = NULL;
  guint64 datagram = 0;

  /* Port 0 rejects the section (RFC 3264 §6), unless it only rides on a
   * BUNDLE transport (RFC 8843 bundle-only). */
  if (gst_sdp_media_get_port (media) == 0
      && gst_sdp_media_get_attribute_val (media, "bundle-only") == NULL)
    return set_sdp_error (error, "the m=application data-channel section is "
        "rejected (port 0)");

  if (!get_single_attribute (msg, media, "ice-ufrag", &ufrag, error)
      || !get_single_attribute (msg, media, "ice-pwd", &pwd, error)
      || !get_single_attribute (msg, media, "setup", &setup, error)
      || !get_single_attribute (msg, media, "mid", &mid, error)
      || !get_single_attribute (msg, media, "sctp-port", &sctp_port, error)
      || !get_single_attribute (msg, media, "max-message-size",
          &max_message_size, error)
      || !get_single_attribute (msg, media, MAX_DATAGRAM_ATTRIBUTE,
          &max_datagram, error)
      || !get_single_attribute (msg, media, FEC_ATTRIBUTE, &fec, error))
    return FALSE;

  if (!check_ice_credential ("ice-ufrag", "username fragment", ufrag,
          ICE_UFRAG_MIN_LEN, error)
      || !check_ice_credential ("ice-pwd", "password", pwd, ICE_PWD_MIN_LEN,
          error))
    return FALSE;
  desc->ice_ufrag = g_steal_pointer (&ufrag);
  desc->ice_pwd = g_steal_pointer (&pwd);

  if (!parse_fingerprints (msg, media, desc, error))
    return FALSE;

  if (!parse_setup (setup, desc->type, &desc->setup, error))
    return FALSE;

  /* No mid is legal without BUNDLE (old peers); mid stays NULL then, and so
   * does our answer's a=mid (RFC 5888 §9.1). */
  g_clear_pointer (&desc->mid, g_free);
  if (mid != NULL) {
    if (!is_token (mid)) {
      g_autofree gchar *quoted = quote_value (mid);
      return set_sdp_error (error, "a=mid %s is not a valid identification "
          "tag", quoted);
    }
    desc->mid = g_steal_pointer (&mid);
  }

  if (legacy) {
    const gchar *format = gst_sdp_media_formats_len (media) > 0 ?
        gst_sdp_media_get_format (media, 0) : NULL;

    if (format == NULL || format[0] == '\0')
      return set_sdp_error (error, "legacy m=application DTLS/SCTP section "
          "has no SCTP port as its format");
    if (!parse_sctp_port ("the SCTP port of a legacy DTLS/SCTP m-line",
            format, &desc->sctp_port, error))
      return FALSE;
  } else if (sctp_port != NULL) {
    if (!parse_sctp_port ("a=sctp-port", sctp_port, &desc->sctp_port, error))
      return FALSE;
  } else {
    /* RFC 8841 §5.2: absent means 5000. */
    desc->sctp_port = HANGOUT_SDP_DEFAULT_SCTP_PORT;
  }

  if (max_message_size != NULL) {
    /* 0 is meaningful (no limit, RFC 8841 §6.1) and kept as is. */
    if (!parse_decimal (max_message_size, 0, G_MAXUINT64,
            &desc->max_message_size)) {
      g_autofree gchar *quoted = quote_value (max_message_size);
      return set_sdp_error (error, "a=max-message-size must be a "
          "non-negative decimal integer, got %s", quoted);
    }
  } else {
    desc->max_message_size = HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE;
  }

  if (max_datagram != NULL) {
    g_auto (GStrv) fields = g_strsplit (max_datagram, " ", 2);

    if (!parse_decimal (fields[0], 0, G_MAXUINT16, &datagram)) {
      g_autofree gchar *quoted = quote_value (max_datagram);
      return set_sdp_error (error, "a=" MAX_DATAGRAM_ATTRIBUTE " must be a "
          "decimal integer from 0 to 65535 and an ICE ufrag, got %s", quoted);
    }
    if (fields[1] == NULL || g_strcmp0 (fields[1], desc->ice_ufrag) != 0) {
      GST_DEBUG ("a=" MAX_DATAGRAM_ATTRIBUTE " of another description "
          "(echoed): ignored");
      datagram = 0;
    }
  }
  desc->max_datagram_size = (guint) datagram;

  /* A version we do not know, or an echo, is no support. */
  if (fec != NULL) {
    g_auto (GStrv) fields = g_strsplit (fec, " ", 2);

    desc->fec = g_strcmp0 (fields[0], "1") == 0 && fields[1] != NULL
        && g_strcmp0 (fields[1], desc->ice_ufrag) == 0;
    if (!desc->fec) {
      g_autofree gchar *quoted = quote_value (fec);

      GST_DEBUG ("a=" FEC_ATTRIBUTE ":%s: not ours to read: ignored", quoted);
    }
  }

  if (!parse_candidates (media, desc, error))
    return FALSE;
  desc->end_of_candidates = has_attribute (msg, media, "end-of-candidates");

  return TRUE;
}

/* RFC 8829 §5.2.1 asks for a random id with the top bit clear so that it
 * fits a signed 64-bit integer; clearing the top two bits (a positive 62-bit
 * value) keeps us well inside what every parser accepts. */
static guint64
random_session_id (void)
{
  guint64 id;

  do {
    id = ((guint64) g_random_int () << 32) | g_random_int ();
    id &= (G_GUINT64_CONSTANT (1) << 62) - 1;
  } while (id == 0);
  return id;
}

HangoutSdpDescription *
hangout_sdp_description_new (HangoutSdpType type)
{
  HangoutSdpDescription *desc;

  hangout_debug_init ();
  g_return_val_if_fail (type == HANGOUT_SDP_OFFER
      || type == HANGOUT_SDP_ANSWER, NULL);

  desc = g_new0 (HangoutSdpDescription, 1);
  desc->type = type;
  /* Chosen once here so that every serialisation of one description carries
   * the same o= line. */
  desc->session_id = random_session_id ();
  /* What Chrome sends: the offerer leaves the DTLS role open, the answerer
   * takes the client role so the handshake starts without another trip. */
  desc->setup = type == HANGOUT_SDP_OFFER ?
      HANGOUT_SDP_SETUP_ACTPASS : HANGOUT_SDP_SETUP_ACTIVE;
  desc->mid = g_strdup ("0");
  desc->sctp_port = HANGOUT_SDP_DEFAULT_SCTP_PORT;
  desc->max_message_size = HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE;
  desc->candidates = g_ptr_array_new_with_free_func (g_free);
  return desc;
}

void
hangout_sdp_description_free (HangoutSdpDescription * desc)
{
  if (desc == NULL)
    return;

  g_free (desc->ice_ufrag);
  g_free (desc->ice_pwd);
  g_free (desc->fingerprint_algorithm);
  g_free (desc->fingerprint);
  g_free (desc->mid);
  g_clear_pointer (&desc->candidates, g_ptr_array_unref);
  g_free (desc);
}

static const gchar *
setup_to_string (HangoutSdpSetup setup)
{
  switch (setup) {
    case HANGOUT_SDP_SETUP_ACTPASS:
      return "actpass";
    case HANGOUT_SDP_SETUP_ACTIVE:
      return "active";
    case HANGOUT_SDP_SETUP_PASSIVE:
      return "passive";
  }
  g_return_val_if_reached ("actpass");
}

static void
add_candidates (GstSDPMedia * media, const GPtrArray * candidates)
{
  guint i;

  if (candidates == NULL)
    return;

  for (i = 0; i < candidates->len; i++) {
    const gchar *candidate = g_ptr_array_index (candidates, i);

    /* Tolerate the "a=" form libnice's generate_local_candidate_sdp gives. */
    if (g_str_has_prefix (candidate, "a="))
      candidate += 2;
    if (!g_str_has_prefix (candidate, "candidate:")) {
      GST_WARNING ("Ignoring malformed ICE candidate '%s'", candidate);
      continue;
    }
    gst_sdp_media_add_attribute (media, "candidate",
        candidate + strlen ("candidate:"));
  }
}

gchar *
hangout_sdp_description_to_string (const HangoutSdpDescription * desc)
{
  GstSDPMessage *msg;
  GstSDPMedia media = { 0, };
  g_autofree gchar *session_id = NULL;
  g_autofree gchar *fingerprint = NULL;
  g_autofree gchar *sctp_port = NULL;
  g_autofree gchar *max_message_size = NULL;
  gchar *text;

  g_return_val_if_fail (desc != NULL, NULL);
  g_return_val_if_fail (desc->ice_ufrag != NULL, NULL);
  g_return_val_if_fail (desc->ice_pwd != NULL, NULL);
  g_return_val_if_fail (desc->fingerprint_algorithm != NULL, NULL);
  g_return_val_if_fail (desc->fingerprint != NULL, NULL);
  /* Chromium refuses actpass in an answer; do not produce one. */
  g_return_val_if_fail (desc->type != HANGOUT_SDP_ANSWER
      || desc->setup != HANGOUT_SDP_SETUP_ACTPASS, NULL);

  session_id = g_strdup_printf ("%" G_GUINT64_FORMAT,
      desc->session_id != 0 ? desc->session_id : random_session_id ());
  fingerprint = g_strdup_printf ("%s %s", desc->fingerprint_algorithm,
      desc->fingerprint);
  sctp_port = g_strdup_printf ("%u", desc->sctp_port);
  max_message_size = g_strdup_printf ("%" G_GUINT64_FORMAT,
      desc->max_message_size);

  gst_sdp_message_new (&msg);
  gst_sdp_message_set_version (msg, "0");
  /* Session version 2 and 127.0.0.1 are what Chromium writes; peers ignore
   * both. */
  gst_sdp_message_set_origin (msg, "-", session_id, "2", "IN", "IP4",
      "127.0.0.1");
  gst_sdp_message_set_session_name (msg, "-");
  gst_sdp_message_add_time (msg, "0", "0", NULL);
  if (desc->mid != NULL) {
    g_autofree gchar *group = g_strconcat ("BUNDLE ", desc->mid, NULL);

    gst_sdp_message_add_attribute (msg, "group", group);
  }
  /* Meaningless for a data channel, but Chromium always writes them and some
   * SDP munging code in web pages expects them. */
  gst_sdp_message_add_attribute (msg, "extmap-allow-mixed", NULL);
  gst_sdp_message_add_attribute (msg, "msid-semantic", " WMS");

  gst_sdp_media_init (&media);
  gst_sdp_media_set_media (&media, "application");
  /* Port 9 (discard) and 0.0.0.0: the real addresses travel in ICE
   * candidates (RFC 8839 §4.2.1.2). */
  gst_sdp_media_set_port_info (&media, 9, 0);
  gst_sdp_media_set_proto (&media, DATACHANNEL_PROTO);
  gst_sdp_media_add_format (&media, DATACHANNEL_FORMAT);
  gst_sdp_media_add_connection (&media, "IN", "IP4", "0.0.0.0", 0, 0);
  add_candidates (&media, desc->candidates);
  if (desc->end_of_candidates)
    gst_sdp_media_add_attribute (&media, "end-of-candidates", NULL);
  gst_sdp_media_add_attribute (&media, "ice-ufrag", desc->ice_ufrag);
  gst_sdp_media_add_attribute (&media, "ice-pwd", desc->ice_pwd);
  gst_sdp_media_add_attribute (&media, "ice-options", "trickle");
  gst_sdp_media_add_attribute (&media, "fingerprint", fingerprint);
  gst_sdp_media_add_attribute (&media, "setup", setup_to_string (desc->setup));
  if (desc->mid != NULL)
    gst_sdp_media_add_attribute (&media, "mid", desc->mid);
  gst_sdp_media_add_attribute (&media, "sctp-port", sctp_port);
  gst_sdp_media_add_attribute (&media, "max-message-size", max_message_size);
  if (desc->max_datagram_size != 0) {
    g_autofree gchar *datagram = g_strdup_printf ("%u %s",
        desc->max_datagram_size, desc->ice_ufrag);

    gst_sdp_media_add_attribute (&media, MAX_DATAGRAM_ATTRIBUTE, datagram);
  }
  if (desc->fec) {
    g_autofree gchar *fec = g_strdup_printf ("1 %s", desc->ice_ufrag);

    gst_sdp_media_add_attribute (&media, FEC_ATTRIBUTE, fec);
  }
  /* Moves the contents of @media into @msg and clears @media. */
  gst_sdp_message_add_media (msg, &media);
  gst_sdp_media_uninit (&media);

  text = gst_sdp_message_as_text (msg);
  gst_sdp_message_free (msg);
  return text;
}

HangoutSdpDescription *
hangout_sdp_description_parse (const gchar * text, HangoutSdpType type,
    GError ** error)
{
  g_autoptr (HangoutSdpDescription) desc = NULL;
  GstSDPMessage *msg = NULL;
  const GstSDPMedia *media = NULL;
  const gchar *version;
  gboolean legacy = FALSE;
  gboolean ok;
  guint i;

  hangout_debug_init ();
  g_return_val_if_fail (type == HANGOUT_SDP_OFFER
      || type == HANGOUT_SDP_ANSWER, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Remote text arrives from the network: no text is an error, not a
   * programming mistake. GstSDPMessage also g_return_if_fails on "". */
  if (text == NULL || text[0] == '\0') {
    set_sdp_error (error, "SDP text is empty");
    return NULL;
  }

  if (gst_sdp_message_new_from_text (text, &msg) != GST_SDP_OK) {
    set_sdp_error (error, "text is not an SDP (GstSDPMessage refused it)");
    if (msg != NULL)
      gst_sdp_message_free (msg);
    return NULL;
  }

  version = gst_sdp_message_get_version (msg);
  if (version == NULL) {
    gst_sdp_message_free (msg);
    set_sdp_error (error, "text is not an SDP: it has no v= line");
    return NULL;
  }
  if (strcmp (version, "0") != 0) {
    g_autofree gchar *quoted = quote_value (version);

    gst_sdp_message_free (msg);
    set_sdp_error (error, "unsupported SDP version %s (expected v=0)",
        quoted);
    return NULL;
  }

  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *candidate = gst_sdp_message_get_media (msg, i);

    if (is_datachannel_media (candidate, &legacy)) {
      media = candidate;
      break;
    }
  }

  desc = hangout_sdp_description_new (type);
  ok = parse_origin (msg, desc, error);
  if (ok && media == NULL)
    ok = set_sdp_error (error, "no m=application section with "
        DATACHANNEL_PROTO " " DATACHANNEL_FORMAT " (or legacy "
        LEGACY_DATACHANNEL_PROTO ")");
  if (ok)
    ok = parse_media (msg, media, legacy, desc, error);

  gst_sdp_message_free (msg);
  if (!ok)
    return NULL;
  return g_steal_pointer (&desc);
}

const gchar *
hangout_sdp_type_to_string (HangoutSdpType type)
{
  switch (type) {
    case HANGOUT_SDP_OFFER:
      return "offer";
    case HANGOUT_SDP_ANSWER:
      return "answer";
  }
  g_return_val_if_reached (NULL);
}

gboolean
hangout_sdp_type_from_string (const gchar * str, HangoutSdpType * type)
{
  HangoutSdpType parsed;

  g_return_val_if_fail (type != NULL, FALSE);

  if (g_strcmp0 (str, "offer") == 0)
    parsed = HANGOUT_SDP_OFFER;
  else if (g_strcmp0 (str, "answer") == 0)
    parsed = HANGOUT_SDP_ANSWER;
  else
    return FALSE;

  *type = parsed;
  return TRUE;
}
