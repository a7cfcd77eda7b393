/**
 * Block delivery of `ledger serve`: how fast a `@hyperledger/fabric-gateway` block listener
 * (`network.getBlockEvents`, the peer's Deliver service over gRPC + TLS on loopback) receives a
 * ledger's stored blocks, beside the in-run reference of reading the same blocks one by one with qscc
 * `GetBlockByNumber` (Evaluate) on the same connection. Service and client share this process.
 *
 *   node bench/ledger-deliver.bench.ts [--tx 3000] [--per-block 10] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startTestGateway } from '../ledger-bridge/testing/gateway-server.ts';
import { runConcurrent } from './support/ledger-load.ts';
import { reportFigures } from './support/report.ts';

const { values: args } = parseArgs({
  options: { tx: { type: 'string', default: '3000' }, 'per-block': { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const TX = Number(args.tx);
const PER_BLOCK = Number(args['per-block']);
const ROUNDS = Number(args.rounds);

const g = await startTestGateway({ batch: { maxMessageCount: PER_BLOCK } });
try {
  const { operator } = g.embedded.identities;
  await runConcurrent(TX, 100, (i) => g.embedded.ledger.submit(operator, 'enableRetailer', [`utility:${String(i).padStart(6, '0')}`]));
  const height = await g.embedded.ledger.height();
  const network = g.fabricGateway(operator).getNetwork('mychannel');
  const qscc = network.getContract('qscc');
  console.log(`block delivery: ${height} blocks of up to ${PER_BLOCK} enableRetailer each; fabric-gateway over gRPC + TLS on loopback, service in this process`);

  let bestDeliver = 0;
  let bestQscc = 0;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t0 = performance.now();
    const events = await network.getBlockEvents({ startBlock: 0n });
    let received = 0;
    bytes = 0;
    for await (const block of events) {
      bytes += block.serializeBinary().length;
      if (++received === height) break;
    }
    events.close();
    const deliverPerS = height / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let n = 0; n < height; n++) await qscc.evaluateTransaction('GetBlockByNumber', 'mychannel', String(n));
    const qsccPerS = height / ((performance.now() - t0) / 1000);
    console.log(`round ${round + 1}: Deliver ${deliverPerS.toFixed(0)} blocks/s, qscc GetBlockByNumber ${qsccPerS.toFixed(0)} blocks/s (${(bytes / height / 1024).toFixed(1)} KiB per block); load average ${loadavg()[0]?.toFixed(1)}`);
    bestDeliver = Math.max(bestDeliver, deliverPerS);
    bestQscc = Math.max(bestQscc, qsccPerS);
  }
  console.log(`best: Deliver ${bestDeliver.toFixed(0)} blocks/s = ${(bestDeliver / bestQscc).toFixed(1)} × qscc GetBlockByNumber one by one (${bestQscc.toFixed(0)} blocks/s)`);
  reportFigures([
    {
      id: 'ledger-deliver.blocks-per-s',
      label: `ledger serve: stored blocks streamed to a fabric-gateway block listener (Deliver, gRPC + TLS, ${PER_BLOCK} tx per block)`,
      value: bestDeliver,
      unit: 'blocks/s',
      better: 'higher',
      detail: `${(bestDeliver / bestQscc).toFixed(1)} × qscc GetBlockByNumber one by one on the same connection (${bestQscc.toFixed(0)} blocks/s, the in-run reference); ${(bytes / height / 1024).toFixed(1)} KiB per block`,
    },
  ]);
} finally {
  await g.close();
}
