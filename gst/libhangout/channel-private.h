/* gst-hangout — what the peer layer needs of data channels; not public.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/channel.h>
#include <hangout/sctp.h>

G_BEGIN_DECLS

G_GNUC_INTERNAL
HangoutDataChannel *hangout_data_channel_new (const gchar *label,
    const HangoutDataChannelOptions *options);
/* An incoming DATA_CHANNEL_OPEN on @stream_id. */
G_GNUC_INTERNAL
HangoutDataChannel *hangout_data_channel_new_from_dcep (const HangoutDcepOpen *open,
    guint16 stream_id);

G_GNUC_INTERNAL
gboolean hangout_data_channel_is_negotiated (HangoutDataChannel *channel);
G_GNUC_INTERNAL
void hangout_data_channel_set_id (HangoutDataChannel *channel, guint16 id);

/* The association is up: @sctp carries the channel from now on, with
 * messages up to @max_message_size. A channel we created sends its
 * DATA_CHANNEL_OPEN (and opens on the ACK); a negotiated one opens at once;
 * one the peer opened answers with an ACK and opens. */
G_GNUC_INTERNAL
void hangout_data_channel_attach (HangoutDataChannel *channel, HangoutSctp *sctp,
    gsize max_message_size);
/* The association is gone: the channel is closed and no longer uses it. */
G_GNUC_INTERNAL
void hangout_data_channel_detach (HangoutDataChannel *channel, const GError *error);

G_GNUC_INTERNAL
void hangout_data_channel_handle_message (HangoutDataChannel *channel,
    guint32 ppid, const guint8 *data, gsize len);
G_GNUC_INTERNAL
void hangout_data_channel_handle_sent (HangoutDataChannel *channel, gsize len);
/* The peer reset its outgoing stream. Returns TRUE once the channel is
 * closed in both directions and its stream id may be used again. */
G_GNUC_INTERNAL
gboolean hangout_data_channel_handle_reset (HangoutDataChannel *channel);

G_END_DECLS
