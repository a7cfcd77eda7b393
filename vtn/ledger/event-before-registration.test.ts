/**
 * An event from the ledger created before its customer's VEN registers, starting off the slot grid
 * (17:07 in Rome): the ledger allocates it over the enrolled customer at once (its window is every
 * slot the event overlaps, the partly covered ones asked for their average), the answer says which
 * customer has no VEN yet, and the real VEN (ven/createVen) that registers later over HTTP receives
 * it (R50), sheds it, and its telemetry reaches the ledger and settlement with the tokens the
 * contract's formula gives for what it delivered.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { createMemoryDevice } from '../../ven/testing/memory-device.ts';
import { createVen } from '../../ven/index.ts';
import { SIGNAL_IDS, type LedgerEventView } from '../services/event-service.ts';
import { recordedSlots, startLedgerVtn, tickMinutes } from '../testing/ledger-vtn.ts';
import { startLedgerScheduler } from './scheduler.ts';
import { call, registerVen, ven } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';

const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A';
const START = Date.parse(`${EVENT_DAY}T15:07:00Z`); // 17:07 in Rome: slots 68 (8 of 15 min) … 72 (7 of 15 min)

test('interop 2 + interop 3 + reliability 6: an event created before the VEN registers, starting at an odd minute, reaches the real VEN, the ledger and settlement (pending, then settled by the scheduler\'s first pass)', async (t) => {
  const { dir, clock, ledger: vl, port, url, vtn } = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-early-event-',
    start: START - 30 * MIN,
    customerId: A,
    venName: 'house-a',
    config: { programs: [{ id: 'default', reportGranularityMs: MIN, reportBackDurationMs: SLOT }] },
  });

  // Interop 2: no VEN is registered; the event is allocated over the enrolled customer all the same.
  // Interop 3: it starts at 17:07 and lasts an hour: five intervals cut at the quarter hours.
  const created = (await vtn.events.create({ eventId: 'ev-early', start: START, durationMinutes: 60, reductionW: 150, targets: { customerIds: [A] } })) as LedgerEventView;
  t.assert.deepEqual(created.customersWithoutVen, [A]);
  t.assert.deepEqual(created.skipped, {});
  t.assert.deepEqual(created.event.intervalsMs, [8 * MIN, SLOT, SLOT, SLOT, 7 * MIN]);
  t.assert.equal(created.vens.length, 0);
  const onLedger = JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-early'])) as { window: number[]; requestW: number[] };
  t.assert.deepEqual(onLedger.window, [68, 69, 70, 71, 72]);
  t.assert.deepEqual(onLedger.requestW, [80, 150, 150, 150, 70]); // a partly covered slot: its average
  const opr = port.allocations?.oprOf('ev-early')?.get(A) ?? [];
  t.assert.equal(opr.length, 5);

  // The VEN registers after the event was created and receives it with its customer's OPR. Its
  // site runs at the lowest baseline of the window, so whatever it sheds is a reduction.
  const baseline = (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryBaseline', [A, EVENT_DAY])) as { values: number[] }).values.slice(68, 73);
  const siteW = Math.min(...baseline);
  const device = createMemoryDevice(undefined, siteW);
  const ven = await createVen({ vtnUrl: url, venName: 'house-a', device, dataDir: join(dir, 'ven'), clock: clock.now, tickMs: 3_600_000, reports: { minPeriodMs: MIN }, random: () => 0.5 });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  const venId = ven.status().registration?.venId ?? '';
  ven.session.pollNow();
  await until('the VEN holds the event', () => ven.status().events.events['ev-early'] !== undefined);
  const received = ven.status().events.events['ev-early']?.event;
  t.assert.equal(received?.activePeriod.dtstart, new Date(START).toISOString());
  const dispatch = received?.signals.find((s) => s.signalId === SIGNAL_IDS.LOAD_DISPATCH);
  t.assert.deepEqual(dispatch?.intervals.map((i) => i.duration), ['PT8M', 'PT15M', 'PT15M', 'PT15M', 'PT7M']);
  // An interval covering part of its slot carries OPR × slot / covered: the slot's average is the OPR.
  const venW = [opr[0]! * 15 / 8, opr[1]!, opr[2]!, opr[3]!, opr[4]! * 15 / 7].map(Math.round);
  t.assert.deepEqual(dispatch?.intervals.map((i) => -i.value), venW);
  await until('the VEN opts in', () => vtn.events.get('ev-early')?.vens[0]?.optType === 'optIn');
  t.assert.deepEqual(vtn.events.get('ev-early')?.customersWithoutVen, []);
  await until('the usage report request', () => vtn.reports.requests(venId).some((r) => r.reportName === 'TELEMETRY_USAGE' && r.state === 'active'));

  // Minute ticks through the event: the device sheds each interval's value, reports go to the ledger.
  await tickMinutes(ven, clock, START, -10, 90);
  const measured = await recordedSlots(vl, A, EVENT_DAY, 68, 5);
  // Each slot's average is the site's power − OPR within a minute's sample of the interval change.
  measured.forEach((w, i) => assert.ok(Math.abs(w - (siteW - (opr[i] ?? 0))) <= Math.ceil((venW[i] ?? 0) / 15) + 1, `slot ${68 + i}: ${w} W recorded, OPR ${opr[i]} W`));
  t.diagnostic(`baseline ${baseline.join('/')} W; site ${siteW} W; OPR ${opr.join('/')} W; VEN ${venW.join('/')} W; recorded ${measured.join('/')} W`);

  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  t.assert.equal(vtn.events.get('ev-early')?.settlement, 'pending');
  // Reliability 6: a scheduler started now (a restarted VTN) settles at once, not one interval later.
  const scheduler = startLedgerScheduler({ events: vtn.events, port, intervalMs: 3_600_000, now: clock.now });
  t.after(() => scheduler.stop());
  await until('the scheduler settles the event at start', () => vtn.events.get('ev-early')?.settlement === 'settled', 30_000);
  const s = await vtn.events.settle('ev-early');
  t.assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
  t.assert.equal(vtn.events.get('ev-early')?.settlement, 'settled');
  // The contract's formula over the five window slots: Σ H(B − P)·(B − P)² in kW², 1,000 milli-tokens per kW².
  const sumW2 = baseline.reduce((sum, b, i) => sum + Math.max(0, b - (measured[i] ?? 0)) ** 2, 0);
  t.assert.equal(s.rewardsMilli.get(A), Math.round(sumW2 / 1000));
  assert.ok((s.rewardsMilli.get(A) ?? 0) > 0);
});

test('interop 2: a VEN that cancels its registration and comes back receives its customer\'s pending event again (R50, R407)', async (t) => {
  const { clock, port, url, vtn } = await startLedgerVtn(t, { prefix: 'oadr-vtn-comeback-', start: START - 30 * MIN, customerId: A });
  const first = await registerVen(url, A);
  const created = (await vtn.events.create({ eventId: 'ev-back', start: START, slots: 2, reductionW: 100, targets: { customerIds: [A] } })) as LedgerEventView;
  t.assert.deepEqual(created.customersWithoutVen, []);
  // R407: the VEN cancels; everything about it is deleted, its event state too.
  await call(url, 'EiRegisterParty', ven.cancel(first.venId, first.registrationId), 'CanceledPartyRegistration');
  t.assert.deepEqual(vtn.events.get('ev-back')?.customersWithoutVen, [A]);
  // It registers anew: the pending event is its again, delivered on request.
  const again = await registerVen(url, A);
  const events = await call(url, 'EiEvent', ven.requestEvent(again.venId), 'DistributeEvent');
  t.assert.deepEqual(events.events?.map((e) => e.descriptor.eventId), ['ev-back']);
  // 17:07 for two slots' time: 8, 15 and 7 minutes; the partial intervals carry OPR × slot / covered.
  const opr = port.allocations?.oprOf('ev-back')?.get(A) ?? [];
  t.assert.deepEqual(events.events?.[0]?.signals.find((s) => s.signalId === SIGNAL_IDS.LOAD_DISPATCH)?.intervals.map((i) => -i.value), [opr[0]! * 15 / 8, opr[1]!, opr[2]! * 15 / 7].map(Math.round));
  t.assert.deepEqual(vtn.events.get('ev-back')?.customersWithoutVen, []);
});
