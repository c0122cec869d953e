// The reference of bench/lossy.sh: one libdatachannel peer (node-datachannel)
// sending a file, or receiving it, over one reliable ordered data channel,
// as gst-hangout's elements do: 64 KiB messages, flow control by
// bufferedAmountLowThreshold (send while under 1 MiB buffered, resume at
// 512 KiB). The sender signals to the receiver over TCP (port 7000), one
// line of JSON per message, across the same link as the data, as the
// elements' signalling does.
//
//   node peer.mjs receive ADDRESS SIZE    prints "listening", then the result
//   node peer.mjs send ADDRESS FILE RECEIVER_ADDRESS
//
// The receiver prints {"bytes", "seconds", "sha256"}: seconds from the first
// message to the last byte, like the elements' hangout-file-started to
// hangout-file-complete.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import nodeDataChannel from 'node-datachannel';

const CHUNK = 65536;
const HIGH = 1024 * 1024;
const LOW = 512 * 1024;

const SIGNAL_PORT = 7000;

const [role, address, what, receiverAddress] = process.argv.slice(2);
if (!(role === 'receive' && what) && !(role === 'send' && receiverAddress)) {
  console.error('usage: peer.mjs receive ADDRESS SIZE | send ADDRESS FILE RECEIVER_ADDRESS');
  process.exit(2);
}

// libdatachannel gathers no loopback candidate, and only what is bound
// takes the emulated link.
const pc = new nodeDataChannel.PeerConnection(role, { iceServers: [], bindAddress: address });
let socket = null;
const pending = [];
const signal = (msg) => {
  const line = `${JSON.stringify(msg)}\n`;
  if (socket) socket.write(line);
  else pending.push(line);
};
pc.onLocalDescription((sdp, type) => signal({ sdp, type }));
pc.onLocalCandidate((candidate, mid) => signal({ candidate, mid }));

function onSocket(s) {
  socket = s;
  for (const line of pending.splice(0)) socket.write(line);
  createInterface({ input: socket }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.sdp) pc.setRemoteDescription(msg.sdp, msg.type);
    else pc.addRemoteCandidate(msg.candidate, msg.mid);
  });
}

if (role === 'receive') {
  const server = createServer((s) => { server.close(); onSocket(s); });
  server.listen(SIGNAL_PORT, address, () => console.log('listening'));
} else {
  const s = connect(SIGNAL_PORT, receiverAddress, () => onSocket(s));
  s.on('error', (e) => { console.error(`signalling: ${e.message}`); process.exit(1); });
}

function finish(code) {
  pc.close();
  socket?.destroy();
  process.exit(code);
}

pc.onStateChange((state) => {
  if (state === 'failed' || state === 'closed') {
    console.error(`${role}: peer connection ${state}`);
    finish(1);
  }
});

if (role === 'send') {
  const data = readFileSync(what);
  const channel = pc.createDataChannel('bench', { ordered: true });
  let offset = 0;
  const pump = () => {
    while (offset < data.length && channel.bufferedAmount() < HIGH) {
      channel.sendMessageBinary(data.subarray(offset, Math.min(offset + CHUNK, data.length)));
      offset += CHUNK;
    }
  };
  channel.setBufferedAmountLowThreshold(LOW);
  channel.onBufferedAmountLow(pump);
  channel.onOpen(pump);
  // The receiver says when it has everything; closing earlier could lose
  // what SCTP still holds.
  channel.onMessage((msg) => finish(msg === 'done' ? 0 : 1));
} else {
  const size = Number(what);
  const hash = createHash('sha256');
  let bytes = 0;
  let start = null;
  pc.onDataChannel((channel) => {
    channel.onMessage((msg) => {
      start ??= process.hrtime.bigint();
      hash.update(msg);
      bytes += msg.length;
      if (bytes < size) return;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      console.log(JSON.stringify({ bytes, seconds, sha256: hash.digest('hex') }));
      channel.sendMessage('done');
      // The sender closes once it has read "done".
      channel.onClosed(() => finish(0));
      pc.onStateChange(() => finish(0));
    });
  });
}
