/**
 * The VTN on Fabric survives its peer going away: the real VEN (ven/createVen) reports every minute
 * through an event while the `oadr-ledger ledger serve` process behind the connection profile is
 * killed (SIGKILL) and started again. The VTN keeps answering the VEN (every report acknowledged),
 * queues the ledger work in its outbox, and catches up once the peer is back: every acknowledged
 * interval is on the ledger once — the slots, the opt answer and the settlement are those of the same
 * run on the embedded ledger.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { issueClientIdentity } from '../../ledger-bridge/index.ts';
import { startLedgerServeChild, type LedgerServeChild } from '../../ledger-bridge/testing/ledger-serve-child.ts';
import { createMemoryDevice } from '../../ven/testing/memory-device.ts';
import { createVen } from '../../ven/index.ts';
import type { LedgerEventView } from '../services/event-service.ts';
import { connectionProfile, writeFabricVtnFiles } from '../testing/fabric-vtn.ts';
import { recordedSlots, startLedgerVtn, tickMinutes, type LedgerVtnOptions } from '../testing/ledger-vtn.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { until } from '../../test/support/until.ts';
import { openFabricVtnLedger } from './fabric.ts';

const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`); // 17:00 in Rome: slots 68–71

interface Outcome {
  readonly opr: readonly number[];
  readonly slots: readonly number[];
  readonly opts: ReadonlyArray<readonly [string, string]>;
  readonly reward: number | undefined;
  readonly balance: unknown;
  readonly acknowledged: number;
}

/** The real-VEN event day; `outage` runs between the minutes it names (the VTN must keep serving). */
async function eventDay(t: TestContext, options: Pick<LedgerVtnOptions, 'openLedger'>, outage?: { readonly from: number; readonly to: number; down(): Promise<void>; up(): Promise<void> }): Promise<Outcome> {
  const { dir, clock, ledger: vl, port, url, vtn } = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-outage-',
    start: START - 10 * MIN,
    customerId: A,
    venName: 'house-a',
    config: { programs: [{ id: 'default', reportGranularityMs: MIN, reportBackDurationMs: SLOT }] },
    ...options,
  });
  const device = createMemoryDevice(undefined, 250); // about the customer's baseline at 17:00 (~195 W): shedding the OPR earns tokens
  const ven = await createVen({ vtnUrl: url, venName: 'house-a', device, dataDir: join(dir, 'ven'), clock: clock.now, tickMs: 3_600_000, reports: { minPeriodMs: MIN }, random: () => 0.5 });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  const venId = ven.status().registration?.venId ?? '';
  await until('the usage report request', () => vtn.reports.requests(venId).some((r) => r.reportName === 'TELEMETRY_USAGE' && r.state === 'active'));
  const created = (await vtn.events.create({ eventId: 'ev-outage', start: START, slots: 4, reductionW: [300, 300, 400, 400], targets: { customerIds: [A] } })) as LedgerEventView;
  const opr = created.vens[0]?.oprW ?? [];
  ven.session.pollNow();
  await until('the VEN opts in', () => vtn.events.get('ev-outage')?.vens[0]?.optType === 'optIn');
  if (outage === undefined) {
    await tickMinutes(ven, clock, START, -5, 76);
  } else {
    await tickMinutes(ven, clock, START, -5, outage.from - 1);
    await outage.down();
    const before = vtn.events.get('ev-outage')?.vens[0]?.telemetryPoints ?? 0;
    await tickMinutes(ven, clock, START, outage.from, outage.to);
    // The VTN acknowledged the VEN's reports while the ledger was away: they wait in the outbox.
    assert.ok((vtn.events.get('ev-outage')?.vens[0]?.telemetryPoints ?? 0) > before, 'reports acknowledged during the outage');
    assert.ok(vtn.store.ledgerWorkDepth() > 0, 'ledger work queued during the outage');
    // An event needs its allocations from the ledger: its creation is refused (502 at the admin API), nothing is half made.
    await assert.rejects(vtn.events.create({ eventId: 'ev-while-down', start: START + 4 * SLOT, slots: 1, reductionW: 100, targets: { customerIds: [A] } }), (e: unknown) => (e as { code?: string }).code === 'LEDGER' && /is the peer running/.test((e as Error).message));
    t.assert.equal(vtn.events.get('ev-while-down'), undefined);
    await outage.up();
    await tickMinutes(ven, clock, START, outage.to + 1, 76);
  }
  await until('the ledger answers', () => vl.ledger.height().then(() => true, () => false), 60_000);
  await until('the outbox drained', () => vtn.store.ledgerWorkDepth() === 0, 60_000);
  const slots = await recordedSlots(vl, A, EVENT_DAY, 68, 4);
  const opts = (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryEventOpts', ['ev-outage'])) as { opts: Array<{ meterId: string; optType: string }> }).opts.map((o) => [o.meterId, o.optType] as const);
  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  const s = await vtn.events.settle('ev-outage');
  t.assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
  return { opr, slots, opts, reward: s.rewardsMilli.get(A), balance: await port.tokenBalance?.(A), acknowledged: vtn.events.get('ev-outage')?.vens[0]?.telemetryPoints ?? 0 };
}

test('ledger serve killed and restarted while the real VEN reports: nothing lost, nothing doubled; the same settlement as on the embedded ledger', async (t) => {
  const embedded = await eventDay(t, {});

  const served = tempDataDir('oadr-served-');
  let child!: LedgerServeChild;
  child = await startLedgerServeChild(t, served);
  const [org1] = await child.orgs();
  assert.ok(org1 !== undefined);
  const files = await writeFabricVtnFiles(join(served, 'vtn-fabric'), {
    profile: connectionProfile(child.address, { path: child.tlsCaPath }, 'mychannel', child.hostname),
    operator: await issueClientIdentity(org1, 'vtn-operator', { ID: 'operator:vtn' }),
    org1,
  });
  let downs = 0;
  const fabric = await eventDay(
    t,
    { openLedger: (dataDir, clock) => openFabricVtnLedger({ dataDir, ...files, clock: () => new Date(clock.now()) }) },
    {
      from: 20,
      to: 50,
      down: async () => {
        downs++;
        await child.stop('SIGKILL');
      },
      up: () => child.restart(),
    },
  );
  t.assert.equal(downs, 1);
  t.diagnostic(`OPR ${fabric.opr.join('/')} W; slots ${fabric.slots.join('/')} W; tokens ${fabric.reward} milli; ${fabric.acknowledged} intervals acknowledged`);
  t.assert.deepEqual(fabric, embedded);
});
