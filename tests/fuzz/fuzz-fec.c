/* gst-hangout — fuzz target: the loss-repair layer (fec.h), stateful.
 * The input is a sequence of operations, each one byte of kind and two of
 * length, then the datagram: kind 0 a datagram from the peer as it is, 1
 * one we sent (what becomes parity, which is fed back in as the peer's), 2
 * one from the peer with the pair's tag appended (the peer itself lying:
 * content the tag lets through). Every datagram the layer sends must be
 * its own, within 1232 bytes, and every one it gives DTLS a DTLS datagram;
 * timers run between operations.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/fec.h>
#include <hangout/dtls.h>
#include <gnutls/crypto.h>
#include <string.h>

static const guint8 key[HANGOUT_FEC_KEY_SIZE] = { 42 };

typedef struct {
  HangoutFec *fec;
  GPtrArray *sent;              /* GBytes: ours, read back after each step */
} Fuzz;

static void
on_send (gpointer data, const guint8 *datagram, gsize len)
{
  Fuzz *fuzz = data;

  FUZZ_CHECK (len <= HANGOUT_FEC_MAX_DATAGRAM);
  FUZZ_CHECK (hangout_fec_is_fec_packet (datagram, len));
  g_ptr_array_add (fuzz->sent, g_bytes_new (datagram, len));
}

/* Our parity and reports, read back as the peer's (not from inside the
 * send callback, which runs under the sender's lock, as a network would). */
static void
read_back (Fuzz *fuzz)
{
  g_autoptr (GPtrArray) sent = fuzz->sent;

  fuzz->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < sent->len; i++) {
    gsize len;
    const guint8 *datagram = g_bytes_get_data (sent->pdata[i], &len);

    hangout_fec_receive (fuzz->fec, datagram, len);
  }
}

static void
on_deliver (gpointer data, const guint8 *datagram, gsize len)
{
  FUZZ_CHECK (hangout_dtls_is_dtls_packet (datagram, len));
  FUZZ_CHECK (len <= G_MAXUINT16);
}

static const HangoutFecCallbacks callbacks = { on_send, on_deliver };

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GMainContext *context = g_main_context_new ();
  Fuzz fuzz = { NULL, NULL };

  fuzz.sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fuzz.fec = hangout_fec_new (context, key, &callbacks, &fuzz);
  while (size >= 3) {
    guint kind = data[0] % 3;
    gsize len = MIN ((gsize) (data[1] << 8 | data[2]), size - 3);

    if (kind == 0)
      hangout_fec_receive (fuzz.fec, data + 3, len);
    else if (kind == 1)
      hangout_fec_sent (fuzz.fec, data + 3, len);
    else {
      g_autofree guint8 *signed_datagram = g_malloc (len + 32);
      guint8 mac[32];

      memcpy (signed_datagram, data + 3, len);
      gnutls_hmac_fast (GNUTLS_MAC_SHA256, key, sizeof key, data + 3, len,
          mac);
      memcpy (signed_datagram + len, mac, 8);
      hangout_fec_receive (fuzz.fec, signed_datagram, len + 8);
    }
    g_main_context_iteration (context, FALSE);
    read_back (&fuzz);
    data += 3 + len;
    size -= 3 + len;
  }
  hangout_fec_free (fuzz.fec);
  g_ptr_array_unref (fuzz.sent);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_unref (context);
  return 0;
}
