// The stack adapter for libdatachannel (npm node-datachannel), the
// connection member.mjs describes.
import { EventEmitter } from 'node:events';
import nodeDataChannel from 'node-datachannel';

const { PeerConnection } = nodeDataChannel;

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
  constructor({ offerer, bindAddress, label }) {
    super();
    this.pc = new PeerConnection(label, {
      iceServers: [],
      // libdatachannel gathers no loopback candidate unless bound to one.
      bindAddress,
    });
    this.pc.onLocalDescription((sdp, type) => this.emit('description', type.toLowerCase(), sdp));
    this.pc.onLocalCandidate((candidate, mid) => this.emit('candidate', candidate.replace(/^a=/, ''), mid));
    this.pc.onStateChange((state) => {
      if (state === 'closed' || state === 'failed') this.emit('closed', `peer connection ${state}`);
    });
    this.pc.onGatheringStateChange((state) => {
      if (state === 'complete') this.emit('candidate', '', '0');
    });
    // Creating the first channel makes libdatachannel offer.
    if (offerer) this.createChannels();
  }

  // §1.6: both negotiated, same ids on both sides, reliable and ordered.
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
    // The answer follows by itself, once the channels exist.
    if (type === 'offer') this.createChannels();
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
