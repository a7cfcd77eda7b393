/**
 * The UVAM bridge end to end: a VTN on the embedded ledger with two customers (one VEN reporting
 * usage telemetry over HTTP), the bridge on loopback, and the test controlling station: it
 * interrogates, receives the periodic measurement, sends set-points (select-before-operate, direct,
 * time-tagged, 0) and each becomes a DR event with allocations on the ledger before act-term.
 */
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../chaincode/testing/reference-scenario.ts';
import { startLedgerVtn, usageVen } from '../vtn/testing/ledger-vtn.ts';
import { QUALITY } from './codec/constants.ts';
import { aggregateReading, createUvamBridge, latestUsageW } from './uvam.ts';
import { connectControllingStation } from './testing/controlling-station.ts';
import { resolveVtnConfig, type TelemetryPointRecord, type Vtn } from '../vtn/index.ts';

const MIN = 60_000;
const NOW = Date.parse(`${EVENT_DAY}T12:00:00Z`);
const point = (startMs: number, durationMs: number, value: number, unit = 'W', reportName = 'TELEMETRY_USAGE'): TelemetryPointRecord => ({
  venId: 'v', reportRequestId: 'r', reportName, rId: 'power', startMs, durationMs, value, unit, quality: undefined, status: undefined, receivedAt: startMs,
});

test('stale means: the latest usage interval ended more than staleMs ago; the aggregate is IV without fresh telemetry, NT when some VENs lack it', (t) => {
  const pts = [point(0, MIN, 100), point(MIN, MIN, 200), point(MIN, 0, 5, 'W', 'TELEMETRY_STATUS')];
  t.assert.equal(latestUsageW(pts, 2 * MIN + 5 * MIN, 5 * MIN), 200, 'ended exactly staleMs ago: fresh');
  t.assert.equal(latestUsageW(pts, 2 * MIN + 5 * MIN + 1, 5 * MIN), undefined, 'a millisecond later: stale');
  t.assert.equal(latestUsageW([point(0, 15 * MIN, 250, 'Wh')], 15 * MIN, MIN), 1000, 'Wh over 15 min is 1 kW');
  t.assert.deepEqual(aggregateReading([]), { w: 0, quality: QUALITY.IV });
  t.assert.deepEqual(aggregateReading([undefined, undefined]), { w: 0, quality: QUALITY.IV });
  t.assert.deepEqual(aggregateReading([100, undefined, 50]), { w: 150, quality: QUALITY.NT });
  t.assert.deepEqual(aggregateReading([100, 50]), { w: 150, quality: 0 });
});

test('measurements by absolute deadlines start + n × 4 s: a slow period does not shift the next ones (no drift)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let base = 0;
  let lag = 0;
  const clock = (): number => base + lag;
  const at: number[] = [];
  // A VTN without VENs: each period reads the (empty) unit; the second one takes 1.5 s.
  const vtn = {
    config: { iec104: resolveVtnConfig({}).iec104 },
    events: { list: () => [] },
    vens: {
      list: () => {
        at.push(clock());
        if (at.length === 2) lag += 1_500;
        return [];
      },
    },
  } as unknown as Vtn;
  const bridge = createUvamBridge({ vtn, timerNow: clock });
  t.after(() => bridge.close());
  await bridge.listen(0);
  for (let i = 0; i < 40; i++) {
    base += 500;
    t.mock.timers.tick(500);
  }
  t.assert.deepEqual(at, [4_000, 8_000, 12_000, 16_000, 20_000].filter((x) => x <= clock()));
});

test('end to end: a TSO interrogates, receives the 4-second measurement, and its set-points become DR events on the ledger', async (t: TestContext) => {
  const lv = await startLedgerVtn(t, { prefix: 'oadr-iec104-', start: NOW, customerId: 'house-a', config: { iec104: { connectionPoints: ['house-a', 'house-b'], periodMs: 300, leadTimeMs: 15 * MIN } } });
  lv.vtn.customers.enrol({ customerId: 'house-b', venName: 'house-b' });
  await lv.port.importEnergy?.('house-b', Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(2, i + 1).map((w) => w / 4) })));
  // house-a's VEN registers and reports 1.5 kW for the last 15 minutes; house-b has no VEN.
  const a = await usageVen(lv.url, 'house-a', NOW);
  await a.report(NOW, 1.5);

  const bridge = createUvamBridge({ vtn: lv.vtn, now: lv.clock.now });
  t.after(() => bridge.close());
  const { port } = await bridge.listen(0);
  const cs = await connectControllingStation({ port });
  t.after(() => cs.close());
  await cs.startDt();

  // Station interrogation: the aggregate (1.5 kW, good), house-a's point (1.5 kW), house-b's (no VEN: invalid).
  // A periodic measurement in flight when the interrogation goes out (the 300 ms period makes it
  // likely; this one makes it certain): the answers are told apart by content, not by position.
  bridge.server.publish(Buffer.from('0d0101000100e903000000664300', 'hex'));
  const gi = await cs.interrogate();
  t.assert.deepEqual(gi.map((r) => [r.typeId, r.cause]), [[100, 7], [13, 20], [100, 10]]);
  const values = gi[1]?.asdu as Buffer;
  t.assert.equal(gi[1]?.count, 3);
  const objects = [0, 1, 2].map((i) => ({ ioa: values.readUIntLE(6 + i * 8, 3), kw: values.readFloatLE(9 + i * 8), qds: values[13 + i * 8] }));
  t.assert.deepEqual(objects, [{ ioa: 1001, kw: 1.5, qds: 0 }, { ioa: 1002, kw: 1.5, qds: 0 }, { ioa: 1003, kw: 0, qds: QUALITY.IV }]);

  // The periodic measurement, cause 1.
  const periodic = await cs.next((r) => r.typeId === 13 && r.cause === 1 && r.value !== 230);
  t.assert.deepEqual([periodic.ioa, periodic.value, periodic.commonAddress], [1001, 1.5, 1]);

  // Select-before-operate, 0.3 kW: act-con for the select, act-con and act-term for the execute.
  const sel = await cs.setpoint({ ioa: 5000, value: 0.3, select: true });
  t.assert.deepEqual([sel.cause, sel.negative], [7, false]);
  let from = cs.received.length;
  const exe = await cs.setpoint({ ioa: 5000, value: 0.3 });
  t.assert.deepEqual([exe.cause, exe.negative], [7, false]);
  const term = await cs.next((r) => r.typeId === 50 && r.cause === 10, { from });
  t.assert.equal(term.negative, false);
  const eventId = bridge.order() as string;
  const view = lv.vtn.events.get(eventId);
  t.assert.equal(view?.event.startMs, NOW + 15 * MIN, 'the event starts after the lead time (on the slot grid here)');
  const opr = lv.port.allocations?.oprOf(eventId);
  t.assert.deepEqual([...(opr?.keys() ?? [])].sort(), ['house-a', 'house-b'], 'the ledger allocated the order to both customers');
  const total = (m: ReadonlyMap<string, readonly number[]> | undefined): number[] => {
    const rows = [...(m?.values() ?? [])];
    return (rows[0] ?? []).map((_, i) => rows.reduce((s, r) => s + (r[i] ?? 0), 0));
  };
  t.assert.deepEqual(total(opr), Array(8).fill(300), '300 W in each of the 8 slots of 120 minutes');
  t.assert.ok(view?.vens.some((v) => v.venId === a.venId && (v.oprW ?? []).length > 0), "house-a's VEN has its OPR queued");

  // A new set-point before the start modifies the order (direct execute, time-tagged C_SE_TC_1).
  from = cs.received.length;
  const tc = await cs.setpoint({ ioa: 5000, value: 0.4, timeMs: NOW });
  t.assert.deepEqual([tc.typeId, tc.cause, tc.negative], [63, 7, false]);
  await cs.next((r) => r.typeId === 63 && r.cause === 10 && !r.negative, { from });
  t.assert.equal(bridge.order(), eventId);
  t.assert.deepEqual(total(lv.port.allocations?.oprOf(eventId)), Array(8).fill(400), 'the ledger holds the new total');

  // A negative modulation is refused; a set-point of 0 ends the order.
  const neg = await cs.setpoint({ ioa: 5000, value: -1 });
  t.assert.deepEqual([neg.cause, neg.negative], [7, true]);
  from = cs.received.length;
  await cs.setpoint({ ioa: 5000, value: 0 });
  await cs.next((r) => r.typeId === 50 && r.cause === 10 && r.value === 0, { from });
  t.assert.equal(lv.vtn.events.get(eventId)?.status, 'cancelled');
  t.assert.equal(bridge.order(), undefined);
  t.assert.deepEqual(cs.violations, []);
});
