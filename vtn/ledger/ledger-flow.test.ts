/**
 * The full flow of issue 5 over real HTTP on loopback, pull and push, with the embedded ledger:
 * register → event from a total reduction (each customer's OPR from the ledger) → createdEvent →
 * report registration → update reports (every minute) → recordEnergy → settle → tokens. The VENs
 * are scripted: real OpenADR 2.0b XML (encodeOadr) POSTed over HTTP, and a push listener.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { decodeOadr, type OadrEvent, type Payload, type ReportInterval } from '../../oadr/index.ts';
import { validateXsd } from '../../conformance/index.ts';
import { SIGNAL_IDS, type LedgerEventView } from '../services/event-service.ts';
import { openVtnLedger, type VtnLedger } from './embedded.ts';
import { startFabricVtnRig } from '../testing/fabric-vtn.ts';
import { createMappingLedgerPort } from './mapping-port.ts';
import type { LedgerPort } from './port.ts';
import type { VtnConfigInput } from '../cli/config.ts';
import type { Vtn } from '../vtn-api.ts';
import { startLedgerScheduler } from './scheduler.ts';
import { call, createTestClock, post, registerVen, startPushVen, startTestVtn, ven } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';

const V = '2.0b' as const;
const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A'; // pull VEN, opts in and reduces
const B = 'smartmeter:B'; // push VEN, opts out and does not
/** 17:00 in Rome (CEST) on the event day: contract slots 68–71. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const iso = (ms: number): string => new Date(ms).toISOString();

const metadata = (venId: string): Payload =>
  ven.telemetryMetadata(venId, { requestId: 'rq-meta', duration: 'PT24H', rId: 'power', siScaleCode: 'k', minPeriod: 'PT10S', maxPeriod: 'PT1H', reportSpecifierId: 'usage-spec', createdDateTime: iso(START) });

/** 15 one-minute intervals of `kw` from `fromMs`, as a VEN reports them (kW: siScaleCode k). */
function usage(venId: string, reportRequestId: string, fromMs: number, kw: number): Payload {
  const intervals: ReportInterval[] = Array.from({ length: 15 }, (_, i) => ({ duration: 'PT1M', uid: String(i), payloads: [{ rId: 'power', value: { type: 'float', value: kw } }] }));
  return {
    type: 'UpdateReport',
    schemaVersion: V,
    requestId: `rq-up-${fromMs}`,
    venId,
    reports: [{ dtstart: iso(fromMs), intervals, reportRequestId, reportSpecifierId: 'usage-spec', reportName: 'TELEMETRY_USAGE', createdDateTime: iso(fromMs + SLOT) }],
  };
}

const signal = (e: OadrEvent | undefined, id: string) => e?.signals.find((s) => s.signalId === id);
const valuesOf = (e: OadrEvent | undefined, id: string) => signal(e, id)?.intervals.map((i) => i.value);

/**
 * A VTN on a fresh ledger (its own data directory, a test clock at noon of the event day): the embedded
 * one, or `--ledger fabric` through a connection profile to the Gateway service over an embedded ledger.
 */
async function ledgerVtn(t: TestContext, config: VtnConfigInput = {}, kind: 'embedded' | 'fabric' = 'embedded') {
  const dir = tempDataDir('oadr-vtn-ledger-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T12:00:00Z`));
  const txClock = () => new Date(clock.now());
  let vl: VtnLedger;
  if (kind === 'fabric') {
    const rig = await startFabricVtnRig(t, dir, clock.now);
    vl = await rig.open({ dataDir: join(dir, 'data'), clock: txClock });
  } else {
    const embedded = await openVtnLedger({ dataDir: join(dir, 'data'), clock: txClock });
    t.after(() => embedded.close());
    vl = embedded;
  }
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  const { url, vtn } = await startTestVtn(t, { dataDir: join(dir, 'data'), ...config }, { ledger: port, clock });
  return { clock, vl, port, url, vtn };
}

/** Enrols customers A and B (with their VEN names) and imports 35 days of their meter history. */
async function enrolWithHistory(vtn: Vtn, port: LedgerPort, venNames: { readonly [A]: string; readonly [B]: string } = { [A]: A, [B]: B }): Promise<void> {
  for (const [customerId, h] of [[A, 1], [B, 2]] as const) {
    vtn.customers.enrol({ customerId, venName: venNames[customerId] });
    await port.importEnergy?.(customerId, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(h, i + 1).map((w) => w / 4) })));
  }
}

for (const kind of ['embedded', 'fabric'] as const) {
  test(`the DR flow over HTTP, pull and push, on the ${kind} ledger: per-customer OPR from the ledger, telemetry to recordEnergy, settlement, tokens`, async (t) => {
    const { clock, vl, port, url, vtn } = await ledgerVtn(t, {
      registrationPolicy: 'enrolled-only',
      programs: [{ id: 'default', signals: ['LOAD_DISPATCH', 'SIMPLE', 'x-LOAD_AMOUNT'], reportGranularityMs: MIN, reportBackDurationMs: SLOT }],
      push: { initialBackoffMs: 10 },
    }, kind);

    // The utility's customers and their meter history (the retailer's data hub: Wh per quarter hour).
    await enrolWithHistory(vtn, port, { [A]: 'house-a', [B]: 'house-b' });

    // VEN B listens for pushes.
    const { received, base: pushBase } = await startPushVen(t);
    const pushed = (): Payload[] => received.map((r) => r.payload);

    // Registration, pull (A) and push (B); report registration both ways.
    const a = await registerVen(url, 'house-a');
    const b = await registerVen(url, 'house-b', { pull: false, transportAddress: pushBase });
    const usageRequest = async (venId: string): Promise<string> => {
      const registered = await call(url, 'EiReport', metadata(venId), 'RegisteredReport');
      const id = registered.reportRequests?.find((r) => r.specifier.specifierPayloads.some((p) => p.rId === 'power'))?.reportRequestId;
      assert.ok(id !== undefined, 'the VTN requests TELEMETRY_USAGE');
      return id;
    };
    const rrA = await usageRequest(a.venId);
    const rrB = await usageRequest(b.venId);

    // The utility's request: 300/300/400/400 W in total, every customer.
    const created = (await vtn.events.create({ start: START, slots: 4, reductionW: [300, 300, 400, 400], targets: 'all' })) as LedgerEventView;
    const eventId = created.event.eventId;
    const opr = new Map(created.vens.map((v) => [v.venId, v.oprW ?? []]));
    const oprA = opr.get(a.venId) ?? [];
    const oprB = opr.get(b.venId) ?? [];
    t.assert.deepEqual(oprA.map((x, i) => x + (oprB[i] ?? 0)), [300, 300, 400, 400], 'the ledger shares the whole request');
    t.assert.notDeepEqual(oprA, oprB);
    t.assert.deepEqual(
      (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryLoadReduction', [eventId, A])) as { oprW: number[] }).oprW,
      oprA,
      'the OPR sent is the one on the ledger',
    );

    // Pull: A's event carries A's OPR only (LOAD_DISPATCH delta −OPR, x-LOAD_AMOUNT +OPR), and only A's venID.
    const polled = await post(url, 'OadrPoll', ven.poll(a.venId));
    assert.ok(polled.payload?.type === 'DistributeEvent');
    const evA = polled.payload.events?.[0];
    t.assert.deepEqual(valuesOf(evA, SIGNAL_IDS.LOAD_DISPATCH), oprA.map((x) => (x === 0 ? 0 : -x)));
    t.assert.deepEqual(valuesOf(evA, SIGNAL_IDS['x-LOAD_AMOUNT']), oprA);
    t.assert.equal(signal(evA, SIGNAL_IDS.LOAD_DISPATCH)?.signalType, 'delta');
    t.assert.deepEqual(evA?.target.venIds, [a.venId]);
    const rawA = polled.raw.toString('utf8');
    t.assert.equal(rawA.includes(b.venId), false, "A's payload never names B");

    // Push: B receives its own event.
    await until('the pushed event', () => pushed().some((p) => p.type === 'DistributeEvent'));
    const pushedEvent = pushed().find((p) => p.type === 'DistributeEvent');
    assert.ok(pushedEvent?.type === 'DistributeEvent');
    const evB = pushedEvent.events?.[0];
    t.assert.deepEqual(valuesOf(evB, SIGNAL_IDS['x-LOAD_AMOUNT']), oprB);
    t.assert.deepEqual(evB?.target.venIds, [b.venId]);
    t.assert.notDeepEqual(valuesOf(evB, SIGNAL_IDS['x-LOAD_AMOUNT']), oprA, "B never receives A's numbers");

    // createdEvent: A opts in, B opts out.
    t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId, modificationNumber: 0, optType: 'optIn' }]), 'Response')).response.code, 200);
    t.assert.equal((await call(url, 'EiEvent', ven.createdEvent(b.venId, [{ eventId, modificationNumber: 0, optType: 'optOut' }]), 'Response')).response.code, 200);
    // …and the answers are on the ledger (recordOptState), as the architecture's event path says.
    const optsOnLedger = async () => (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryEventOpts', [eventId])) as { opts: { meterId: string; optType: string }[] }).opts;
    await until('opt answers on the ledger', async () => (await optsOnLedger()).length === 2);
    t.assert.deepEqual((await optsOnLedger()).map((o) => [o.meterId, o.optType]), [[A, 'optIn'], [B, 'optOut']]);

    // Telemetry every minute during the event: A at 0.1 kW (it reduced), B at 1.5 kW (it did not).
    const recorded = async (meterId: string, slot: number) =>
      (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryEnergyValue', [meterId, EVENT_DAY])) as { values?: (number | null)[] }).values?.[slot] ?? null;
    for (let k = 0; k < 4; k++) {
      clock.set(START + (k + 1) * SLOT + MIN);
      t.assert.equal((await call(url, 'EiReport', usage(a.venId, rrA, START + k * SLOT, 0.1), 'UpdatedReport')).response.code, 200);
      t.assert.equal((await call(url, 'EiReport', usage(b.venId, rrB, START + k * SLOT, 1.5), 'UpdatedReport')).response.code, 200);
      await until(`slot ${68 + k} on the ledger`, async () => (await recorded(A, 68 + k)) === 100 && (await recorded(B, 68 + k)) === 1500);
    }
    // The same report again records nothing new.
    const height = await vl.ledger.height();
    t.assert.equal((await call(url, 'EiReport', usage(a.venId, rrA, START, 0.1), 'UpdatedReport')).response.code, 200);
    await new Promise((r) => setTimeout(r, 50));
    t.assert.equal(await vl.ledger.height(), height);

    // GET-style view: per VEN its OPR, delivery time, opt state and telemetry received.
    const view = vtn.events.get(eventId);
    const va = view?.vens.find((v) => v.venId === a.venId);
    const vb = view?.vens.find((v) => v.venId === b.venId);
    t.assert.deepEqual([va?.oprW, va?.optType, va?.telemetryPoints, va?.lastDeliveredAt !== undefined], [oprA, 'optIn', 60, true]);
    t.assert.deepEqual([vb?.oprW, vb?.optType, vb?.telemetryPoints, vb?.lastDeliveredAt !== undefined], [oprB, 'optOut', 60, true]);

    // The day after: the scheduler closes the day and settles; A, who opted in and reduced, earns more.
    clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
    const scheduler = startLedgerScheduler({ events: vtn.events, port, now: clock.now });
    t.after(() => scheduler.stop());
    await scheduler.tick();
    t.assert.equal(vl.mapping.event(eventId)?.status, 'settled');
    const s = await vtn.events.settle(eventId);
    const ra = s.rewardsMilli.get(A) ?? -1;
    const rb = s.rewardsMilli.get(B) ?? -1;
    t.diagnostic(`OPR A ${oprA.join('/')} W, B ${oprB.join('/')} W; tokens A ${ra}, B ${rb} milli`);
    assert.ok(ra > rb, `A earned ${ra} milli-tokens, B ${rb}`);
    t.assert.deepEqual(await port.tokenBalance?.(A), { customerId: A, meterId: A, balanceMilli: ra });
  });
}

test('events from the ledger: R6 a test event is refused; modify after the start changes only the intervals that have not started (R20); after the end, nothing', async (t) => {
  const { clock, vl, port, url, vtn } = await ledgerVtn(t, { registrationPolicy: 'enrolled-only', programs: [{ id: 'default' }, { id: 'drill', marketContext: 'http://utility.example/drill', testEvent: true }] });
  await enrolWithHistory(vtn, port);
  const a = await registerVen(url, A);
  await registerVen(url, B);
  // R6: a test event never reaches the ledger, whether the event or its program says so.
  const height = await vl.ledger.height();
  for (const input of [{ testEvent: true }, { programId: 'drill' }]) {
    await assert.rejects(vtn.events.create({ ...input, start: START, durationMinutes: 45, reductionW: 200, targets: { customerIds: [A, B] } }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED' && /test event \(R6/.test((e as Error).message));
  }
  t.assert.equal(await vl.ledger.height(), height, 'nothing on the ledger');
  const v = (await vtn.events.create({ eventId: 'ev-s', start: START, durationMinutes: 45, reductionW: 200, targets: { customerIds: [A, B] } })) as LedgerEventView;
  const valuesOf = (view: { vens: readonly { venId: string; values: Readonly<Record<string, readonly number[]>> }[] }) => view.vens.find((x) => x.venId === a.venId)?.values[SIGNAL_IDS.LOAD_DISPATCH] ?? [];
  const before = valuesOf(v);
  clock.set(START + 16 * 60_000); // interval 0 has ended, interval 1 runs, interval 2 has not started
  await assert.rejects(vtn.events.modify('ev-s', { reductionW: [200, 300, 400] }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED' && /has started; its reduction stays 200 W \(R20\)/.test((e as Error).message));
  const m = await vtn.events.modify('ev-s', { reductionW: [200, 200, 400] });
  t.assert.equal(m.event.modificationNumber, 1);
  const after = valuesOf(m);
  t.assert.deepEqual(after.slice(0, 2), before.slice(0, 2), 'the started intervals keep their values');
  t.assert.equal(m.vens.reduce((sum, x) => sum + (x.oprW?.[2] ?? 0), 0), 400, 'the last interval takes the new total');
  clock.set(START + 46 * 60_000);
  await assert.rejects(vtn.events.modify('ev-s', { reductionW: [200, 200, 100] }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED' && /has completed/.test((e as Error).message));
});

test('events from the ledger: modify before the start moves the start, changes the duration and the targets — the ledger shares the total among the new targets, a VEN left out receives the event cancelled', async (t) => {
  const { vl, port, url, vtn } = await ledgerVtn(t, { registrationPolicy: 'enrolled-only' });
  await enrolWithHistory(vtn, port);
  const a = await registerVen(url, A);
  const b = await registerVen(url, B);
  await vtn.events.create({ eventId: 'ev-t', start: START, durationMinutes: 30, reductionW: 200, targets: { customerIds: [A] } });
  const onLedger = async () => JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-t'])) as { version: number; window: number[]; requestW: number[] };
  t.assert.deepEqual((await onLedger()).window, [68, 69]);
  // Both customers, an hour later, three slots.
  const m = await vtn.events.modify('ev-t', { start: START + 60 * MIN, slots: 3, reductionW: [300, 300, 150], targets: { customerIds: [A, B] } });
  t.assert.equal(m.event.modificationNumber, 1);
  t.assert.equal(m.event.startMs, START + 60 * MIN);
  t.assert.deepEqual(m.event.intervalsMs, [SLOT, SLOT, SLOT]);
  t.assert.deepEqual([...m.event.venIds].sort(), [a.venId, b.venId].sort());
  const ledgerEvent = await onLedger();
  t.assert.equal(ledgerEvent.version, 1);
  t.assert.deepEqual(ledgerEvent.window, [72, 73, 74]);
  // The contract shares each slot's request among both, stopping within ε (1 W) of it (spec §4).
  const shared = [0, 1, 2].map((i) => m.vens.map((x) => x.oprW?.[i] ?? 0));
  assert.ok(shared.every((oprs) => oprs.every((w) => w > 0)), 'both customers take part');
  assert.ok([300, 300, 150].every((w, i) => Math.abs((shared[i] ?? []).reduce((x, y) => x + y, 0) - w) <= 1), 'the ledger shares the new total among both');
  const eb = (await call(url, 'EiEvent', ven.requestEvent(b.venId), 'DistributeEvent')).events?.[0];
  t.assert.equal(eb?.descriptor.modificationNumber, 1);
  t.assert.equal(eb?.activePeriod.dtstart, iso(START + 60 * MIN));
  t.assert.deepEqual(valuesOf(eb, SIGNAL_IDS.LOAD_DISPATCH), (m.vens.find((x) => x.venId === b.venId)?.oprW ?? []).map((x) => (x === 0 ? 0 : -x)));
  // Only B now: A's VEN receives the event cancelled, and the ledger gives B the whole total.
  const n = await vtn.events.modify('ev-t', { reductionW: 250, targets: { customerIds: [B] } });
  t.assert.deepEqual(n.event.venIds, [b.venId]);
  assert.ok((n.vens.find((x) => x.venId === b.venId)?.oprW ?? []).every((w) => Math.abs(w - 250) <= 1), 'B takes the whole total (within ε)');
  t.assert.equal(n.vens.find((x) => x.venId === a.venId)?.oprW, undefined, 'A has no allocation any more');
  t.assert.equal(n.vens.find((x) => x.venId === a.venId)?.removed, true);
  t.assert.equal((await call(url, 'EiEvent', ven.requestEvent(a.venId), 'DistributeEvent')).events?.[0]?.descriptor.eventStatus, 'cancelled');
  // The day stays: moving the event to another day is refused, and nothing changes.
  await assert.rejects(vtn.events.modify('ev-t', { start: START + 24 * 60 * MIN, reductionW: 250 }), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT' && /cannot move it to/.test((e as Error).message));
  t.assert.equal((await onLedger()).version, 2);
  t.assert.equal(vtn.events.get('ev-t')?.event.modificationNumber, 2);
});

test('events from the ledger: R201 a customer whose availability schedule, sent after the event was created, covers the event is opted out and the request shared again among the others; after the start only its opt state changes', async (t) => {
  const { clock, vl, port, url, vtn } = await ledgerVtn(t, { registrationPolicy: 'enrolled-only' });
  await enrolWithHistory(vtn, port);
  const a = await registerVen(url, A);
  const b = await registerVen(url, B);
  await vtn.events.create({ eventId: 'ev-av', start: START, durationMinutes: 30, reductionW: 200, targets: { customerIds: [A, B] } });
  t.assert.equal((await call(url, 'EiOpt', ven.createOpt(b.venId, { optType: 'optOut', optId: 'away', windows: [[START + 20 * MIN, 'PT1H']] }), 'CreatedOpt')).response.code, 200);
  await vtn.events.ledgerIdle();
  const v = vtn.events.get('ev-av');
  t.assert.equal(v?.event.modificationNumber, 1, 'shared again: a new version');
  const vb = v?.vens.find((x) => x.venId === b.venId);
  t.assert.equal(vb?.optType, 'optOut');
  t.assert.match(vb?.optReason ?? '', /away/);
  t.assert.deepEqual(vb?.values[SIGNAL_IDS.LOAD_DISPATCH], [0, 0], 'B keeps the event with zero values');
  t.assert.equal(vb?.oprW, undefined, 'B has no allocation on the ledger any more');
  assert.ok((v?.vens.find((x) => x.venId === a.venId)?.oprW ?? []).every((w) => Math.abs(w - 200) <= 1), 'A takes the whole request');
  t.assert.equal((JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-av'])) as { version: number }).version, 1);
  // After the start the contract keeps the cluster: A's opt-out changes its opt state only.
  clock.set(START + MIN);
  await call(url, 'EiOpt', ven.createOpt(a.venId, { optType: 'optOut', optId: 'away', windows: [[START, 'PT1H']] }), 'CreatedOpt');
  await vtn.events.ledgerIdle();
  const w = vtn.events.get('ev-av');
  t.assert.equal(w?.event.modificationNumber, 1);
  t.assert.equal(w?.vens.find((x) => x.venId === a.venId)?.optType, 'optOut');
});

test('events from the ledger: R101+R102 each VEN receives its customer\'s window baseline, as the contract froze it, in eiEventBaseline (XSD-valid); a modification sends the new one', async (t) => {
  const { port, url, vtn } = await ledgerVtn(t, { registrationPolicy: 'enrolled-only' });
  await enrolWithHistory(vtn, port);
  const a = await registerVen(url, A);
  await registerVen(url, B);
  await vtn.events.create({ eventId: 'ev-b', start: START, durationMinutes: 45, reductionW: 200, targets: { customerIds: [A, B] } });
  const xml = (await post(url, 'EiEvent', ven.requestEvent(a.venId))).raw.toString('utf8');
  const v = await validateXsd(xml);
  t.assert.equal(v.valid, true, JSON.stringify(v.errors));
  const decoded = decodeOadr(xml).payload;
  const e = decoded.type === 'DistributeEvent' ? decoded.events?.[0] : undefined;
  const day = await port.customerEvent?.(A, 'ev-b');
  assert.ok(day !== undefined, 'the port reads the customer\'s event day');
  assert.ok(e?.baseline !== undefined, 'the event carries a baseline');
  const frozen = day.oprW.map((w, i) => w + (day.targetW[i] ?? 0));
  t.assert.deepEqual(e.baseline.intervals.map((i) => i.value), frozen, 'the baseline the contract froze with the allocation (target + OPR)');
  t.assert.deepEqual(e.baseline.intervals.map((i) => i.uid), ['0', '1', '2']);
  t.assert.equal(e.baseline.dtstart, e.activePeriod.dtstart);
  t.assert.equal(e.baseline.duration, e.activePeriod.duration);
  t.assert.equal(e.baseline.itemBase?.units, 'W');
  t.assert.deepEqual(vtn.events.get('ev-b')?.vens.find((x) => x.venId === a.venId)?.baselineW, frozen);
  // A longer event: the baseline follows the new window.
  await vtn.events.modify('ev-b', { slots: 4, reductionW: 200 });
  const longer = (await call(url, 'EiEvent', ven.requestEvent(a.venId), 'DistributeEvent')).events?.[0];
  t.assert.equal(longer?.baseline?.intervals.length, 4);
});

test('events from the ledger: modify before the start re-allocates (modificationNumber + 1), cancel cancels on the ledger; no ledger → NOT_ALLOWED', async (t) => {
  const { vl, port, url, vtn } = await ledgerVtn(t, { registrationPolicy: 'enrolled-only' });
  await enrolWithHistory(vtn, port);
  vtn.customers.enrol({ customerId: 'no-ven', venName: 'nobody' });
  const a = await registerVen(url, A);
  const b = await registerVen(url, B);
  const v = (await vtn.events.create({ eventId: 'ev-m', start: START, durationMinutes: 30, reductionW: 200, targets: { customerIds: [A, B, 'no-ven'] } })) as LedgerEventView;
  t.assert.deepEqual(v.skipped, { 'no-ven': 'no allocation on the ledger (no baseline for the event day)' });
  const m = await vtn.events.modify('ev-m', { reductionW: [350, 100] });
  t.assert.equal(m.event.modificationNumber, 1);
  const oprs = m.vens.map((x) => x.oprW ?? []);
  t.assert.deepEqual([0, 1].map((i) => oprs.reduce((sum, o) => sum + (o[i] ?? 0), 0)), [350, 100]);
  t.assert.deepEqual(m.vens.find((x) => x.venId === a.venId)?.values[SIGNAL_IDS.LOAD_DISPATCH], (m.vens.find((x) => x.venId === a.venId)?.oprW ?? []).map((x) => (x === 0 ? 0 : -x)));
  vtn.events.cancel('ev-m');
  await vtn.events.ledgerIdle();
  t.assert.equal((JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-m'])) as { status: string }).status, 'cancelled');
  t.assert.equal((await vtn.events.settle('ev-m')).status, 'cancelled');
  void b;

  const { vtn: bare } = await startTestVtn(t);
  await assert.rejects(bare.events.create({ start: START, slots: 1, reductionW: 1 }), (e: unknown) => (e as { code?: string }).code === 'NOT_ALLOWED');
});
