/**
 * Contract benchmark on the test ledger (chaincode/testing: fabric-shim's own stub, ClientIdentity and
 * dispatcher over an in-memory peer), each figure beside the thesis's Fabric figure:
 *
 *   recordEnergy          one 96-value profile per transaction          (thesis: 10.2 s per profile)
 *   evaluateBaseline      one customer over 35 days per transaction     (thesis: 12 s per customer)
 *                         (--baselines customers; the 10,000-customer figure is extrapolated, and
 *                         the pure math on the same inputs is timed beside it)
 *   notifyDRevent         48-slot event over 100,000 customers, 1 tx    (thesis: 2.3 s; target ≤ 2 s)
 *   getDRToken            settlement of those 100,000 customers         (thesis: 2.3 s; target ≤ 3 s)
 *                         in batches of 10,000 meters per transaction
 *
 *   node bench/chaincode-contract.bench.ts [--customers 100000] [--batch 10000] [--baselines 2000]
 *       [--profiles 200] [--phases baseline,notify,settle] [--profile DIR]
 *
 * Each phase prints wall time, this process's CPU time (process.cpuUsage: user + system, GC threads
 * included) and its main thread's alone (process.threadCpuUsage: the JavaScript and the GC pauses,
 * not the concurrent GC helpers; the steadiest figure to compare changes by), the 1-minute load
 * average when it started (other jobs share the cores), and the
 * process's maxRSS after it with the growth during the phase (its peak memory). `--profile DIR`
 * writes a V8 CPU profile per phase (DIR/<phase>.cpuprofile).
 *
 * Bulk state (meters, 35-day histories, baselines, measured days) is loaded straight into the world
 * state, as a snapshot would be; every measured step is a real transaction through the contract. The
 * thesis ran on a 4-peer Fabric network with CouchDB (endorsement, ordering and commit included);
 * these figures are chaincode execution + simulation + MVCC validation + commit in one process, so
 * they bound the contract's own cost.
 */
import { Contract, type Context } from 'fabric-contract-api';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../chaincode/canonical-json.ts';
import { DrContract } from '../chaincode/dr-contract.ts';
import { createKeys } from '../chaincode/keys.ts';
import { computeBaseline } from '../chaincode/math/index.ts';
import { contractMetadata } from '../chaincode/metadata.ts';
import { addDaysUtc, at, createScenarioIdentities, EVENT_DAY, RETAILER_ID } from '../chaincode/testing/reference-scenario.ts';
import { createTestLedger, type TestLedger } from '../chaincode/testing/index.ts';
import { createMeasure, type Measured } from './support/measure.ts';
import { reportFigures, type Figure } from './support/report.ts';
import { THESIS } from './support/seeds.ts';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '10000' },
    profiles: { type: 'string', default: '200' },
    baselines: { type: 'string', default: '2000' },
    profile: { type: 'string' },
    phases: { type: 'string', default: 'baseline,notify,settle' },
  },
});
const N = Number(args.customers);
const BATCH = Number(args.batch);
const PROFILES = Number(args.profiles);
const PHASES = new Set(args.phases.split(','));
const BASELINES = PHASES.has('baseline') ? Number(args.baselines) : 0;
const S = 96;

const keys = createKeys({ createCompositeKey: (type, attrs) => `\u0000${type}\u0000${attrs.map((a) => a + '\u0000').join('')}` });
let preloadTx = 0;
function preload(ledger: TestLedger, entries: [string, unknown][]): void {
  const writes = entries.map(([key, value]) => ({ key, isDelete: false, value: Buffer.from(canonicalJson(value)) }));
  ledger.worldState.apply({ txId: `preload-${++preloadTx}`, timestamp: { seconds: 0, nanos: 0 }, writeSet: { writes, metadataWrites: [] } }, { blockNum: 0, txNum: preloadTx });
  // A short scan merges the preloaded keys into the sorted key index now, not inside the next measured transaction.
  for (const _ of ledger.worldState.range('\u0001', '\u0002')) break;
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

const measureStep = await createMeasure(args.profile);
/** A phase measured, with its note: CPU, main thread, load, maxRSS and how much the phase raised it, heap. */
async function measure<T>(name: string, run: () => Promise<T>): Promise<Measured<T> & { note: string }> {
  const m = await measureStep(name, run);
  const note = `cpu ${m.cpuMs.toFixed(0)} ms (main thread ${m.mainMs.toFixed(0)} ms), load ${m.load.toFixed(1)}, maxRSS ${mb(m.rss)} (+${mb(m.rss - m.rssBefore)}), heap ${mb(process.memoryUsage().heapUsed)}`;
  return { ...m, note };
}
function line(name: string, m: Measured<unknown> & { note: string }, per: string, thesis: string, target = ''): void {
  console.log(`${name.padEnd(44)} ${m.ms.toFixed(0).padStart(7)} ms  ${per.padEnd(22)} ${thesis}${target ? `  ${target}` : ''}  [${m.note}]`);
}

/**
 * `--phases floor`: what the test ledger alone costs for settlement's key operations — per customer
 * the 6 point reads and 3 writes getDRToken does (values of the same sizes), through the same stub,
 * simulator, MVCC validation and commit, with no contract logic. Runs on its own ledger.
 */
class LedgerFloor extends Contract {
  constructor() {
    super('floor');
  }
  async touch(ctx: Context, fromArg: string, countArg: string): Promise<string> {
    const from = Number(fromArg);
    const value = Buffer.from('1'.repeat(400));
    for (let i = from; i < from + Number(countArg); i++) {
      for (let r = 0; r < 6; r++) await ctx.stub.getState(ctx.stub.createCompositeKey(`r${r}`, [meterId(i)]));
      for (let w = 0; w < 3; w++) await ctx.stub.putState(ctx.stub.createCompositeKey(`w${w}`, [meterId(i)]), value);
    }
    return 'ok';
  }
  /** notifyDRevent's key operations: one prefix read of N 700-byte values, N writes of 450 bytes. */
  async scanAndWrite(ctx: Context): Promise<string> {
    const iterator = await ctx.stub.getStateByPartialCompositeKey('r3', []);
    const value = Buffer.from('3'.repeat(450));
    const keys: string[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) keys.push(r.value.key);
    await iterator.close();
    for (const key of keys) await ctx.stub.putState(ctx.stub.createCompositeKey('n', [key.slice(4, -1)]), value);
    return String(keys.length);
  }
}
if (PHASES.has('floor')) {
  const floorLedger = createTestLedger({ totalQueryLimit: 10_000_000 });
  for (let r = 0; r < 6; r++) {
    for (let from = 0; from < N; from += 20_000) {
      const writes = [];
      const text = '2'.repeat(r === 3 ? 700 : 300); // Buffer.from(string): pooled, like the contract's values
      for (let i = from; i < Math.min(N, from + 20_000); i++) writes.push({ key: `\u0000r${r}\u0000${meterId(i)}\u0000`, isDelete: false, value: Buffer.from(text) });
      floorLedger.worldState.apply({ txId: `floor-${r}-${from}`, timestamp: { seconds: 0, nanos: 0 }, writeSet: { writes, metadataWrites: [] } }, { blockNum: 0, txNum: 0 });
    }
  }
  for (const _ of floorLedger.worldState.range('\u0001', '\u0002')) break;
  const floorId = await createScenarioIdentities();
  const floorContract = new LedgerFloor();
  const m = await measure('ledgerFloor', async () => {
    for (let from = 0; from < N; from += BATCH) await floorLedger.invoke(floorContract, floorId.retailer, 'touch', [String(from), String(Math.min(BATCH, N - from))]);
  });
  line(`test-ledger floor (${N} × 6 reads + 3 writes)`, m, `${((m.ms / N) * 1000).toFixed(1)} µs/customer`, '(getDRToken\'s key operations, no contract logic)');
  for (const _ of floorLedger.worldState.range('\u0001', '\u0002')) break; // merge the writes into the key index first
  const n = await measure('ledgerFloorNotify', () => floorLedger.invoke(floorContract, floorId.operator, 'scanAndWrite', []));
  line(`test-ledger floor (scan ${n.result.result} + write ${n.result.result})`, n, `${((n.ms / N) * 1000).toFixed(1)} µs/customer`, '(notifyDRevent\'s key operations, no contract logic)');
  if (PHASES.size === 1) process.exit(0);
}

const id = await createScenarioIdentities();
const contract = new DrContract();
const ledger = createTestLedger({ contractMetadata: contractMetadata(), totalQueryLimit: 10_000_000 });
const setupDay = addDaysUtc(EVENT_DAY, -40);
await ledger.invoke(contract, id.operator, 'enableRetailer', [RETAILER_ID], at(setupDay));
const figures: Figure[] = [];
const cpuDetail = (m: Measured<unknown>) => `CPU ${(m.cpuMs / 1000).toFixed(2)} s, load ${m.load.toFixed(1)}`;
console.log(`chaincode contract benchmark: ${N} customers, settlement batches of ${BATCH}, Node ${process.version}`);

// --- recordEnergy and evaluateBaseline through real transactions --------------------------------
// BASELINES customers get 35 complete days before the event day: the day before through PROFILES
// recordEnergy transactions (the rest preloaded), the 34 days before that preloaded.
const nb = Math.min(BASELINES, N);
const few = Math.min(PROFILES, nb);
preload(ledger, Array.from({ length: nb }, (_, i) => [keys.meter(meterId(i)), { meterId: meterId(i), retailerId: RETAILER_ID, enabled: true, enrolledTxId: 'preload' }]));
const dayBefore = addDaysUtc(EVENT_DAY, -1);
const days = Array.from({ length: 35 }, (_, k) => addDaysUtc(EVENT_DAY, -(k + 1)));
const energyRecord = (i: number, day: string, values: number[]) => ({
  meterId: meterId(i), day, values, complete: true, records: 1, correctedSlots: [], correctsTxId: null, retailerId: RETAILER_ID, txId: 'preload', timestampMs: 0,
});
if (nb > 0) {
const recorded = await measure('recordEnergy', async () => {
  for (let i = 0; i < few; i++) {
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [meterId(i), dayBefore, JSON.stringify(load(i, 1))], at(EVENT_DAY, '00:00:00'));
  }
});
line(`recordEnergy (${few} tx, 96 values each)`, recorded, `${(recorded.ms / few).toFixed(2)} ms/profile`, 'thesis 10.2 s/profile');
figures.push({ id: 'contract.record-energy', label: `DR contract on the test ledger: recordEnergy, 96 values, one per transaction (${few} tx)`, value: recorded.ms / few, unit: 'ms', better: 'lower', seeds: [{ source: 'thesis table 5.1: recordEnergy per profile on Fabric', value: THESIS.recordEnergyS * 1000 }] });

for (let d = 1; d <= 35; d++) {
  const day = addDaysUtc(EVENT_DAY, -d);
  const entries: [string, unknown][] = [];
  for (let i = d === 1 ? few : 0; i < nb; i++) entries.push([keys.energy(meterId(i), day), energyRecord(i, day, load(i, d))]);
  preload(ledger, entries);
}
const baselined = await measure('evaluateBaseline', async () => {
  for (let i = 0; i < nb; i++) {
    await ledger.invoke(contract, id.operator, 'evaluateBaseline', [meterId(i), EVENT_DAY], at(EVENT_DAY, '01:00:00'));
  }
});
const perCustomerMs = baselined.ms / nb;
line(`evaluateBaseline (${nb} tx, 35 days each)`, baselined, `${perCustomerMs.toFixed(2)} ms/customer`, 'thesis 12 s/customer',
  `10,000 customers ≈ ${((perCustomerMs * 10_000) / 1000).toFixed(1)} s wall, ${((baselined.cpuMs / nb) * 10).toFixed(1)} s CPU (target ≤ 1 s for the math)`);
// The same baselines by the pure math on the same inputs (no ledger), for comparison.
const histories = Array.from({ length: nb }, (_, i) => days.map((day, k) => ({ day, values: load(i, k + 1) })));
const math = await measure('computeBaseline', async () => {
  for (const history of histories) {
    computeBaseline({ history, targetDay: EVENT_DAY, excludedDays: new Set(), Y: 35, X: 21, mode: 'high', slotsPerDay: S });
  }
});
figures.push({ id: 'contract.evaluate-baseline', label: `DR contract on the test ledger: evaluateBaseline, 35 days, one customer per transaction (${nb} tx)`, value: perCustomerMs, unit: 'ms', better: 'lower', detail: cpuDetail(baselined), seeds: [{ source: 'thesis table 5.1: evaluateBaseline per customer on Fabric', value: THESIS.evaluateBaselineS * 1000 }] });
line(`  pure computeBaseline (${nb} customers)`, math, `${((math.ms / nb) * 1000).toFixed(1)} µs/customer`, '', `10,000 customers ≈ ${((math.ms / nb) * 10).toFixed(2)} s`);

}

// --- notifyDRevent over N customers --------------------------------------------------------------
for (let from = nb; from < N; from += 20_000) {
  const to = Math.min(N, from + 20_000);
  const entries: [string, unknown][] = [];
  for (let i = from; i < to; i++) {
    entries.push([keys.meter(meterId(i)), { meterId: meterId(i), retailerId: RETAILER_ID, enabled: true, enrolledTxId: 'preload' }]);
    entries.push([keys.baseline(EVENT_DAY, meterId(i)), { meterId: meterId(i), day: EVENT_DAY, mode: 'high', X: 21, Y: 35, values: load(i, 0), daysUsed: days.slice(0, 21), excludedDays: [], txId: 'preload' }]);
  }
  preload(ledger, entries);
}
const request = JSON.stringify(Array.from({ length: 48 }, () => Math.round(N * 40)));
const notify = await measure('notifyDRevent', () =>
  ledger.invoke(contract, id.operator, 'notifyDRevent', ['ev-bench', EVENT_DAY, '07:00-19:00', request, ''], at(EVENT_DAY, '02:00:00')));
const ev = JSON.parse(notify.result.result);
line(`notifyDRevent (48 slots × ${ev.customers} customers)`, notify, `${notify.result.writeSet.writes.length} keys written`, 'thesis 2.3 s', notify.ms <= 2000 ? 'target ≤ 2 s: met' : 'target ≤ 2 s: MISSED');
figures.push({ id: 'contract.notify', label: `DR contract on the test ledger: notifyDRevent, 48 slots × ${Number(ev.customers).toLocaleString('en-US')} customers, one transaction`, value: notify.ms / 1000, unit: 's', better: 'lower', detail: cpuDetail(notify), target: 2, seeds: [{ source: 'thesis table 5.1: notifyDRevent on Fabric, 2 customers', value: THESIS.notifyDReventS }] });
console.log(`  allocated ${ev.allocatedW[0]} W of ${ev.requestW[0]} W in slot 28, ${ev.steps} steps max`);

if (PHASES.has('settle')) {
// --- settlement -----------------------------------------------------------------------------------
const after = addDaysUtc(EVENT_DAY, 1);
for (let from = 0; from < N; from += 20_000) {
  const to = Math.min(N, from + 20_000);
  const entries: [string, unknown][] = [];
  for (let i = from; i < to; i++) {
    const values = load(i, 0).map((w, s) => (s >= 28 && s < 76 ? Math.max(0, w - ((i % 3) * 60)) : w));
    entries.push([keys.energy(meterId(i), EVENT_DAY), energyRecord(i, EVENT_DAY, values)]);
  }
  preload(ledger, entries);
}
const ids = Array.from({ length: N }, (_, i) => meterId(i));
const settle = await measure('getDRToken', async () => {
  let minted = 0;
  let txs = 0;
  for (let from = 0; from < N; from += BATCH) {
    const r = await ledger.invoke(contract, id.retailer, 'getDRToken', ['ev-bench', JSON.stringify(ids.slice(from, from + BATCH))], at(after, `03:${String(txs % 60).padStart(2, '0')}:00`));
    minted += JSON.parse(r.result).mintedMilli;
    txs++;
  }
  return { minted, txs };
});
line(`getDRToken (${N} customers, ${settle.result.txs} tx)`, settle, `${((settle.ms / N) * 1000).toFixed(1)} µs/customer`, 'thesis 2.3 s', settle.ms <= 3000 ? 'target ≤ 3 s: met' : 'target ≤ 3 s: MISSED');
const status = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryDRevent', ['ev-bench'], at(after, '05:00:00'))).result);
console.log(`  minted ${settle.result.minted} milli-tokens; event ${status.status}, ${status.settledCustomers}/${status.customers} settled`);
figures.push({ id: 'contract.settle', label: `DR contract on the test ledger: getDRToken (settlement) of ${N.toLocaleString('en-US')} customers in ${settle.result.txs} tx, as retailer`, value: settle.ms / 1000, unit: 's', better: 'lower', detail: cpuDetail(settle), target: 3, seeds: [{ source: 'thesis table 5.1: getDRToken on Fabric, 2 customers', value: THESIS.getDRTokenS }] });
}
reportFigures(figures);
measureStep.close();
