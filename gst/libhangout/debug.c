/* gst-hangout — the library's debug categories (debug-private.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"

G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_sdp);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_ice);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_dtls);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_fec);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_sctp);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_channel);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_peer);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_signalling);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_room);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_transfer);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_transfer2);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_share);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_merkle);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_swarm);
G_GNUC_INTERNAL GST_DEBUG_CATEGORY (hangout_debug_pieces);

void
hangout_debug_init (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  GST_DEBUG_CATEGORY_INIT (hangout_debug_sdp, "hangout-sdp", 0,
      "gst-hangout: session descriptions and ICE candidates");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_ice, "hangout-ice", 0,
      "gst-hangout: ICE (libnice)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_dtls, "hangout-dtls", 0,
      "gst-hangout: DTLS (GnuTLS)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_fec, "hangout-fec", 0,
      "gst-hangout: loss repair below DTLS (parity, loss reports)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_sctp, "hangout-sctp", 0,
      "gst-hangout: SCTP (usrsctp)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_channel, "hangout-channel", 0,
      "gst-hangout: data channels and DCEP");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_peer, "hangout-peer", 0,
      "gst-hangout: peer connections");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_signalling, "hangout-signalling", 0,
      "gst-hangout: the signalling client");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_room, "hangout-room", 0,
      "gst-hangout: rooms, the full mesh");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_transfer, "hangout-transfer", 0,
      "gst-hangout: the file transfer protocol");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_transfer2, "hangout-transfer2", 0,
      "gst-hangout: the wire format of file transfer version 2");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_share, "hangout-share", 0,
      "gst-hangout: sharing files in a room (offers, windows, acks)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_merkle, "hangout-merkle", 0,
      "gst-hangout: a file's Merkle hash tree (pieces, proofs)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_swarm, "hangout-swarm", 0,
      "gst-hangout: whom a sharer hands each piece (transfer version 2)");
  GST_DEBUG_CATEGORY_INIT (hangout_debug_pieces, "hangout-pieces", 0,
      "gst-hangout: a version 2 receiver's piece window (verification, "
      "output in order, repair)");
  g_once_init_leave (&done, 1);
}
