/**
 * The VTN while its ledger cannot be reached. `oadr-ledger vtn --ledger fabric` while the peer is away, the peer being the Gateway service
 * behind a proxy the test closes (connection refused, as from a stopped peer) and opens again on
 * the same port: the VTN starts without it and serves VENs, defers the start-up checks that need the
 * ledger until it answers, accepts events from a total reduction as pending (202) and creates them
 * once the contract has allocated the shares — once, and only then does a VEN receive one — and
 * lets a pending event whose start passes first expire, never sent. And a creation whose
 * notifyDRevent committed but whose answer was lost (TIMEOUT: the outcome unknown) is made once; a
 * pending event the operator cancels is never sent, whether the catch-up has not run yet or is
 * running (then the ledger's event is cancelled too).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { createLedgerMapping, LedgerError, type Ledger } from '../../ledger-bridge/index.ts';
import { startGatewayProxy, type GatewayProxy } from '../../ledger-bridge/testing/gateway-proxy.ts';
import { TEST_PEER_HOSTNAME } from '../../ledger-bridge/testing/gateway-server.ts';
import { startVtnCommand } from '../testing/vtn-command.ts';
import { startFabricVtnRig } from '../testing/fabric-vtn.ts';
import { call, createTestClock, registerVen, ven, type TestClock } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';
import { METRIC } from '../operations/metrics.ts';
import type { Vtn } from '../vtn-api.ts';
import type { PendingLedgerEventView } from '../services/event-service.ts';
import { startLedgerVtn } from '../testing/ledger-vtn.ts';
import { openVtnLedger, type VtnLedger } from './embedded.ts';

const TOKEN = 'fabric-outage-test-operator-token-0123456789';
const MIN = 60_000;
const SLOT = 15 * MIN;
const CUSTOMER = 'smartmeter:O1';

/** The contract's day (Europe/Rome) of an instant. */
const romeDay = (ms: number): string => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(ms);
/**
 * Where the Fabric tests' clock (the VTN's and the served ledger's) starts: 23:50 in Rome (CEST), ten
 * minutes before the contract's day ends, so the events 20 minutes on fall on the next day; the
 * history is the days that ended before the clock's day, as the admin API imports only ended days.
 */
const CLOCK_START = Date.parse(`${EVENT_DAY}T21:50:00Z`);
/** The 35 days of meter history that ended before the contract day `day` (Wh per quarter hour). */
const historyBefore = (day: string) => Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(day, -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) }));

/**
 * Imports the customer's history through the admin API. Under load a submission may miss its deadline
 * (503 with Retry-After): sent again, as a client would (recordEnergy sets a day's values); any other
 * refusal fails at once.
 */
async function importHistory(what: string, api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>, days: unknown[]): Promise<void> {
  await until(what, async () => {
    const r = await api('POST', `/customers/${CUSTOMER}/energy`, { days });
    if (r.status !== 200 && r.status !== 503) throw new Error(`the history import answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.status === 200;
  }, 240_000);
}

/** The event transactions (`fn eventId validationCode`) in a ledger's blocks. */
async function eventTransactions(ledger: Pick<Ledger, 'height' | 'block'>): Promise<string[]> {
  const out: string[] = [];
  for (let n = 0; n < (await ledger.height()); n++) {
    for (const tx of (await ledger.block(n)).transactions) if (/^(notify|modify|cancel)DRevent$/.test(tx.fn)) out.push(`${tx.fn} ${tx.args[0] ?? ''} ${tx.validationCode}`);
  }
  return out;
}

/**
 * Opens the VTN's embedded ledger with its mapping's `submit` and `evaluate` going through `wrap`, as
 * a Fabric connector's would fail (the ledger itself, `VtnLedger.ledger`, is the real one).
 */
function faultyLedger(wrap: (call: () => Promise<unknown>, fn: string) => Promise<unknown>) {
  return async (dataDir: string, clock: TestClock): Promise<VtnLedger> => {
    const base = await openVtnLedger({ dataDir, clock: () => new Date(clock.now()) });
    const real = base.ledger;
    const ledger = new Proxy(real, {
      get(target, name) {
        const value: unknown = Reflect.get(target, name, target);
        if (name === 'submit') return (...a: Parameters<Ledger['submit']>) => wrap(() => real.submit(...a), a[1]);
        if (name === 'evaluate') return (...a: Parameters<Ledger['evaluate']>) => wrap(() => real.evaluate(...a), a[1]);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { ...base, mapping: createLedgerMapping({ ledger, identities: base.identities, store: base.store, now: clock.now }) };
  };
}

test('vtn --ledger fabric with the peer away: starts and serves VENs, checks deferred; events accepted as pending (202), created once when the peer is back; a pending event whose start passed expires, never sent', async (t: TestContext) => {
  // Two 15-minute events on one contract day, 20 and 50 minutes on.
  const clock = createTestClock(CLOCK_START);
  const expiring = Math.ceil((clock.now() + 20 * MIN) / SLOT) * SLOT;
  const later = expiring + 2 * SLOT;
  assert.equal(romeDay(later + SLOT - 1), romeDay(expiring), 'both events on one contract day');
  const dir = mkdtempSync(join(tmpdir(), 'vtn-fabric-outage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rig = await startFabricVtnRig(t, dir, clock.now, { proxy: true });
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

  // The VTN's clock, the served ledger's: moved on past the first event's start below.
  let vtnApi: Vtn | undefined;
  const vtn = await startVtnCommand(
    ['--insecure-http', '--data-dir', join(dir, 'data'), '--port', '0', '--ledger', 'fabric', '--fabric-profile', rig.profile, '--fabric-identity', rig.identity, '--fabric-retailers', rig.retailers],
    { adminToken: TOKEN, now: clock.now, onListening: (v) => void (vtnApi = v) },
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
  const days = historyBefore(romeDay(clock.now()));
  const refused = await api('POST', `/customers/${CUSTOMER}/energy`, { days });
  t.assert.deepEqual([refused.status, refused.retryAfter, refused.body.type], [503, '30', 'urn:oadr-ledger:problem:ledger-unavailable']);

  // The peer answers: the deferred checks run, then the ledger work goes.
  await peerUp();
  await until('the deferred start-up checks', () => log.records.some((r) => r.msg === 'deferred start-up checks passed; the ledger work resumes'), 60_000);
  await importHistory('the history imported', api, days);

  // The peer away again: both events accepted as pending; no VEN has them.
  await peerDown();
  const a = await api('POST', '/events', { eventId: 'ev-later', start: new Date(later).toISOString(), slots: 1, reductionW: 200, targets: { customerIds: [CUSTOMER] } });
  t.assert.deepEqual([a.status, a.body.ledger, a.body.eventId], [202, 'pending', 'ev-later'], JSON.stringify(a.body));
  const b = await api('POST', '/events', { eventId: 'ev-expiring', start: new Date(expiring).toISOString(), slots: 1, reductionW: 200, targets: { customerIds: [CUSTOMER] } });
  t.assert.equal(b.status, 202, JSON.stringify(b.body));
  t.assert.equal((await api('GET', '/events/ev-later')).body.ledger, 'pending');
  t.assert.deepEqual(((await api('GET', '/events')).body as unknown as Array<{ eventId?: string; ledger?: string }>).map((e) => `${e.eventId} ${e.ledger}`).sort(), ['ev-expiring pending', 'ev-later pending']);
  t.assert.equal((await api('PATCH', '/events/ev-later', { reductionW: 100 })).status, 409, 'a pending event is changed once created');
  t.assert.equal((await call(url, 'EiEvent', ven.requestEvent(venId), 'DistributeEvent')).events, undefined, 'no VEN receives a pending event');

  // The first event's start passes while the peer is away: it expires.
  clock.set(expiring + MIN);
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
  t.assert.deepEqual((await eventTransactions(rig.gateway.embedded.ledger)).filter((x) => x.startsWith('notifyDRevent ') && x.endsWith(' VALID')), ['notifyDRevent ev-later VALID']);
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
  // Events 20 minutes on, on one contract day.
  const clock = createTestClock(CLOCK_START);
  const start = Math.ceil((clock.now() + 20 * MIN) / SLOT) * SLOT;
  assert.equal(romeDay(start + 2 * SLOT - 1), romeDay(start), 'both events on one contract day');
  // The data directory's stores record an event on network A.
  const a = await startFabricVtnRig(t, join(dir, 'a'), clock.now);
  const first = await startVtnCommand(flags(a), { adminToken: TOKEN, now: clock.now });
  const api = apiOf(first.url);
  t.assert.equal((await api('POST', '/customers', { customerId: CUSTOMER })).status, 201);
  const days = historyBefore(romeDay(clock.now()));
  await importHistory('the history on network A', api, days);
  const onA = await api('POST', '/events', { eventId: 'ev-a', start: new Date(start).toISOString(), slots: 1, reductionW: 100, targets: { customerIds: [CUSTOMER] } });
  t.assert.equal(onA.status, 201, JSON.stringify(onA.body));
  t.assert.equal(await first.stop(), 0);

  // Started against network B while its peer is away: served, checks deferred, the ledger held back.
  const b = await startFabricVtnRig(t, join(dir, 'b'), clock.now, { proxy: true });
  const proxyPort = Number(b.proxy?.address.split(':').pop());
  await b.proxy?.close();
  const heightOfB = await b.gateway.embedded.ledger.height();
  const second = await startVtnCommand(flags(b), { adminToken: TOKEN, now: clock.now });
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
    openLedger: faultyLedger(async (call, fn) => {
      const r = await call();
      if (fn === 'notifyDRevent' && lose) {
        lose = false;
        const { txId } = r as { txId: string };
        throw new LedgerError('TIMEOUT', `transaction ${txId}: no commit status within the deadline (it may still commit)`, { txId });
      }
      return r;
    }),
  });
  const { vtn } = rig;
  const accepted = (await vtn.events.create({ eventId: 'ev-lost', start, slots: 4, reductionW: 300, targets: { customerIds: [CUSTOMER] } }, { pendingWhenUnreachable: true })) as PendingLedgerEventView;
  t.assert.deepEqual([accepted.ledger, vtn.events.get('ev-lost')], ['pending', undefined]);
  t.assert.equal(lose, false, 'the notifyDRevent reached the ledger');
  // The outbox's next pass completes it: notifyDRevent again under the same event id finds the first one.
  await vtn.ledgerOutbox?.drain();
  const created = vtn.events.get('ev-lost');
  t.assert.deepEqual([created?.ledger, created?.customersWithoutVen, vtn.events.pendingCreation('ev-lost')], ['recorded', [CUSTOMER], undefined]);
  t.assert.deepEqual(await eventTransactions(rig.ledger.ledger), ['notifyDRevent ev-lost VALID']);
});

/**
 * A VTN on the embedded ledger whose mapping cannot reach it while `down` (UNAVAILABLE, as from a
 * stopped Fabric peer) and whose notifyDRevent, once committed, waits for `held` to be released
 * before it answers (a catch-up in flight); while `slow` is set, every call waits for it before it is
 * sent (a peer slow to answer). One registered VEN, the admin API, and event ev-c accepted as pending.
 */
async function pendingCancelRig(t: TestContext, prefix: string) {
  const start = Date.parse(`${EVENT_DAY}T15:00:00Z`);
  const state = { down: false, held: undefined as Promise<void> | undefined, committed: false, slow: undefined as Promise<void> | undefined };
  const rig = await startLedgerVtn(t, {
    prefix,
    start: start - 60 * MIN,
    customerId: CUSTOMER,
    adminToken: TOKEN,
    openLedger: faultyLedger(async (call, fn) => {
      if (state.slow !== undefined) await state.slow;
      if (state.down) throw new LedgerError('UNAVAILABLE', `${fn}: the peer cannot be reached (connection refused)`);
      const r = await call();
      if (fn === 'notifyDRevent' && state.held !== undefined) {
        state.committed = true;
        await state.held;
      }
      return r;
    }),
  });
  const { venId } = await registerVen(rig.url, CUSTOMER);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rig.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  // Accepted while the ledger is away: pending.
  state.down = true;
  const accepted = await api('POST', '/events', { eventId: 'ev-c', start: new Date(start).toISOString(), slots: 4, reductionW: 300, targets: { customerIds: [CUSTOMER] } });
  t.assert.deepEqual([accepted.status, accepted.body.ledger], [202, 'pending'], JSON.stringify(accepted.body));
  /** What a VEN asking for its events receives now. */
  const venEvents = async () => (await call(rig.url, 'EiEvent', ven.requestEvent(venId), 'DistributeEvent')).events?.map((e) => e.descriptor.eventId) ?? [];
  return { ...rig, state, api, venEvents };
}

test('a pending event cancelled before the catch-up: reads cancelled at once, never created on the ledger nor sent to a VEN', async (t) => {
  const { vtn, ledger, state, api, venEvents } = await pendingCancelRig(t, 'oadr-vtn-pending-cancel-');
  const cancelled = await api('POST', '/events/ev-c/cancel', { reason: 'forecast changed' });
  t.assert.deepEqual([cancelled.status, cancelled.body.ledger], [200, 'cancelled'], JSON.stringify(cancelled.body));
  t.assert.match(String(cancelled.body.reason), /cancelled by the operator \(forecast changed\) before the ledger allocated its shares/);
  t.assert.equal((await api('GET', '/events/ev-c')).body.ledger, 'cancelled');
  t.assert.deepEqual(((await api('GET', '/events')).body as unknown as Array<{ eventId?: string; ledger?: string }>).map((e) => `${e.eventId} ${e.ledger}`), ['ev-c cancelled']);
  // Again: the same answer; a change or a new event under its id is refused.
  t.assert.deepEqual([(await api('POST', '/events/ev-c/cancel', {})).body.ledger, (await api('PATCH', '/events/ev-c', { reductionW: 100 })).status], ['cancelled', 409]);

  // The ledger back: the outbox's pass ends it, and nothing of it is made.
  state.down = false;
  await vtn.ledgerOutbox?.drain();
  t.assert.deepEqual([vtn.store.listEventSagas().map((s) => s.state), vtn.events.get('ev-c')], [['cancelled'], undefined]);
  t.assert.deepEqual(await venEvents(), []);
  t.assert.deepEqual((await eventTransactions(ledger.ledger)).filter((x) => x.endsWith(' VALID')), [], 'no event on the ledger');
  t.assert.equal((await api('GET', '/events/ev-c')).body.ledger, 'cancelled');
  const again = await api('POST', '/events', { eventId: 'ev-c', start: new Date(Date.parse(`${EVENT_DAY}T16:00:00Z`)).toISOString(), slots: 1, reductionW: 100, targets: { customerIds: [CUSTOMER] } });
  t.assert.deepEqual([again.status, /accepted already \(ledger: cancelled\)/.test(String(again.body.detail))], [422, true], `its id stays taken (R70): ${JSON.stringify(again.body)}`);
});

test('a pending event cancelled while the catch-up creates it: the ledger\'s event is cancelled, no VEN receives it, it reads cancelled', async (t) => {
  const { vtn, ledger, state, api, venEvents } = await pendingCancelRig(t, 'oadr-vtn-pending-cancel-race-');
  // The ledger back; the catch-up's notifyDRevent commits and its answer is held.
  let release!: () => void;
  state.held = new Promise<void>((r) => (release = r));
  state.down = false;
  const pass = vtn.ledgerOutbox?.drain();
  let cancelled: Awaited<ReturnType<typeof api>> | undefined;
  try {
    await until('the catch-up\'s notifyDRevent committed', () => state.committed);
    cancelled = await api('POST', '/events/ev-c/cancel', {});
  } finally {
    release();
  }
  await pass;
  t.assert.deepEqual([cancelled?.status, cancelled?.body.ledger], [200, 'cancelled'], JSON.stringify(cancelled?.body));

  t.assert.deepEqual([vtn.store.listEventSagas().map((s) => s.state), vtn.events.get('ev-c')], [['cancelled'], undefined]);
  t.assert.deepEqual(await venEvents(), []);
  t.assert.deepEqual((await eventTransactions(ledger.ledger)).filter((x) => x.endsWith(' VALID')), ['notifyDRevent ev-c VALID', 'cancelDRevent ev-c VALID']);
  t.assert.equal((JSON.parse(await ledger.ledger.evaluate(ledger.identities.operator, 'queryDRevent', ['ev-c'])) as { status: string }).status, 'cancelled');
  const read = await api('GET', '/events/ev-c');
  t.assert.deepEqual([read.status, read.body.ledger], [200, 'cancelled']);
  t.assert.match(String(read.body.reason), /cancelled by the operator before the ledger allocated its shares; it was never sent to the VENs/);
});

test('an event cancelled while its creation request waits for a ledger that then cannot be reached: answered 202 cancelled, never created nor sent, the other pending event is', async (t) => {
  const { vtn, ledger, state, api, venEvents } = await pendingCancelRig(t, 'oadr-vtn-pending-cancel-post-');
  // The creation request of ev-d waits for the peer, which then refuses the connection.
  let release!: () => void;
  state.slow = new Promise<void>((r) => (release = r));
  const posted = api('POST', '/events', { eventId: 'ev-d', start: new Date(Date.parse(`${EVENT_DAY}T16:00:00Z`)).toISOString(), slots: 2, reductionW: 200, targets: { customerIds: [CUSTOMER] } });
  let cancelled: Awaited<ReturnType<typeof api>> | undefined;
  try {
    await until('the creation of ev-d under way', () => vtn.events.pendingCreation('ev-d') !== undefined);
    cancelled = await api('POST', '/events/ev-d/cancel', {});
  } finally {
    release();
  }
  const answer = await posted;
  t.assert.deepEqual([cancelled?.status, cancelled?.body.ledger], [200, 'cancelled'], JSON.stringify(cancelled?.body));
  t.assert.deepEqual([answer.status, answer.body.ledger], [202, 'cancelled'], JSON.stringify(answer.body));

  // The ledger back: ev-c is created and sent, ev-d never.
  state.down = false;
  await vtn.ledgerOutbox?.drain();
  t.assert.deepEqual([vtn.events.get('ev-d'), (await api('GET', '/events/ev-d')).body.ledger], [undefined, 'cancelled']);
  t.assert.deepEqual(await venEvents(), ['ev-c']);
  t.assert.deepEqual((await eventTransactions(ledger.ledger)).filter((x) => x.endsWith(' VALID')), ['notifyDRevent ev-c VALID']);
});
