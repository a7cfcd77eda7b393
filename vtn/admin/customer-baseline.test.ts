/**
 * `GET /api/v1/customers/{id}/baseline` for a day without a baseline says why, from the contract:
 * the day's kind, how many complete days without a DR event it needs (21 before a weekday, 14
 * before a weekend day), how many the ledger holds, how many are missing. The history arrives as
 * docs/vtn.md's worked example sends it: `POST /customers/{id}/energy` with days of 96 Wh values.
 * Over HTTP with the embedded ledger.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import { openVtnLedger } from '../ledger/embedded.ts';
import { createMappingLedgerPort } from '../ledger/mapping-port.ts';
import { createTestClock, startTestVtn } from '../testing/fake-ven.ts';

const TOKEN = 'test-operator-token-0123456789';
const WEEKEND_DAY = '2025-06-14'; // a Saturday: LowXofY, X = 14

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** `n` days of history ending the day before `day`, oldest first, as the import body carries them. */
const history = (day: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ date: addDaysUtc(day, -(from + n - i)), valuesWh: profile(1, from + n - i).map((w) => w / 4) }));

test('baseline: a day without one says its kind, the complete days it needs, those found and those missing; enough history says it is recorded with the first event', async (t) => {
  const dir = tempDataDir('oadr-vtn-baseline-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${WEEKEND_DAY}T12:00:00Z`));
  const vl = await openVtnLedger({ dataDir: join(dir, 'data'), clock: () => new Date(clock.now()) });
  t.after(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  const { url } = await startTestVtn(t, {}, { ledger: port, clock, adminToken: TOKEN });
  t.assert.equal((await call(url, 'POST', '/api/v1/customers', { customerId: 'cust-1', meterId: 'IT001E00000001' })).status, 201);

  const baseline = async (day: string) => {
    const r = await call(url, 'GET', `/api/v1/customers/cust-1/baseline?date=${day}`);
    t.assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.baseline as Record<string, unknown>;
  };
  const shortfall = (b: Record<string, unknown>) => [b.found, b.dayKind, b.daysNeeded, b.daysFound, b.daysMissing];

  // Nothing imported yet: the meter has no data on the ledger.
  let b = await baseline(EVENT_DAY);
  t.assert.deepEqual(shortfall(b), [false, 'weekday', 21, 0, 21]);
  t.assert.match(String(b.reason), /^no baseline yet: 2025-06-11 is a weekday: its baseline averages the 21 highest-energy of the last 35 complete days \(96 slots\) without a DR event before it; the ledger holds 0: import 21 more complete days of meter history before 2025-06-11/);

  // Ten days imported through the admin API.
  t.assert.equal((await call(url, 'POST', '/api/v1/customers/cust-1/energy', { days: history(EVENT_DAY, 0, 10) })).status, 200);
  b = await baseline(EVENT_DAY);
  t.assert.deepEqual(shortfall(b), [false, 'weekday', 21, 10, 11]);
  t.assert.match(String(b.reason), /the ledger holds 10: import 11 more complete days/);
  // A Saturday three days later counts the same ten days and needs 14.
  t.assert.deepEqual(shortfall(await baseline(WEEKEND_DAY)), [false, 'weekend', 14, 10, 4]);

  // The rest of the 35 days: enough history; the baseline is recorded when an event for the day is created.
  t.assert.equal((await call(url, 'POST', '/api/v1/customers/cust-1/energy', { days: history(EVENT_DAY, 10, 25) })).status, 200);
  b = await baseline(EVENT_DAY);
  t.assert.deepEqual(shortfall(b), [false, 'weekday', 21, 21, 0]);
  t.assert.match(String(b.reason), /the ledger holds enough of them: the baseline is recorded when an event for that day is created$/);
});
