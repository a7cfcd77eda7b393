/**
 * The pull path with the real VEN (ven/createVen, a memory device at 1.5 kW) against the VTN with
 * the embedded ledger, over HTTP on loopback: the VEN registers and offers its metadata, the VTN
 * requests TELEMETRY_USAGE every minute, an event from a total reduction reaches the VEN with its
 * customer's OPR, the VEN opts in and sheds it, and its minute reports become the slot averages
 * recorded on the ledger; settlement mints its tokens.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { createMemoryDevice } from '../../ven/testing/memory-device.ts';
import { createVen } from '../../ven/index.ts';
import type { LedgerEventView } from '../services/event-service.ts';
import { recordedSlots, startLedgerVtn, tickMinutes } from '../testing/ledger-vtn.ts';
import { until } from '../../test/support/until.ts';

const MIN = 60_000;
const SLOT = 15 * MIN;
const A = 'smartmeter:A';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`); // 17:00 in Rome: slots 68–71

test('real VEN, pull: event with its OPR from the ledger, opt in, shed, minute telemetry → recordEnergy per slot → tokens', async (t) => {
  const { dir, clock, ledger: vl, port, url, vtn } = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-realven-',
    start: START - 10 * MIN,
    customerId: A,
    venName: 'house-a',
    config: { programs: [{ id: 'default', reportGranularityMs: MIN, reportBackDurationMs: SLOT }] },
  });

  const device = createMemoryDevice(undefined, 1500);
  const ven = await createVen({ vtnUrl: url, venName: 'house-a', device, dataDir: join(dir, 'ven'), clock: clock.now, tickMs: 3_600_000, reports: { minPeriodMs: MIN }, random: () => 0.5 });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  const venId = ven.status().registration?.venId ?? '';
  await until('the usage report request', () => vtn.reports.requests(venId).some((r) => r.reportName === 'TELEMETRY_USAGE' && r.state === 'active'));

  const created = (await vtn.events.create({ eventId: 'ev-real', start: START, slots: 4, reductionW: [300, 300, 400, 400], targets: { customerIds: [A] } })) as LedgerEventView;
  const opr = created.vens[0]?.oprW ?? [];
  t.assert.equal(opr.length, 4);
  ven.session.pollNow();
  await until('the VEN opts in', () => vtn.events.get('ev-real')?.vens[0]?.optType === 'optIn');

  // One tick per simulated minute through the event: actuation, a sample, reports every 15 minutes
  // (the VEN's report schedule runs from its request, not from the slots: tick until the last slot is reported).
  await tickMinutes(ven, clock, START, -5, 76);
  const slots = await recordedSlots(vl, A, EVENT_DAY, 68, 4);
  // The device ran at 1500 − OPR; a sample is read at the end of its minute, so at most one minute of
  // each slot carries the next interval's power (≤ |ΔOPR|/15 W, plus the last minute back at 1500).
  slots.forEach((w, i) => assert.ok(Math.abs(w - (1500 - (opr[i] ?? 0))) <= 15, `slot ${68 + i}: ${w} W recorded, device at ${1500 - (opr[i] ?? 0)} W`));
  t.diagnostic(`OPR ${opr.join('/')} W; recorded ${slots.join('/')} W`);

  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  const s = await vtn.events.settle('ev-real');
  t.assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
  t.assert.equal(typeof s.rewardsMilli.get(A), 'number');
});
