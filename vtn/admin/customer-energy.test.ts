/**
 * The read side of the meter data on the ledger (`GET /api/v1/customers/{id}/energy?date=`), and a
 * customer whose VEN has no site meter: it offers no TELEMETRY_USAGE, the VTN requests none, the
 * customer view says so, and settlement uses the imported meter data alone. Over HTTP with the
 * embedded ledger.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { tempDataDir } from '../../ledger-bridge/testing/embedded.ts';
import type { Payload, ReportInterval } from '../../oadr/index.ts';
import type { LedgerEventView } from '../services/event-service.ts';
import { openVtnLedger } from '../ledger/embedded.ts';
import { createMappingLedgerPort } from '../ledger/mapping-port.ts';
import { call, createTestClock, drain, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

const TOKEN = 'test-operator-token-0123456789';
const MIN = 60_000;
const SLOT = 15 * MIN;
/** 17:00 in Rome (CEST) on the event day: slot 68. */
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);
const A = 'cust-a'; // site meter: offers TELEMETRY_USAGE
const B = 'cust-b'; // no site meter: TELEMETRY_STATUS only
const C = 'cust-c'; // no VEN

async function get(base: string, path: string, token = TOKEN) {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** What a VEN without a site meter registers: TELEMETRY_STATUS only. */
const statusOnly = (venId: string): Payload => ({
  type: 'RegisterReport',
  schemaVersion: '2.0b',
  requestId: 'rq-m',
  venId,
  reports: [{
    duration: 'PT24H',
    descriptions: [{ rId: 'status', reportType: 'x-resourceStatus', readingType: 'x-notApplicable', samplingRate: { minPeriod: 'PT1M', maxPeriod: 'PT1H', onChange: false } }],
    reportRequestId: '0',
    reportSpecifierId: 'status-spec',
    reportName: 'METADATA_TELEMETRY_STATUS',
    createdDateTime: new Date(START).toISOString(),
  }],
});

function usage(venId: string, reportRequestId: string, fromMs: number, watts: number, slots: number): Payload {
  const intervals: ReportInterval[] = Array.from({ length: slots }, (_, i) => ({ dtstart: new Date(fromMs + i * SLOT).toISOString(), duration: 'PT15M', uid: String(i), payloads: [{ rId: 'usage', value: { type: 'float', value: watts } }] }));
  return { type: 'UpdateReport', schemaVersion: '2.0b', requestId: 'rq-up', venId, reports: [{ dtstart: new Date(fromMs).toISOString(), intervals, reportRequestId, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: new Date(fromMs + slots * SLOT).toISOString() }] };
}

test('interop 11 + interop 10: the energy view shows measured, imported and missing slots, retailer-scoped; a VEN without a site meter gets no usage request and its customer settles from imported data', async (t) => {
  const dir = tempDataDir('oadr-vtn-energy-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T12:00:00Z`));
  const vl = await openVtnLedger({ dataDir: join(dir, 'data'), clock: () => new Date(clock.now()) });
  t.after(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  const { url, vtn } = await startTestVtn(t, { registrationPolicy: 'enrolled-only' }, { ledger: port, clock, adminToken: TOKEN });
  const admin = vtn.adminUrl() ?? url;
  for (const [customerId, h, retailer] of [[A, 1, 'retail-a'], [B, 2, 'retail-b']] as const) {
    vtn.customers.enrol({ customerId, venName: customerId });
    vtn.store.putCustomer({ ...(vtn.customers.get(customerId) as NonNullable<ReturnType<typeof vtn.customers.get>>), retailer });
    await port.importEnergy?.(customerId, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(h, i + 1).map((w) => w / 4) })));
  }
  vtn.customers.enrol({ customerId: C, venName: C });

  const a = await registerVen(url, A);
  const b = await registerVen(url, B);
  const rrA = (await call(url, 'EiReport', ven.telemetryMetadata(a.venId, { minPeriod: 'PT1M' }), 'RegisteredReport')).reportRequests?.[0]?.reportRequestId ?? '';
  const registeredB = await call(url, 'EiReport', statusOnly(b.venId), 'RegisteredReport');
  t.assert.deepEqual((registeredB.reportRequests ?? []).map((r) => r.specifier.reportSpecifierId), ['status-spec'], 'no usage is requested from a VEN that offers none');
  t.assert.deepEqual(vtn.reports.requests(b.venId).map((r) => r.reportName), ['TELEMETRY_STATUS']);

  // The customer view says where each customer's telemetry stands.
  const view = async (id: string) => (await get(admin, `/api/v1/customers/${id}`)).json.usageTelemetry as { state: string; settledFrom: string };
  t.assert.deepEqual(await view(A), { state: 'requested', venId: a.venId, settledFrom: 'telemetry and imported meter data' });
  t.assert.deepEqual(await view(B), { state: 'not-offered', venId: b.venId, settledFrom: 'imported meter data only' });
  t.assert.deepEqual(await view(C), { state: 'no-ven', settledFrom: 'imported meter data only' });

  // An event for both; A reports its two slots, B's meter data comes from the data hub.
  const created = (await vtn.events.create({ eventId: 'ev-e', start: START, slots: 2, reductionW: 200, targets: { customerIds: [A, B] } })) as LedgerEventView;
  await drain(url, a.venId);
  await drain(url, b.venId);
  const oprB = created.vens.find((v) => v.customerId === B)?.oprW ?? [];
  clock.set(START + 2 * SLOT + MIN);
  t.assert.equal((await call(url, 'EiReport', usage(a.venId, rrA, START, 150, 2), 'UpdatedReport')).response.code, 200);
  await vtn.ledgerOutbox?.drain();
  const yesterday = addDaysUtc(EVENT_DAY, -1);
  const history = await get(admin, `/api/v1/customers/${A}/energy?date=${yesterday}`);
  t.assert.equal(history.status, 200);
  t.assert.deepEqual([history.json.measured, history.json.imported, history.json.missing], [0, 96, 0]);
  const today = await get(admin, `/api/v1/customers/${A}/energy?date=${EVENT_DAY}`);
  const slots = today.json.slots as Array<{ slot: number; start: string; watts: number | null; source: string }>;
  t.assert.deepEqual(slots.filter((s) => s.source !== 'missing'), [
    { slot: 68, start: new Date(START).toISOString(), watts: 150, source: 'measured' },
    { slot: 69, start: new Date(START + SLOT).toISOString(), watts: 150, source: 'measured' },
  ]);
  t.assert.deepEqual([today.json.measured, today.json.imported, today.json.missing, slots.length], [2, 0, 94, 96]);

  // B: the day's meter data imported (its baseline day profile less its OPR in the event's slots).
  const dayB = profile(2, 7).map((w, i) => (i === 68 || i === 69 ? w - (oprB[i - 68] ?? 0) : w));
  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  await port.importEnergy?.(B, [{ date: EVENT_DAY, valuesWh: dayB.map((w) => w / 4) }]);
  const energyB = await get(admin, `/api/v1/customers/${B}/energy?date=${EVENT_DAY}`);
  t.assert.deepEqual([energyB.json.measured, energyB.json.imported, energyB.json.missing], [0, 96, 0]);
  const s = await vtn.events.settle('ev-e');
  t.assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
  assert.ok((s.rewardsMilli.get(B) ?? 0) > 0, 'B, settled from imported meter data only, earns tokens');

  // Retailer scope, bad input, the OpenAPI document.
  const rt = (await fetch(`${admin}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'retailer', name: 'ra', retailerId: 'retail-a' }) }).then((r) => r.json())) as { token: string };
  t.assert.equal((await get(admin, `/api/v1/customers/${A}/energy?date=${EVENT_DAY}`, rt.token)).status, 200);
  t.assert.equal((await get(admin, `/api/v1/customers/${B}/energy?date=${EVENT_DAY}`, rt.token)).status, 404, "another retailer's customer is unknown");
  t.assert.equal((await get(admin, `/api/v1/customers/${A}/energy?date=yesterday`)).status, 400);
  t.assert.equal((await get(admin, `/api/v1/customers/${A}/energy`)).status, 400);
  const doc = (await (await fetch(`${admin}/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  assert.ok(doc.paths['/api/v1/customers/{customerId}/energy']?.get !== undefined, 'in the OpenAPI document');
});
