/**
 * Contract benchmark on the test ledger (chaincode/testing: fabric-shim's own stub, ClientIdentity and
 * dispatcher over an in-memory peer), each figure beside the thesis's Fabric figure:
 *
 *   recordEnergy          one 96-value profile per transaction          (thesis: 10.2 s per profile)
 *   evaluateBaseline      one customer over 35 days per transaction     (thesis: 12 s per customer)
 *   notifyDRevent         48-slot event over 100,000 customers, 1 tx    (thesis: 2.3 s; target ≤ 2 s)
 *   getDRToken            settlement of those 100,000 customers         (thesis: 2.3 s; target ≤ 3 s)
 *                         in batches of 10,000 meters per transaction
 *
 *   node bench/chaincode-contract.bench.ts [--customers 100000] [--batch 10000]
 *
 * Bulk state (100,000 meters, baselines, measured days) is loaded straight into the world state, as a
 * snapshot would be; every measured step is a real transaction through the contract. The thesis ran
 * on a 4-peer Fabric network with CouchDB (endorsement, ordering and commit included); these figures
 * are chaincode execution + simulation + commit on one process, so they bound the contract's own cost.
 */
import { parseArgs } from 'node:util';
import { canonicalJson } from '../chaincode/canonical-json.ts';
import { DrContract } from '../chaincode/dr-contract.ts';
import { createKeys } from '../chaincode/keys.ts';
import { contractMetadata } from '../chaincode/metadata.ts';
import { addDaysUtc, at, createScenarioIdentities, EVENT_DAY, RETAILER_ID } from '../chaincode/reference-scenario.ts';
import { createTestLedger, type TestLedger } from '../chaincode/testing/index.ts';

const { values: args } = parseArgs({
  options: { customers: { type: 'string', default: '100000' }, batch: { type: 'string', default: '10000' }, profiles: { type: 'string', default: '200' } },
});
const N = Number(args.customers);
const BATCH = Number(args.batch);
const PROFILES = Number(args.profiles);
const S = 96;

const keys = createKeys({ createCompositeKey: (type, attrs) => `\u0000${type}\u0000${attrs.map((a) => a + '\u0000').join('')}` });
let preloadTx = 0;
function preload(ledger: TestLedger, entries: [string, unknown][]): void {
  const writes = entries.map(([key, value]) => ({ key, isDelete: false, value: Buffer.from(canonicalJson(value)) }));
  ledger.worldState.apply({ txId: `preload-${++preloadTx}`, timestamp: { seconds: 0, nanos: 0 }, writeSet: { writes, metadataWrites: [] } }, { blockNum: 0, txNum: preloadTx });
}

function meterId(i: number): string {
  return `sm:${String(i).padStart(7, '0')}`;
}

/** Deterministic profile of customer i, W per slot. */
function load(i: number, day: number): number[] {
  const base = 150 + ((i * 37) % 400);
  return Array.from({ length: S }, (_, s) => base + ((s * 13 + i + day * 7) % 90) + (s >= 40 && s < 56 ? 300 : 0));
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
function peak(): string {
  return `maxRSS ${mb(process.resourceUsage().maxRSS * 1024)}, heap ${mb(process.memoryUsage().heapUsed)}`;
}
function line(name: string, ms: number, per: string, thesis: string, target = ''): void {
  console.log(`${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms  ${per.padEnd(22)} ${thesis}${target ? `  ${target}` : ''}  [${peak()}]`);
}

const id = await createScenarioIdentities();
const contract = new DrContract();
const ledger = createTestLedger({ contractMetadata: contractMetadata(), totalQueryLimit: 10_000_000 });
const setupDay = addDaysUtc(EVENT_DAY, -40);
await ledger.invoke(contract, id.operator, 'enableRetailer', [RETAILER_ID], at(setupDay));
console.log(`chaincode contract benchmark: ${N} customers, settlement batches of ${BATCH}, Node ${process.version}`);

// --- recordEnergy and evaluateBaseline on PROFILES customers through real transactions ---------
const few = Math.min(PROFILES, N);
preload(ledger, Array.from({ length: few }, (_, i) => [keys.meter(meterId(i)), { meterId: meterId(i), retailerId: RETAILER_ID, enabled: true, enrolledTxId: 'preload' }]));
let t0 = performance.now();
for (let i = 0; i < few; i++) {
  const day = addDaysUtc(EVENT_DAY, -1);
  await ledger.invoke(contract, id.retailer, 'recordEnergy', [meterId(i), day, JSON.stringify(load(i, 1))], at(EVENT_DAY, '00:00:00'));
}
let ms = performance.now() - t0;
line(`recordEnergy (${few} tx, 96 values each)`, ms, `${(ms / few).toFixed(2)} ms/profile`, 'thesis 10.2 s/profile');

// 34 more days for those customers (preloaded), so each has 35 complete days before the event day.
for (let d = 2; d <= 35; d++) {
  const day = addDaysUtc(EVENT_DAY, -d);
  preload(ledger, Array.from({ length: few }, (_, i) => [keys.energy(meterId(i), day), {
    meterId: meterId(i), day, values: load(i, d), complete: true, records: 1, correctedSlots: [], correctsTxId: null, retailerId: RETAILER_ID, txId: 'preload', timestampMs: 0,
  }]));
}
t0 = performance.now();
for (let i = 0; i < few; i++) {
  await ledger.invoke(contract, id.operator, 'evaluateBaseline', [meterId(i), EVENT_DAY], at(EVENT_DAY, '01:00:00'));
}
ms = performance.now() - t0;
line(`evaluateBaseline (${few} tx, 35 days each)`, ms, `${(ms / few).toFixed(2)} ms/customer`, 'thesis 12 s/customer');

// --- notifyDRevent over N customers --------------------------------------------------------------
for (let from = few; from < N; from += 20_000) {
  const to = Math.min(N, from + 20_000);
  const entries: [string, unknown][] = [];
  for (let i = from; i < to; i++) {
    entries.push([keys.meter(meterId(i)), { meterId: meterId(i), retailerId: RETAILER_ID, enabled: true, enrolledTxId: 'preload' }]);
    entries.push([keys.baseline(EVENT_DAY, meterId(i)), { meterId: meterId(i), day: EVENT_DAY, mode: 'high', X: 21, Y: 35, values: load(i, 0), daysUsed: [], excludedDays: [], txId: 'preload' }]);
  }
  preload(ledger, entries);
}
const request = JSON.stringify(Array.from({ length: 48 }, () => Math.round(N * 40)));
t0 = performance.now();
const notified = await ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-bench', EVENT_DAY, '07:00-19:00', request], at(EVENT_DAY, '02:00:00'));
ms = performance.now() - t0;
const ev = JSON.parse(notified.result);
line(`notifyDRevent (48 slots × ${ev.customers} customers)`, ms, `${notified.writeSet.writes.length} keys written`, 'thesis 2.3 s', ms <= 2000 ? 'target ≤ 2 s: met' : 'target ≤ 2 s: MISSED');
console.log(`  allocated ${ev.allocatedW[0]} W of ${ev.requestW[0]} W in slot 28, ${ev.steps} steps max`);

// --- settlement -----------------------------------------------------------------------------------
const after = addDaysUtc(EVENT_DAY, 1);
for (let from = 0; from < N; from += 20_000) {
  const to = Math.min(N, from + 20_000);
  const entries: [string, unknown][] = [];
  for (let i = from; i < to; i++) {
    const values = load(i, 0).map((w, s) => (s >= 28 && s < 76 ? Math.max(0, w - ((i % 3) * 60)) : w));
    entries.push([keys.energy(meterId(i), EVENT_DAY), { meterId: meterId(i), day: EVENT_DAY, values, complete: true, records: 1, correctedSlots: [], correctsTxId: null, retailerId: RETAILER_ID, txId: 'preload', timestampMs: 0 }]);
  }
  preload(ledger, entries);
}
const ids = Array.from({ length: N }, (_, i) => meterId(i));
let minted = 0;
t0 = performance.now();
let txs = 0;
for (let from = 0; from < N; from += BATCH) {
  const r = await ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-bench', JSON.stringify(ids.slice(from, from + BATCH))], at(after, `03:${String(txs % 60).padStart(2, '0')}:00`));
  minted += JSON.parse(r.result).mintedMilli;
  txs++;
}
ms = performance.now() - t0;
line(`getDRToken (${N} customers, ${txs} tx)`, ms, `${((ms / N) * 1000).toFixed(1)} µs/customer`, 'thesis 2.3 s', ms <= 3000 ? 'target ≤ 3 s: met' : 'target ≤ 3 s: MISSED');
const status = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryDRevent', ['ev-bench'], at(after, '05:00:00'))).result);
console.log(`  minted ${minted} milli-tokens; event ${status.status}, ${status.settledCustomers}/${status.customers} settled`);
