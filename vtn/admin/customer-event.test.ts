/**
 * The admin endpoints behind the dashboard's event and ledger pages, over HTTP with the embedded
 * ledger: a customer's day of an event (`GET /customers/{id}/events/{eventId}`), the contract's
 * record of an event (`GET /events/{id}/ledger`) and the ledger's verification
 * (`POST /ledger/verify`), with who may read what.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_DAY } from '../../chaincode/testing/reference-scenario.ts';
import { startLedgerVtn } from '../testing/ledger-vtn.ts';

const TOKEN = 'test-operator-token-0123456789';
const CUSTOMER = 'smartmeter:A';
/** 17:00 in Rome (CEST) on the event day: contract slots 68–71. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);

test("a customer's event day, the event's totals on the ledger, verification; retailers and read-only tokens", async (t) => {
  const { url, ledger } = await startLedgerVtn(t, { prefix: 'oadr-vtn-customer-event-', start: Date.parse(`${EVENT_DAY}T12:00:00Z`), customerId: CUSTOMER, adminToken: TOKEN });
  const call = async (path: string, o: { method?: string; token?: string; body?: unknown } = {}) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: o.method ?? 'GET',
      headers: { authorization: `Bearer ${o.token ?? TOKEN}`, ...(o.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const created = await call('/events', { method: 'POST', body: { start: new Date(START).toISOString(), slots: 4, reductionW: [100, 200, 300, 100_000], targets: 'all' } });
  t.assert.equal(created.status, 201);
  const eventId = (created.json.event as unknown as { eventId: string }).eventId;
  const opr = (JSON.parse(await ledger.ledger.evaluate(ledger.identities.operator, 'queryLoadReduction', [eventId, CUSTOMER])) as { oprW: number[] }).oprW;

  const day = await call(`/customers/${encodeURIComponent(CUSTOMER)}/events/${eventId}`);
  t.assert.equal(day.status, 200);
  const d = day.json as unknown as { date: string; window: number[]; oprW: number[]; targetW: number[]; baselineW: number[]; measuredW: unknown[]; slotStarts: string[]; availability: number[]; tokensMilli: null; totalTokensMilli: null };
  t.assert.equal(d.date, EVENT_DAY);
  t.assert.deepEqual(d.window, [68, 69, 70, 71]);
  t.assert.deepEqual(d.oprW, opr, 'the OPR on the ledger');
  t.assert.equal(d.baselineW.length, 96);
  t.assert.deepEqual(d.targetW, d.window.map((slot, k) => (d.baselineW[slot] ?? 0) - (d.oprW[k] ?? 0)), 'target = baseline − OPR');
  t.assert.equal(d.slotStarts[68], new Date(START).toISOString());
  t.assert.deepEqual([d.measuredW.length, d.availability.length, new Set(d.availability).size, d.availability[0]], [96, 96, 1, 0.5], 'no event applied yet: A = 0.5 everywhere');
  t.assert.deepEqual([d.tokensMilli, d.totalTokensMilli], [null, null], 'no tokens before settlement');

  // One customer cannot take 100 kW: the rest is unallocated, and says so.
  const totals = await call(`/events/${eventId}/ledger`);
  t.assert.equal(totals.status, 200);
  const requestW = totals.json.requestW as unknown as number[];
  t.assert.deepEqual(requestW, [100, 200, 300, 100_000]);
  t.assert.deepEqual(totals.json.unallocatedW, requestW.map((w, k) => w - (opr[k] ?? 0)));
  assert.ok(((totals.json.unallocatedW as unknown as number[])[3] ?? 0) > 0);

  t.assert.equal((await call(`/events/nope/ledger`)).status, 404);
  t.assert.equal((await call(`/customers/${encodeURIComponent(CUSTOMER)}/events/nope`)).status, 404);

  // A retailer sees its own customers' part, not the event's totals nor another retailer's customer.
  const retailer = await call('/tokens', { method: 'POST', body: { role: 'retailer', name: 'r', retailerId: 'other-retailer' } });
  const readOnly = await call('/tokens', { method: 'POST', body: { role: 'read-only', name: 'ro' } });
  const rt = retailer.json.token as unknown as string;
  const ro = readOnly.json.token as unknown as string;
  t.assert.equal((await call(`/events/${eventId}/ledger`, { token: rt })).status, 403);
  t.assert.equal((await call(`/customers/${encodeURIComponent(CUSTOMER)}/events/${eventId}`, { token: rt })).status, 404);
  t.assert.equal((await call(`/events/${eventId}/ledger`, { token: ro })).status, 200);

  // Verification: an operator's act (it reads the whole ledger); the report counts every block.
  t.assert.equal((await call('/ledger/verify', { method: 'POST', token: ro })).status, 403);
  const verified = await call('/ledger/verify', { method: 'POST' });
  t.assert.equal(verified.status, 200);
  const height = (await call('/ledger/blocks?limit=1')).json as unknown as Array<{ number: number }>;
  t.assert.equal(verified.json.blocks, (height[0]?.number ?? -1) + 1);
  t.assert.equal(typeof verified.json.ok, 'boolean');
  assert.ok(Array.isArray(verified.json.problems));
});
