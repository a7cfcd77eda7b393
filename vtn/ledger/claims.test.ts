/**
 * Flexibility claims end to end on the embedded ledger (docs/uvam.md): an event for two customers,
 * their VENs' usage telemetry over HTTP to the ledger, the settlement scheduler's pass submitting one
 * claim per metering period from the ledger's slot values, the system operator confirming one through
 * the admin API; a customer without telemetry makes the claims fail with the reason; a ledger error
 * after a claim was written (the answer lost, as in a crash before the VTN records it) does not write
 * it twice.
 */
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import type { Ledger } from '../../ledger-bridge/index.ts';
import { recordedSlots, startLedgerVtn, usageVen, type LedgerVtn } from '../testing/ledger-vtn.ts';
import { until } from '../../test/support/until.ts';
import { startLedgerScheduler } from './scheduler.ts';
import type { ClaimView } from './port.ts';

const MIN = 60_000;
const NOW = Date.parse(`${EVENT_DAY}T12:00:00Z`);
const START = NOW + 15 * MIN;
const TOKEN = 'test-operator-token-claims-0123456789';

interface Rig {
  readonly lv: LedgerVtn;
  readonly eventId: string;
  readonly day: string;
  readonly slots: readonly number[];
  tick(): Promise<void>;
  /**
   * Scheduler passes until `done` holds: a pass may find the slot values not yet readable on the
   * ledger (an endorser that has not applied the last block yet) and wait for the next.
   */
  passUntil(what: string, done: () => boolean | Promise<boolean>): Promise<void>;
  /** The event's claims through the admin API. */
  claims(): Promise<ClaimView[]>;
  api(path: string, o?: { method?: string; token?: string }): Promise<{ status: number; type: string | null; json: any }>;
}

/** house-a and house-b (35 days of history each), an event of two slots from START, each customer's VEN when `vens` names it. */
async function rig(t: TestContext, vens: readonly string[]): Promise<Rig> {
  const lv = await startLedgerVtn(t, { prefix: 'oadr-vtn-claims-', start: NOW, customerId: 'house-a', adminToken: TOKEN });
  lv.vtn.customers.enrol({ customerId: 'house-b', venName: 'house-b' });
  await lv.port.importEnergy?.('house-b', Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(2, i + 1).map((w) => w / 4) })));
  const reporting = await Promise.all(vens.map((name) => usageVen(lv.url, name, NOW)));
  const created = await lv.vtn.events.create({ eventId: 'evt-claims', start: START, durationMinutes: 30, reductionW: 300, targets: 'all' });
  const eventId = created.event.eventId;
  t.assert.deepEqual([...(lv.port.allocations?.oprOf(eventId)?.keys() ?? [])].sort(), ['house-a', 'house-b'], 'both customers have a part');
  const { day, slot } = await lv.ledger.mapping.slotOf(START);
  // The event runs; its VENs report both quarter hours once they are over.
  lv.clock.set(START + 30 * MIN + 30_000);
  for (const [i, v] of reporting.entries()) {
    t.assert.equal(await v.report(START + 15 * MIN, 1.2 + i), 200);
    t.assert.equal(await v.report(START + 30 * MIN, 0.8 + i), 200);
  }
  for (const name of vens) await recordedSlots(lv.ledger, name, day, slot, 2);
  const scheduler = startLedgerScheduler({ events: lv.vtn.events, port: lv.port, now: lv.clock.now, firstPassNow: false, intervalMs: 3_600_000 });
  t.after(() => scheduler.stop());
  const api: Rig['api'] = async (path, o = {}) => {
    const res = await fetch(`${lv.url}/api/v1${path}`, { method: o.method ?? 'GET', headers: { authorization: `Bearer ${o.token ?? TOKEN}` } });
    return { status: res.status, type: res.headers.get('content-type'), json: await res.json() };
  };
  const tick = (): Promise<void> => scheduler.tick();
  const passUntil: Rig['passUntil'] = (what, done) => until(what, async () => (await tick(), done()), 60_000);
  const claims = async (): Promise<ClaimView[]> => (await api(`/events/${eventId}/claims`)).json as ClaimView[];
  return { lv, eventId, day, slots: [slot, slot + 1], tick, passUntil, claims, api };
}

test('an event ends with its telemetry on the ledger: one claim per metering period from the ledger, the operator confirms one', async (t) => {
  const r = await rig(t, ['house-a', 'house-b']);
  // Read until every endorser has the slots (one may apply the last block a moment after another).
  const onLedger = { a: await recordedSlots(r.lv.ledger, 'house-a', r.day, r.slots[0] as number, 2), b: await recordedSlots(r.lv.ledger, 'house-b', r.day, r.slots[0] as number, 2) };
  await r.passUntil('the claims on the ledger', async () => (await r.claims()).every((c) => c.status !== 'pending'));
  const list = await r.api(`/events/${r.eventId}/claims`);
  t.assert.equal(list.status, 200);
  const claims = list.json as ClaimView[];
  t.assert.deepEqual(claims.map((c) => [c.claimId, c.status, c.customers, c.missing, c.reasons]), [
    [`${r.eventId}:s${r.slots[0]}`, 'recorded', 2, 0, []],
    [`${r.eventId}:s${r.slots[1]}`, 'recorded', 2, 0, []],
  ]);
  // The aggregate and the components are the ledger's slot values (1.2 + 2.2 kW, then 0.8 + 1.8 kW), not the VTN's store.
  t.assert.deepEqual(claims.map((c) => c.powerW), [0, 1].map((i) => (onLedger.a[i] ?? NaN) + (onLedger.b[i] ?? NaN)));
  t.assert.deepEqual(claims.map((c) => c.powerW), [3400, 2600]);
  t.assert.deepEqual([claims[0]?.periodStart, claims[0]?.voltageLLV, claims[0]?.voltageLNV], [new Date(START).toISOString(), 400, 230], 'nominal voltages, not metered');
  const one = await r.api(`/events/${r.eventId}/claims/${claims[1]?.claimId}`);
  t.assert.deepEqual(one.json.components, [
    { customerId: 'house-a', meterId: 'house-a', powerW: 800 },
    { customerId: 'house-b', meterId: 'house-b', powerW: 1800 },
  ]);

  // The system operator confirms the first claim; a second confirmation is refused, as is a retailer.
  const retailer = await (await fetch(`${r.lv.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'retailer', name: 'r', retailerId: 'ret-1' }) })).json() as { token: string };
  t.assert.equal((await r.api(`/events/${r.eventId}/claims/${claims[0]?.claimId}/validate`, { method: 'POST', token: retailer.token })).status, 403);
  t.assert.equal((await r.api(`/events/${r.eventId}/claims`, { token: retailer.token })).status, 403);
  const confirmed = await r.api(`/events/${r.eventId}/claims/${claims[0]?.claimId}/validate`, { method: 'POST' });
  t.assert.equal(confirmed.status, 200);
  t.assert.equal(confirmed.json.status, 'confirmed');
  t.assert.match(confirmed.json.confirmedTxId, /^[0-9a-f]{64}$/);
  const record = JSON.parse(await r.lv.ledger.ledger.evaluate(r.lv.ledger.identities.operator, 'queryFlexibility', [claims[0]?.claimId as string])) as { status: string; confirmedTxId: string };
  t.assert.deepEqual([record.status, record.confirmedTxId], ['confirmed', confirmed.json.confirmedTxId], 'confirmed on the ledger');
  const again = await r.api(`/events/${r.eventId}/claims/${claims[0]?.claimId}/validate`, { method: 'POST' });
  t.assert.deepEqual([again.status, again.type], [409, 'application/problem+json; charset=utf-8']);
  t.assert.equal((await r.api(`/events/${r.eventId}/claims/${r.eventId}:s0/validate`, { method: 'POST' })).status, 404);
  t.assert.equal((await r.api(`/events/nope/claims`)).status, 404);
  t.assert.deepEqual((await r.api(`/events/${r.eventId}/claims`)).json.map((c: ClaimView) => c.status), ['confirmed', 'recorded']);
});

test('a customer without telemetry: the claims wait until the day closes, then are recorded failed with the reason', async (t) => {
  const r = await rig(t, ['house-a']);
  await r.tick();
  t.assert.deepEqual((await r.api(`/events/${r.eventId}/claims`)).json.map((c: ClaimView) => c.status), ['pending', 'pending'], "house-b's telemetry may still come");
  r.lv.clock.set((await r.lv.ledger.mapping.dayClosesAt(r.day)) + 1);
  await r.passUntil('the claims on the ledger', async () => (await r.claims()).every((c) => c.status !== 'pending'));
  const claims = (await r.api(`/events/${r.eventId}/claims`)).json as ClaimView[];
  t.assert.deepEqual(claims.map((c) => [c.status, c.customers, c.missing, c.powerW, c.reasons]), [
    ['failed', 2, 1, 1200, ['no measurement for assets: house-b']],
    ['failed', 2, 1, 800, ['no measurement for assets: house-b']],
  ]);
  const one = await r.api(`/events/${r.eventId}/claims/${claims[0]?.claimId}`);
  t.assert.deepEqual(one.json.components.map((c: { customerId: string; powerW: number | null }) => [c.customerId, c.powerW]), [['house-a', 1200], ['house-b', null]]);
  const refused = await r.api(`/events/${r.eventId}/claims/${claims[0]?.claimId}/validate`, { method: 'POST' });
  t.assert.equal(refused.status, 409);
  t.assert.match(refused.json.detail, /failed; only a recorded claim can be confirmed/);
});

test('the ledger answer lost after a claim was written (a crash before the VTN records it): the next pass writes the rest, nothing twice', async (t) => {
  const r = await rig(t, ['house-a', 'house-b']);
  const ledger = r.lv.ledger.ledger as Ledger;
  const real = ledger.submit.bind(ledger);
  const committed: string[] = [];
  let lose = true;
  ledger.submit = async (identity, fn, args, options) => {
    const result = await real(identity, fn, args, options);
    if (fn !== 'submitFlexibility') return result;
    committed.push(result.txId);
    if (lose) {
      lose = false;
      throw new Error('the connection to the ledger dropped after the commit');
    }
    return result;
  };
  await r.passUntil('a claim written', () => committed.length > 0);
  t.assert.equal(committed.length, 1, 'the first claim was written, its answer lost');
  t.assert.equal(r.lv.ledger.mapping.event(r.eventId)?.claimsSubmitted, undefined, 'the VTN did not record the claims as submitted');
  await r.passUntil('every claim on the ledger', () => r.lv.ledger.mapping.event(r.eventId)?.claimsSubmitted === true);
  await r.tick();
  const claims = await r.claims();
  t.assert.deepEqual(claims.map((c) => c.status), ['recorded', 'recorded']);
  t.assert.equal(committed.length, 2, 'one write per period in all');
  t.assert.deepEqual(claims.map((c) => c.submittedTxId), committed);
  t.assert.equal(r.lv.ledger.mapping.event(r.eventId)?.claimsSubmitted, true);
});

test('a cancelled order: the metering periods that ended before its VENs were told are claimed, the one under way and those after are not; an order cancelled before its first period ended has none', async (t) => {
  const lv = await startLedgerVtn(t, { prefix: 'oadr-vtn-claims-cancel-', start: NOW, customerId: 'house-a', adminToken: TOKEN });
  const a = await usageVen(lv.url, 'house-a', NOW);
  await lv.vtn.events.create({ eventId: 'evt-ran', start: START, durationMinutes: 30, reductionW: 300, targets: 'all' });
  await lv.vtn.events.create({ eventId: 'evt-early', start: START + 60 * MIN, durationMinutes: 30, reductionW: 300, targets: 'all' });
  const { day, slot } = await lv.ledger.mapping.slotOf(START);
  // The first quarter hour runs and is reported; five minutes into the second, both orders end.
  lv.clock.set(START + 15 * MIN + 30_000);
  t.assert.equal(await a.report(START + 15 * MIN, 1.2), 200);
  await recordedSlots(lv.ledger, 'house-a', day, slot, 1);
  lv.clock.set(START + 20 * MIN);
  lv.vtn.events.cancel('evt-ran', 'set-point 0 from the TSO');
  lv.vtn.events.cancel('evt-early');
  await lv.vtn.events.ledgerIdle();
  t.assert.equal(lv.ledger.mapping.event('evt-ran')?.deliveredUntilMs, START + 20 * MIN, 'the ledger side knows when the VENs were told');
  const scheduler = startLedgerScheduler({ events: lv.vtn.events, port: lv.port, now: lv.clock.now, firstPassNow: false, intervalMs: 3_600_000 });
  t.after(() => scheduler.stop());
  const claims = async (eventId: string): Promise<ClaimView[]> => (await (await fetch(`${lv.url}/api/v1/events/${eventId}/claims`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as ClaimView[];
  await until('the delivered period claimed', async () => (await scheduler.tick(), lv.ledger.mapping.event('evt-ran')?.claimsSubmitted === true), 60_000);
  t.assert.deepEqual((await claims('evt-ran')).map((c) => [c.claimId, c.status, c.customers, c.missing, c.powerW]), [[`evt-ran:s${slot}`, 'recorded', 1, 0, 1200]]);
  t.assert.deepEqual(await claims('evt-early'), [], 'no period of it ended while it was on');
  t.assert.deepEqual(await lv.port.submitClaims?.('evt-early'), { state: 'none', reason: 'event evt-early was cancelled before any of its metering periods ended', submitted: 0 });
  // Nothing more once the rest of the window and the day have passed.
  lv.clock.set((await lv.ledger.mapping.dayClosesAt(day)) + 1);
  await scheduler.tick();
  t.assert.equal((await claims('evt-ran')).length, 1);
  await t.assert.rejects(lv.ledger.ledger.evaluate(lv.ledger.identities.operator, 'queryFlexibility', [`evt-ran:s${slot + 1}`]), /NOT_FOUND/, 'the period under way at the cancellation is not claimed');
});
