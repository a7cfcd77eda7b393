/**
 * The VTN side of the bad-input suite: what an attacker on the network found against a running VTN
 * (two retailers with scoped tokens, VENs with valid certificates, anyone reaching the operations
 * endpoints) and what the VTN does now. Each test is named after its row in docs/security.md
 * ("The bad-input suite", VTN rows); real sockets on loopback, the embedded ledger where the ledger
 * is involved.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import * as tls from 'node:tls';
import pino from 'pino';
import { addDaysUtc, EVENT_DAY, profile } from '../chaincode/testing/reference-scenario.ts';
import { ATTR_ID, chainPem, createRootCa, decodeFabricAttributes, FABRIC_ATTRS_OID, issueClientCertificate, issueServerCertificate, parseCertificate } from '../certs/index.ts';
import { LedgerError } from '../ledger-bridge/index.ts';
import { decodeBlock } from '../ledger-bridge/embedded/block.ts';
import { openStore } from '../ledger-bridge/embedded/store.ts';
import { decodeTransaction } from '../ledger-bridge/fabric/fabric-messages.ts';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import { type Payload, type ReportInterval } from '../oadr/index.ts';
import { createVtn, type Vtn } from '../vtn/index.ts';
import { createSqliteStore } from '../vtn/store/sqlite-store.ts';
import type { VtnStore } from '../vtn/store/store.ts';
import { openVtnLedger } from '../vtn/ledger/embedded.ts';
import { createMappingLedgerPort, customerLookups } from '../vtn/ledger/mapping-port.ts';
import { checkPushAddress, guardedLookup, isInternalAddress, PushTargetRefusedError } from '../vtn/transports/push-target.ts';
import { createPushFetch } from '../vtn/tls/tls.ts';
import { SECURITY_EVENT } from '../vtn/tls/binding.ts';
import { ensureVtnPki } from '../vtn/tls/pki.ts';
import { METRIC } from '../vtn/operations/metrics.ts';
import { call, createTestClock, drain, post, recordingLogger, registerVen, startTestVtn, ven } from '../vtn/testing/fake-ven.ts';
import { startLedgerVtn } from '../vtn/testing/ledger-vtn.ts';
import { until } from './support/until.ts';
import type { LedgerEventView } from '../vtn/services/event-service.ts';

const TOKEN = 'operator-token-of-the-vtn-security-suite';
const V = '2.0b' as const;

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  readonly text: string;
}

async function api(base: string, method: string, path: string, o: { token?: string | null; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.token !== null) headers.authorization = `Bearer ${o.token ?? TOKEN}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }) });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** An admin token for a role (retailers speak for `retailerId`). */
async function token(base: string, role: 'retailer' | 'read-only' | 'operator', retailerId?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api(base, 'POST', '/api/v1/tokens', { body: { role, name: `${role}-${retailerId ?? 'x'}`, ...(retailerId === undefined ? {} : { retailerId }), ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json?.token as string;
}

/** `days` days of meter history before the event day (the reference profile of household `h`), Wh per slot. */
const history = (h: 1 | 2, days: number) => Array.from({ length: days }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(h, i + 1).map((w) => w / 4) }));

// ---- 13.2: a meter belongs to one customer ------------------------------------------------------

test('meter-of-another-customer: a retailer cannot bind a meter another customer holds; the answer does not say whose it is', async (t) => {
  const { url, vtn } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const a = await token(url, 'retailer', 'retailer-a');
  const b = await token(url, 'retailer', 'retailer-b');
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cB1', meterId: 'mB1' } })).status, 201);
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cA2' } })).status, 201);
  const before = JSON.stringify(vtn.customers.list());

  const put = await api(url, 'PUT', '/api/v1/customers/retailer-a:cA2', { token: a, body: { meterId: 'mB1' } });
  t.assert.equal(put.status, 422);
  t.assert.equal(String(put.json?.detail).includes('cB1'), false, 'the answer does not name the holder');
  // A customer id that is another customer's meter would write the same ledger meter; a retailer's
  // ids live in its own space (`retailer-a:mB1`), so only the operator can give one.
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'mB1' } })).status, 409);
  t.assert.equal(JSON.stringify(vtn.customers.list()), before, 'nothing changed');
  // The operator is told who holds it.
  const op = await api(url, 'PUT', '/api/v1/customers/retailer-a:cA2', { body: { meterId: 'mB1' } });
  t.assert.equal(op.status, 409);
  t.assert.match(String(op.json?.detail), /cB1/);
  // Control: a free meter binds.
  t.assert.equal((await api(url, 'PUT', '/api/v1/customers/retailer-a:cA2', { token: a, body: { meterId: 'mA2' } })).status, 200);
});

// ---- 13.3: blind SSRF through the push address -------------------------------------------------

test('push-address-ssrf: other schemes, loopback, link-local and private push addresses are refused at registration; retries are capped', async (t) => {
  const { url, vtn } = await startTestVtn(t, { push: { allowHttp: false, allowedHosts: [] } });
  const cases: Array<[string, number]> = [
    ['http://127.0.0.1:18499/internal-admin?x=', 454],
    ['file:///etc/passwd', 454],
    ['gopher://127.0.0.1:25/', 454],
    ['not a url', 454],
    ['https://127.0.0.1:18499/', 451],
    ['https://localhost/', 451],
    ['https://169.254.169.254/latest/meta-data/', 451],
    ['https://10.1.2.3/', 451],
    ['https://192.168.1.1/', 451],
    ['https://[::1]/', 451],
    ['https://[::ffff:127.0.0.1]/', 451],
    ['https://[fe80::1]/', 451],
  ];
  for (const [address, code] of cases) {
    const answer = await call(url, 'EiRegisterParty', ven.create({ venName: `ven-${code}`, pull: false, transportAddress: address }), 'CreatedPartyRegistration');
    t.assert.equal(answer.response.code, code, address);
    t.assert.equal(answer.venId, undefined, address);
  }
  t.assert.equal(vtn.store.countRegistrations(), 0, 'nothing registered');
  t.assert.equal((await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-ok', pull: false, transportAddress: 'https://ven.example.net/oadr' }), 'CreatedPartyRegistration')).response.code, 200);
  t.assert.equal(isInternalAddress('100.64.0.1'), true);
  t.assert.equal(isInternalAddress('8.8.8.8'), false);
  t.assert.equal(isInternalAddress('2001:db8::1'), false);
  t.assert.equal(isInternalAddress('::ffff:10.0.0.1'), true);

  // Retries are capped: a push target that always answers 503 gets push.maxAttempts attempts, then the payload is dropped.
  let attempts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      attempts++;
      res.writeHead(503, { 'content-length': 0 }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const log = recordingLogger();
  const capped = await startTestVtn(t, { push: { initialBackoffMs: 5, maxBackoffMs: 10, maxAttempts: 3 } }, { logger: log });
  const reg = await registerVen(capped.url, 'ven-down', { pull: false, transportAddress: `http://127.0.0.1:${(server.address() as { port: number }).port}/` });
  await until('the payload dropped after 3 attempts', () => capped.vtn.store.queueDepth(reg.venId) === 0);
  t.assert.equal(attempts, 3);
  assert.ok(log.records.some((r) => r.level === 'error' && /push\.maxAttempts/.test(r.msg ?? '')));
});

test('push-address-certificate-host: with push.requireCertificateHost, the push host must be named by the VEN certificate', async () => {
  const root = await createRootCa({ profile: 'ecc', commonName: 'Host test root' });
  const cert = await issueServerCertificate({ profile: 'ecc', commonName: 'ven-push', issuer: root, dnsNames: ['ven-7.example.net'], ipAddresses: ['203.0.113.7'] });
  const policy = { allowHttp: false, allowedHosts: [], requireCertificateHost: true };
  assert.equal(checkPushAddress('https://ven-7.example.net/oadr', policy, cert.certificatePem), undefined);
  assert.equal(checkPushAddress('https://203.0.113.7/oadr', policy, cert.certificatePem), undefined);
  assert.equal(checkPushAddress('https://attacker.example.net/', policy, cert.certificatePem)?.kind, 'forbidden');
  assert.equal(checkPushAddress('https://203.0.113.8/', policy, cert.certificatePem)?.kind, 'forbidden');
});

test('push-dns-rebinding: the addresses a push host resolves to are checked on the connection that uses them', async (t) => {
  // A VEN's name that resolves to a public address when checked and to 127.0.0.1 when connected
  // (DNS rebinding): the resolver here answers as such a name server would, turn by turn.
  let received = 0;
  const server = createServer((req, res) => {
    received++;
    req.resume();
    res.writeHead(200, { 'content-length': 0 }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const answers: string[][] = [['203.0.113.7'], ['127.0.0.1']];
  const resolve = async (host: string) => {
    assert.equal(host, 'ven.rebind.example');
    const next = answers.length > 1 ? answers.shift() : answers[0];
    return (next ?? []).map((address) => ({ address, family: 4 }));
  };
  const policy = { allowHttp: true, allowedHosts: [], requireCertificateHost: false };
  const log = recordingLogger();
  const { url, vtn, clock } = await startTestVtn(t, { push: { ...policy, initialBackoffMs: 5, maxBackoffMs: 10 } }, { logger: log, fetch: createPushFetch({ lookup: guardedLookup(policy, resolve) }) });
  // The first answer is public: registration (which resolves nothing) and the first push's connection pass it.
  const reg = await registerVen(url, 'ven-rebind', { pull: false, transportAddress: `http://ven.rebind.example:${port}/` });
  t.assert.equal(checkPushAddress(`http://ven.rebind.example:${port}/`, policy), undefined);
  await until('the first push refused at connect time or sent', () => vtn.store.queueDepth(reg.venId) === 0);
  vtn.events.create({ start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [reg.venId]: 100 } });
  await until('the event push dropped', () => vtn.store.queueDepth(reg.venId) === 0 && log.records.filter((r) => r.securityEvent === SECURITY_EVENT.pushTargetRefused).length >= 1);
  // The one connection that resolved to 203.0.113.7 could not reach the loopback server (it went
  // nowhere: TEST-NET-3); every connection resolving to 127.0.0.1 was refused before it opened.
  t.assert.equal(received, 0);
  const refusal = log.records.find((r) => r.securityEvent === SECURITY_EVENT.pushTargetRefused);
  assert.match(String(refusal?.msg), /resolves to 127\.0\.0\.1.*the payload is dropped/);

  // The lookup itself: every address counts (one internal among public ones refuses), an allow-listed host passes.
  const lookupOnce = (p: { allowedHosts: string[] }, addresses: string[], all: boolean) =>
    new Promise<unknown>((done) =>
      guardedLookup(p, async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))('h.example', { all }, (err, address) => done(err ?? address)),
    );
  assert.ok((await lookupOnce({ allowedHosts: [] }, ['203.0.113.7', '10.0.0.5'], true)) instanceof PushTargetRefusedError);
  assert.ok((await lookupOnce({ allowedHosts: [] }, ['2001:db8::1', 'fe80::1'], false)) instanceof PushTargetRefusedError);
  t.assert.deepEqual(await lookupOnce({ allowedHosts: [] }, ['203.0.113.7', '2001:db8::1'], true), [
    { address: '203.0.113.7', family: 4 },
    { address: '2001:db8::1', family: 6 },
  ]);
  t.assert.equal(await lookupOnce({ allowedHosts: [] }, ['203.0.113.7'], false), '203.0.113.7');
  t.assert.equal(await lookupOnce({ allowedHosts: ['H.example'] }, ['127.0.0.1'], false), '127.0.0.1');
});

test('push-answer-limit: a push target answering with more than 1 MiB is cut off, not buffered', async (t) => {
  let sent = 0;
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/xml' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const more = (): void => {
      while (sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const answer = createPushFetch()(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { method: 'POST', body: '<x/>' });
  await assert.rejects(answer, /larger than 1048576 bytes/);
  assert.ok(sent < 64 * 1024 * 1024, 'the VTN stopped reading long before the end');
});

// ---- 12.7: a transport address of None ----------------------------------------------------------

test('transport-address-none: oadrTransportAddress None or empty is pull, never a push URL (R402 for push without one)', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  for (const address of ['None', '', '  ']) {
    const name = `ven-${address.trim() || 'empty'}-${address.length}`;
    const created = await call(url, 'EiRegisterParty', ven.create({ venName: name, pull: true, transportAddress: address }), 'CreatedPartyRegistration');
    t.assert.equal(created.response.code, 200);
    const reg = vtn.store.getRegistration(created.venId ?? '');
    t.assert.equal(reg?.transportAddress, undefined, JSON.stringify(address));
    t.assert.equal(reg?.httpPullModel, true);
  }
  const push = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-push-none', pull: false, transportAddress: 'None' }), 'CreatedPartyRegistration');
  t.assert.equal(push.response.code, 459, 'R402: a push registration needs an address');
});

// ---- 13.5: telemetry checked at the edge --------------------------------------------------------

test('telemetry-edge-validation: absurd values, year 0001, negative durations and repeated intervals are refused with 454; the next good report is stored', async (t) => {
  const clock = createTestClock(Date.parse('2030-01-15T12:00:00Z'));
  const recorded: unknown[] = [];
  const ledger = { notifyEvent: async () => new Map(), recordOpt: async () => {}, recordTelemetry: async (p: readonly unknown[]) => void recorded.push(...p) };
  const { url, vtn } = await startTestVtn(t, { programs: [{ id: 'default', maxTelemetryW: 100_000 }] }, { clock, ledger, adminToken: TOKEN });
  const { venId } = await registerVen(url, 'house');
  const registered = await call(url, 'EiReport', ven.telemetryMetadata(venId), 'RegisteredReport');
  const rr = registered.reportRequests?.[0]?.reportRequestId ?? '';
  const report = (dtstart: string, intervals: ReportInterval[]): Payload => ({
    type: 'UpdateReport', schemaVersion: V, requestId: 'rq-up', venId,
    reports: [{ dtstart, intervals, reportRequestId: rr, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: '2030-01-15T12:00:00Z' }],
  });
  const iv = (value: number, duration = 'PT15M', dtstart?: string): ReportInterval => ({ duration, ...(dtstart === undefined ? {} : { dtstart }), payloads: [{ rId: 'usage', value: { type: 'float', value } }] });
  const bad: Array<[string, Payload]> = [
    ['1e39 W', report('2030-01-15T11:00:00Z', [iv(500), iv(1e39)])],
    ['beyond maxTelemetryW', report('2030-01-15T11:00:00Z', [iv(100_001)])],
    ['year 0001', report('0001-01-01T00:00:00Z', [iv(500)])],
    ['negative duration', report('2030-01-15T11:00:00Z', [iv(500, '-PT15M')])],
    ['same interval twice', report('2030-01-15T11:00:00Z', [iv(500, 'PT15M', '2030-01-15T11:00:00Z'), iv(600, 'PT15M', '2030-01-15T11:00:00Z')])],
    ['a day ahead', report('2030-01-17T11:00:00Z', [iv(500)])],
  ];
  for (const [what, p] of bad) {
    const answer = await call(url, 'EiReport', p, 'UpdatedReport');
    t.assert.equal(answer.response.code, 454, what);
  }
  t.assert.deepEqual(vtn.reports.telemetry(venId), [], 'nothing of the refused reports is stored');
  t.assert.equal(recorded.length, 0, 'nothing reached the ledger');
  // One bad report poisons nothing: the next one is stored and goes to the ledger.
  t.assert.equal((await call(url, 'EiReport', report('2030-01-15T11:00:00Z', [iv(500), iv(-200)]), 'UpdatedReport')).response.code, 200);
  t.assert.equal(vtn.reports.telemetry(venId).length, 2);
  await until('the ledger port got the good intervals', () => recorded.length === 2);

  // A customer's own maximum (its connection: 3 kW for this house) replaces the program's 100 kW.
  const customerId = vtn.store.getRegistration(venId)?.customerId ?? '';
  const set = await api(url, 'PUT', `/api/v1/customers/${customerId}`, { body: { maxTelemetryW: 3000 } });
  t.assert.equal(set.status, 200, set.text);
  t.assert.equal((await call(url, 'EiReport', report('2030-01-15T11:30:00Z', [iv(3001)]), 'UpdatedReport')).response.code, 454, 'beyond the customer maxTelemetryW');
  t.assert.equal((await call(url, 'EiReport', report('2030-01-15T11:30:00Z', [iv(-3000), iv(2999)]), 'UpdatedReport')).response.code, 200);
  t.assert.equal(vtn.reports.telemetry(venId).length, 4);
  t.assert.equal((await api(url, 'PUT', `/api/v1/customers/${customerId}`, { body: { maxTelemetryW: 0 } })).status, 400, 'a maximum of 0 W is refused');
});

// ---- 13.7: costly requests ----------------------------------------------------------------------

/** The sqlite store, counting calls of the methods that read many rows. */
function countingStore(): { store: VtnStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const inner = createSqliteStore({ dataDir: ':memory:' });
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const v: unknown = Reflect.get(target, name, receiver);
      if (typeof v !== 'function' || typeof name !== 'string') return v;
      return (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

test('costly-requests: a poll with a foreign venID scans no registrations; /metrics is cached; operations endpoints can need the admin token or the admin port', async (t) => {
  const { store, calls } = countingStore();
  t.after(() => store.close());
  const clock = createTestClock();
  const vtn = createVtn({ config: { dataDir: ':memory:', registrationPolicy: 'open', metricsCacheMs: 5000, operationsAccess: 'token' }, store, now: clock.now, adminToken: TOKEN });
  t.after(() => vtn.close());
  const url = await vtn.listen({ host: '127.0.0.1', port: 0 });
  const fp = (i: number): string => Array.from({ length: 10 }, (_, k) => ((i * 7 + k) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const a = vtn.handle(ven.create({ venName: `v${i}` }), { peerFingerprint: fp(i) }).answer;
    assert.ok(a.type === 'CreatedPartyRegistration' && a.venId !== undefined);
    ids.push(a.venId);
  }
  calls.clear();
  // VEN 1's certificate with VEN 2's venID (452), and a never-registered certificate (463): lookups, not scans.
  const foreign = vtn.handle(ven.poll(ids[2] as string), { peerFingerprint: fp(1) }).answer;
  const unknown = vtn.handle(ven.poll('ven-nobody'), { peerFingerprint: fp(99) }).answer;
  t.assert.equal(foreign.type === 'Response' && foreign.response.code, 452);
  t.assert.equal(unknown.type === 'Response' && unknown.response.code, 463);
  t.assert.equal(calls.get('listRegistrations') ?? 0, 0, 'no scan of every registration');

  // /metrics: behind the token; one rendering per metricsCacheMs.
  t.assert.equal((await fetch(`${url}/metrics`)).status, 401);
  t.assert.equal((await fetch(`${url}/readyz`)).status, 401);
  t.assert.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz stays open');
  calls.clear();
  for (let i = 0; i < 5; i++) t.assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  t.assert.equal(calls.get('queueDepthTotal'), 1, 'five scrapes, one rendering');
  clock.advance(5000);
  await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.assert.equal(calls.get('queueDepthTotal'), 2);

  // operationsAccess admin-port: /metrics and /readyz only on the admin port.
  const split = createVtn({ config: { dataDir: ':memory:', adminPort: 0, operationsAccess: 'admin-port' }, adminToken: TOKEN });
  t.after(() => split.close());
  const main = await split.listen({ host: '127.0.0.1', port: 0 });
  t.assert.equal((await fetch(`${main}/metrics`)).status, 404);
  t.assert.equal((await fetch(`${main}/healthz`)).status, 200);
  t.assert.equal((await fetch(`${split.adminUrl() ?? ''}/metrics`)).status, 200);
});

// ---- 13.8: a venID is never reused --------------------------------------------------------------

test('venid-never-reused: another customer\'s venID cannot be enrolled, before or after its registration is cancelled', async (t) => {
  const { url, vtn } = await startTestVtn(t, {}, { adminToken: TOKEN });
  const a = await token(url, 'retailer', 'retailer-a');
  const b = await token(url, 'retailer', 'retailer-b');
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cB2', venName: 'house-b2' } })).status, 201);
  const { venId, registrationId } = await registerVen(url, 'house-b2');
  const enrol = async (): Promise<number> => (await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cA9', venId } })).status;
  t.assert.equal(await enrol(), 422);
  t.assert.equal(vtn.customers.get('retailer-b:cB2')?.customerId, 'retailer-b:cB2', "B's customer is still there");
  // B2 cancels (R407): its registration is gone, its venID is not free.
  t.assert.equal((await call(url, 'EiRegisterParty', ven.cancel(venId, registrationId), 'CanceledPartyRegistration')).response.code, 200);
  t.assert.equal(vtn.vens.get(venId), undefined);
  t.assert.equal(await enrol(), 422);
  t.assert.equal(vtn.customers.get('retailer-a:cA9'), undefined);
  // B2's customer registers again: a new venID, never the old one.
  const again = await registerVen(url, 'house-b2');
  t.assert.notEqual(again.venId, venId);
});

// ---- 13.9: the admin API ------------------------------------------------------------------------

test('admin-revoked-token-stays-revoked: a revoked OADR_ADMIN_TOKEN does not come back after a restart with the same environment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-revoke-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const start = async (): Promise<{ vtn: Vtn; url: string }> => {
    const vtn = createVtn({ config: { dataDir: dir }, adminToken: TOKEN });
    return { vtn, url: await vtn.listen({ host: '127.0.0.1', port: 0 }) };
  };
  const first = await start();
  const other = await token(first.url, 'operator');
  t.assert.equal((await api(first.url, 'DELETE', '/api/v1/tokens/bootstrap')).status, 204);
  await first.vtn.close();
  const second = await start();
  t.after(() => second.vtn.close());
  t.assert.equal((await api(second.url, 'GET', '/api/v1/vens')).status, 401, 'the revoked token stays revoked');
  t.assert.equal((await api(second.url, 'GET', '/api/v1/vens', { token: other })).status, 200);
});

test('admin-auth-rate-limit: failed authentications from one address get 429 and one log line; tokens expire; each retailer names its customers in its own space', async (t) => {
  const log = recordingLogger();
  const { url, clock } = await startTestVtn(t, { adminAuthFailuresPerMinute: 5 }, { adminToken: TOKEN, logger: log });
  const expiring = await token(url, 'read-only', undefined, { expiresAt: new Date(clock.now() + 3_600_000).toISOString() });
  t.assert.equal((await api(url, 'GET', '/api/v1/vens', { token: expiring })).status, 200);
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await api(url, 'GET', '/api/v1/vens', { token: `wrong-token-${i}` })).status);
  t.assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
  t.assert.equal((await api(url, 'GET', '/api/v1/vens')).status, 429, 'even the right token waits out the minute');
  t.assert.equal(log.records.filter((r) => r.securityEvent === SECURITY_EVENT.adminAuthRateLimited).length, 1, 'one log line');
  clock.advance(61_000);
  t.assert.equal((await api(url, 'GET', '/api/v1/vens')).status, 200);
  clock.advance(2 * 3_600_000);
  t.assert.equal((await api(url, 'GET', '/api/v1/vens', { token: expiring })).status, 401, 'the token expired');

  const a = await token(url, 'retailer', 'retailer-a');
  const b = await token(url, 'retailer', 'retailer-b');
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cB1' } })).status, 201);
  // Each retailer names its customers in its own space: the same id is free for A, and says nothing of B's.
  const same = await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cB1' } });
  t.assert.equal(same.status, 201);
  t.assert.equal(same.json?.customerId, 'retailer-a:cB1');
  t.assert.equal((await api(url, 'GET', '/api/v1/customers/retailer-b:cB1', { token: a })).status, 404, "B's customer is unknown to A");
  // Even naming B's full id, A enrols in its own space.
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'retailer-b:cB1' } })).json?.customerId, 'retailer-a:retailer-b:cB1');
});

/** GET with a bearer token from a given local loopback address (127.0.0.2 is a second client). */
function getFrom(base: string, path: string, bearer: string, localAddress: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { localAddress, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('admin-request-rate-limit: each token and each address get adminRequestsPerMinute requests a minute, then 429 with Retry-After and one log line', async (t) => {
  const log = recordingLogger();
  const { url, clock } = await startTestVtn(t, { adminRequestsPerMinute: 4 }, { adminToken: TOKEN, logger: log });
  const t1 = await token(url, 'read-only');
  const t2 = await token(url, 'read-only');
  const get = (bearer: string, from: '127.0.0.1' | '127.0.0.2') => getFrom(url, '/api/v1/vens', bearer, from);
  clock.advance(61_000);
  // Per address: one address cycling through tokens is limited.
  const statuses: number[] = [];
  for (const bearer of [t1, t1, t2, t2]) statuses.push((await get(bearer, '127.0.0.1')).status);
  clock.advance(20_000);
  const overAddress = await get(t2, '127.0.0.1');
  t.assert.deepEqual([...statuses, overAddress.status], [200, 200, 200, 200, 429], 't2 has made 3 requests, the address 5');
  t.assert.equal(overAddress.retryAfter, '40', 'the seconds left of the minute');
  t.assert.equal((await get(t2, '127.0.0.1')).status, 429);
  t.assert.equal(log.records.filter((r) => r.securityEvent === SECURITY_EVENT.adminRequestsRateLimited).length, 1, 'one log line per address and minute');
  clock.advance(41_000);
  // Per token: one token spread over addresses is limited.
  const spread: number[] = [];
  for (const from of ['127.0.0.2', '127.0.0.2', '127.0.0.1', '127.0.0.1'] as const) spread.push((await get(t1, from)).status);
  const overToken = await get(t1, '127.0.0.2');
  t.assert.deepEqual([...spread, overToken.status], [200, 200, 200, 200, 429], 'the address 127.0.0.2 has made 3 requests, t1 5');
  t.assert.equal((await get(t2, '127.0.0.2')).status, 200, 'another token from that address passes');
  t.assert.equal(log.records.filter((r) => r.securityEvent === SECURITY_EVENT.adminRequestsRateLimited && r.tokenId !== undefined).length, 1);
});

// ---- with the embedded ledger: 13.5 (import), 13.6, 13.9 (import), 13.10 -----------------------

test('ledger-scoped: energy import checked whole (422, nothing committed), block views scoped to the retailer, opt answers coalesced', async (t) => {
  const dir = tempDataDir('oadr-vtn-security-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T12:00:00Z`));
  const vl = await openVtnLedger({ dataDir: join(dir, 'data'), clock: () => new Date(clock.now()) });
  t.after(() => vl.close());
  let vtn: Vtn | undefined;
  const port = createMappingLedgerPort({
    mapping: vl.mapping,
    ledger: vl.ledger,
    meterOf: (c) => vtn?.customers.get(c)?.meterId ?? c,
    customerOf: (m) => vtn?.store.findCustomerByMeterId(m)?.customerId ?? m,
  });
  const started = await startTestVtn(t, { dataDir: join(dir, 'data'), registrationPolicy: 'enrolled-only', optCoalesceMs: 60_000 }, { ledger: port, clock, adminToken: TOKEN });
  vtn = started.vtn;
  const url = started.url;
  const a = await token(url, 'retailer', 'retailer-a');
  const b = await token(url, 'retailer', 'retailer-b');
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cA1', meterId: 'mA1', venName: 'house-a' } })).status, 201);
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cB1', meterId: 'mB1' } })).status, 201);
  // energy-import-atomic (13.9) and energy-import-implausible (13.5): 422, the ledger does not grow.
  const height0 = await vl.ledger.height();
  const good = history(1, 1)[0] as { date: string; valuesWh: number[] };
  const refused: Array<[string, unknown[]]> = [
    ['a bad day after a good one', [good, { date: '2026-02-30', valuesWh: good.valuesWh }]],
    ['a future day', [{ date: addDaysUtc(EVENT_DAY, 3), valuesWh: good.valuesWh }]],
    ['today, not ended', [{ date: EVENT_DAY, valuesWh: good.valuesWh }]],
    ['1e308 Wh', [{ date: good.date, valuesWh: good.valuesWh.map((v, i) => (i === 40 ? 1e308 : v)) }]],
    ['the same day twice', [good, good]],
  ];
  for (const [what, days] of refused) {
    const r = await api(url, 'POST', '/api/v1/customers/retailer-a:cA1/energy', { token: a, body: { days } });
    t.assert.equal(r.status, 422, `${what}: ${r.text}`);
  }
  t.assert.equal(await vl.ledger.height(), height0, 'nothing was committed');

  // ledger-blocks-scoped (13.6): each retailer sees its own customers' arguments only.
  assert.equal((await api(url, 'POST', '/api/v1/customers/retailer-a:cA1/energy', { token: a, body: { days: history(1, 35) } })).status, 200);
  assert.equal((await api(url, 'POST', '/api/v1/customers/retailer-b:cB1/energy', { token: b, body: { days: history(2, 1) } })).status, 200);
  type Tx = { fn: string; args: string[]; argsHidden?: boolean; txId: string };
  const txs = async (tok?: string): Promise<Tx[]> =>
    ((await api(url, 'GET', '/api/v1/ledger/blocks?limit=1000', tok === undefined ? {} : { token: tok })).json as unknown as Array<{ transactions: Tx[] }>).flatMap((bl) => bl.transactions);
  const seenByA = (await txs(a)).filter((x) => x.fn === 'recordEnergy');
  const all = (await txs()).filter((x) => x.fn === 'recordEnergy');
  t.assert.equal(seenByA.length, all.length, 'every transaction id is listed');
  assert.ok(all.some((x) => x.args[0] === 'mB1'), 'the operator sees B’s arguments');
  t.assert.equal(seenByA.some((x) => x.args.includes('mB1') || JSON.stringify(x.args).includes('mB1')), false, 'A never sees B’s meter data');
  assert.ok(seenByA.some((x) => x.args[0] === 'mA1'), 'A sees its own');
  assert.ok(seenByA.some((x) => x.argsHidden === true));

  // opt-coalescing (13.10): 200 alternating answers reach the ledger once, the last one.
  const { venId } = await registerVen(url, 'house-a');
  const created = (await vtn.events.create({ start: Date.parse(`${EVENT_DAY}T15:00:00Z`), slots: 4, reductionW: [300, 300, 400, 400], targets: { customerIds: ['retailer-a:cA1'] } })) as LedgerEventView;
  await drain(url, venId);
  const before = await vl.ledger.height();
  for (let i = 0; i < 200; i++) {
    const answer = await post(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: created.event.eventId, modificationNumber: 0, optType: i % 2 === 0 ? 'optIn' : 'optOut' }]));
    assert.equal(answer.status, 200);
  }
  t.assert.equal(vtn.store.getEventVen(created.event.eventId, venId)?.optType, 'optOut', 'the VTN store has the last answer');
  await vtn.close(); // flushes what waits
  const after = await vl.ledger.height();
  const opts: Tx[] = [];
  for (let n = before; n < after; n++) opts.push(...(await vl.ledger.block(n)).transactions.filter((x) => x.fn === 'recordOptState') as unknown as Tx[]);
  t.assert.equal(opts.length, 1, `one opt transaction, got ${opts.length}`);
  assert.ok(opts[0]?.args.includes('optOut'), 'the last answer');
  assert.ok(after - before <= 1, `the ledger grew by ${after - before} blocks`);
});

// ---- 13.4: the operator cannot lock the VTN out of its own ledger --------------------------------

test('ledger-governance: a change that takes the operator\'s authority is refused (409); changes are endorsed by both orgs; one that needs an org without a peer is refused (502)', async (t) => {
  const { url, ledger: vl } = await startLedgerVtn(t, { prefix: 'oadr-vtn-governance-', start: Date.parse(`${EVENT_DAY}T12:00:00Z`), customerId: 'c1', adminToken: TOKEN });
  const params = async () => (await api(url, 'GET', '/api/v1/ledger/params')).json as Record<string, unknown>;
  const lastTx = async () => (await vl.ledger.block((await vl.ledger.height()) - 1)).transactions[0];

  // The lockout: refused by the contract, nothing ordered, the VTN keeps reading and writing its ledger.
  const height = await vl.ledger.height();
  const lockout = await api(url, 'PUT', '/api/v1/ledger/params', { body: { operatorMspIds: ['Org2MSP'] } });
  t.assert.equal(lockout.status, 409, lockout.text);
  t.assert.match(String(lockout.json?.detail), /OPERATOR_LOCKOUT/);
  t.assert.equal(await vl.ledger.height(), height, 'nothing was ordered');
  t.assert.deepEqual((await params()).operatorMspIds, ['Org1MSP']);

  // Every change carries the endorsements of both orgs (the first by the governance function policy,
  // the later ones by the program key's own policy), and the VTN can still change the parameters.
  for (const tokenRateMilli of [1500, 1600]) {
    const put = await api(url, 'PUT', '/api/v1/ledger/params', { body: { tokenRateMilli } });
    t.assert.equal(put.status, 200, put.text);
    t.assert.deepEqual([(await lastTx())?.fn, (await lastTx())?.validationCode, (await lastTx())?.endorsers], ['setProgramParams', 'VALID', ['Org1MSP', 'Org2MSP']]);
  }
  t.assert.equal((await params()).tokenRateMilli, 1600);

  // Governance by an org this ledger has no peer of could never be changed again: refused before
  // ordering, with the org named.
  const before = await vl.ledger.height();
  const unreachable = await api(url, 'PUT', '/api/v1/ledger/params', { body: { governanceMspIds: ['Org1MSP', 'Org3MSP'] } });
  t.assert.equal(unreachable.status, 502, unreachable.text);
  t.assert.match(String(unreachable.json?.detail), /Org3MSP.*no peer/);
  t.assert.equal(await vl.ledger.height(), before, 'nothing was ordered');
  t.assert.deepEqual((await params()).governanceMspIds, ['Org1MSP', 'Org2MSP']);
  t.assert.equal((await api(url, 'PUT', '/api/v1/ledger/params', { body: { tokenRateMilli: 1000 } })).status, 200, 'the parameters still change');
});

// ---- TLS: 13.11 handshake time-out, 12.5 failed handshakes logged and counted ------------------

test('tls-handshake-timeout and tls-handshake-failure-logged: a silent client is cut off; a failed handshake is logged once per address and reason and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const log = recordingLogger();
  const vtn = createVtn({ config: { dataDir: ':memory:', tlsHandshakeTimeoutMs: 300 }, tls: pki.tls, logger: log });
  t.after(() => vtn.close());
  const url = new URL(await vtn.listen({ host: '127.0.0.1', port: 0 }));
  const port = Number(url.port);

  // 13.11: a TCP client that never sends a ClientHello is closed by the VTN.
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  const closed = await new Promise<boolean>((resolve) => {
    const guard = setTimeout(() => resolve(false), 15_000);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(true);
    });
  });
  socket.destroy();
  assert.ok(closed, 'the silent connection was closed by the VTN');

  // 12.5: a certificate from another CA, twice: one warn line, two in /metrics.
  const otherRoot = await createRootCa({ profile: 'ecc', commonName: 'Other root' });
  const stranger = await issueClientCertificate({ profile: 'ecc', commonName: 'ven-stranger', issuer: otherRoot });
  for (let i = 0; i < 2; i++) {
    await new Promise<void>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, key: stranger.privateKeyPem, cert: chainPem(stranger), ca: pki.tls.ca as string, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\n\r\n'));
    });
  }
  await until('the handshake failures counted', () => vtn.metrics.render({ queueDepth: 0, registeredVens: 0, ledgerOutboxDepth: 0 }).includes(METRIC.tlsHandshakeFailures + '{'));
  const failures = log.records.filter((r) => r.securityEvent === SECURITY_EVENT.tlsHandshakeFailed);
  const byReason = new Map<string, number>();
  for (const r of failures) byReason.set(`${String(r.peer)}|${String(r.reason)}`, (byReason.get(`${String(r.peer)}|${String(r.reason)}`) ?? 0) + 1);
  assert.ok(failures.length >= 2, 'the time-out and the untrusted certificate are logged');
  assert.ok([...byReason.values()].every((n) => n === 1), 'once per address and reason');
  assert.ok(failures.every((r) => r.level === 'warn'));
  const text = vtn.metrics.render({ queueDepth: 0, registeredVens: 0, ledgerOutboxDepth: 0 });
  const counted = [...text.matchAll(new RegExp(`^${METRIC.tlsHandshakeFailures}\\{reason="[^"]+"\\} (\\d+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  assert.ok(counted >= 3, `the time-out and both refusals are counted (got ${counted})`);
});

// ---- 12.6: one component key per log line -------------------------------------------------------

test('log-one-component-key: every log line of the VTN carries the component key once', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const root = pino({ level: 'debug' }, sink);
  const { url } = await startTestVtn(t, {}, { logger: root as never, adminToken: TOKEN });
  const { venId } = await registerVen(url, 'house');
  await call(url, 'EiReport', ven.telemetryMetadata(venId), 'RegisteredReport');
  await post(url, 'OadrPoll', ven.poll('ven-unknown'));
  await api(url, 'GET', '/api/v1/vens', { token: 'wrong-token' });
  await until('log lines', () => lines.length > 3);
  const components = new Set<string>();
  for (const line of lines) {
    t.assert.equal(line.match(/"component":/g)?.length ?? 0, 1, line);
    components.add((JSON.parse(line) as { component: string }).component);
  }
  assert.ok(components.size >= 2, [...components].join(', '));
});

// ---- 13.2 on the ledger: one ledger identity per retailer ----------------------------------------

/** Every transaction of an embedded ledger with the `ID` attribute of its creator's certificate. */
function transactionsWithCreator(ledgerDir: string): Array<{ fn: string; args: readonly string[]; creatorId: string | undefined }> {
  const store = openStore(ledgerDir, { reader: true });
  try {
    const out: Array<{ fn: string; args: readonly string[]; creatorId: string | undefined }> = [];
    for (let n = 1; n < store.height(); n++) {
      for (const envelope of decodeBlock((store.block(n) as { bytes: Uint8Array }).bytes).envelopes) {
        const tx = decodeTransaction(envelope);
        const ext = parseCertificate(tx.creator.certificatePem).getExtension(FABRIC_ATTRS_OID);
        const creatorId = ext === null ? undefined : decodeFabricAttributes(new Uint8Array(ext.value))?.[ATTR_ID];
        out.push({ fn: tx.action?.args[0] ?? '', args: tx.action?.args.slice(1) ?? [], creatorId });
      }
    }
    return out;
  } finally {
    store.close();
  }
}

test("retailer-ledger-identity: each retailer's customers are enrolled and recorded with its own ledger identity; the ledger refuses A's identity on B's meter, even with the admin API bypassed", async (t) => {
  const dir = tempDataDir('oadr-vtn-retailer-ids-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T12:00:00Z`));
  let vtn: Vtn | undefined;
  const lookups = customerLookups(() => vtn?.store);
  const vl = await openVtnLedger({ dataDir: join(dir, 'data'), clock: () => new Date(clock.now()), retailerOfMeter: lookups.retailerOfMeter });
  t.after(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger, meterOf: lookups.meterOf, customerOf: lookups.customerOf });
  const started = await startTestVtn(t, { dataDir: join(dir, 'data'), registrationPolicy: 'enrolled-only' }, { ledger: port, clock, adminToken: TOKEN });
  vtn = started.vtn;
  const url = started.url;
  // A retailer id is part of a ledger identity: one that cannot be is refused at the edge.
  t.assert.equal((await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: 'r', retailerId: 'retailer a' } })).status, 400);
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'cX', retailer: '../retailer-a' } })).status, 400);
  // 'vtn' would share the ledger identity of the customers that name no retailer.
  t.assert.equal((await api(url, 'POST', '/api/v1/tokens', { body: { role: 'retailer', name: 'r', retailerId: 'vtn' } })).status, 400);
  t.assert.equal((await api(url, 'POST', '/api/v1/customers', { body: { customerId: 'cY', retailer: 'vtn' } })).status, 400);
  t.assert.equal(vtn.store.getCustomer('cX'), undefined);
  const a = await token(url, 'retailer', 'retailer-a');
  const b = await token(url, 'retailer', 'retailer-b');
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cA1', meterId: 'mA1', venName: 'house-a' } })).status, 201);
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: b, body: { customerId: 'cB1', meterId: 'mB1' } })).status, 201);
  assert.equal((await api(url, 'POST', '/api/v1/customers/retailer-a:cA1/energy', { token: a, body: { days: history(1, 2) } })).status, 200);
  assert.equal((await api(url, 'POST', '/api/v1/customers/retailer-b:cB1/energy', { token: b, body: { days: history(2, 2) } })).status, 200);

  // A's VEN reports a quarter hour of usage: recorded on the ledger (through the outbox) as A.
  const { venId } = await registerVen(url, 'house-a');
  const rr = (await call(url, 'EiReport', ven.telemetryMetadata(venId), 'RegisteredReport')).reportRequests?.[0]?.reportRequestId ?? '';
  const usage: Payload = {
    type: 'UpdateReport', schemaVersion: V, requestId: 'rq-up', venId,
    reports: [{ dtstart: `${EVENT_DAY}T11:00:00Z`, intervals: [{ duration: 'PT15M', payloads: [{ rId: 'usage', value: { type: 'float', value: 500 } }] }], reportRequestId: rr, reportSpecifierId: 'rs-1', reportName: 'TELEMETRY_USAGE', createdDateTime: `${EVENT_DAY}T11:15:00Z` }],
  };
  t.assert.equal((await call(url, 'EiReport', usage, 'UpdatedReport')).response.code, 200);
  const ledgerDir = join(dir, 'data', 'ledger');
  const recordsOf = (meterId: string) => transactionsWithCreator(ledgerDir).filter((x) => (x.fn === 'recordEnergy' || x.fn === 'enrolMeter') && x.args[0] === meterId);
  await until("A's telemetry on the ledger", () => recordsOf('mA1').some((x) => x.fn === 'recordEnergy' && x.args[1] === EVENT_DAY));

  // The creator of every enrolment and record of a meter is its customer's retailer.
  const ofA = recordsOf('mA1');
  const ofB = recordsOf('mB1');
  t.assert.deepEqual(ofA.map((x) => x.fn).sort(), ['enrolMeter', 'recordEnergy', 'recordEnergy', 'recordEnergy'], 'enrolled, two imported days, one measured');
  t.assert.deepEqual([...new Set(ofA.map((x) => x.creatorId))], ['retailer:retailer-a']);
  t.assert.deepEqual(ofB.map((x) => x.fn).sort(), ['enrolMeter', 'recordEnergy', 'recordEnergy']);
  t.assert.deepEqual([...new Set(ofB.map((x) => x.creatorId))], ['retailer:retailer-b']);

  // Defence in depth: the ledger itself refuses A's identity on B's meter.
  const day = addDaysUtc(EVENT_DAY, -1);
  const energyOfB = async () => vl.ledger.evaluate(vl.identities.operator, 'queryEnergyValue', ['mB1', day]);
  const before = await energyOfB();
  const asA = (await vl.retailers.get('retailer-a')).identity;
  const refused = await vl.ledger.submit(asA, 'recordEnergy', ['mB1', day, JSON.stringify(profile(1, 1))]).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof LedgerError && refused.contractCode === 'ACCESS_DENIED', String(refused));
  // B's customer moves to another meter: mB1 is free in the VTN's store, but still B's on the ledger.
  // A binds its new customer to it (the admin API allows that); A's writes and reads of it go as A,
  // and the ledger refuses them.
  assert.equal((await api(url, 'PUT', '/api/v1/customers/retailer-b:cB1', { token: b, body: { meterId: 'mB2' } })).status, 200);
  assert.equal((await api(url, 'POST', '/api/v1/customers', { token: a, body: { customerId: 'cA2', meterId: 'mB1' } })).status, 201);
  const importing = await api(url, 'POST', '/api/v1/customers/retailer-a:cA2/energy', { token: a, body: { days: history(1, 1) } });
  t.assert.equal(importing.status, 502, importing.text);
  t.assert.match(importing.text, /METER_HELD/);
  const balance = await api(url, 'GET', '/api/v1/customers/retailer-a:cA2/tokens', { token: a });
  t.assert.equal(balance.status, 502, balance.text);
  t.assert.match(balance.text, /ACCESS_DENIED/);
  // With the admin API bypassed (A's customer bound in the store to the meter B's customer holds),
  // the VTN writes for that meter with no identity at all.
  vtn.store.putCustomer({ customerId: 'cA3', venName: undefined, fingerprint: undefined, venId: undefined, enrolledAt: clock.now(), meterId: 'mB2', retailer: 'retailer-a' });
  const bypassed = await api(url, 'POST', '/api/v1/customers/cA3/energy', { token: a, body: { days: history(1, 1) } });
  t.assert.equal(bypassed.status, 502, bypassed.text);
  t.assert.match(bypassed.text, /held by customers of several retailers/);
  t.assert.equal(await energyOfB(), before, "B's values unchanged");
  t.assert.deepEqual([...new Set(recordsOf('mB1').map((x) => x.creatorId))], ['retailer:retailer-b'], 'nothing written to B’s meter by another identity');
  t.assert.deepEqual(recordsOf('mB2'), [], 'nothing written for the meter held twice');
});
