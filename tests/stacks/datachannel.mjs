// The stack adapter for libdatachannel (npm node-datachannel), the
// connection member.mjs describes.
import { EventEmitter } from 'node:events';
import nodeDataChannel from 'node-datachannel';

const { PeerConnection } = nodeDataChannel;
// How long a closed connection's last messages may still be on their way
// to us (below).
const CLOSE_GRACE_MS = 500;

// A channel as transfer.mjs uses it. libdatachannel's buffered-amount-low
// event works, so waiting needs no polling.
class Channel {
  constructor(dc) {
    this.dc = dc;
    this.lowWaiters = [];
    const wake = () => { for (const w of this.lowWaiters.splice(0)) w(); };
    dc.onBufferedAmountLow(wake);
    dc.onClosed(wake);
  }

  send(data) {
    try {
      return typeof data === 'string' ? this.dc.sendMessage(data) : this.dc.sendMessageBinary(data);
    } catch {
      return false;   // closed: the pair's "closed" event follows
    }
  }

  bufferedAmount() {
    try { return this.dc.bufferedAmount(); } catch { return 0; }
  }

  waitBufferedBelow(bytes) {
    this.dc.setBufferedAmountLowThreshold(bytes);
    if (this.bufferedAmount() <= bytes || !this.dc.isOpen()) return Promise.resolve();
    return new Promise((resolve) => this.lowWaiters.push(resolve));
  }
}

class Connection extends EventEmitter {
  constructor({ offerer, bindAddress, label, autoAnswer = false }) {
    super();
    this.pc = new PeerConnection(label, {
      iceServers: [],
      // libdatachannel gathers no loopback candidate unless bound to one.
      bindAddress,
      // Descriptions when we say: an answerer's channels come before the
      // offer is set, and creating them must not make it offer.
      disableAutoNegotiation: !autoAnswer,
    });
    this.autoAnswer = autoAnswer;
    this.pc.onLocalDescription((sdp, type) => this.emit('description', type.toLowerCase(), sdp));
    this.pc.onLocalCandidate((candidate, mid) => this.emit('candidate', candidate.replace(/^a=/, ''), mid));
    // node-datachannel reports the connection's state and each channel's
    // messages through separate queues: a peer that sends its last message
    // (an ack) and shuts down can be reported closed before that message.
    // The channels' own "closed" comes after their messages; the
    // connection's state only ends a pair whose channels never say so.
    this.pc.onStateChange((state) => {
      if (state === 'closed' || state === 'failed') {
        setTimeout(() => this.emit('closed', `peer connection ${state}`), CLOSE_GRACE_MS);
      }
    });
    this.pc.onGatheringStateChange((state) => {
      if (state === 'complete') this.emit('candidate', '', '0');
    });
    if (!autoAnswer || offerer) this.createChannels();
    if (offerer && !autoAnswer) this.pc.setLocalDescription('offer');
  }

  // §1.6: both negotiated, same ids on both sides, reliable and ordered,
  // created before our description.
  createChannels() {
    const app = this.pc.createDataChannel('hangout', { negotiated: true, id: 0 });
    const control = this.pc.createDataChannel('hangout-control', { negotiated: true, id: 1 });
    this.app = new Channel(app);
    this.control = control;
    let opened = 0;
    const onOpen = () => { if (++opened === 2) this.emit('open'); };
    app.onOpen(onOpen);
    control.onOpen(onOpen);
    app.onClosed(() => this.emit('closed', 'application channel closed'));
    control.onClosed(() => this.emit('closed', 'control channel closed'));
    app.onMessage((msg) => this.emit('app', typeof msg === 'string' ? msg : Buffer.from(msg)));
    control.onMessage((msg) => { if (typeof msg === 'string') this.emit('control', msg); });
  }

  setRemoteDescription(type, sdp) {
    this.pc.setRemoteDescription(sdp, type);
    if (type !== 'offer') return;
    // libdatachannel's own way answers at once, by itself.
    if (this.autoAnswer) this.createChannels();
    else this.pc.setLocalDescription('answer');
  }

  addRemoteCandidate(candidate, mid) {
    this.pc.addRemoteCandidate(candidate, mid);
  }

  sendControl(text) {
    try { this.control?.sendMessage(text); } catch { /* closed */ }
  }

  selectedAddresses() {
    const pair = this.pc.getSelectedCandidatePair();
    return pair ? { local: pair.local.address, remote: pair.remote.address } : null;
  }

  close() {
    try { this.pc.close(); } catch { /* closed already */ }
  }
}

export const stack = {
  name: 'libdatachannel',
  connect: (options) => new Connection(options),
};

// libdatachannel used as its examples do: the answer leaves as soon as the
// offer is set, before the channels exist. Such an answer repeats the
// offer's unknown media attributes (a=x-hangout-max-datagram among them).
export const autoAnswerStack = {
  name: 'libdatachannel-auto',
  connect: (options) => new Connection({ ...options, autoAnswer: true }),
};
