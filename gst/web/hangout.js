// gst-hangout web client: joins a room through hangout-server and shares
// files with every other member over WebRTC data channels, speaking the
// protocols of docs/protocol.md as the C room (gst/libhangout/room.c)
// does. This is the page's entry (index.html loads it as a module): it
// wires the layers, each of which knows only those below it
// (docs/architecture.md, "The web page"):
//
//   ui.js          the page: everything that touches `document`
//   transfers.js   the room's files, both versions, both ways
//   room.js        the WebSocket, the peer connections, the room secret
//   transfer1.js, transfer2.js, signalling.js, auth.js
//                  the wire formats and rules: pure, tested under Node
//   storage.js, sha256.js
//
// room.js and transfers.js report through `events` and `views`, which are
// set here to ui.js's renderers and to transfers.js's handlers.
// SPDX-License-Identifier: LGPL-2.1-or-later

import * as room from './room.js';
import * as transfers from './transfers.js';
import * as ui from './ui.js';

Object.assign(room.events, {
  status: ui.setStatus,
  joinRefused: ui.joinRefused,
  member: ui.renderMember,
  memberRemoved: ui.memberRemoved,
  memberRefused: ui.memberRefused,
  admitted: transfers.memberAdmitted,
  appMessage: transfers.onAppMessage,
  left: transfers.memberLeft,
  channelLow: transfers.channelLow,
});
Object.assign(transfers.views, { file: ui.fileView, declined: ui.declinedView });

if (typeof document !== 'undefined') {
  ui.start();
  // For tests and the curious: the live state of the room and of its files,
  // read-only by convention.
  window.hangout = new Proxy(room.state, {
    get: (target, key) => (key in target ? target[key] : transfers.files[key]),
  });
}
