/**
 * Event creation is a saga (docs/ledger.md): the VTN records it before the ledger is touched, and a
 * VTN killed (SIGKILL, a real child process) half way through an event for 150 customers — right after notifyDRevent committed, or
 * once the mapping store held the allocation — completes the creation at its next start if the
 * event has not ended, or cancels it on the ledger if it has. Never a notified event the VTN answers
 * 404 for.
 */
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { createVtn } from '../vtn.ts';
import { openVtnLedger } from './embedded.ts';
import { createMappingLedgerPort } from './mapping-port.ts';
import { startLedgerScheduler } from './scheduler.ts';
import { until } from '../../test/support/until.ts';
import { call, registerVen, ven } from '../testing/fake-ven.ts';

const CHILD = fileURLToPath(new URL('../testing/event-crash-child.ts', import.meta.url));
const MIN = 60_000;
const NOON = Date.parse(`${EVENT_DAY}T10:00:00Z`);
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const CUSTOMERS = ['smartmeter:A', 'smartmeter:B', 'smartmeter:C'];
/** The reproduction's size: an event for 150 customers. */
const FLEET = Array.from({ length: 150 }, (_, i) => `smartmeter:${String(i).padStart(3, '0')}`);

async function open(dataDir: string, clockMs: number) {
  const vl = await openVtnLedger({ dataDir, clock: () => new Date(clockMs) });
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  const vtn = createVtn({ config: { dataDir, registrationPolicy: 'enrolled-only' }, ledger: port, now: () => clockMs });
  return {
    vl,
    port,
    vtn,
    ledgerEvent: async (id: string) => JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', [id])) as { status: string; version: number },
    async close() {
      await vtn.close();
      await vl.close();
    },
  };
}

async function seed(dataDir: string, customers: readonly string[] = CUSTOMERS): Promise<void> {
  const s = await open(dataDir, NOON);
  for (const [i, c] of customers.entries()) {
    s.vtn.customers.enrol({ customerId: c, venName: c });
    await s.port.importEnergy?.(c, Array.from({ length: 35 }, (_, d) => ({ date: addDaysUtc(EVENT_DAY, -(d + 1)), valuesWh: profile(i % 2 === 0 ? 1 : 2, d + 1).map((w) => w / 4) })));
  }
  await s.close();
}

/** Data directories seeded once (closed) and copied for each test: the 150 customers' history, an event ready to settle. */
const templates = new Map<string, Promise<string>>();
async function fromTemplate(name: string, dataDir: string, build: (dataDir: string) => Promise<void>): Promise<void> {
  let template = templates.get(name);
  if (template === undefined) {
    template = (async () => {
      const dir = tempDataDir(`oadr-vtn-event-${name}-`);
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      await build(join(dir, 'data'));
      return join(dir, 'data');
    })();
    templates.set(name, template);
  }
  cpSync(await template, dataDir, { recursive: true });
}

function runChild(dataDir: string, eventId: string, killPoint: string, clockMs = NOON): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir, String(clockMs), eventId, String(START), killPoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === null && code !== 0 && code !== 3 ? reject(new Error(`child exited ${code}: ${err}`)) : resolve(signal ?? code)));
  });
}

for (const killPoint of ['ledger-notified', 'mapping-stored']) {
  test(`reliability 2: a VTN killed at ${killPoint} of an event for 150 customers completes the event at its next start`, async (t) => {
    const dir = tempDataDir('oadr-vtn-event-crash-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    await fromTemplate('fleet', dataDir, (d) => seed(d, FLEET));
    t.assert.equal(await runChild(dataDir, 'ev-crash', killPoint), 'SIGKILL');

    const s = await open(dataDir, NOON + MIN);
    t.after(() => s.close());
    t.assert.equal((await s.ledgerEvent('ev-crash')).status, 'notified');
    t.assert.equal(s.vtn.events.get('ev-crash'), undefined, 'the VTN store did not hold the event before recovery');
    const r = await s.vtn.events.recoverCreations();
    t.assert.deepEqual(r, { completed: ['ev-crash'], compensated: [], left: [], pending: [] });
    const v = s.vtn.events.get('ev-crash');
    t.assert.equal(v?.status, 'far');
    t.assert.deepEqual([...(v?.customersWithoutVen ?? [])].sort(), FLEET);
    t.assert.equal(s.port.allocations?.oprOf('ev-crash')?.size, FLEET.length, 'every customer has its allocation');
    t.assert.equal(s.vl.mapping.event('ev-crash')?.status, 'notified');
    // Idempotent by event id and version: still version 0, one notification on the ledger.
    t.assert.equal((await s.ledgerEvent('ev-crash')).version, 0);
    t.assert.deepEqual(await s.vtn.events.recoverCreations(), { completed: [], compensated: [], left: [], pending: [] });
  });
}

test('reliability 2: a VTN killed after notifyDRevent and restarted after the event ended cancels it on the ledger', async (t) => {
  const dir = tempDataDir('oadr-vtn-event-crash-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await seed(dataDir);
  t.assert.equal(await runChild(dataDir, 'ev-late', 'ledger-notified'), 'SIGKILL');

  const s = await open(dataDir, START + 2 * 60 * MIN);
  t.after(() => s.close());
  const r = await s.vtn.events.recoverCreations();
  t.assert.deepEqual(r, { completed: [], compensated: ['ev-late'], left: [], pending: [] });
  t.assert.equal((await s.ledgerEvent('ev-late')).status, 'cancelled');
  t.assert.equal(s.vtn.events.get('ev-late'), undefined);
});

test('reliability 2: a creation refused after the ledger took it is cancelled there — an error answer never leaves a notified event', async (t) => {
  const dir = tempDataDir('oadr-vtn-event-crash-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await seed(dataDir);
  const s = await open(dataDir, NOON);
  t.after(() => s.close());
  // A delivery option no VEN can receive (priority is an unsigned integer) shows only once each
  // VEN's event is built — after notifyDRevent. A VEN must be there for it to be built.
  const reg = await s.vtn.listen().then((url) => registerVen(url, CUSTOMERS[0] as string));
  t.assert.equal(typeof reg.venId, 'string');
  await t.assert.rejects(s.vtn.events.create({ eventId: 'ev-bad', start: START, slots: 2, reductionW: 100, priority: 1.5 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  t.assert.equal((await s.ledgerEvent('ev-bad')).status, 'cancelled');
  t.assert.equal(s.vtn.events.get('ev-bad'), undefined);
  t.assert.deepEqual(s.vtn.store.listEventSagas(), []);
});

/** The morning after the event day: its day has closed, settlement is due. */
const DAY_AFTER = Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`);

/** History, event 'ev-s' over the three customers, then the event day as metered (below the baseline: rewards). */
async function seedSettlement(dataDir: string): Promise<void> {
  await seed(dataDir);
  const before = await open(dataDir, NOON);
  await before.vtn.events.create({ eventId: 'ev-s', start: START, slots: 4, reductionW: 300 });
  await before.close();
  const after = await open(dataDir, DAY_AFTER);
  for (const [i, c] of CUSTOMERS.entries()) await after.port.importEnergy?.(c, [{ date: EVENT_DAY, valuesWh: profile(i % 2 === 0 ? 1 : 2, 1).map((w) => (w / 4) * 0.7) }]);
  await after.close();
}

for (const killPoint of ['availability-evaluated', 'tokens-minted']) {
  test(`reliability 2: a VTN killed at ${killPoint} of a settlement settles at its next start (the scheduler's first pass), every token minted once`, async (t) => {
    const dir = tempDataDir('oadr-vtn-settle-crash-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // The reference: the same data directory settled without a crash.
    const refDir = join(dir, 'reference');
    await fromTemplate('settle', refDir, seedSettlement);
    const ref = await open(refDir, DAY_AFTER);
    const expected = await ref.vtn.events.settle('ev-s');
    await ref.close();
    t.assert.equal(expected.status, 'settled', [...expected.unsettled.values()].join('; '));
    t.assert.equal(expected.rewardsMilli.size, CUSTOMERS.length);
    t.assert.notDeepEqual([...expected.rewardsMilli.values()].filter((m) => m > 0), [], 'the reference earns tokens');

    const dataDir = join(dir, 'data');
    await fromTemplate('settle', dataDir, seedSettlement);
    t.assert.equal(await runChild(dataDir, 'ev-s', killPoint, DAY_AFTER), 'SIGKILL');
    const s = await open(dataDir, DAY_AFTER);
    t.after(() => s.close());
    // Reliability 6: the event view says settlement is pending; the scheduler's first pass settles it.
    t.assert.equal(s.vtn.events.get('ev-s')?.settlement, 'pending');
    const scheduler = startLedgerScheduler({ events: s.vtn.events, port: s.port, intervalMs: 3_600_000, now: () => DAY_AFTER });
    t.after(() => scheduler.stop());
    await until('the scheduler settles the event', () => s.vtn.events.get('ev-s')?.settlement === 'settled', 60_000);
    for (const c of CUSTOMERS) {
      const balance = (await s.port.tokenBalance?.(c)) as { balanceMilli: number };
      t.assert.equal(balance.balanceMilli, expected.rewardsMilli.get(c), `${c}: minted once`);
    }
    t.assert.deepEqual((await s.vtn.events.settle('ev-s')).rewardsMilli, expected.rewardsMilli);
  });
}

test('reliability 1: an acknowledged opt answer survives a ledger that is down and a restart — it waits in the outbox of ledger work', async (t) => {
  const dir = tempDataDir('oadr-vtn-opt-outbox-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await seed(dataDir);
  // The ledger refuses every opt state while the VEN answers.
  const vl = await openVtnLedger({ dataDir, clock: () => new Date(NOON) });
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  const down = { ...port, recordOpt: async () => Promise.reject(new Error('the ledger is down')) };
  const vtn = createVtn({ config: { dataDir, registrationPolicy: 'enrolled-only', optCoalesceMs: 0 }, ledger: down, now: () => NOON });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= (async () => (await vtn.close(), await vl.close()))());
  t.after(stop);
  await vtn.events.create({ eventId: 'ev-o', start: START, slots: 2, reductionW: 200 });
  const url = await vtn.listen({ host: '127.0.0.1', port: 0 });
  const { venId } = await registerVen(url, CUSTOMERS[0] as string);
  const answer = await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: 'ev-o', modificationNumber: 0, optType: 'optOut' }]), 'Response');
  t.assert.equal(answer.response.code, 200, 'acknowledged');
  await vtn.ledgerOutbox?.drain();
  t.assert.equal(vtn.store.ledgerWorkDepth(), 1, 'the opt state waits in the outbox');
  await stop();

  const s = await open(dataDir, NOON);
  t.after(() => s.close());
  const opts = async () => (JSON.parse(await s.vl.ledger.evaluate(s.vl.identities.operator, 'queryEventOpts', ['ev-o'])) as { opts: Array<{ meterId: string; optType: string }> }).opts;
  await until('the opt state on the ledger after the restart', async () => (await opts()).some((o) => o.meterId === CUSTOMERS[0] && o.optType === 'optOut'), 30_000);
  await until('the outbox empty', () => s.vtn.store.ledgerWorkDepth() === 0);
});
