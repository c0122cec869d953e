/* gst-hangout — unit tests for the SDP layer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gst/check/gstcheck.h>
#include <hangout/sdp.h>
#include <string.h>

#define FP_SHA256_A "5B:A6:59:39:54:0F:6A:A4:D5:DA:04:D6:DA:7B:63:02:" \
  "1C:CE:A2:34:AF:76:0F:33:2C:5A:69:FD:8D:98:FB:7D"
#define FP_SHA256_B "29:EE:B3:D1:F6:03:46:56:D0:44:CE:E3:EA:AA:AA:34:" \
  "53:A5:3C:22:93:14:AD:CE:48:2F:68:C8:25:5B:5C:0F"
#define FP_SHA256_C "5D:13:47:E2:DA:3A:9E:64:07:41:6E:C2:E4:BB:34:B7:" \
  "20:E5:09:9C:7B:79:CF:9A:F5:6E:30:0D:57:10:4B:5E"
#define FP_SHA1 "BF:A8:A5:FE:4E:7D:7A:AA:A7:D9:FA:34:11:A5:C0:DB:D7:77:82:BB"
#define FP_SHA224 "EA:51:F5:FF:6F:AC:1A:2F:FB:73:31:4A:4F:D1:B7:07:" \
  "6B:3D:89:B9:B9:CA:C5:A8:1D:04:96:9B"
#define FP_SHA384 "B6:6E:20:9E:B1:97:E2:4B:34:5D:29:AA:FF:E2:80:6D:" \
  "1F:6F:DF:81:0C:9D:7E:DE:53:69:7D:BF:C0:7B:4C:43:4B:FF:8A:09:C9:26:C4:F2:" \
  "C5:15:0C:23:7A:D4:42:DA"
#define FP_SHA512 "1E:53:56:8B:86:60:90:EB:3A:CD:69:73:4F:0E:81:96:" \
  "44:40:2C:31:0C:43:80:E9:60:32:D8:32:44:91:B5:92:35:65:63:43:39:26:C1:E3:" \
  "D3:37:CE:A1:03:C8:35:04:9A:31:50:14:EB:5D:52:D5:9E:B1:AF:24:0C:9A:B7:BE"

#define CHROME_CANDIDATE_1 "candidate:1467250027 1 udp 2122260223 " \
  "503a88a6-41d8-48c2-be6e-8fa94ccda283.local 54400 typ host generation 0 " \
  "ufrag k3Zq network-cost 999"
#define CHROME_CANDIDATE_2 "candidate:842163049 1 udp 1686052607 " \
  "198.51.100.7 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0 " \
  "ufrag k3Zq network-cost 999"

/* What Chromium's createOffer() gives for a data-channel-only connection once
 * candidates have been gathered (shape from the project's wire notes). */
static const gchar chrome_offer[] =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=" CHROME_CANDIDATE_1 "\r\n"
    "a=" CHROME_CANDIDATE_2 "\r\n"
    "a=ice-ufrag:k3Zq\r\n"
    "a=ice-pwd:Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_SHA256_A "\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

/* Chromium's answer before any candidate was gathered (trickle). */
static const gchar chrome_answer[] =
    "v=0\r\n"
    "o=- 8390014472013365021 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:W7uB\r\n"
    "a=ice-pwd:pQ2vR8sT4uW6xY0zA1bC3dE5\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP_SHA256_B "\r\n"
    "a=setup:active\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

/* Firefox: session-level fingerprint and ice-options, a=sendrecv, hex ICE
 * credentials, a huge max-message-size, candidates ending in
 * end-of-candidates. */
static const gchar firefox_offer[] =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-99.0 6270183471457404339 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=fingerprint:sha-256 " FP_SHA256_C "\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:0 1 UDP 2122252543 "
    "060e6071-8b13-4969-bd1b-054fe6d898d4.local 49203 typ host\r\n"
    "a=candidate:1 1 TCP 2105524479 "
    "060e6071-8b13-4969-bd1b-054fe6d898d4.local 9 typ host tcptype active\r\n"
    "a=sendrecv\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-pwd:3c1f0a9e7b2d4e6f8a0b1c2d3e4f5a6b\r\n"
    "a=ice-ufrag:9a8b7c6d\r\n"
    "a=mid:0\r\n"
    "a=setup:actpass\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:1073741823\r\n";

/* Returns @base with every line starting with @prefix replaced by
 * @replacement (which may hold several lines), or dropped when @replacement
 * is NULL. Keeps the malformed-SDP table readable. */
static gchar *
edit_sdp (const gchar * base, const gchar * prefix, const gchar * replacement)
{
  g_auto (GStrv) lines = g_strsplit (base, "\r\n", -1);
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; lines[i] != NULL; i++) {
    if (lines[i][0] == '\0')
      continue;
    if (g_str_has_prefix (lines[i], prefix)) {
      if (replacement != NULL)
        g_string_append_printf (out, "%s\r\n", replacement);
    } else {
      g_string_append_printf (out, "%s\r\n", lines[i]);
    }
  }
  return g_string_free (out, FALSE);
}

static HangoutSdpDescription *
parse_ok (const gchar * text, HangoutSdpType type)
{
  GError *error = NULL;
  HangoutSdpDescription *desc;

  desc = hangout_sdp_description_parse (text, type, &error);
  if (error != NULL)
    GST_ERROR ("unexpected error: %s\n%s", error->message, text);
  fail_unless (desc != NULL);
  fail_unless (error == NULL);
  fail_unless_equals_int (desc->type, type);
  return desc;
}

/* Asserts that @text is rejected with INVALID_SDP and a message that
 * contains @word. */
static void
assert_rejected (const gchar * text, HangoutSdpType type, const gchar * word)
{
  GError *error = NULL;
  HangoutSdpDescription *desc;

  desc = hangout_sdp_description_parse (text, type, &error);
  fail_unless (desc == NULL, "accepted, expected an error about '%s':\n%s",
      word, text ? text : "(null)");
  fail_unless (error != NULL);
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_SDP));
  fail_unless (error->message != NULL && error->message[0] != '\0');
  fail_unless (strstr (error->message, word) != NULL,
      "error '%s' does not mention '%s'", error->message, word);
  GST_DEBUG ("rejected as expected: %s", error->message);
  g_error_free (error);
}

static HangoutSdpDescription *
make_full_description (HangoutSdpType type)
{
  HangoutSdpDescription *desc = hangout_sdp_description_new (type);

  desc->session_id = G_GUINT64_CONSTANT (1234567890123456789);
  desc->ice_ufrag = g_strdup ("k3Zq");
  desc->ice_pwd = g_strdup ("Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc");
  desc->fingerprint_algorithm = g_strdup ("sha-256");
  desc->fingerprint = g_strdup (FP_SHA256_A);
  desc->setup = type == HANGOUT_SDP_OFFER ?
      HANGOUT_SDP_SETUP_ACTPASS : HANGOUT_SDP_SETUP_PASSIVE;
  g_free (desc->mid);
  desc->mid = g_strdup ("data");
  desc->sctp_port = 5001;
  desc->max_message_size = 262144;
  desc->max_datagram_size = 16384;
  desc->fec = TRUE;
  g_ptr_array_add (desc->candidates, g_strdup (CHROME_CANDIDATE_1));
  g_ptr_array_add (desc->candidates, g_strdup (CHROME_CANDIDATE_2));
  g_ptr_array_add (desc->candidates,
      g_strdup ("candidate:3 1 udp 2122129151 2001:db8::7 54401 typ host"));
  desc->end_of_candidates = TRUE;
  return desc;
}

static void
assert_same_description (const HangoutSdpDescription * a,
    const HangoutSdpDescription * b)
{
  guint i;

  fail_unless_equals_int (a->type, b->type);
  fail_unless_equals_uint64 (a->session_id, b->session_id);
  fail_unless_equals_string (a->ice_ufrag, b->ice_ufrag);
  fail_unless_equals_string (a->ice_pwd, b->ice_pwd);
  fail_unless_equals_string (a->fingerprint_algorithm,
      b->fingerprint_algorithm);
  fail_unless_equals_string (a->fingerprint, b->fingerprint);
  fail_unless_equals_int (a->setup, b->setup);
  fail_unless_equals_string (a->mid, b->mid);
  fail_unless_equals_int (a->sctp_port, b->sctp_port);
  fail_unless_equals_uint64 (a->max_message_size, b->max_message_size);
  fail_unless_equals_int (a->max_datagram_size, b->max_datagram_size);
  fail_unless_equals_int (a->fec, b->fec);
  fail_unless_equals_int (a->candidates->len, b->candidates->len);
  for (i = 0; i < a->candidates->len; i++)
    fail_unless_equals_string (g_ptr_array_index (a->candidates, i),
        g_ptr_array_index (b->candidates, i));
  fail_unless_equals_int (a->end_of_candidates, b->end_of_candidates);
}

GST_START_TEST (test_type_strings)
{
  HangoutSdpType type = HANGOUT_SDP_ANSWER;

  fail_unless_equals_string (hangout_sdp_type_to_string (HANGOUT_SDP_OFFER),
      "offer");
  fail_unless_equals_string (hangout_sdp_type_to_string (HANGOUT_SDP_ANSWER),
      "answer");
  fail_unless (hangout_sdp_type_from_string ("offer", &type));
  fail_unless_equals_int (type, HANGOUT_SDP_OFFER);
  fail_unless (hangout_sdp_type_from_string ("answer", &type));
  fail_unless_equals_int (type, HANGOUT_SDP_ANSWER);
  fail_if (hangout_sdp_type_from_string ("pranswer", &type));
  fail_if (hangout_sdp_type_from_string ("rollback", &type));
  fail_if (hangout_sdp_type_from_string ("Offer", &type));
  fail_if (hangout_sdp_type_from_string ("", &type));
  fail_if (hangout_sdp_type_from_string (NULL, &type));
  /* Failed conversions leave the output alone. */
  fail_unless_equals_int (type, HANGOUT_SDP_ANSWER);
}

GST_END_TEST;

GST_START_TEST (test_new_defaults)
{
  g_autoptr (HangoutSdpDescription) offer =
      hangout_sdp_description_new (HANGOUT_SDP_OFFER);
  g_autoptr (HangoutSdpDescription) answer =
      hangout_sdp_description_new (HANGOUT_SDP_ANSWER);

  fail_unless_equals_int (offer->setup, HANGOUT_SDP_SETUP_ACTPASS);
  fail_unless_equals_int (answer->setup, HANGOUT_SDP_SETUP_ACTIVE);
  fail_unless_equals_string (offer->mid, "0");
  fail_unless_equals_int (offer->sctp_port, HANGOUT_SDP_DEFAULT_SCTP_PORT);
  fail_unless_equals_uint64 (offer->max_message_size,
      HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  fail_unless (offer->candidates != NULL);
  fail_unless_equals_int (offer->candidates->len, 0);
  fail_if (offer->end_of_candidates);
  fail_unless (offer->session_id != 0);
  fail_unless (offer->session_id < (G_GUINT64_CONSTANT (1) << 62));

  hangout_sdp_description_free (NULL);
}

GST_END_TEST;

GST_START_TEST (test_round_trip)
{
  HangoutSdpType types[] = { HANGOUT_SDP_OFFER, HANGOUT_SDP_ANSWER };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    g_autoptr (HangoutSdpDescription) desc = make_full_description (types[i]);
    g_autoptr (HangoutSdpDescription) parsed = NULL;
    g_autofree gchar *text = hangout_sdp_description_to_string (desc);
    g_autofree gchar *again = NULL;

    fail_unless (text != NULL);
    parsed = parse_ok (text, types[i]);
    assert_same_description (desc, parsed);

    /* Serialising what we parsed gives the same text back. */
    again = hangout_sdp_description_to_string (parsed);
    fail_unless_equals_string (again, text);
  }
}

GST_END_TEST;

GST_START_TEST (test_round_trip_variants)
{
  HangoutSdpSetup setups[] = { HANGOUT_SDP_SETUP_ACTIVE,
    HANGOUT_SDP_SETUP_PASSIVE
  };
  guint64 sizes[] = { 0, 1, 65536, 1073741823, G_MAXUINT64 };
  guint ports[] = { 1, 5000, 65535 };
  guint i;

  /* Both answer roles. */
  for (i = 0; i < G_N_ELEMENTS (setups); i++) {
    g_autoptr (HangoutSdpDescription) desc =
        make_full_description (HANGOUT_SDP_ANSWER);
    g_autoptr (HangoutSdpDescription) parsed = NULL;
    g_autofree gchar *text = NULL;

    desc->setup = setups[i];
    text = hangout_sdp_description_to_string (desc);
    parsed = parse_ok (text, HANGOUT_SDP_ANSWER);
    assert_same_description (desc, parsed);
  }

  /* Edge values of the numeric fields; 0 means "no limit" and stays 0. */
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autoptr (HangoutSdpDescription) desc =
        make_full_description (HANGOUT_SDP_OFFER);
    g_autoptr (HangoutSdpDescription) parsed = NULL;
    g_autofree gchar *text = NULL;

    desc->max_message_size = sizes[i];
    desc->sctp_port = ports[i % G_N_ELEMENTS (ports)];
    text = hangout_sdp_description_to_string (desc);
    parsed = parse_ok (text, HANGOUT_SDP_OFFER);
    assert_same_description (desc, parsed);
  }

  /* No candidates, no end-of-candidates: the initial trickle offer. */
  {
    g_autoptr (HangoutSdpDescription) desc =
        make_full_description (HANGOUT_SDP_OFFER);
    g_autoptr (HangoutSdpDescription) parsed = NULL;
    g_autofree gchar *text = NULL;

    g_ptr_array_set_size (desc->candidates, 0);
    desc->end_of_candidates = FALSE;
    text = hangout_sdp_description_to_string (desc);
    fail_if (strstr (text, "a=candidate") != NULL);
    fail_if (strstr (text, "a=end-of-candidates") != NULL);
    parsed = parse_ok (text, HANGOUT_SDP_OFFER);
    assert_same_description (desc, parsed);
  }
}

GST_END_TEST;

GST_START_TEST (test_to_string_shape)
{
  g_autoptr (HangoutSdpDescription) desc =
      hangout_sdp_description_new (HANGOUT_SDP_OFFER);
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  const gchar *expected[] = {
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=" CHROME_CANDIDATE_1,
    "a=" CHROME_CANDIDATE_2,
    "a=end-of-candidates",
    "a=ice-ufrag:k3Zq",
    "a=ice-pwd:Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 " FP_SHA256_A,
    "a=setup:actpass",
    "a=mid:0",
    "a=sctp-port:5000",
    "a=max-message-size:262144",
    "",                         /* after the final CRLF */
  };
  guint i;

  desc->session_id = G_GUINT64_CONSTANT (4611731400430051336);
  desc->ice_ufrag = g_strdup ("k3Zq");
  desc->ice_pwd = g_strdup ("Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc");
  desc->fingerprint_algorithm = g_strdup ("sha-256");
  desc->fingerprint = g_strdup (FP_SHA256_A);
  desc->max_message_size = 262144;
  g_ptr_array_add (desc->candidates, g_strdup (CHROME_CANDIDATE_1));
  /* The "a=" form is tolerated on the way out. */
  g_ptr_array_add (desc->candidates, g_strdup ("a=" CHROME_CANDIDATE_2));
  desc->end_of_candidates = TRUE;

  text = hangout_sdp_description_to_string (desc);
  fail_unless (g_str_has_prefix (text, "v=0\r\n"));
  fail_unless (g_str_has_suffix (text, "\r\n"));

  /* Every line ends in CRLF: no bare LF, no bare CR. */
  for (i = 0; text[i] != '\0'; i++) {
    if (text[i] == '\n')
      fail_unless (i > 0 && text[i - 1] == '\r');
    if (text[i] == '\r')
      fail_unless (text[i + 1] == '\n');
  }

  /* Exactly these lines, each once, in Chromium's order. */
  lines = g_strsplit (text, "\r\n", -1);
  fail_unless_equals_int (g_strv_length (lines), G_N_ELEMENTS (expected));
  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    fail_unless_equals_string (lines[i], expected[i]);

  /* And Chromium's own offer is exactly our shape. */
  {
    g_autoptr (HangoutSdpDescription) parsed =
        parse_ok (chrome_offer, HANGOUT_SDP_OFFER);
    g_autofree gchar *ours = hangout_sdp_description_to_string (parsed);

    fail_unless_equals_string (ours, chrome_offer);
  }
}

GST_END_TEST;

GST_START_TEST (test_random_session_id)
{
  g_autoptr (HangoutSdpDescription) desc =
      make_full_description (HANGOUT_SDP_OFFER);
  guint i;

  desc->session_id = 0;
  for (i = 0; i < 16; i++) {
    g_autofree gchar *text = hangout_sdp_description_to_string (desc);
    g_autoptr (HangoutSdpDescription) parsed =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless (parsed->session_id != 0);
    fail_unless (parsed->session_id < (G_GUINT64_CONSTANT (1) << 62));
  }
}

GST_END_TEST;

GST_START_TEST (test_chrome_offer)
{
  g_autoptr (HangoutSdpDescription) desc =
      parse_ok (chrome_offer, HANGOUT_SDP_OFFER);

  fail_unless_equals_uint64 (desc->session_id,
      G_GUINT64_CONSTANT (4611731400430051336));
  fail_unless_equals_string (desc->ice_ufrag, "k3Zq");
  fail_unless_equals_string (desc->ice_pwd, "Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc");
  fail_unless_equals_string (desc->fingerprint_algorithm, "sha-256");
  fail_unless_equals_string (desc->fingerprint, FP_SHA256_A);
  fail_unless_equals_int (desc->setup, HANGOUT_SDP_SETUP_ACTPASS);
  fail_unless_equals_string (desc->mid, "0");
  fail_unless_equals_int (desc->sctp_port, 5000);
  fail_unless_equals_uint64 (desc->max_message_size, 262144);
  /* Not a browser's attribute: the IPv6 minimum path. */
  fail_unless_equals_int (desc->max_datagram_size, 0);
  fail_unless_equals_int (desc->candidates->len, 2);
  fail_unless_equals_string (g_ptr_array_index (desc->candidates, 0),
      CHROME_CANDIDATE_1);
  fail_unless_equals_string (g_ptr_array_index (desc->candidates, 1),
      CHROME_CANDIDATE_2);
  fail_if (desc->end_of_candidates);
}

GST_END_TEST;

GST_START_TEST (test_chrome_answer)
{
  g_autoptr (HangoutSdpDescription) desc =
      parse_ok (chrome_answer, HANGOUT_SDP_ANSWER);
  g_autofree gchar *lf_only = NULL;
  g_autoptr (HangoutSdpDescription) lf_desc = NULL;

  fail_unless_equals_uint64 (desc->session_id,
      G_GUINT64_CONSTANT (8390014472013365021));
  fail_unless_equals_string (desc->ice_ufrag, "W7uB");
  fail_unless_equals_string (desc->ice_pwd, "pQ2vR8sT4uW6xY0zA1bC3dE5");
  fail_unless_equals_string (desc->fingerprint_algorithm, "sha-256");
  fail_unless_equals_string (desc->fingerprint, FP_SHA256_B);
  fail_unless_equals_int (desc->setup, HANGOUT_SDP_SETUP_ACTIVE);
  fail_unless_equals_string (desc->mid, "0");
  fail_unless_equals_int (desc->sctp_port, 5000);
  fail_unless_equals_uint64 (desc->max_message_size, 262144);
  fail_unless_equals_int (desc->candidates->len, 0);
  fail_if (desc->end_of_candidates);

  /* Signalling code sometimes loses the CRs; that is still SDP. */
  {
    g_auto (GStrv) lines = g_strsplit (chrome_answer, "\r\n", -1);
    lf_only = g_strjoinv ("\n", lines);
  }
  lf_desc = parse_ok (lf_only, HANGOUT_SDP_ANSWER);
  assert_same_description (desc, lf_desc);
}

GST_END_TEST;

GST_START_TEST (test_firefox)
{
  g_autoptr (HangoutSdpDescription) offer =
      parse_ok (firefox_offer, HANGOUT_SDP_OFFER);
  g_autofree gchar *answer_text = NULL;
  g_autoptr (HangoutSdpDescription) answer = NULL;

  fail_unless_equals_uint64 (offer->session_id,
      G_GUINT64_CONSTANT (6270183471457404339));
  fail_unless_equals_string (offer->ice_ufrag, "9a8b7c6d");
  fail_unless_equals_string (offer->ice_pwd,
      "3c1f0a9e7b2d4e6f8a0b1c2d3e4f5a6b");
  /* The session-level fingerprint is used. */
  fail_unless_equals_string (offer->fingerprint_algorithm, "sha-256");
  fail_unless_equals_string (offer->fingerprint, FP_SHA256_C);
  fail_unless_equals_int (offer->setup, HANGOUT_SDP_SETUP_ACTPASS);
  fail_unless_equals_string (offer->mid, "0");
  fail_unless_equals_int (offer->sctp_port, 5000);
  fail_unless_equals_uint64 (offer->max_message_size, 1073741823);
  fail_unless_equals_int (offer->candidates->len, 2);
  fail_unless_equals_string (g_ptr_array_index (offer->candidates, 1),
      "candidate:1 1 TCP 2105524479 "
      "060e6071-8b13-4969-bd1b-054fe6d898d4.local 9 typ host tcptype active");
  fail_unless (offer->end_of_candidates);

  /* Firefox's answer says active (or passive). */
  answer_text = edit_sdp (firefox_offer, "a=setup:", "a=setup:passive");
  answer = parse_ok (answer_text, HANGOUT_SDP_ANSWER);
  fail_unless_equals_int (answer->setup, HANGOUT_SDP_SETUP_PASSIVE);
}

GST_END_TEST;

/* a=x-hangout-max-datagram counts only with the description's own ufrag:
 * libdatachannel copies an offer's unknown attributes into its answer. */
GST_START_TEST (test_max_datagram)
{
  g_autofree gchar *own = edit_sdp (chrome_answer, "a=max-message-size:",
      "a=max-message-size:262144\r\na=x-hangout-max-datagram:16384 W7uB");
  g_autofree gchar *echo = edit_sdp (chrome_answer, "a=max-message-size:",
      "a=max-message-size:262144\r\na=x-hangout-max-datagram:16384 k3Zq");
  g_autofree gchar *bare = edit_sdp (chrome_answer, "a=max-message-size:",
      "a=max-message-size:262144\r\na=x-hangout-max-datagram:16384");
  g_autoptr (HangoutSdpDescription) a = parse_ok (own, HANGOUT_SDP_ANSWER);
  g_autoptr (HangoutSdpDescription) b = parse_ok (echo, HANGOUT_SDP_ANSWER);
  g_autoptr (HangoutSdpDescription) c = parse_ok (bare, HANGOUT_SDP_ANSWER);

  fail_unless_equals_int (a->max_datagram_size, 16384);
  fail_unless_equals_int (b->max_datagram_size, 0);
  fail_unless_equals_int (c->max_datagram_size, 0);
}

GST_END_TEST;

/* a=x-hangout-fec likewise, and only in the version we read. */
GST_START_TEST (test_fec)
{
  const struct {
    const gchar *value;
    gboolean fec;
  } cases[] = {
    {"1 W7uB", TRUE}, {"1 k3Zq", FALSE}, {"1", FALSE}, {"2 W7uB", FALSE},
    {"", FALSE},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *line = g_strdup_printf ("a=max-message-size:262144\r\n"
        "a=x-hangout-fec:%s", cases[i].value);
    g_autofree gchar *text = edit_sdp (chrome_answer, "a=max-message-size:",
        line);
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_ANSWER);

    fail_unless_equals_int (desc->fec, cases[i].fec);
  }
  {
    g_autoptr (HangoutSdpDescription) desc = parse_ok (chrome_answer,
        HANGOUT_SDP_ANSWER);

    fail_if (desc->fec, "a description without the attribute reads parity");
  }
}

GST_END_TEST;

GST_START_TEST (test_defaults_when_absent)
{
  /* No max-message-size: RFC 8841's 64 KiB. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=max-message-size:",
        NULL);
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless_equals_uint64 (desc->max_message_size, 65536);
    fail_unless_equals_uint64 (desc->max_message_size,
        HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  }
  /* 0 ("no limit") is kept as 0. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=max-message-size:",
        "a=max-message-size:0");
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless_equals_uint64 (desc->max_message_size, 0);
  }
  /* No sctp-port: RFC 8841's 5000. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=sctp-port:", NULL);
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless_equals_int (desc->sctp_port, HANGOUT_SDP_DEFAULT_SCTP_PORT);
  }
  /* No setup: actpass in an offer, active in an answer (as libwebrtc). */
  {
    g_autofree gchar *offer_text = edit_sdp (chrome_offer, "a=setup:", NULL);
    g_autofree gchar *answer_text = edit_sdp (chrome_answer, "a=setup:",
        NULL);
    g_autoptr (HangoutSdpDescription) offer =
        parse_ok (offer_text, HANGOUT_SDP_OFFER);
    g_autoptr (HangoutSdpDescription) answer =
        parse_ok (answer_text, HANGOUT_SDP_ANSWER);

    fail_unless_equals_int (offer->setup, HANGOUT_SDP_SETUP_ACTPASS);
    fail_unless_equals_int (answer->setup, HANGOUT_SDP_SETUP_ACTIVE);
  }
  /* No mid: NULL, and no BUNDLE group or a=mid is written back. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=mid:", NULL);
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);
    g_autofree gchar *out = NULL;

    fail_unless (desc->mid == NULL);
    out = hangout_sdp_description_to_string (desc);
    fail_if (strstr (out, "a=mid") != NULL);
    fail_if (strstr (out, "a=group") != NULL);
  }
  /* A data-channel section after an audio one is found. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "m=application",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "a=mid:audio\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel");
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    /* The attributes before the second m-line belong to audio. */
    fail_unless_equals_string (desc->mid, "0");
  }
}

GST_END_TEST;

GST_START_TEST (test_session_level_fallback)
{
  /* ICE credentials and setup only at session level are used. */
  {
    g_autofree gchar *a = edit_sdp (chrome_offer, "a=ice-ufrag:", NULL);
    g_autofree gchar *b = edit_sdp (a, "a=ice-pwd:", NULL);
    g_autofree gchar *c = edit_sdp (b, "a=setup:", NULL);
    g_autofree gchar *d = edit_sdp (c, "a=msid-semantic:",
        "a=msid-semantic: WMS\r\n"
        "a=ice-ufrag:SeSs\r\n"
        "a=ice-pwd:sessionlevelpassword1234\r\n" "a=setup:passive");
    g_autoptr (HangoutSdpDescription) desc = parse_ok (d, HANGOUT_SDP_OFFER);

    fail_unless_equals_string (desc->ice_ufrag, "SeSs");
    fail_unless_equals_string (desc->ice_pwd, "sessionlevelpassword1234");
    fail_unless_equals_int (desc->setup, HANGOUT_SDP_SETUP_PASSIVE);
  }
  /* Media level wins over session level. */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=msid-semantic:",
        "a=msid-semantic: WMS\r\n"
        "a=ice-ufrag:SeSs\r\n"
        "a=ice-pwd:sessionlevelpassword1234\r\n"
        "a=fingerprint:sha-256 " FP_SHA256_B "\r\n" "a=setup:passive");
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless_equals_string (desc->ice_ufrag, "k3Zq");
    fail_unless_equals_string (desc->ice_pwd, "Xf9s2Lq+7bNw4Rt/Ue1Ha6Jc");
    fail_unless_equals_string (desc->fingerprint, FP_SHA256_A);
    fail_unless_equals_int (desc->setup, HANGOUT_SDP_SETUP_ACTPASS);
  }
  /* end-of-candidates at session level (RFC 8840 allows it). */
  {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=msid-semantic:",
        "a=msid-semantic: WMS\r\na=end-of-candidates");
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless (desc->end_of_candidates);
  }
}

GST_END_TEST;

GST_START_TEST (test_legacy_dtls_sctp)
{
  g_autofree gchar *a = edit_sdp (chrome_offer, "m=application",
      "m=application 9 DTLS/SCTP 5001");
  g_autofree gchar *b = edit_sdp (a, "a=sctp-port:",
      "a=sctpmap:5001 webrtc-datachannel 1024");
  g_autofree gchar *c = edit_sdp (b, "a=max-message-size:", NULL);
  g_autoptr (HangoutSdpDescription) desc = parse_ok (c, HANGOUT_SDP_OFFER);

  fail_unless_equals_int (desc->sctp_port, 5001);
  fail_unless_equals_uint64 (desc->max_message_size, 65536);
  fail_unless_equals_string (desc->ice_ufrag, "k3Zq");
  fail_unless_equals_string (desc->fingerprint, FP_SHA256_A);
}

GST_END_TEST;

GST_START_TEST (test_fingerprints)
{
  struct
  {
    const gchar *line;
    const gchar *algorithm;
    const gchar *fingerprint;
  } cases[] = {
    {"a=fingerprint:sha-1 " FP_SHA1, "sha-1", FP_SHA1},
    {"a=fingerprint:sha-224 " FP_SHA224, "sha-224", FP_SHA224},
    {"a=fingerprint:sha-256 " FP_SHA256_A, "sha-256", FP_SHA256_A},
    {"a=fingerprint:sha-384 " FP_SHA384, "sha-384", FP_SHA384},
    {"a=fingerprint:sha-512 " FP_SHA512, "sha-512", FP_SHA512},
    /* Case is normalised: algorithm down, hex up. */
    {"a=fingerprint:SHA-256 " FP_SHA256_A, "sha-256", FP_SHA256_A},
    {"a=fingerprint:sha-256 5b:a6:59:39:54:0f:6a:a4:d5:da:04:d6:da:7b:63:02:"
          "1c:ce:a2:34:af:76:0f:33:2c:5a:69:fd:8d:98:fb:7d", "sha-256",
        FP_SHA256_A},
    /* Several fingerprints: sha-256 is preferred, whatever the order. */
    {"a=fingerprint:sha-1 " FP_SHA1 "\r\na=fingerprint:sha-256 " FP_SHA256_B,
        "sha-256", FP_SHA256_B},
    {"a=fingerprint:sha-512 " FP_SHA512 "\r\na=fingerprint:sha-1 " FP_SHA1,
        "sha-512", FP_SHA512},
    /* An unsupported hash next to a supported one is skipped. */
    {"a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
          "\r\na=fingerprint:sha-384 " FP_SHA384, "sha-384", FP_SHA384},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = edit_sdp (chrome_offer, "a=fingerprint:",
        cases[i].line);
    g_autoptr (HangoutSdpDescription) desc =
        parse_ok (text, HANGOUT_SDP_OFFER);

    fail_unless_equals_string (desc->fingerprint_algorithm,
        cases[i].algorithm);
    fail_unless_equals_string (desc->fingerprint, cases[i].fingerprint);
  }
}

GST_END_TEST;

typedef struct
{
  const gchar *prefix;          /* line of the base SDP to edit */
  const gchar *replacement;     /* NULL: drop the line */
  HangoutSdpType type;
  const gchar *word;            /* expected in the error message */
} MalformedCase;

#define OFFER HANGOUT_SDP_OFFER
#define ANSWER HANGOUT_SDP_ANSWER

static const MalformedCase malformed_cases[] = {
  /* the session */
  {"v=", "v=1", OFFER, "version"},
  {"v=", NULL, OFFER, "not an SDP"},
  {"o=", NULL, OFFER, "session id"},
  {"o=", "o=- abc 2 IN IP4 127.0.0.1", OFFER, "session id"},
  {"o=", "o=- 99999999999999999999999 2 IN IP4 127.0.0.1", OFFER,
      "session id"},
  /* the m-line */
  {"m=", NULL, OFFER, "no m=application"},
  {"m=", "m=audio 9 UDP/TLS/RTP/SAVPF 111", OFFER, "no m=application"},
  {"m=", "m=application 9 TCP/DTLS/SCTP webrtc-datachannel", OFFER,
      "no m=application"},
  {"m=", "m=application 9 UDP/DTLS/SCTP bfcp", OFFER, "no m=application"},
  {"m=", "m=application 9 UDP/DTLS/SCTP", OFFER, "no m=application"},
  {"m=", "m=application 0 UDP/DTLS/SCTP webrtc-datachannel", OFFER,
      "rejected"},
  {"m=", "m=application 9 DTLS/SCTP", OFFER, "legacy"},
  {"m=", "m=application 9 DTLS/SCTP webrtc-datachannel", OFFER, "SCTP port"},
  {"m=", "m=application 9 DTLS/SCTP 0", OFFER, "SCTP port"},
  /* ICE credentials */
  {"a=ice-ufrag:", NULL, OFFER, "no ICE username fragment"},
  {"a=ice-pwd:", NULL, ANSWER, "no ICE password"},
  {"a=ice-ufrag:", "a=ice-ufrag:abc", OFFER, "ice-ufrag must be 4"},
  {"a=ice-ufrag:", "a=ice-ufrag:", OFFER, "ice-ufrag must be 4"},
  {"a=ice-ufrag:", "a=ice-ufrag:ab cd", OFFER, "invalid character ' '"},
  {"a=ice-ufrag:", "a=ice-ufrag:k3Z-", OFFER, "invalid character '-'"},
  {"a=ice-pwd:", "a=ice-pwd:Xf9s2Lq+7bNw4Rt/Ue1Ha", OFFER,
      "ice-pwd must be 22"},
  {"a=ice-pwd:", "a=ice-pwd:Xf9s2Lq+7bNw4Rt/Ue1Ha6J=", OFFER,
      "invalid character '='"},
  {"a=ice-ufrag:", "a=ice-ufrag:k3Zq\r\na=ice-ufrag:W7uB", OFFER,
      "more than once"},
  /* fingerprint */
  {"a=fingerprint:", NULL, OFFER, "no DTLS fingerprint"},
  {"a=fingerprint:", "a=fingerprint:", OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:" FP_SHA256_A, OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:sha-256", OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:sha-256 " FP_SHA1, OFFER,
      "32 colon-separated hex pairs"},
  {"a=fingerprint:", "a=fingerprint:sha-1 " FP_SHA256_A, OFFER,
      "20 colon-separated hex pairs"},
  {"a=fingerprint:", "a=fingerprint:sha-256 " FP_SHA256_A ":00", OFFER,
      "malformed"},
  {"a=fingerprint:", "a=fingerprint:sha-256 GB:A6:59:39:54:0F:6A:A4:D5:DA:"
        "04:D6:DA:7B:63:02:1C:CE:A2:34:AF:76:0F:33:2C:5A:69:FD:8D:98:FB:7D",
      OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:sha-256 5B-A6-59-39-54-0F-6A-A4-D5-DA-"
        "04-D6-DA-7B-63-02-1C-CE-A2-34-AF-76-0F-33-2C-5A-69-FD-8D-98-FB-7D",
      OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:sha-256 " FP_SHA256_A " trailing",
      OFFER, "malformed"},
  {"a=fingerprint:", "a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:"
        "BB:CC:DD:EE:FF", OFFER, "supported hash function"},
  /* a malformed one is an error even next to a good one */
  {"a=fingerprint:", "a=fingerprint:sha-256 " FP_SHA256_A
        "\r\na=fingerprint:sha-1 00", OFFER, "malformed"},
  /* setup */
  {"a=setup:", "a=setup:actpass", ANSWER, "not allowed in an answer"},
  {"a=setup:", "a=setup:holdconn", OFFER, "holdconn"},
  {"a=setup:", "a=setup:server", OFFER, "unknown role"},
  {"a=setup:", "a=setup:", ANSWER, "unknown role"},
  {"a=setup:", "a=setup:active\r\na=setup:passive", ANSWER,
      "more than once"},
  /* mid */
  {"a=mid:", "a=mid:", OFFER, "a=mid"},
  {"a=mid:", "a=mid:a\"b", OFFER, "a=mid"},
  /* sctp-port */
  {"a=sctp-port:", "a=sctp-port:0", OFFER, "sctp-port"},
  {"a=sctp-port:", "a=sctp-port:65536", OFFER, "sctp-port"},
  {"a=sctp-port:", "a=sctp-port:abc", ANSWER, "sctp-port"},
  {"a=sctp-port:", "a=sctp-port:-5000", OFFER, "sctp-port"},
  {"a=sctp-port:", "a=sctp-port:", OFFER, "sctp-port"},
  /* max-message-size */
  {"a=max-message-size:", "a=max-message-size:-1", OFFER,
      "max-message-size"},
  {"a=max-message-size:", "a=max-message-size:1.5", OFFER,
      "max-message-size"},
  {"a=max-message-size:", "a=max-message-size:0x10000", OFFER,
      "max-message-size"},
  {"a=max-message-size:", "a=max-message-size:+65536", OFFER,
      "max-message-size"},
  {"a=max-message-size:", "a=max-message-size:", OFFER, "max-message-size"},
  {"a=max-message-size:", "a=max-message-size:18446744073709551616", OFFER,
      "max-message-size"},
  /* x-hangout-max-datagram */
  {"a=max-message-size:", "a=x-hangout-max-datagram:65536 k3Zq\r\na=max-message-size:262144",
      OFFER, "x-hangout-max-datagram"},
  {"a=max-message-size:", "a=x-hangout-max-datagram:big\r\na=max-message-size:262144",
      ANSWER, "x-hangout-max-datagram"},
  /* candidates */
  {"a=candidate:1467250027", "a=candidate:", OFFER, "candidate"},
};

GST_START_TEST (test_malformed)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (malformed_cases); i++) {
    const MalformedCase *c = &malformed_cases[i];
    const gchar *base = c->type == OFFER ? chrome_offer : chrome_answer;
    g_autofree gchar *text = NULL;

    /* the answer has no candidate lines; candidate cases use the offer */
    if (g_str_has_prefix (c->prefix, "a=candidate"))
      base = chrome_offer;
    text = edit_sdp (base, c->prefix, c->replacement);
    fail_if (g_strcmp0 (text, base) == 0, "case %u changes nothing", i);
    GST_DEBUG ("case %u: %s -> %s", i, c->prefix,
        c->replacement ? c->replacement : "(dropped)");
    assert_rejected (text, c->type, c->word);
  }
}

GST_END_TEST;

GST_START_TEST (test_not_sdp)
{
  assert_rejected (NULL, OFFER, "empty");
  assert_rejected ("", ANSWER, "empty");
  assert_rejected ("hello world", OFFER, "not an SDP");
  assert_rejected ("\r\n\r\n", OFFER, "not an SDP");
  assert_rejected ("{\"type\":\"offer\",\"sdp\":\"v=0\"}", OFFER,
      "not an SDP");
  assert_rejected ("\x01\x02\xff\xfe=\x7f", OFFER, "not an SDP");
  assert_rejected ("v=0\r\n", OFFER, "session id");
  assert_rejected ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
      OFFER, "no m=application");
  /* Only the m-line survives: still no ICE. */
  assert_rejected ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", OFFER,
      "no ICE username fragment");
}

GST_END_TEST;

/* Whatever arrives, the parser answers with a description or an
 * INVALID_SDP error, and never crashes or trips a GLib/GStreamer critical
 * (which GstCheck turns into a failure). */
static void
parse_anything (const gchar * text, HangoutSdpType type)
{
  GError *error = NULL;
  HangoutSdpDescription *desc;

  desc = hangout_sdp_description_parse (text, type, &error);
  if (desc == NULL) {
    fail_unless (g_error_matches (error, HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_SDP));
    fail_unless (error->message[0] != '\0');
    g_error_free (error);
  } else {
    fail_unless (error == NULL);
    hangout_sdp_description_free (desc);
  }
}

GST_START_TEST (test_truncated_and_mutated)
{
  const gchar *bases[] = { chrome_offer, chrome_answer, firefox_offer };
  GRand *rand = g_rand_new_with_seed (20261101);
  guint b, i, n;

  for (b = 0; b < G_N_ELEMENTS (bases); b++) {
    gsize len = strlen (bases[b]);

    /* Every prefix. */
    for (i = 0; i <= len; i++) {
      g_autofree gchar *prefix = g_strndup (bases[b], i);

      parse_anything (prefix, OFFER);
      parse_anything (prefix, ANSWER);
    }

    /* Random byte changes. */
    for (i = 0; i < 500; i++) {
      g_autofree gchar *copy = g_strdup (bases[b]);

      for (n = g_rand_int_range (rand, 1, 8); n > 0; n--) {
        gint pos = g_rand_int_range (rand, 0, len);

        copy[pos] = (gchar) g_rand_int_range (rand, 1, 256);
      }
      parse_anything (copy, i % 2 ? OFFER : ANSWER);
    }
  }
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
sdp_suite (void)
{
  Suite *s = suite_create ("sdp");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_type_strings);
  tcase_add_test (tc, test_new_defaults);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_round_trip_variants);
  tcase_add_test (tc, test_to_string_shape);
  tcase_add_test (tc, test_random_session_id);
  tcase_add_test (tc, test_chrome_offer);
  tcase_add_test (tc, test_chrome_answer);
  tcase_add_test (tc, test_firefox);
  tcase_add_test (tc, test_max_datagram);
  tcase_add_test (tc, test_fec);
  tcase_add_test (tc, test_defaults_when_absent);
  tcase_add_test (tc, test_session_level_fallback);
  tcase_add_test (tc, test_legacy_dtls_sctp);
  tcase_add_test (tc, test_fingerprints);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_not_sdp);
  tcase_add_test (tc, test_truncated_and_mutated);
  return s;
}

GST_CHECK_MAIN (sdp);
