import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeOadr, encodeOadr, type Payload } from '../../oadr/index.ts';
import { backoffDelay } from './backoff.ts';
import { pushUrl } from './http-push.ts';
import { registerVen, startPushVen as fakeVen, startTestVtn } from '../testing/fake-ven.ts';
import { until } from '../../test/support/until.ts';

const FAST = { push: { initialBackoffMs: 10, maxBackoffMs: 40, jitter: 0.1, timeoutMs: 5000 } };

test('§9.1.7 VTN: back-off waits ≈1 s ±10 %, doubling per failure, capped', () => {
  const o = { initialMs: 1000, maxMs: 8000, jitter: 0.1 };
  assert.equal(backoffDelay(1, o, () => 0), 900);
  assert.equal(backoffDelay(1, o, () => 0.5), 1000);
  assert.ok(backoffDelay(1, o, () => 0.999_999) <= 1100);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o, () => 0.5)), [1000, 2000, 4000, 8000, 8000, 8000]);
});

test('§9.1.2 VTN: the push URL joins the VEN base and the service path with one slash', () => {
  assert.equal(pushUrl('http://myaddress:8080/prefix/', 'EiReport'), 'http://myaddress:8080/prefix/OpenADR2/Simple/2.0b/EiReport');
  assert.equal(pushUrl('http://myaddress:8080/prefix', 'EiEvent'), 'http://myaddress:8080/prefix/OpenADR2/Simple/2.0b/EiEvent');
});

test('R38+R301 VTN: a push VEN receives the VTN metadata at EiReport and events at EiEvent, with Content-Length, no Content-Encoding', async (t) => {
  const v = await fakeVen(t, (p) =>
    p.type === 'RegisterReport'
      ? { status: 200, body: { type: 'RegisteredReport', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, venId: p.venId ?? '' } }
      : { status: 200 },
  );
  const { url, vtn, clock } = await startTestVtn(t, FAST);
  const a = await registerVen(url, 'ven-push', { pull: false, transportAddress: v.base });
  await until('the metadata push', () => v.received.length === 1 && vtn.store.queueDepth(a.venId) === 0);
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 3_600_000, slots: 2, perVenReductionW: { [a.venId]: 300 } });
  await until('the event push', () => v.received.length === 2 && vtn.store.queueDepth(a.venId) === 0);
  t.assert.deepEqual(v.received.map((r) => [r.path, r.payload.type]), [
    ['/ven/OpenADR2/Simple/2.0b/EiReport', 'RegisterReport'],
    ['/ven/OpenADR2/Simple/2.0b/EiEvent', 'DistributeEvent'],
  ]);
  for (const r of v.received) {
    t.assert.equal(r.headers['content-encoding'], undefined);
    t.assert.equal(r.headers['transfer-encoding'], undefined);
    assert.ok(Number(r.headers['content-length']) > 0);
    t.assert.equal(r.headers['content-type'], 'application/xml');
  }
  const d = v.received[1]?.payload;
  assert.ok(d?.type === 'DistributeEvent');
  t.assert.deepEqual(d.events?.[0]?.target.venIds, [a.venId]);
});

test('§9.1.7 VTN: a push target answering 503 is retried until it answers 200; another VEN is served meanwhile', async (t) => {
  let down = true;
  const flaky = await fakeVen(t, () => ({ status: down ? 503 : 200 }));
  const healthy = await fakeVen(t, () => ({ status: 200 }));
  const { url, vtn, clock } = await startTestVtn(t, FAST);
  const a = await registerVen(url, 'ven-flaky', { pull: false, transportAddress: flaky.base });
  const b = await registerVen(url, 'ven-healthy', { pull: false, transportAddress: healthy.base });
  vtn.events.create({ start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [a.venId]: 1, [b.venId]: 1 } });
  await until('the healthy VEN', () => healthy.received.length === 2);
  await until('retries to the flaky VEN', () => flaky.received.length >= 4);
  t.assert.equal(vtn.store.queueDepth(a.venId), 2);
  down = false;
  await until('the flaky VEN to catch up', () => vtn.store.queueDepth(a.venId) === 0);
  const delivered = flaky.received.slice(-2).map((r) => r.payload.type);
  t.assert.deepEqual(delivered, ['RegisterReport', 'DistributeEvent']);
});

test('§9.1.5 VTN: a payload the VEN refuses with 406 is dropped, not resent unchanged', async (t) => {
  const v = await fakeVen(t, (p) => ({ status: p.type === 'RegisterReport' ? 406 : 200 }));
  const { url, vtn } = await startTestVtn(t, FAST);
  const a = await registerVen(url, 'ven-406', { pull: false, transportAddress: v.base });
  await until('the refused payload to leave the queue', () => vtn.store.queueDepth(a.venId) === 0);
  vtn.vens.requestReregistration(a.venId);
  await until('the next payload', () => v.received.length === 2);
  t.assert.deepEqual(v.received.map((r) => r.payload.type), ['RegisterReport', 'RequestReregistration']);
});

test('R407 VTN: the VTN cancels a push VEN; its oadrCanceledPartyRegistration answer deletes the VEN', async (t) => {
  const v = await fakeVen(t, (p) =>
    p.type === 'CancelPartyRegistration'
      ? { status: 200, body: { type: 'CanceledPartyRegistration', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, registrationId: p.registrationId, venId: p.venId ?? '' } }
      : { status: 200 },
  );
  const { url, vtn } = await startTestVtn(t, FAST);
  const a = await registerVen(url, 'ven-push', { pull: false, transportAddress: v.base });
  await until('the metadata push', () => vtn.store.queueDepth(a.venId) === 0);
  vtn.vens.cancelRegistration(a.venId);
  await until('the VEN to be deleted', () => vtn.vens.get(a.venId) === undefined);
  t.assert.equal(v.received.at(-1)?.path, '/ven/OpenADR2/Simple/2.0b/EiRegisterParty');
});

test('R52+R36 VTN: an unacknowledged cancellation is pushed again to a push VEN after each poll interval until cancelRetries runs out', async (t) => {
  const v = await fakeVen(t, (p) =>
    p.type === 'RegisterReport' ? { status: 200, body: { type: 'RegisteredReport', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, venId: p.venId ?? '' } } : { status: 200 },
  );
  const { url, vtn, clock } = await startTestVtn(t, { ...FAST, cancelRetries: 2, pollFrequencyMs: 10_000 });
  const a = await registerVen(url, 'ven-push', { pull: false, transportAddress: v.base });
  vtn.events.create({ eventId: 'ev-c', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [a.venId]: 300 } });
  const cancelled = () => v.received.filter((r) => r.payload.type === 'DistributeEvent' && r.payload.events?.some((e) => e.descriptor.eventStatus === 'cancelled')).length;
  await until('the event push', () => v.received.some((r) => r.payload.type === 'DistributeEvent') && vtn.store.queueDepth(a.venId) === 0);
  vtn.events.cancel('ev-c');
  await until('the cancellation push', () => cancelled() === 1 && vtn.store.queueDepth(a.venId) === 0);
  t.assert.equal(vtn.resendCancellations(), 0, 'no interval has passed');
  clock.advance(10_000);
  t.assert.equal(vtn.resendCancellations(), 1);
  await until('the cancellation pushed again', () => cancelled() === 2 && vtn.store.queueDepth(a.venId) === 0);
  clock.advance(10_000);
  t.assert.equal(vtn.resendCancellations(), 0, 'cancelRetries used up');
});
