import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LedgerPort } from '../ledger/port.ts';
import { METRIC } from './metrics.ts';
import { call, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';
import { encodeOadr } from '../../oadr/index.ts';
import { VtnError } from '../errors.ts';
import { createOadrHttpServer } from '../transports/http-server.ts';
import { silentLogger } from './logger.ts';

const bare: LedgerPort = { notifyEvent: async () => new Map(), recordOpt: async () => {}, recordTelemetry: async () => {} };

test('health: /healthz answers 200; /readyz reports the store and the ledger; a ledger that does not answer is reported, the VTN stays ready for VENs', async (t) => {
  const a = await startTestVtn(t);
  const live = await fetch(`${a.url}/healthz`);
  t.assert.equal(live.status, 200);
  const ready = await fetch(`${a.url}/readyz`);
  t.assert.equal(ready.status, 200);
  t.assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { store: 'ok', ledger: 'not configured', ledgerOutbox: 'not configured' });

  const b = await startTestVtn(t, {}, { ledger: { ...bare, ping: async () => {} } });
  t.assert.deepEqual(((await (await fetch(`${b.url}/readyz`)).json()) as { checks: unknown }).checks, { store: 'ok', ledger: 'ok', ledgerOutbox: 'ok' });

  const c = await startTestVtn(t, {}, { ledger: { ...bare, ping: async () => Promise.reject(new Error('peer unreachable')) } });
  const down = await fetch(`${c.url}/readyz`);
  t.assert.equal(down.status, 200, 'VENs are served while the ledger is away');
  const body = (await down.json()) as { ready: boolean; checks: { ledger: string }; errors: string[] };
  t.assert.equal(body.ready, true);
  t.assert.equal(body.checks.ledger, 'failed');
  assert.ok(body.errors.some((e) => e.includes('peer unreachable')));
  // The ledger's state on /metrics: 0 while its ping fails, 1 once it answers.
  t.assert.match(await (await fetch(`${c.url}/metrics`)).text(), new RegExp(`^${METRIC.ledgerUp} 0$`, 'm'));
  t.assert.match(await (await fetch(`${b.url}/metrics`)).text(), new RegExp(`^${METRIC.ledgerUp} 1$`, 'm'));
  t.assert.doesNotMatch(await (await fetch(`${a.url}/metrics`)).text(), new RegExp(METRIC.ledgerUp), 'no ledger: no gauge');
});

test('health: /readyz reports the last result of the VTN\'s ledger probe and its age, without asking the ledger itself; a probe brings the change', async (t) => {
  let pings = 0;
  let answer: Error | undefined;
  const ping = async (): Promise<void> => {
    pings++;
    if (answer !== undefined) throw answer;
  };
  // Only the probe at start and the ones asked for below (the periodic one an hour away).
  const { url, vtn } = await startTestVtn(t, {}, { ledger: { ...bare, ping }, ledgerProbeMs: 3_600_000 });
  const readyz = async () => (await (await fetch(`${url}/readyz`)).json()) as { ready: boolean; checks: { ledger: string }; ledgerProbeAgeMs?: number; errors: string[] };
  const first = await readyz();
  t.assert.equal(first.checks.ledger, 'ok');
  assert.ok(typeof first.ledgerProbeAgeMs === 'number' && first.ledgerProbeAgeMs >= 0, JSON.stringify(first));
  const asked = pings;
  for (let i = 0; i < 5; i++) await readyz();
  t.assert.equal(pings, asked, 'five /readyz, no ping');

  // The ledger goes away: /readyz says what the last probe found until the next probe.
  answer = new Error('peer unreachable');
  t.assert.equal((await readyz()).checks.ledger, 'ok');
  await vtn.probeLedger();
  const down = await readyz();
  t.assert.deepEqual([down.ready, down.checks.ledger], [true, 'failed']);
  assert.ok(down.errors.some((e) => e.includes('peer unreachable') && /probed \d+ ms ago/.test(e)), down.errors.join('; '));
  t.assert.match(await (await fetch(`${url}/metrics`)).text(), new RegExp(`^${METRIC.ledgerUp} 0$`, 'm'));

  answer = undefined;
  await vtn.probeLedger();
  t.assert.deepEqual([(await readyz()).checks.ledger, pings], ['ok', asked + 2]);
});

test('stopping: with shutdownGraceMs /readyz fails at once while OpenADR requests are still served; a request the stopped VTN gets is 503 with Retry-After', async (t) => {
  const { url, vtn } = await startTestVtn(t, { shutdownGraceMs: 5_000 });
  const a = await registerVen(url, 'ven-a');
  const stopping = vtn.close();
  const ready = await fetch(`${url}/readyz`);
  t.assert.equal(ready.status, 503);
  assert.ok(((await ready.json()) as { errors: string[] }).errors.includes('the VTN is closing'));
  t.assert.equal((await post(url, 'OadrPoll', ven.poll(a.venId))).status, 200, 'still served while draining');
  await stopping;
  await assert.rejects(fetch(`${url}/healthz`), 'stopped: nothing listens');
  // The seam the HTTP server sees while the VTN stops: its handler refuses with CLOSED.
  const server = createOadrHttpServer({ pathPrefix: '', bodyLimitBytes: 65_536, log: silentLogger, handle: () => { throw new VtnError('CLOSED', 'the VTN is closed'); } });
  t.after(() => server.close());
  const res = await server.inject({ method: 'POST', url: '/OpenADR2/Simple/2.0b/OadrPoll', headers: { 'content-type': 'application/xml' }, payload: encodeOadr(ven.poll(a.venId)) });
  t.assert.deepEqual([res.statusCode, res.headers['retry-after'], res.headers.connection], [503, '10', 'close']);
});

test('health: /readyz fails while the outbox of ledger work holds more than ledgerOutboxReadyLimit items; /metrics shows its depth', async (t) => {
  // A ledger that never takes telemetry: what the VTN acknowledged waits in its outbox.
  const stuck: LedgerPort = { ...bare, ping: async () => {}, recordTelemetry: async () => Promise.reject(new Error('ledger down')) };
  const { url, vtn } = await startTestVtn(t, { ledgerOutboxReadyLimit: 2 }, { ledger: stuck });
  for (let i = 0; i < 2; i++) vtn.store.putLedgerWork(`work-${i}`, 'telemetry', {}, 0);
  t.assert.equal((await fetch(`${url}/readyz`)).status, 200, 'at the limit: ready');
  vtn.store.putLedgerWork('work-2', 'telemetry', {}, 0);
  const down = await fetch(`${url}/readyz`);
  t.assert.equal(down.status, 503);
  const body = (await down.json()) as { checks: { ledgerOutbox: string }; errors: string[] };
  t.assert.equal(body.checks.ledgerOutbox, 'failed');
  assert.ok(body.errors.some((e) => e.includes('3 items wait for the ledger')), body.errors.join('; '));
  const text = await (await fetch(`${url}/metrics`)).text();
  assert.ok(text.includes(`${METRIC.ledgerOutboxDepth} 3\n`), text);
});

test('metrics over HTTP: polls, payloads by type and direction, queue depth, HTTP statuses and ledger latency', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, {}, { ledger: bare });
  const { venId } = await registerVen(url, 'house-1'); // drains: the VTN metadata, then an empty poll
  vtn.events.create({ eventId: 'e1', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [venId]: 100 } });
  await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: 'e1', modificationNumber: 0 }]), 'Response');
  await fetch(`${url}/OpenADR2/Simple/2.0b/OadrPoll`, { method: 'GET' }); // 501
  await vtn.events.ledgerIdle?.();
  await new Promise((r) => setImmediate(r));
  const res = await fetch(`${url}/metrics`);
  t.assert.equal(res.status, 200);
  t.assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  assert.ok(text.includes(`${METRIC.polls}{result="payload"} 1\n`), text);
  assert.ok(text.includes(`${METRIC.polls}{result="empty"} 1\n`));
  assert.ok(text.includes(`${METRIC.payloads}{direction="in",type="CreatePartyRegistration"} 1\n`));
  assert.ok(text.includes(`${METRIC.payloads}{direction="out",type="RegisterReport"} 1\n`));
  assert.ok(text.includes(`${METRIC.queueDepth} 1\n`), 'the undelivered oadrDistributeEvent');
  assert.ok(text.includes(`${METRIC.registeredVens} 1\n`));
  assert.ok(text.includes(`${METRIC.httpResponses}{code="501"} 1\n`));
  assert.match(text, new RegExp(`${METRIC.httpResponses}\\{code="200"\\} [4-9]\\n`));
  assert.ok(text.includes(`${METRIC.ledgerCallSeconds}_count{method="recordOpt"} 1\n`));
});
