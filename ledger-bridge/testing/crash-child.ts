/**
 * Child process of the crash test: opens the embedded ledger in DATA_DIR and submits enrolMeter
 * transactions in a loop (a few in flight), appending each transaction id to ACK_FILE only after its
 * submit resolved (= committed). Prints "ready" once the ledger is open. Runs until killed.
 *
 *   node ledger-bridge/testing/crash-child.ts DATA_DIR ACK_FILE RUN_ID
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbeddedLedger } from '../embedded/embedded-ledger.ts';
import { issueClientIdentity, loadOrCreateOrgs } from '../embedded/orgs.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

const [dataDir, ackFile, runId] = process.argv.slice(2);
if (!dataDir || !ackFile || !runId) throw new Error('usage: crash-child.ts DATA_DIR ACK_FILE RUN_ID');
const orgs = await loadOrCreateOrgs(join(dataDir, 'certs'), { createCa: createTestCa });
const org1 = orgs[0];
if (!org1) throw new Error('no org');
const operator = await issueClientIdentity(org1, 'dso', { ID: 'operator:dso' });
const retailer = await issueClientIdentity(org1, 'retailer', { ID: 'utility:1234' });
const ledger = await createEmbeddedLedger({ dataDir, orgs, batch: { timeoutMs: 5, maxMessageCount: 20 } });
// fabric-shim installs an uncaughtException handler that does not exit: fail loudly instead of hanging.
const fail = (err: unknown) => {
  process.stderr.write(`crash-child: ${String(err)}\n`);
  process.exit(1);
};
const enabled = JSON.parse(await ledger.evaluate(operator, 'queryRetailer', ['utility:1234']).catch(() => '{}')) as { enabled?: boolean };
if (enabled.enabled !== true) {
  const r = await ledger.submit(operator, 'enableRetailer', ['utility:1234']).catch(fail);
  appendFileSync(ackFile, `${r.txId}\n`);
}
process.stdout.write('ready\n');
let i = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (;;) {
      const r = await ledger.submit(retailer, 'enrolMeter', [`smartmeter:${runId}-${i++}`]).catch(fail);
      appendFileSync(ackFile, `${r.txId}\n`);
    }
  }),
);
