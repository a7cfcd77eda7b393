import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import type { EnergyDay, LedgerPort } from '../ledger/port.ts';
import { registerVen, startTestVtn } from '../testing/fake-ven.ts';
import { createVtn } from '../vtn.ts';

const TOKEN = 'test-operator-token-0123456789';

async function api(url: string, method: string, path: string, o: { token?: string | null; body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? TOKEN : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (o.body !== undefined || o.raw !== undefined) {
    headers['content-type'] = o.type ?? 'application/json';
    body = o.raw ?? JSON.stringify(o.body);
  }
  const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
  return { status: res.status, type, headers: res.headers, json: type.includes('json') && text !== '' ? (JSON.parse(text) as Record<string, unknown>) : undefined, text };
}

test('admin auth: no token or an unknown token gets 401 problem+json with a request id; tokens are stored as SHA-256 only', async (t) => {
  const { url, vtn } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const none = await api(url, 'GET', '/api/v1/programs', { token: null });
  t.assert.equal(none.status, 401);
  t.assert.equal(none.type, 'application/problem+json');
  t.assert.equal(none.json?.status, 401);
  t.assert.equal(none.json?.instance, '/api/v1/programs');
  assert.ok(typeof none.json?.requestId === 'string' && none.json.requestId !== '');
  t.assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="oadr-ledger"');
  t.assert.equal((await api(url, 'GET', '/api/v1/programs', { token: 'wrong-token-wrong-token' })).status, 401);
  const ok = await api(url, 'GET', '/api/v1/programs');
  t.assert.equal(ok.status, 200);
  t.assert.equal((ok.json as unknown as Array<{ id: string }>)[0]?.id, 'default');
  const stored = vtn.store.listAdminTokens();
  t.assert.equal(stored.length, 1);
  t.assert.equal(stored[0]?.hash, createHash('sha256').update(TOKEN).digest('hex'));
  assert.ok(!JSON.stringify(stored).includes(TOKEN));
});

test('admin roles: a read-only token reads but may not write (403); a retailer manages customers but not events; tokens can be revoked', async (t) => {
  const { url } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const ro = await api(url, 'POST', '/api/v1/tokens', { body: { role: 'read-only', name: 'dashboard' } });
  t.assert.equal(ro.status, 201);
  const roToken = ro.json?.token as string;
  t.assert.equal((await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: 'retailer-x' } })).status, 422, 'a retailer token names its retailer');
  t.assert.equal((await api(url, 'POST', '/api/v1/tokens', { body: { role: 'read-only', name: 'x', retailerId: 'retail-x' } })).status, 422);
  const rt = await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: 'retailer-x', retailerId: 'retail-x' } });
  t.assert.equal(rt.json?.retailerId, 'retail-x');
  const rtToken = rt.json?.token as string;
  t.assert.equal((await api(url, 'GET', '/api/v1/customers', { token: roToken })).status, 200);
  const denied = await api(url, 'POST', '/api/v1/customers', { token: roToken, body: { customerId: 'c1' } });
  t.assert.equal(denied.status, 403);
  t.assert.equal(denied.type, 'application/problem+json');
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { token: rtToken, body: { customerId: 'c1', venName: 'house-1' } })).status, 201);
  t.assert.equal((await api(url, 'POST', '/api/v1/events', { token: rtToken, body: { start: '2030-01-15T13:00:00Z', slots: 1, perCustomerReductionW: { c1: 100 } } })).status, 403);
  t.assert.equal((await api(url, 'GET', '/api/v1/tokens', { token: rtToken })).status, 403);
  const list = await api(url, 'GET', '/api/v1/tokens');
  t.assert.equal((list.json as unknown as unknown[]).length, 3);
  assert.ok(!list.text.includes(roToken), 'listed tokens never show the token');
  t.assert.equal((await api(url, 'DELETE', `/api/v1/tokens/${ro.json?.tokenId as string}`)).status, 204);
  t.assert.equal((await api(url, 'GET', '/api/v1/customers', { token: roToken })).status, 401);
});

test('admin customers: schema validation (400 problem), enrol (201), duplicate (409), change keeps the other fields, unknown (404)', async (t) => {
  const { url } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const bad = await api(url, 'POST', '/api/v1/customers', { body: { meterId: 'IT001' } });
  t.assert.equal(bad.status, 400);
  t.assert.equal(bad.type, 'application/problem+json');
  assert.ok(Array.isArray(bad.json?.errors));
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { raw: '{not json' })).status, 400);
  const created = await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c1', meterId: 'IT001E0001', venName: 'house-1', retailer: 'retail-a' } });
  t.assert.equal(created.status, 201);
  t.assert.equal(created.json?.meterId, 'IT001E0001');
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c1' } })).status, 409);
  const changed = await api(url, 'PUT', '/api/v1/customers/c1', { body: { retailer: 'retail-b' } });
  t.assert.equal(changed.status, 200);
  t.assert.deepEqual([changed.json?.meterId, changed.json?.venName, changed.json?.retailer], ['IT001E0001', 'house-1', 'retail-b']);
  t.assert.equal((await api(url, 'GET', '/api/v1/customers/c1')).json?.retailer, 'retail-b');
  const missing = await api(url, 'GET', '/api/v1/customers/nobody');
  t.assert.equal(missing.status, 404);
  t.assert.equal(missing.json?.type, 'urn:oadr-ledger:problem:not-found');
  t.assert.equal((await api(url, 'GET', '/api/v1/no-such-thing')).status, 404);
});

test('admin strict bodies: unknown fields are refused (400 naming each, nested ones by path), nothing is written; on the admin port too', async (t) => {
  for (const config of [{}, { adminPort: 0 }]) {
    const { url, vtn } = await startTestVtn(t, config, { adminToken: TOKEN });
    const base = vtn.adminUrl() ?? url;
    const flat = await api(base, 'POST', '/api/v1/customers', { body: { customerId: 'c1', colour: 'red' } });
    t.assert.equal(flat.status, 400);
    t.assert.match(String(flat.json?.detail), /^unknown field body\.colour: /);
    t.assert.equal((await api(base, 'GET', '/api/v1/customers/c1')).status, 404, 'nothing enrolled');
    const two = await api(base, 'POST', '/api/v1/programs', { body: { id: 'p2', colour: 'red', size: 3 } });
    t.assert.equal(two.status, 400);
    t.assert.match(String(two.json?.detail), /^unknown fields body\.colour, body\.size: /);
    const nested = await api(base, 'POST', '/api/v1/events', { body: { start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 15, perVenReductionW: { 'ven-1': 100 }, targets: { customerIds: ['c1'], feeder: 'f1' } } });
    t.assert.equal(nested.status, 400);
    t.assert.match(String(nested.json?.detail), /body\.targets\.feeder/);
    t.assert.equal((await api(base, 'POST', '/api/v1/customers', { body: { customerId: 'c1' } })).status, 201, 'the same body without them is taken');
  }
});

test('admin history: POST /vens/:venId/history asks a VEN for HISTORY_USAGE (409 without the offer, 422 for a future span, 400 without from/to, 404 unknown VEN)', async (t) => {
  const { url, clock } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const { venId } = await registerVen(url, 'ven-h');
  const span = { from: new Date(clock.now() - 7_200_000).toISOString(), to: new Date(clock.now() - 3_600_000).toISOString() };
  const none = await api(url, 'POST', `/api/v1/vens/${venId}/history`, { body: span });
  t.assert.equal(none.status, 409);
  assert.match(String(none.json?.detail), /offers no METADATA_HISTORY_USAGE/);
  t.assert.equal((await api(url, 'POST', `/api/v1/vens/${venId}/history`, { body: { ...span, to: new Date(clock.now() + 60_000).toISOString() } })).status, 422);
  t.assert.equal((await api(url, 'POST', `/api/v1/vens/${venId}/history`, { body: { from: span.from } })).status, 400);
  t.assert.equal((await api(url, 'POST', '/api/v1/vens/nobody/history', { body: span })).status, 404);
});

test('admin VENs and events: list VENs, create an event per customer, read it per VEN, modify, cancel', async (t) => {
  const { url, clock } = await startTestVtn(t, { registrationPolicy: 'enrolled-only' }, { adminToken: TOKEN });
  await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c1', venName: 'house-1' } });
  const { venId } = await registerVen(url, 'house-1');
  const vens = await api(url, 'GET', '/api/v1/vens');
  t.assert.equal((vens.json as unknown as Array<{ venId: string; customerId: string }>)[0]?.customerId, 'c1');
  t.assert.equal((await api(url, 'GET', `/api/v1/vens/${venId}`)).json?.venId, venId);
  const start = new Date(clock.now() + 3_600_000).toISOString();
  const created = await api(url, 'POST', '/api/v1/events', { body: { eventId: 'dr-1', start, durationMinutes: 30, perCustomerReductionW: { c1: [400, 500] } } });
  t.assert.equal(created.status, 201, created.text);
  const view = (await api(url, 'GET', '/api/v1/events/dr-1')).json as { event: { modificationNumber: number }; vens: Array<{ venId: string; values: Record<string, number[]> }> };
  t.assert.equal(view.vens[0]?.venId, venId);
  t.assert.deepEqual(view.vens[0]?.values['load-dispatch'], [-400, -500]);
  const modified = await api(url, 'PATCH', '/api/v1/events/dr-1', { body: { perVenReductionW: { [venId]: 300 } } });
  t.assert.equal(modified.status, 200, modified.text);
  t.assert.equal((modified.json as { event: { modificationNumber: number } }).event.modificationNumber, 1);
  // Targets and schedule: a second VEN added with its values, two more intervals; a ledger-only field refused.
  await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c2', venName: 'house-2' } });
  const second = await registerVen(url, 'house-2');
  const grown = await api(url, 'PATCH', '/api/v1/events/dr-1', { body: { addVenIds: [second.venId], slots: 4, perVenReductionW: { [venId]: 300, [second.venId]: [100, 100, 200, 200] } } });
  t.assert.equal(grown.status, 200, grown.text);
  const grownView = grown.json as { event: { modificationNumber: number; venIds: string[]; intervalsMs: number[] } };
  t.assert.deepEqual([grownView.event.modificationNumber, grownView.event.venIds.length, grownView.event.intervalsMs.length], [2, 2, 4]);
  const shrunk = await api(url, 'PATCH', '/api/v1/events/dr-1', { body: { removeVenIds: [second.venId] } });
  t.assert.equal((shrunk.json as { vens: Array<{ venId: string; removed: boolean }> }).vens.find((v) => v.venId === second.venId)?.removed, true);
  const wrong = await api(url, 'PATCH', '/api/v1/events/dr-1', { body: { targets: 'all', perVenReductionW: { [venId]: 300 } } });
  t.assert.equal(wrong.status, 422, wrong.text);
  t.assert.match(wrong.text, /go with reductionW/);
  t.assert.equal((await api(url, 'POST', '/api/v1/events/dr-1/cancel', { body: { reason: 'grid ok' } })).status, 200);
  t.assert.equal(((await api(url, 'GET', '/api/v1/events')).json as unknown as Array<{ event: { cancelled: boolean } }>)[0]?.event.cancelled, true);
  const past = await api(url, 'POST', '/api/v1/events', { body: { start: '2020-01-01T00:00:00Z', slots: 1, perVenReductionW: { [venId]: 1 } } });
  t.assert.equal(past.status, 409);
  const noVen = await api(url, 'POST', '/api/v1/events', { body: { start, slots: 1, perCustomerReductionW: { nobody: 1 } } });
  t.assert.equal(noVen.status, 404);
  t.assert.equal((await api(url, 'GET', `/api/v1/vens/${venId}/reports`)).status, 200);
  t.assert.equal((await api(url, 'GET', `/api/v1/vens/${venId}/availability`)).json?.available, true);
});

test('admin ledger endpoints: 501 problem without the port methods; energy import forwards days of 96 values', async (t) => {
  const imported: Array<[string, readonly EnergyDay[]]> = [];
  const bare: LedgerPort = { notifyEvent: async () => new Map(), recordOpt: async () => {}, recordTelemetry: async () => {} };
  const a = await startTestVtn(t, {}, { adminToken: TOKEN, ledger: bare });
  await api(a.url, 'POST', '/api/v1/customers', { body: { customerId: 'c1' } });
  const day = { date: '2030-01-14', valuesWh: new Array<number>(96).fill(120) };
  const no = await api(a.url, 'POST', '/api/v1/customers/c1/energy', { body: { days: [day] } });
  t.assert.equal(no.status, 501);
  t.assert.equal(no.type, 'application/problem+json');
  t.assert.equal((await api(a.url, 'GET', '/api/v1/customers/c1/tokens')).status, 501);
  t.assert.equal((await api(a.url, 'GET', '/api/v1/ledger/blocks')).status, 501);

  const b = await startTestVtn(t, {}, { adminToken: TOKEN, ledger: { ...bare, importEnergy: async (c, days) => void imported.push([c, days]), tokenBalance: async () => 1234 } });
  await api(b.url, 'POST', '/api/v1/customers', { body: { customerId: 'c1' } });
  t.assert.equal((await api(b.url, 'POST', '/api/v1/customers/c1/energy', { body: { days: [{ ...day, valuesWh: day.valuesWh.slice(1) }] } })).status, 400, '95 values');
  const ok = await api(b.url, 'POST', '/api/v1/customers/c1/energy', { body: { days: [day, { ...day, date: '2030-01-13' }] } });
  t.assert.equal(ok.status, 200, ok.text);
  t.assert.deepEqual(imported.map(([c, d]) => [c, d.map((x) => x.date)]), [['c1', ['2030-01-14', '2030-01-13']]]);
  t.assert.equal((await api(b.url, 'GET', '/api/v1/customers/c1/tokens')).json?.balance, 1234);
  t.assert.equal((await api(b.url, 'POST', '/api/v1/customers/nobody/energy', { body: { days: [day] } })).status, 404);
});

test('admin docs: /docs/openapi.json is an OpenAPI 3.1 document of every route with its request schema; /docs is HTML', async (t) => {
  const { url } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const doc = await api(url, 'GET', '/docs/openapi.json', { token: null });
  t.assert.equal(doc.status, 200);
  t.assert.equal(doc.json?.openapi, '3.1.0');
  const paths = doc.json?.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
  t.assert.deepEqual(paths['/api/v1/customers']?.post?.requestBody?.content['application/json']?.schema.required, ['customerId']);
  assert.ok(paths['/api/v1/events/{eventId}']?.patch !== undefined);
  assert.ok(paths['/api/v1/customers/{customerId}/energy']?.post !== undefined);
  const html = await api(url, 'GET', '/docs', { token: null });
  t.assert.equal(html.status, 200);
  assert.ok(html.type.startsWith('text/html') && html.text.includes('/docs/openapi.json'));
});

test('admin token bootstrap: generated once at first start and handed to the hook; a restart generates none', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-admin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seen: string[] = [];
  const first = createVtn({ config: { dataDir: dir }, onAdminTokenGenerated: (tok) => void seen.push(tok) });
  const url = await first.listen({ host: '127.0.0.1', port: 0 });
  t.assert.equal(seen.length, 1);
  t.assert.equal((await api(url, 'GET', '/api/v1/vens', { token: seen[0] ?? '' })).status, 200);
  await first.close();
  const second = createVtn({ config: { dataDir: dir }, onAdminTokenGenerated: (tok) => void seen.push(tok) });
  await second.close();
  t.assert.equal(seen.length, 1);
});

test('admin port: with adminPort the API, docs and metrics move to their own server; health stays on both', async (t) => {
  const { url, vtn } = await startTestVtn(t, { adminPort: 0 }, { adminToken: TOKEN });
  const admin = vtn.adminUrl();
  assert.ok(admin !== undefined && admin !== url);
  t.assert.equal((await api(admin, 'GET', '/api/v1/programs')).status, 200);
  t.assert.equal((await api(url, 'GET', '/api/v1/programs')).status, 404);
  t.assert.equal((await api(admin, 'GET', '/metrics', { token: null })).status, 200);
  t.assert.equal((await api(url, 'GET', '/healthz', { token: null })).status, 200);
  t.assert.equal((await api(admin, 'GET', '/healthz', { token: null })).status, 200);
});

test('admin programs: create (201), validated (400/422), duplicate (409), change (operator only), used by new events, kept across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-programs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = { dataDir: dir, registrationPolicy: 'enrolled-only' as const, programs: [{ id: 'default' }, { id: 'peak', priority: 2 }] };
  const first = await startTestVtn(t, config, { adminToken: TOKEN });
  const url = first.url;
  const created = await api(url, 'POST', '/api/v1/programs', { body: { id: 'winter', marketContext: 'http://utility.example/programs/winter', signals: ['LOAD_DISPATCH', 'SIMPLE'], simpleLevel: 2 } });
  t.assert.equal(created.status, 201, created.text);
  t.assert.deepEqual([created.json?.slotMs, created.json?.priority, created.json?.simpleLevel], [900_000, 1, 2], 'defaults filled in');
  t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id: 'winter' } })).status, 409);
  t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id: 'bad id!' } })).status, 400);
  t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id: 'x', signals: ['PRICE'] } })).status, 400);
  const notUri = await api(url, 'POST', '/api/v1/programs', { body: { id: 'x', marketContext: 'not a uri' } });
  t.assert.equal(notUri.status, 422);
  assert.match(String(notUri.json?.detail), /marketContext must be an absolute URI/);
  t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id: 'x', marketContext: 'http://utility.example/programs/winter' } })).status, 422, 'one market context per program');
  t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id: 'x', reportGranularityMs: 1500 } })).status, 422, 'whole seconds');
  const ro = (await api(url, 'POST', '/api/v1/tokens', { body: { role: 'read-only', name: 'ro' } })).json?.token as string;
  t.assert.equal((await api(url, 'PUT', '/api/v1/programs/winter', { token: ro, body: { priority: 3 } })).status, 403);
  const changed = await api(url, 'PUT', '/api/v1/programs/peak', { body: { notificationMs: 600_000 } });
  t.assert.equal(changed.status, 200, changed.text);
  t.assert.deepEqual([changed.json?.priority, changed.json?.notificationMs], [2, 600_000], 'the other fields stay');
  t.assert.equal((await api(url, 'PUT', '/api/v1/programs/nope', { body: { priority: 3 } })).status, 404);
  // A new event of the program carries its market context and SIMPLE level.
  await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c1', venName: 'house-1', programId: 'winter' } });
  const { venId } = await registerVen(url, 'house-1');
  const start = new Date(first.clock.now() + 3_600_000).toISOString();
  const ev = await api(url, 'POST', '/api/v1/events', { body: { eventId: 'w-1', programId: 'winter', start, slots: 1, perVenReductionW: { [venId]: 300 } } });
  t.assert.equal(ev.status, 201, ev.text);
  const view = (await api(url, 'GET', '/api/v1/events/w-1')).json as { event: { marketContext: string }; vens: Array<{ values: Record<string, number[]> }> };
  t.assert.equal(view.event.marketContext, 'http://utility.example/programs/winter');
  t.assert.deepEqual(view.vens[0]?.values.simple, [2]);
  await first.vtn.close();
  // After a restart: the created program and the change to the configured one are still there.
  const second = await startTestVtn(t, config, { adminToken: TOKEN });
  const list = (await api(second.url, 'GET', '/api/v1/programs')).json as unknown as Array<{ id: string; notificationMs: number }>;
  t.assert.deepEqual(list.map((p) => p.id), ['default', 'peak', 'winter']);
  t.assert.equal(list.find((p) => p.id === 'peak')?.notificationMs, 600_000);
  t.assert.equal(second.vtn.programs.defaultProgram().id, 'default');
});

test('admin programs: DELETE removes a program no pending event uses and no customer takes part in (409 otherwise, naming them); configured ones stay; gone after a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-programs-delete-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = { dataDir: dir, programs: [{ id: 'default' }] };
  const first = await startTestVtn(t, config, { adminToken: TOKEN });
  const url = first.url;
  for (const id of ['summer', 'spring']) t.assert.equal((await api(url, 'POST', '/api/v1/programs', { body: { id, marketContext: `http://utility.example/programs/${id}` } })).status, 201);
  const { venId } = await registerVen(url, 'house-1');
  const start = new Date(first.clock.now() + 3_600_000).toISOString();
  t.assert.equal((await api(url, 'POST', '/api/v1/events', { body: { eventId: 's-1', programId: 'summer', start, slots: 1, perVenReductionW: { [venId]: 300 } } })).status, 201);
  const used = await api(url, 'DELETE', '/api/v1/programs/summer');
  t.assert.equal(used.status, 409);
  assert.match(String(used.json?.detail), /used by 1 pending event \(s-1\)/);
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c-spring', programId: 'spring' } })).status, 201);
  const members = await api(url, 'DELETE', '/api/v1/programs/spring');
  t.assert.equal(members.status, 409);
  assert.match(String(members.json?.detail), /1 customer takes part in program 'spring' \(c-spring\)/);
  t.assert.equal((await api(url, 'DELETE', '/api/v1/programs/default')).status, 409, 'the configuration owns it');
  t.assert.equal((await api(url, 'DELETE', '/api/v1/programs/nope')).status, 404);
  const ro = (await api(url, 'POST', '/api/v1/tokens', { body: { role: 'read-only', name: 'ro' } })).json?.token as string;
  t.assert.equal((await api(url, 'DELETE', '/api/v1/programs/summer', { token: ro })).status, 403);
  // Once the event has ended the program can go.
  first.clock.advance(2 * 3_600_000);
  t.assert.equal((await api(url, 'DELETE', '/api/v1/programs/summer')).status, 204);
  t.assert.equal((await api(url, 'GET', '/api/v1/programs/summer')).status, 404);
  await first.vtn.close();
  const second = await startTestVtn(t, config, { adminToken: TOKEN });
  const list = (await api(second.url, 'GET', '/api/v1/programs')).json as unknown as Array<{ id: string }>;
  t.assert.deepEqual(list.map((p) => p.id), ['default', 'spring']);
});

test('admin contract parameters: GET / PUT /api/v1/ledger/params go to the ledger port (operator only); 501 without it', async (t) => {
  const calls: Array<Readonly<Record<string, unknown>>> = [];
  let params: Record<string, unknown> = { X: 21, Y: 30 };
  const bare: LedgerPort = { notifyEvent: async () => new Map(), recordOpt: async () => {}, recordTelemetry: async () => {} };
  const none = await startTestVtn(t, {}, { adminToken: TOKEN, ledger: bare });
  t.assert.equal((await api(none.url, 'GET', '/api/v1/ledger/params')).status, 501);
  const port: LedgerPort = { ...bare, contractParams: async () => params, setContractParams: async (p) => { calls.push(p); params = { ...params, ...p }; return params; } };
  const { url } = await startTestVtn(t, {}, { adminToken: TOKEN, ledger: port });
  t.assert.deepEqual((await api(url, 'GET', '/api/v1/ledger/params')).json, { X: 21, Y: 30 });
  const put = await api(url, 'PUT', '/api/v1/ledger/params', { body: { X: 10 } });
  t.assert.equal(put.status, 200, put.text);
  t.assert.deepEqual([calls, put.json], [[{ X: 10 }], { X: 10, Y: 30 }]);
  t.assert.equal((await api(url, 'PUT', '/api/v1/ledger/params', { body: {} })).status, 400);
  const ro = (await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: 'r', retailerId: 'retail-a' } })).json?.token as string;
  t.assert.equal((await api(url, 'PUT', '/api/v1/ledger/params', { token: ro, body: { X: 5 } })).status, 403);
});

test('admin retailer scope: a retailer token sees and manages only its own customers, their VENs and their part of events', async (t) => {
  const { url, clock } = await startTestVtn(t, { registrationPolicy: 'enrolled-only' }, { adminToken: TOKEN });
  const token = async (retailerId: string) => (await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: retailerId, retailerId } })).json?.token as string;
  const a = await token('retail-a');
  const b = await token('retail-b');
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'ca', venName: 'house-a' } })).json?.retailer, 'retail-a', 'its customers are its own');
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cx', retailer: 'retail-b' } })).status, 403, 'not another retailer\'s');
  await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cb', venName: 'house-b' } });
  const listed = async (tok: string, path: string) => ((await api(url, 'GET', path, { token: tok })).json as unknown as Array<Record<string, unknown>>);
  t.assert.deepEqual((await listed(a, '/api/v1/customers')).map((c) => c.customerId), ['retail-a:ca'], "in the retailer's own space");
  t.assert.deepEqual((await listed(TOKEN, '/api/v1/customers')).map((c) => c.customerId), ['retail-a:ca', 'retail-b:cb'], 'the operator sees all');
  t.assert.equal((await api(url, 'GET', '/api/v1/customers/retail-b:cb', { token: a })).status, 404, "another retailer's customer is as unknown as a missing one");
  t.assert.equal((await api(url, 'PUT', '/api/v1/customers/retail-b:cb', { token: a, body: { meterId: 'm' } })).status, 404);
  t.assert.equal((await api(url, 'POST', '/api/v1/customers/retail-b:cb/energy', { token: a, body: { days: [{ date: '2030-01-14', valuesWh: new Array(96).fill(1) }] } })).status, 404);
  const va = await registerVen(url, 'house-a');
  const vb = await registerVen(url, 'house-b');
  t.assert.deepEqual((await listed(a, '/api/v1/vens')).map((v) => v.venId), [va.venId]);
  t.assert.equal((await api(url, 'GET', `/api/v1/vens/${vb.venId}/telemetry`, { token: a })).status, 404);
  const start = new Date(clock.now() + 3_600_000).toISOString();
  t.assert.equal((await api(url, 'POST', '/api/v1/events', { body: { eventId: 'both', start, slots: 1, perCustomerReductionW: { 'retail-a:ca': 100, 'retail-b:cb': 200 } } })).status, 201);
  t.assert.equal((await api(url, 'POST', '/api/v1/events', { body: { eventId: 'b-only', start, slots: 1, perCustomerReductionW: { 'retail-b:cb': 200 } } })).status, 201);
  const seen = (await listed(a, '/api/v1/events')) as unknown as Array<{ event: { eventId: string; venIds: string[] }; vens: Array<{ venId: string }> }>;
  t.assert.deepEqual(seen.map((e) => [e.event.eventId, e.event.venIds, e.vens.map((v) => v.venId)]), [['both', [va.venId], [va.venId]]]);
  t.assert.equal((await api(url, 'GET', '/api/v1/events/b-only', { token: a })).status, 404);
  t.assert.equal(((await api(url, 'GET', '/api/v1/events/both')).json as { vens: unknown[] }).vens.length, 2);
});

test('admin body without content-type application/json: 415 saying what the content type was and what to send, on the shared and on the admin port', async (t) => {
  const { url, vtn } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const body = { customerId: 'c1', meterId: 'IT001E0001' };
  const form = await api(url, 'POST', '/api/v1/customers', { body, type: 'application/x-www-form-urlencoded' });
  t.assert.equal(form.status, 415);
  t.assert.equal(form.type, 'application/problem+json');
  t.assert.equal(form.json?.type, 'urn:oadr-ledger:problem:unsupported-media-type');
  t.assert.match(String(form.json?.detail), /content-type: application\/json, but its content-type is 'application\/x-www-form-urlencoded'/);
  // No content-type header at all (node:http sends none unless told).
  const bare = await new Promise<{ status: number; detail: string }>((resolve, reject) => {
    const req = httpRequest(`${url}/api/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-length': String(JSON.stringify(body).length) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, detail: String((JSON.parse(text) as { detail: string }).detail) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  t.assert.equal(bare.status, 415);
  t.assert.match(bare.detail, /it has no content-type header/);
  t.assert.equal(vtn.customers.get('c1'), undefined, 'nothing enrolled');
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body })).status, 201, 'the same body as JSON is taken');

  const sep = await startTestVtn(t, { adminPort: 0 }, { adminToken: TOKEN });
  const admin = sep.vtn.adminUrl() ?? '';
  const onPort = await api(admin, 'POST', '/api/v1/customers', { body, type: 'text/plain' });
  t.assert.equal(onPort.status, 415);
  t.assert.match(String(onPort.json?.detail), /content-type: application\/json, but its content-type is 'text\/plain'/);
});

test('admin 2.0a VENs (R506): POST /vens enrols one by venID and fingerprint (201), validated (400), unknown customer (404), taken certificate (409); in the OpenAPI document', async (t) => {
  const { url } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const fp = '3F:A9:11:0C:5D:E2:77:81:9B:04';
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c1' } })).status, 201);
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'c2' } })).status, 201);
  t.assert.equal((await api(url, 'POST', '/api/v1/vens', { body: { venId: 'v1', customerId: 'c1', profile: '2.0b', fingerprint: fp } })).status, 400, '2.0b VENs register themselves');
  t.assert.equal((await api(url, 'POST', '/api/v1/vens', { body: { venId: 'v1', customerId: 'c1', profile: '2.0a' } })).status, 400, 'the fingerprint is required');
  t.assert.equal((await api(url, 'POST', '/api/v1/vens', { body: { venId: 'v1', customerId: 'nobody', profile: '2.0a', fingerprint: fp } })).status, 404);
  const created = await api(url, 'POST', '/api/v1/vens', { body: { venId: 'v1', customerId: 'c1', profile: '2.0a', fingerprint: fp.toLowerCase() } });
  t.assert.equal(created.status, 201);
  t.assert.deepEqual([created.json?.venId, created.json?.profileName, created.json?.fingerprint, created.json?.httpPullModel], ['v1', '2.0a', fp, true]);
  t.assert.equal((await api(url, 'GET', '/api/v1/vens/v1')).json?.profileName, '2.0a');
  t.assert.equal((await api(url, 'POST', '/api/v1/vens', { body: { venId: 'v2', customerId: 'c2', profile: '2.0a', fingerprint: fp } })).status, 409);
  const doc = await api(url, 'GET', '/docs/openapi.json', { token: null });
  const post = (doc.json?.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>)['/api/v1/vens']?.post;
  t.assert.deepEqual(post?.requestBody?.content['application/json']?.schema.required, ['venId', 'customerId', 'profile', 'fingerprint']);
});
