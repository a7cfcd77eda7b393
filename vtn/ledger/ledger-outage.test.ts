/**
 * The VTN while its ledger cannot be reached. `oadr-ledger vtn --ledger fabric` while the peer is away, the peer being the Gateway service
 * behind a proxy the test closes (connection refused, as from a stopped peer) and opens again on
 * the same port: the VTN starts without it and serves VENs, defers the start-up checks that need the
 * ledger until it answers, accepts events from a total reduction as pending (202) and creates them
 * once the contract has allocated the shares — once, and only then does a VEN receive one — and
 * lets a pending event whose start passes first expire, never sent. And a creation whose
 * notifyDRevent committed but whose answer was lost (TIMEOUT: the outcome unknown) is made once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { createLedgerMapping, LedgerError } from '../../ledger-bridge/index.ts';
import { startGatewayProxy, type GatewayProxy } from '../../ledger-bridge/testing/gateway-proxy.ts';
import { TEST_PEER_HOSTNAME } from '../../ledger-bridge/testing/gateway-server.ts';
import { startVtnCommand } from '../testing/vtn-command.ts';
import { startFabricVtnRig } from '../testing/fabric-vtn.ts';
import { call, registerVen, ven } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';
import { METRIC } from '../operations/metrics.ts';
import type { Vtn } from '../vtn-api.ts';
import type { PendingLedgerEventView } from '../services/event-service.ts';
import { startLedgerVtn } from '../testing/ledger-vtn.ts';
import { openVtnLedger } from './embedded.ts';

const TOKEN = 'fabric-outage-test-operator-token-0123456789';
const MIN = 60_000;
const SLOT = 15 * MIN;
const CUSTOMER = 'smartmeter:O1';

/** The contract's day (Europe/Rome) of an instant. */
const romeDay = (ms: number): string => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(ms);

test('vtn --ledger fabric with the peer away: starts and serves VENs, checks deferred; events accepted as pending (202), created once when the peer is back; a pending event whose start passed expires, never sent', async (t: TestContext) => {
  // Two 15-minute events later today (the contract's day, so yesterday's history gives the baseline).
  const now0 = Date.now();
  const expiring = Math.ceil((now0 + 20 * MIN) / SLOT) * SLOT;
  const later = expiring + 2 * SLOT;
  if (romeDay(later + SLOT - 1) !== romeDay(now0)) {
    t.skip('less than an hour of the contract day (Europe/Rome) is left: the events would fall on another day than their history');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vtn-fabric-outage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rig = await startFabricVtnRig(t, dir, Date.now, { proxy: true });
  const first = rig.proxy as GatewayProxy;
  const proxyPort = Number(first.address.split(':').pop());
  let proxy: GatewayProxy | undefined = first;
  const peerDown = async (): Promise<void> => {
    await proxy?.close();
    proxy = undefined;
  };
  const peerUp = async (): Promise<void> => {
    proxy = await startGatewayProxy({ target: rig.gateway.server.address, targetTls: { caPem: rig.gateway.tlsCaPem, hostname: TEST_PEER_HOSTNAME }, port: proxyPort });
  };
  t.after(() => proxy?.close());
  await peerDown();

  // The VTN's clock: the wall clock, moved on past the first event's start below.
  let offset = 0;
  let vtnApi: Vtn | undefined;
  const vtn = await startVtnCommand(
    ['--insecure-http', '--data-dir', join(dir, 'data'), '--port', '0', '--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', rig.identity, '--fabric-retailers', rig.retailers],
    { adminToken: TOKEN, now: () => Date.now() + offset, onListening: (v) => void (vtnApi = v) },
  );
  t.after(() => vtn.stop());
  const { url, log } = vtn;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const readyz = async () => ({ ...(await fetch(`${url}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { ready: boolean; checks: { ledger: string } } }))) });

  // Started without the peer: VENs served, ready for them; the ledger reported down.
  assert.ok(log.records.some((r) => r.level === 'warn' && /start-up checks that need the ledger are deferred/.test(r.msg ?? '')), 'the deferral is logged');
  const down = await readyz();
  t.assert.deepEqual([down.status, down.body.ready, down.body.checks.ledger], [200, true, 'failed']);
  t.assert.match(await (await fetch(`${url}/metrics`)).text(), new RegExp(`^${METRIC.ledgerUp} 0$`, 'm'));
  t.assert.equal((await api('POST', '/customers', { customerId: CUSTOMER, venName: 'house-o' })).status, 201);
  const { venId } = await registerVen(url, 'house-o');
  // What needs the ledger now says so: 503 with Retry-After, nothing imported.
  const days = Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(romeDay(now0), -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) }));
  const refused = await api('POST', `/customers/${CUSTOMER}/energy`, { days });
  t.assert.deepEqual([refused.status, refused.retryAfter, refused.body.type], [503, '30', 'urn:oadr-ledger:problem:ledger-unavailable']);

  // The peer answers: the deferred checks run, then the ledger work goes.
  await peerUp();
  await until('the deferred start-up checks', () => log.records.some((r) => r.msg === 'deferred start-up checks passed; the ledger work resumes'), 60_000);
  // Under load a submission may miss its deadline (503 with Retry-After): sent again, as a client would (recordEnergy sets a day's values).
  await until('the history imported', async () => (await api('POST', `/customers/${CUSTOMER}/energy`, { days })).status === 200, 240_000);

  // The peer away again: both events accepted as pending; no VEN has them.
  await peerDown();
  const a = await api('POST', '/events', { eventId: 'ev-later', start: new Date(later).toISOString(), slots: 1, reductionW: 200, targets: { customerIds: [CUSTOMER] } });
  t.assert.deepEqual([a.status, a.body.ledger, a.body.eventId], [202, 'pending', 'ev-later'], JSON.stringify(a.body));
  const b = await api('POST', '/events', { eventId: 'ev-expiring', start: new Date(expiring).toISOString(), slots: 1, reductionW: 200, targets: { customerIds: [CUSTOMER] } });
  t.assert.equal(b.status, 202, JSON.stringify(b.body));
  t.assert.equal((await api('GET', '/events/ev-later')).body.ledger, 'pending');
  t.assert.deepEqual(((await api('GET', '/events')).body as unknown as Array<{ eventId?: string; ledger?: string }>).map((e) => `${e.eventId} ${e.ledger}`).sort(), ['ev-expiring pending', 'ev-later pending']);
  t.assert.equal((await api('PATCH', '/events/ev-later', { reductionW: 100 })).status, 409, 'a pending event is changed once created');
  t.assert.equal((await api('POST', '/events/ev-later/cancel', {})).status, 409, 'and cancelled once created');
  t.assert.equal((await call(url, 'EiEvent', ven.requestEvent(venId), 'DistributeEvent')).events, undefined, 'no VEN receives a pending event');

  // The first event's start passes while the peer is away: it expires.
  offset = expiring + MIN - Date.now();
  t.assert.equal((await api('GET', '/events/ev-expiring')).body.ledger, 'expired');

  await peerUp();
  await until('the pending event created', async () => {
    await vtnApi?.ledgerOutbox?.drain();
    return (await api('GET', '/events/ev-later')).body.ledger === 'recorded';
  }, 60_000);
  await until('the expired event cancelled on the ledger', async () => {
    await vtnApi?.ledgerOutbox?.drain();
    return vtnApi?.store.listEventSagas().find((s) => s.eventId === 'ev-expiring')?.state === 'expired';
  }, 60_000);
  const expired = await api('GET', '/events/ev-expiring');
  t.assert.deepEqual([expired.status, expired.body.ledger], [200, 'expired']);
  t.assert.match(String(expired.body.reason), /passed while the ledger could not be reached/);

  // On the ledger: the pending event notified once, the expired one never.
  const ledger = rig.gateway.embedded.ledger;
  const notified: string[] = [];
  for (let n = 0; n < (await ledger.height()); n++) {
    for (const tx of (await ledger.block(n)).transactions) if (tx.fn === 'notifyDRevent' && tx.validationCode === 'VALID') notified.push(tx.args[0] ?? '');
  }
  t.assert.deepEqual(notified, ['ev-later']);
  // The VEN receives the created event, with its customer's share.
  const d = await call(url, 'EiEvent', ven.requestEvent(venId), 'DistributeEvent');
  t.assert.deepEqual(d.events?.map((e) => e.descriptor.eventId), ['ev-later']);
  await vtnApi?.probeLedger();
  const up = await readyz();
  t.assert.deepEqual([up.status, up.body.checks.ledger], [200, 'ok']);
  t.assert.match(await (await fetch(`${url}/metrics`)).text(), new RegExp(`^${METRIC.ledgerUp} 1$`, 'm'));
  t.assert.equal(await vtn.stop(), 0);
});

test('vtn --ledger fabric started with the peer away on a data directory written against another network: nothing reaches that network before the deferred checks, which then stop the VTN (exit 1)', async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-fabric-other-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const flags = (rig: { profile: string; identity: string; retailers: string }) => ['--insecure-http', '--data-dir', data, '--port', '0', '--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', rig.identity, '--fabric-retailers', rig.retailers];
  const apiOf = (url: string) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const now0 = Date.now();
  const start = Math.ceil((now0 + 20 * MIN) / SLOT) * SLOT;
  if (romeDay(start + SLOT - 1) !== romeDay(now0)) {
    t.skip('less than half an hour of the contract day (Europe/Rome) is left: the event would fall on another day than its history');
    return;
  }
  // The data directory's stores record an event on network A.
  const a = await startFabricVtnRig(t, join(dir, 'a'), Date.now);
  const first = await startVtnCommand(flags(a), { adminToken: TOKEN });
  const api = apiOf(first.url);
  t.assert.equal((await api('POST', '/customers', { customerId: CUSTOMER })).status, 201);
  const days = Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(romeDay(now0), -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) }));
  await until('the history on network A', async () => (await api('POST', `/customers/${CUSTOMER}/energy`, { days })).status === 200, 240_000);
  const onA = await api('POST', '/events', { eventId: 'ev-a', start: new Date(start).toISOString(), slots: 1, reductionW: 100, targets: { customerIds: [CUSTOMER] } });
  t.assert.equal(onA.status, 201, JSON.stringify(onA.body));
  t.assert.equal(await first.stop(), 0);

  // Started against network B while its peer is away: served, checks deferred, the ledger held back.
  const b = await startFabricVtnRig(t, join(dir, 'b'), Date.now, { proxy: true });
  const proxyPort = Number(b.proxy?.address.split(':').pop());
  await b.proxy?.close();
  const heightOfB = await b.gateway.embedded.ledger.height();
  const second = await startVtnCommand(flags(b), { adminToken: TOKEN });
  t.after(() => second.stop());
  t.assert.equal((await apiOf(second.url)('POST', '/events', { eventId: 'ev-b', start: new Date(start + SLOT).toISOString(), slots: 1, reductionW: 100, targets: { customerIds: [CUSTOMER] } })).status, 202);
  const back = await startGatewayProxy({ target: b.gateway.server.address, targetTls: { caPem: b.gateway.tlsCaPem, hostname: TEST_PEER_HOSTNAME }, port: proxyPort });
  t.after(() => back.close());
  await until('the deferred checks fail', () => second.log.records.some((r) => r.msg === 'the deferred start-up checks failed: stopping the VTN'), 90_000);
  t.assert.equal(await second.stop(), 1);
  t.assert.match(second.stderr(), /lacks transaction \w+ of event 'ev-a', which ledger-mapping.sqlite recorded: the VTN is connected to another network or channel/);
  t.assert.equal(await b.gateway.embedded.ledger.height(), heightOfB, 'nothing reached network B');
});

test('an event creation whose notifyDRevent committed but whose answer was lost (TIMEOUT) is kept pending, then completed with the same event id: one notifyDRevent on the ledger, one event', async (t) => {
  const start = Date.parse(`${EVENT_DAY}T15:00:00Z`);
  let lose = true;
  const rig = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-lost-answer-',
    start: start - 60 * MIN,
    customerId: CUSTOMER,
    // The real embedded ledger, whose first notifyDRevent commits and then answers TIMEOUT, as a
    // Fabric connector whose commit-status wait ran out.
    openLedger: async (dataDir, clock) => {
      const base = await openVtnLedger({ dataDir, clock: () => new Date(clock.now()) });
      const losing = new Proxy(base.ledger, {
        get(target, name) {
          const value: unknown = Reflect.get(target, name, target);
          if (name !== 'submit') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          return async (...args: Parameters<typeof target.submit>) => {
            const r = await target.submit(...args);
            if (args[1] === 'notifyDRevent' && lose) {
              lose = false;
              throw new LedgerError('TIMEOUT', `transaction ${r.txId}: no commit status within the deadline (it may still commit)`, { txId: r.txId });
            }
            return r;
          };
        },
      });
      return { ...base, mapping: createLedgerMapping({ ledger: losing, identities: base.identities, store: base.store, now: clock.now }) };
    },
  });
  const { vtn } = rig;
  const accepted = (await vtn.events.create({ eventId: 'ev-lost', start, slots: 4, reductionW: 300, targets: { customerIds: [CUSTOMER] } }, { pendingWhenUnreachable: true })) as PendingLedgerEventView;
  t.assert.deepEqual([accepted.ledger, vtn.events.get('ev-lost')], ['pending', undefined]);
  t.assert.equal(lose, false, 'the notifyDRevent reached the ledger');
  // The outbox's next pass completes it: notifyDRevent again under the same event id finds the first one.
  await vtn.ledgerOutbox?.drain();
  const created = vtn.events.get('ev-lost');
  t.assert.deepEqual([created?.ledger, created?.customersWithoutVen, vtn.events.pendingCreation('ev-lost')], ['recorded', [CUSTOMER], undefined]);
  const notified: string[] = [];
  for (let n = 0; n < (await rig.ledger.ledger.height()); n++) {
    for (const tx of (await rig.ledger.ledger.block(n)).transactions) if (tx.fn === 'notifyDRevent') notified.push(`${tx.args[0] ?? ''} ${tx.validationCode}`);
  }
  t.assert.deepEqual(notified, ['ev-lost VALID']);
});
