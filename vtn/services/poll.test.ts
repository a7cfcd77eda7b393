import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createVtn } from '../vtn.ts';
import { call, createTestClock, drain, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

test('R500 VTN: oadrPoll on an empty queue gets oadrResponse 200; then 2 queued items and 3 polls give item 1, item 2, oadrResponse', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const empty = await call(url, 'OadrPoll', ven.poll(a.venId), 'Response');
  t.assert.equal(empty.response.code, 200);
  t.assert.equal(empty.venId, a.venId);
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  vtn.vens.requestReregistration(a.venId);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await post(url, 'OadrPoll', ven.poll(a.venId))).payload?.type);
  t.assert.deepEqual(got, ['DistributeEvent', 'RequestReregistration', 'Response']);
});

test('R500 VTN: a newly queued oadrDistributeEvent replaces an undelivered older one; other payloads keep their order', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  vtn.vens.requestReregistration(a.venId);
  vtn.events.create({ eventId: 'ev-2', start: clock.now() + 3_600_000, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  const got = await drain(url, a.venId);
  t.assert.deepEqual(got.map((p) => p.type), ['RequestReregistration', 'DistributeEvent']);
  const d = got[1];
  assert.ok(d?.type === 'DistributeEvent');
  t.assert.deepEqual(d.events?.map((e) => e.descriptor.eventId), ['ev-1', 'ev-2']);
});

test('R512+R517 VTN: oadrPoll with a venID that differs only in letter case gets 452; an unknown venID gets 463', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const wrongCase = await call(url, 'OadrPoll', ven.poll(a.venId.toUpperCase()), 'Response');
  t.assert.equal(wrongCase.response.code, 452);
  const unknown = await call(url, 'OadrPoll', ven.poll('ven-unknown'), 'Response');
  t.assert.equal(unknown.response.code, 463);
});

test('R500 VTN: the queue, registrations and events survive a VTN restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = createTestClock();
  const first = createVtn({ config: { dataDir: dir, registrationPolicy: 'open' }, now: clock.now });
  const url1 = await first.listen({ host: '127.0.0.1', port: 0 });
  const a = await registerVen(url1, 'ven-a', { drain: false });
  first.events.create({ eventId: 'ev-1', start: clock.now() + 3_600_000, slots: 2, perVenReductionW: { [a.venId]: 900 } });
  await first.close();

  const second = createVtn({ config: { dataDir: dir, registrationPolicy: 'enrolled-only' }, now: clock.now });
  t.after(() => second.close());
  const url2 = await second.listen({ host: '127.0.0.1', port: 0 });
  const got = await drain(url2, a.venId);
  t.assert.deepEqual(got.map((p) => p.type), ['RegisterReport', 'DistributeEvent']);
  const d = got[1];
  assert.ok(d?.type === 'DistributeEvent');
  t.assert.deepEqual(d.events?.[0]?.signals[0]?.intervals.map((i) => i.value), [-900, -900]);
  t.assert.equal(second.vens.get(a.venId)?.registrationId, a.registrationId);
});

test('R500 VTN: oadrPoll from a VEN registered for push gets a 4xx and dequeues nothing', async (t) => {
  const { url, vtn } = await startTestVtn(t, {}, { fetch: async () => new Response(null, { status: 503 }) });
  const a = await registerVen(url, 'ven-push', { pull: false, transportAddress: 'http://127.0.0.1:9/ven' });
  const r = await call(url, 'OadrPoll', ven.poll(a.venId), 'Response');
  assert.ok(r.response.code >= 400 && r.response.code < 500);
  t.assert.equal(vtn.store.queueDepth(a.venId), 1);
});
