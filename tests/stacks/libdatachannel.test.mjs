// The tests of the libdatachannel member (npm node-datachannel): pairs with
// each pipeline in both join orders, its default answer, a server restart.
// One native WebRTC stack per node process: with libwebrtc's loaded too, the
// process crashed now and then (SIGSEGV).
import { stack, autoAnswerStack } from './datachannel.mjs';
import { pairTests, autoAnswerTest } from './pairs.mjs';
import { rejoinTest } from './rejoin.mjs';

pairTests(stack);
autoAnswerTest(autoAnswerStack);
rejoinTest(stack);
