import { test } from 'node:test';
import { call, drain, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

const SLOT = 15 * 60_000;
const POLL = 10_000;

async function pollTypes(url: string, venId: string): Promise<string[]> {
  return (await drain(url, venId)).map((p) => (p.type === 'DistributeEvent' ? `DistributeEvent:${(p.events ?? []).map((e) => e.descriptor.eventId).join(',')}` : p.type));
}

test('R52+R36 VTN: an unacknowledged cancellation is re-queued for a pull VEN after each poll interval until cancelRetries runs out', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { cancelRetries: 3, pollFrequencyMs: POLL });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  await drain(url, a.venId);
  vtn.events.cancel('ev-1');
  t.assert.deepEqual(await pollTypes(url, a.venId), ['DistributeEvent:ev-1'], 'delivery 1, from the cancel itself');
  t.assert.equal(vtn.resendCancellations(), 0, 'no poll interval has passed');
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 1);
  t.assert.equal(vtn.resendCancellations(), 0, 'already queued, not yet polled');
  t.assert.deepEqual(await pollTypes(url, a.venId), ['DistributeEvent:ev-1'], 'delivery 2');
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 1);
  t.assert.deepEqual(await pollTypes(url, a.venId), ['DistributeEvent:ev-1'], 'delivery 3');
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 0, 'cancelRetries used up');
  t.assert.deepEqual(await pollTypes(url, a.venId), []);
  t.assert.equal(vtn.events.get('ev-1')?.vens[0]?.cancelAcked, false);
});

test('R52+R10 VTN: a VEN a modification took out of an event is re-sent the event, cancelled for it, until it acknowledges; the VENs still targeted are not', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { cancelRetries: 5, pollFrequencyMs: POLL });
  const a = await registerVen(url, 'ven-a');
  const b = await registerVen(url, 'ven-b');
  vtn.events.create({ eventId: 'ev-1', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1, [b.venId]: 1 } });
  await drain(url, a.venId);
  await drain(url, b.venId);
  vtn.events.modify('ev-1', { removeVenIds: [b.venId] });
  t.assert.deepEqual(await pollTypes(url, b.venId), ['DistributeEvent:ev-1']);
  t.assert.deepEqual(await pollTypes(url, a.venId), ['DistributeEvent:ev-1']);
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 1);
  t.assert.deepEqual(await pollTypes(url, b.venId), ['DistributeEvent:ev-1']);
  t.assert.deepEqual(await pollTypes(url, a.venId), []);
  await call(url, 'EiEvent', ven.createdEvent(b.venId, [{ eventId: 'ev-1', modificationNumber: 1, optType: 'optIn' }]), 'Response');
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 0);
});

test('R52+R36 VTN: an acknowledged cancellation, a never-event and a completed event are not re-queued', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t, { cancelRetries: 5, pollFrequencyMs: POLL });
  const a = await registerVen(url, 'ven-a');
  vtn.events.create({ eventId: 'acked', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  vtn.events.create({ eventId: 'never', start: clock.now() + SLOT, slots: 1, responseRequired: 'never', perVenReductionW: { [a.venId]: 1 } });
  vtn.events.create({ eventId: 'short', start: clock.now() + SLOT, slots: 1, perVenReductionW: { [a.venId]: 1 } });
  await drain(url, a.venId);
  vtn.events.cancel('acked');
  vtn.events.cancel('never');
  await drain(url, a.venId);
  const ack = await call(url, 'EiEvent', ven.createdEvent(a.venId, [{ eventId: 'acked', modificationNumber: 1, optType: 'optIn' }]), 'Response');
  t.assert.equal(ack.response.code, 200);
  clock.advance(POLL);
  t.assert.equal(vtn.resendCancellations(), 0);
  vtn.events.cancel('short');
  t.assert.equal((await post(url, 'OadrPoll', ven.poll(a.venId))).payload?.type, 'DistributeEvent');
  clock.advance(2 * SLOT); // 'short' has completed
  t.assert.equal(vtn.resendCancellations(), 0);
  t.assert.deepEqual(await pollTypes(url, a.venId), []);
});
