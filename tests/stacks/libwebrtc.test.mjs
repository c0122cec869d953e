// The tests of the libwebrtc member (npm @roamhq/wrtc): pairs with each
// pipeline in both join orders, a server restart. One native WebRTC stack
// per node process (libdatachannel.test.mjs).
import { stack } from './wrtc.mjs';
import { pairTests } from './pairs.mjs';
import { rejoinTest } from './rejoin.mjs';

pairTests(stack);
rejoinTest(stack);
