/**
 * An event creation cut short in a cluster process that does not hold the ledger lease: two VTNs on
 * one PostgreSQL store and one mapping store there, over one embedded ledger. The second creates an
 * event and stops answering right after notifyDRevent committed (its claim on the creation held);
 * the lease holder's passes leave that creation alone while it runs. The second process's database
 * connection goes (as when the process dies): its claim goes with it, and the lease holder's
 * periodic pass completes the creation — once on the ledger — without a restart of anyone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { createLedgerMapping, createPgMappingStore } from '../../ledger-bridge/index.ts';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { until } from '../../test/support/until.ts';
import { createPostgresStore } from '../store/postgres-store.ts';
import { createVtn } from '../vtn.ts';
import { openVtnLedger } from './embedded.ts';
import { createMappingLedgerPort } from './mapping-port.ts';
import { LEDGER_LEASE } from './scheduler.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

const NOON = Date.parse(`${EVENT_DAY}T10:00:00Z`);
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const CUSTOMER = 'smartmeter:A';

test('cluster: an event creation cut short in a process without the ledger lease is completed by the lease holder\'s periodic pass once that process\'s claim is gone, and left alone while it runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-cluster-recovery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = pg.createDatabase();
  const vl = await openVtnLedger({ dataDir: join(dir, 'ledger'), clock: () => new Date(NOON) });
  const closers: Array<() => unknown> = [() => vl.close()];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
  });
  /** One process of the cluster: its VTN store and mapping store connections, its port, its VTN. */
  const processOf = () => {
    const store = createPostgresStore({ url });
    const mappingStore = createPgMappingStore({ url });
    const mapping = createLedgerMapping({ ledger: vl.ledger, identities: vl.identities, store: mappingStore, now: () => NOON });
    const port = createMappingLedgerPort({ mapping, ledger: vl.ledger, store: mappingStore });
    const vtn = createVtn({ store, ledger: port, now: () => NOON, config: { dataDir: ':memory:', registrationPolicy: 'enrolled-only', pollFrequencyMs: 1000 } });
    closers.push(() => mappingStore.close(), () => store.close(), () => vtn.close());
    return { store, port, vtn };
  };
  const holder = processOf();
  t.assert.equal(holder.store.cluster.lease(LEDGER_LEASE), true, 'the first process holds the ledger lease');
  holder.vtn.customers.enrol({ customerId: CUSTOMER, venName: 'house-a' });
  await holder.port.importEnergy?.(CUSTOMER, Array.from({ length: 35 }, (_, d) => ({ date: addDaysUtc(EVENT_DAY, -(d + 1)), valuesWh: profile(1, d + 1).map((w) => w / 4) })));

  // The other process: notifyDRevent commits, then no answer — the process is gone from here on.
  const other = processOf();
  t.assert.equal(other.store.cluster.lease(LEDGER_LEASE), false);
  const notify = other.port.notifyEvent.bind(other.port);
  other.port.notifyEvent = async (notice) => {
    await notify(notice);
    return new Promise<never>(() => {});
  };
  void other.vtn.events.create({ eventId: 'ev-cut', start: START, slots: 4, reductionW: 300, targets: { customerIds: [CUSTOMER] } });
  await until('notifyDRevent committed', () => holder.port.mapping.event('ev-cut')?.status === 'notified');

  // Running in the other process (its claim held): the lease holder's passes do not touch it.
  await holder.vtn.ledgerOutbox?.drain();
  await holder.vtn.ledgerOutbox?.drain();
  t.assert.equal(holder.store.listEventSagas().find((s) => s.eventId === 'ev-cut')?.state, 'started');
  t.assert.equal(holder.vtn.events.get('ev-cut'), undefined);

  // The other process's database connection goes (as with a SIGKILL): its claim goes with it, and
  // the lease holder's periodic pass (once per poll interval) completes the creation.
  await other.vtn.close();
  other.store.close();
  await until('the creation completed by the lease holder', () => holder.vtn.events.get('ev-cut') !== undefined, 60_000);
  t.assert.deepEqual(holder.store.listEventSagas(), []);
  t.assert.deepEqual([...(holder.vtn.events.get('ev-cut')?.customersWithoutVen ?? [])], [CUSTOMER]);
  // Once on the ledger: the holder's completion found the other's notifyDRevent (same event id, version 0).
  const onLedger = JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-cut'])) as { status: string; version: number };
  t.assert.deepEqual([onLedger.status, onLedger.version], ['notified', 0]);
});
