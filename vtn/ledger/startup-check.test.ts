/**
 * Damaged files at rest (docs/ledger.md, "Start-up checks"): a ledger whose WAL was deleted (it lost
 * committed blocks), a zeroed page in ledger.sqlite, a VTN store whose WAL was deleted (it lost an
 * acknowledged event), a ledger that lost the blocks of recorded energy. Each stops the start with
 * what to do; `--repair` re-creates, on request only, the events the VTN store lost. And a mapping
 * store restored from a copy older than a correction gets the correction again at start.
 */
import { closeSync, cpSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { MAPPING_STORE_FILE, type MappingStore } from '../../ledger-bridge/index.ts';
import type { Payload } from '../../oadr/index.ts';
import { until } from '../../test/support/until.ts';
import { VtnError } from '../errors.ts';
import { call, registerVen, ven } from '../testing/fake-ven.ts';
import { createVtn } from '../vtn.ts';
import { openVtnLedger } from './embedded.ts';
import { createMappingLedgerPort } from './mapping-port.ts';
import { checkStoreFiles, checkStoresAgree } from './startup-check.ts';

const A = 'smartmeter:A';
const NOW = Date.parse(`${EVENT_DAY}T10:00:00Z`);
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const MIN = 60_000;

async function open(dataDir: string) {
  const vl = await openVtnLedger({ dataDir, clock: () => new Date(NOW) });
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger, store: vl.store });
  const vtn = createVtn({ config: { dataDir, registrationPolicy: 'enrolled-only' }, ledger: port, now: () => NOW });
  const agree = (repair = false) => checkStoresAgree({ dataDir, store: vtn.store, ledger: vl.ledger, mappingStore: vl.store, repair });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= (async () => (await vtn.close(), await vl.close()))());
  return { vl, port, vtn, agree, close };
}

/** A data directory with customer A enrolled; left open (WAL files in place). */
async function enrolled(t: { after(fn: () => unknown): void }) {
  const dir = tempDataDir('oadr-vtn-damage-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const s = await open(dataDir);
  t.after(() => s.close());
  s.vtn.customers.enrol({ customerId: A, venName: 'house-a' });
  return { dir, dataDir, s };
}

/** A data directory with one customer, its history and event 'ev-1' notified; left open (WAL files in place). */
async function seeded(t: { after(fn: () => unknown): void }) {
  const { dir, dataDir, s } = await enrolled(t);
  await s.port.importEnergy?.(A, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) })));
  await s.vtn.events.create({ eventId: 'ev-1', start: START, slots: 2, reductionW: 200, targets: { customerIds: [A] } });
  return { dir, dataDir, s };
}

/** The data directory as a crash would leave it, minus the files named (a deleted WAL). */
function copyWithout(from: string, to: string, missing: readonly string[]): void {
  cpSync(from, to, { recursive: true, filter: (src) => !missing.some((m) => src.endsWith(m)) });
}

const refused = (pattern: RegExp) => (err: unknown) => err instanceof VtnError && err.code === 'STORE' && pattern.test(err.message);

test('reliability 4: a ledger whose WAL was deleted (it lost committed blocks) is refused with the recovery command, never rebuilt', async (t) => {
  const { dir, dataDir } = await seeded(t);
  const copy = join(dir, 'copy');
  copyWithout(dataDir, copy, ['ledger.sqlite-wal', 'ledger.sqlite-shm']);
  checkStoreFiles(copy); // each file on its own is sound: what it lacks shows only against the other stores
  const s = await open(copy);
  t.after(() => s.close());
  await t.assert.rejects(s.agree(), refused(/lacks transaction .* of event 'ev-1'.*restore .*ledger verify/s));
  await t.assert.rejects(s.agree(true), refused(/lacks transaction/), '--repair never rebuilds a ledger');
});

test('reliability 4: a zeroed page in ledger.sqlite stops the start', async (t) => {
  const { dir, dataDir, s } = await seeded(t);
  await s.close();
  const copy = join(dir, 'copy');
  copyWithout(dataDir, copy, []);
  const file = join(copy, 'ledger', 'ledger.sqlite');
  const pages = statSync(file).size / 4096;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096), 0, 4096, Math.floor(pages / 2) * 4096);
  closeSync(fd);
  t.assert.throws(() => checkStoreFiles(copy), refused(/ledger\.sqlite is damaged.*quick_check.*Restore it from a backup/s));
  checkStoreFiles(dataDir); // the undamaged original passes
});

test('reliability 4: a VTN store whose WAL was deleted (it lost an acknowledged event) is refused; --repair re-creates the event from the ledger', async (t) => {
  const { dir, dataDir } = await seeded(t);
  const copy = join(dir, 'copy');
  copyWithout(dataDir, copy, ['vtn.sqlite-wal', 'vtn.sqlite-shm']);
  checkStoreFiles(copy);
  const s = await open(copy);
  t.after(() => s.close());
  t.assert.equal(s.vtn.events.get('ev-1'), undefined);
  await t.assert.rejects(s.agree(), refused(/vtn\.sqlite lacks 1 event\(s\) the ledger holds \('ev-1'\).*--repair/s));
  t.assert.deepEqual(await s.agree(true), { requeued: ['ev-1'] });
  t.assert.deepEqual(await s.vtn.events.recoverCreations(), { completed: ['ev-1'], compensated: [], left: [], pending: [] });
  t.assert.equal(s.vtn.events.get('ev-1')?.event.intervalsMs.length, 2);
  t.assert.deepEqual(await s.agree(), { requeued: [] });
});

test('reliability 4: a ledger that lost the blocks of recorded energy (no event to show it) is refused with the recovery command', async (t) => {
  const { dir, dataDir, s } = await enrolled(t);
  // One complete slot of telemetry: recordEnergy on the ledger, the slot marked recorded in the mapping store.
  const slotStart = NOW - 30 * MIN;
  await s.port.recordTelemetry(Array.from({ length: 15 }, (_, i) => ({ venId: 'ven-a', customerId: A, startMs: slotStart + i * MIN, durationMs: MIN, rId: 'usage', value: 800, unit: 'W' as const })));
  t.assert.notEqual(s.vl.store.recordedHeight(), 0);
  await s.agree();
  const copy = join(dir, 'copy');
  copyWithout(dataDir, copy, ['ledger.sqlite-wal', 'ledger.sqlite-shm']);
  const c = await open(copy);
  t.after(() => c.close());
  await t.assert.rejects(c.agree(), refused(/has \d+ blocks, but ledger-mapping\.sqlite recorded energy in block \d+.*restore .*ledger verify/s));
  await t.assert.rejects(c.agree(true), refused(/recorded energy in block/), '--repair never rebuilds a ledger');
});

test('reconciliation: a correction the mapping store lacks (restored from a copy older than it) is sent again at start', async (t) => {
  const { dir, dataDir, s } = await enrolled(t);
  const url = await s.vtn.listen({ host: '127.0.0.1', port: 0 });
  const { venId } = await registerVen(url, 'house-a');
  const registered = await call(url, 'EiReport', ven.telemetryMetadata(venId, { minPeriod: 'PT1M' }), 'RegisteredReport');
  const reportRequestId = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const slotStart = NOW - 30 * MIN;
  const { day, slot } = await s.vl.mapping.slotOf(slotStart);
  const report = (w: number): Payload => ({
    type: 'UpdateReport',
    schemaVersion: '2.0b',
    requestId: `rq-${w}`,
    venId,
    reports: [
      {
        dtstart: new Date(slotStart).toISOString(),
        intervals: Array.from({ length: 15 }, (_, i) => ({ dtstart: new Date(slotStart + i * MIN).toISOString(), duration: 'PT1M', uid: String(i), payloads: [{ rId: 'usage', value: { type: 'float' as const, value: w } }] })),
        reportRequestId,
        reportSpecifierId: 'rs-1',
        reportName: 'TELEMETRY_USAGE',
        createdDateTime: new Date(NOW).toISOString(),
      },
    ],
  });
  const recordedW = (store: MappingStore) => store.slots(A, day).find((x) => x.slot === slot)?.recordedW;
  t.assert.equal((await call(url, 'EiReport', report(1000), 'UpdatedReport')).response.code, 200);
  await s.vtn.ledgerOutbox?.drain();
  t.assert.equal(recordedW(s.vl.store), 1000);
  const backup = join(dir, 'mapping-backup');
  cpSync(dataDir, backup, { recursive: true, filter: (src) => src === dataDir || src.includes(MAPPING_STORE_FILE) });
  // R346: the same intervals with another value replace the earlier ones.
  t.assert.equal((await call(url, 'EiReport', report(1300), 'UpdatedReport')).response.code, 200);
  await s.vtn.ledgerOutbox?.drain();
  t.assert.equal(recordedW(s.vl.store), 1300);
  await s.close();

  // The mapping store put back from the copy taken before the correction.
  for (const f of [MAPPING_STORE_FILE, `${MAPPING_STORE_FILE}-wal`, `${MAPPING_STORE_FILE}-shm`]) rmSync(join(dataDir, f), { force: true });
  cpSync(backup, dataDir, { recursive: true });
  const again = await open(dataDir);
  t.after(() => again.close());
  t.assert.equal(recordedW(again.vl.store), 1000, 'the restored mapping store lacks the correction');
  await until('the start-up reconciliation sends the correction again', async () => (await again.vtn.ledgerOutbox?.drain(), recordedW(again.vl.store) === 1300), 30_000);
  const onLedger = JSON.parse(await again.vl.ledger.evaluate(again.vl.identities.operator, 'queryEnergyValue', [A, day])) as { values: Array<number | null> };
  t.assert.equal(onLedger.values[slot], 1300);
});
