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
import { registerVen } from '../testing/fake-ven.ts';

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

/** The 150 customers' history is seeded once (a closed data directory) and copied for each test. */
let fleetTemplate: Promise<string> | undefined;
async function seedFleet(dataDir: string): Promise<void> {
  fleetTemplate ??= (async () => {
    const dir = tempDataDir('oadr-vtn-event-fleet-');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await seed(join(dir, 'data'), FLEET);
    return join(dir, 'data');
  })();
  cpSync(await fleetTemplate, dataDir, { recursive: true });
}

function runChild(dataDir: string, eventId: string, killPoint: string): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir, String(NOON), eventId, String(START), killPoint], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    await seedFleet(dataDir);
    t.assert.equal(await runChild(dataDir, 'ev-crash', killPoint), 'SIGKILL');

    const s = await open(dataDir, NOON + MIN);
    t.after(() => s.close());
    t.assert.equal((await s.ledgerEvent('ev-crash')).status, 'notified');
    t.assert.equal(s.vtn.events.get('ev-crash'), undefined, 'the VTN store did not hold the event before recovery');
    const r = await s.vtn.events.recoverCreations();
    t.assert.deepEqual(r, { completed: ['ev-crash'], compensated: [], left: [] });
    const v = s.vtn.events.get('ev-crash');
    t.assert.equal(v?.status, 'far');
    t.assert.deepEqual([...(v?.customersWithoutVen ?? [])].sort(), FLEET);
    t.assert.equal(s.port.allocations?.oprOf('ev-crash')?.size, FLEET.length, 'every customer has its allocation');
    t.assert.equal(s.vl.mapping.event('ev-crash')?.status, 'notified');
    // Idempotent by event id and version: still version 0, one notification on the ledger.
    t.assert.equal((await s.ledgerEvent('ev-crash')).version, 0);
    t.assert.deepEqual(await s.vtn.events.recoverCreations(), { completed: [], compensated: [], left: [] });
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
  t.assert.deepEqual(r, { completed: [], compensated: ['ev-late'], left: [] });
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
