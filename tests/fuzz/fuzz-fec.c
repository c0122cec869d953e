/* gst-hangout — fuzz target: the loss-repair layer (fec.h), stateful.
 * The input is a sequence of operations, each one byte of kind and two of
 * length, then the datagram: kind 0 a datagram from the peer, 1 one we
 * sent (what becomes parity, which is fed back in as the peer's). Every
 * datagram the layer gives DTLS must be a DTLS datagram no larger than
 * what came in; timers run between operations.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/fec.h>
#include <hangout/dtls.h>

typedef struct {
  HangoutFec *fec;
  guint depth;
} Fuzz;

static void
on_send (gpointer data, const guint8 *datagram, gsize len)
{
  Fuzz *fuzz = data;

  FUZZ_CHECK (len <= HANGOUT_FEC_MAX_DATAGRAM);
  FUZZ_CHECK (hangout_fec_is_fec_packet (datagram, len));
  /* Our parity and reports, read back as the peer's. */
  if (fuzz->depth++ == 0)
    hangout_fec_receive (fuzz->fec, datagram, len);
  fuzz->depth--;
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
  Fuzz fuzz = { NULL, 0 };

  fuzz.fec = hangout_fec_new (context, &callbacks, &fuzz);
  while (size >= 3) {
    guint kind = data[0] % 2;
    gsize len = MIN ((gsize) (data[1] << 8 | data[2]), size - 3);

    if (kind == 0)
      hangout_fec_receive (fuzz.fec, data + 3, len);
    else
      hangout_fec_sent (fuzz.fec, data + 3, len);
    g_main_context_iteration (context, FALSE);
    data += 3 + len;
    size -= 3 + len;
  }
  hangout_fec_free (fuzz.fec);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_unref (context);
  return 0;
}
