// The stack adapter for Google's libwebrtc (npm @roamhq/wrtc), the
// connection member.mjs describes.
import { EventEmitter } from 'node:events';
import wrtc from '@roamhq/wrtc';

const { RTCPeerConnection } = wrtc;
// This binding never fires "bufferedamountlow": its amount is polled.
const POLL_MS = 5;

class Channel {
  constructor(dc) { this.dc = dc; }

  // Checking readyState first is not enough: the binding reads the native
  // state, which the network thread may change in between.
  send(data) {
    try {
      this.dc.send(data);
      return true;
    } catch {
      return false;   // closed: the pair's "closed" event follows
    }
  }

  bufferedAmount() { return this.dc.bufferedAmount; }

  async waitBufferedBelow(bytes) {
    while (this.dc.readyState === 'open' && this.dc.bufferedAmount > bytes) {
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

class Connection extends EventEmitter {
  constructor({ offerer }) {
    super();
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.pc.onicecandidate = ({ candidate }) => {
      this.emit('candidate', candidate ? candidate.candidate : '', candidate?.sdpMid ?? '0');
    };
    this.pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      if (state === 'closed' || state === 'failed') this.emit('closed', `peer connection ${state}`);
    };
    this.createChannels();
    if (offerer) {
      // Dropped before the offer left (a "connected" reply), or broken.
      this.describe(this.pc.createOffer()).catch((e) => this.emit('closed', `no offer: ${e.message}`));
    }
  }

  async describe(pending) {
    const description = await pending;
    await this.pc.setLocalDescription(description);
    this.emit('description', description.type, description.sdp);
  }

  // §1.6: both negotiated, same ids on both sides, reliable and ordered,
  // created before our description.
  createChannels() {
    const app = this.pc.createDataChannel('hangout', { negotiated: true, id: 0 });
    const control = this.pc.createDataChannel('hangout-control', { negotiated: true, id: 1 });
    app.binaryType = 'arraybuffer';
    this.app = new Channel(app);
    this.control = control;
    let opened = 0;
    const onOpen = () => { if (++opened === 2) this.emit('open'); };
    app.onopen = onOpen;
    control.onopen = onOpen;
    app.onclose = () => this.emit('closed', 'application channel closed');
    control.onclose = () => this.emit('closed', 'control channel closed');
    app.onmessage = ({ data }) => this.emit('app', typeof data === 'string' ? data : Buffer.from(data));
    control.onmessage = ({ data }) => { if (typeof data === 'string') this.emit('control', data); };
  }

  async setRemoteDescription(type, sdp) {
    await this.pc.setRemoteDescription({ type, sdp });
    if (type === 'offer') await this.describe(this.pc.createAnswer());
  }

  addRemoteCandidate(candidate, mid) {
    return this.pc.addIceCandidate({ candidate, sdpMid: mid, sdpMLineIndex: 0 });
  }

  sendControl(text) {
    try { this.control?.send(text); } catch { /* closed */ }
  }

  async selectedAddresses() {
    const stats = [...(await this.pc.getStats()).values()];
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
    if (!pair) return null;
    const address = (id) => { const c = stats.find((s) => s.id === id); return c?.address ?? c?.ip; };
    return { local: address(pair.localCandidateId), remote: address(pair.remoteCandidateId) };
  }

  close() { this.pc.close(); }
}

export const stack = {
  name: 'libwebrtc',
  connect: (options) => new Connection(options),
};
