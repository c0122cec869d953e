// The reference of bench/server-load.sh: PeerJS's server (npm `peer`) on
// 127.0.0.1 and a free port, with its limit of clients raised so that the
// benchmark's members all fit. Prints "ready PORT" once it listens.
import { PeerServer } from 'peer';

const server = PeerServer({
  host: '127.0.0.1',
  port: 0,
  path: '/',
  concurrent_limit: 1000000,
}, (http) => {
  console.log(`ready ${http.address().port}`);
});
server.on('error', (error) => {
  console.error(`peerjs: ${error.message}`);
});
