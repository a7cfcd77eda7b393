import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Payload } from '../oadr/index.ts';
import { call, post, startPushVen, startTestVtn, ven } from './testing/fake-ven.ts';

const metadata = (venId: string): Payload => ven.telemetryMetadata(venId, { reportSpecifierId: 'telemetry' });

test('R405+R309 flow VTN (pull): register, metadata both ways, request events, receive an event by poll, opt in', async (t) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const created = await call(url, 'EiRegisterParty', ven.create({ venName: 'house-1' }), 'CreatedPartyRegistration');
  const venId = created.venId ?? '';
  t.assert.equal((await call(url, 'EiReport', metadata(venId), 'RegisteredReport')).response.code, 200);
  t.assert.equal((await call(url, 'EiEvent', ven.requestEvent(venId), 'DistributeEvent')).events, undefined);
  const vtnMeta = (await post(url, 'OadrPoll', ven.poll(venId))).payload;
  t.assert.equal(vtnMeta?.type, 'RegisterReport');
  t.assert.equal((await call(url, 'EiReport', ven.registeredReport(venId), 'Response')).response.code, 200);
  t.assert.equal((await post(url, 'OadrPoll', ven.poll(venId))).payload?.type, 'Response');

  vtn.events.create({ eventId: 'dr-1', start: clock.now() + 30 * 60_000, slots: 4, perVenReductionW: { [venId]: [800, 900, 1000, 1100] } });
  const d = (await post(url, 'OadrPoll', ven.poll(venId))).payload;
  assert.ok(d?.type === 'DistributeEvent');
  const e = d.events?.[0];
  assert.ok(e !== undefined);
  const ack = await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: e.descriptor.eventId, modificationNumber: e.descriptor.modificationNumber, requestId: d.requestId }]), 'Response');
  t.assert.equal(ack.response.code, 200);
  const view = vtn.events.get('dr-1');
  t.assert.equal(view?.vens[0]?.optType, 'optIn');
  t.assert.deepEqual(view?.vens[0]?.values['load-dispatch'], [-800, -900, -1000, -1100]);
  t.assert.equal(vtn.store.getReportMetadata(venId) !== undefined, true);
});

test('R38 flow VTN (push): register for push, the VTN pushes its metadata and the event, the VEN opts in by POST', async (t) => {
  const { received, base } = await startPushVen(t);
  const { url, vtn, clock } = await startTestVtn(t, { push: { initialBackoffMs: 10 } });
  const created = await call(url, 'EiRegisterParty', ven.create({ venName: 'house-2', pull: false, transportAddress: base }), 'CreatedPartyRegistration');
  const venId = created.venId ?? '';
  t.assert.equal(created.pollFrequency, undefined);
  vtn.events.create({ eventId: 'dr-2', start: clock.now() + 30 * 60_000, slots: 2, perVenReductionW: { [venId]: 500 } });
  for (let i = 0; i < 300 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.assert.deepEqual(received.map((r) => r.payload.type), ['RegisterReport', 'DistributeEvent']);
  const ack = await call(url, 'EiEvent', ven.createdEvent(venId, [{ eventId: 'dr-2', modificationNumber: 0 }]), 'Response');
  t.assert.equal(ack.response.code, 200);
  t.assert.equal(vtn.events.get('dr-2')?.vens[0]?.optType, 'optIn');
});
