import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, drain, post, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

test('R402+R403 VTN: pull registration without IDs gets registrationID, venID, vtnID, profiles and poll frequency', async (t) => {
  const { url } = await startTestVtn(t, { pollFrequencyMs: 30_000, vtnId: 'vtn-under-test' });
  const a = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-a', requestId: 'rq-1' }), 'CreatedPartyRegistration');
  t.assert.equal(a.response.code, 200);
  t.assert.equal(a.response.requestId, 'rq-1');
  assert.ok(a.registrationId !== undefined && a.registrationId !== '');
  assert.ok(a.venId !== undefined && a.venId !== '');
  t.assert.equal(a.vtnId, 'vtn-under-test');
  t.assert.deepEqual(a.profiles, [{ profileName: '2.0b', transports: ['simpleHttp'] }]);
  t.assert.equal(a.pollFrequency, 'PT30S');
});

test('R70 VTN: two VENs get distinct venIDs', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const b = await registerVen(url, 'ven-b');
  t.assert.notEqual(a.venId, b.venId);
  t.assert.notEqual(a.registrationId, b.registrationId);
});

test('R404 VTN: oadrQueryRegistration lists profiles and transports without IDs', async (t) => {
  const { url } = await startTestVtn(t);
  const q = await call(url, 'EiRegisterParty', ven.query('rq-q'), 'CreatedPartyRegistration');
  t.assert.equal(q.response.code, 200);
  t.assert.equal(q.registrationId, undefined);
  t.assert.equal(q.venId, undefined);
  t.assert.equal(q.profiles[0]?.profileName, '2.0b');
});

test('R402 VTN: push registration without oadrTransportAddress is refused with a 4xx', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const r = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-push', pull: false }), 'CreatedPartyRegistration');
  assert.ok(r.response.code >= 400 && r.response.code < 500);
  t.assert.equal(r.venId, undefined);
  t.assert.equal(vtn.vens.list().length, 0);
});

test('R400 VTN: re-registration with a wrong registrationID, and an unknown pre-configured venID, get 452', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const wrong = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-a', venId: a.venId, registrationId: 'not-it' }), 'CreatedPartyRegistration');
  t.assert.equal(wrong.response.code, 452);
  const pre = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-z', venId: 'never-configured' }), 'CreatedPartyRegistration');
  t.assert.equal(pre.response.code, 452);
});

test('R402 VTN: re-registration with matching IDs keeps both IDs', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const again = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-a', venId: a.venId, registrationId: a.registrationId }), 'CreatedPartyRegistration');
  t.assert.equal(again.response.code, 200);
  t.assert.equal(again.venId, a.venId);
  t.assert.equal(again.registrationId, a.registrationId);
});

test('R402 VTN: a pre-configured venID of an enrolled customer is accepted and kept', async (t) => {
  const { url, vtn } = await startTestVtn(t, { registrationPolicy: 'enrolled-only' });
  vtn.customers.enrol({ customerId: 'cust-9', venName: 'ven-9', venId: 'ven-preset-9' });
  const r = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-9', venId: 'ven-preset-9' }), 'CreatedPartyRegistration');
  t.assert.equal(r.response.code, 200);
  t.assert.equal(r.venId, 'ven-preset-9');
  t.assert.equal(vtn.vens.get('ven-preset-9')?.customerId, 'cust-9');
});

test('R517 VTN: policy enrolled-only refuses a VEN name no customer is linked to with 463, and accepts an enrolled one', async (t) => {
  const { url, vtn } = await startTestVtn(t, { registrationPolicy: 'enrolled-only' });
  const r = await call(url, 'EiRegisterParty', ven.create({ venName: 'stranger' }), 'CreatedPartyRegistration');
  t.assert.equal(r.response.code, 463);
  t.assert.equal(vtn.customers.list().length, 0);
  vtn.customers.enrol({ customerId: 'cust-1', venName: 'ven-1' });
  const ok = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-1' }), 'CreatedPartyRegistration');
  t.assert.equal(ok.response.code, 200);
  t.assert.equal(vtn.vens.get(ok.venId ?? '')?.customerId, 'cust-1');
});

test('R517 VTN: policy open enrols a new customer on first registration', async (t) => {
  const { url, vtn } = await startTestVtn(t, { registrationPolicy: 'open' });
  const a = await registerVen(url, 'lab-ven');
  t.assert.equal(vtn.customers.get('lab-ven')?.venName, 'lab-ven');
  t.assert.equal(vtn.vens.get(a.venId)?.customerId, 'lab-ven');
});

test('R309+R301 VTN: the first poll after a new registration returns the VTN oadrRegisterReport without oadrReport', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a', { drain: false });
  const first = (await post(url, 'OadrPoll', ven.poll(a.venId))).payload;
  t.assert.equal(first?.type, 'RegisterReport');
  t.assert.equal(first?.type === 'RegisterReport' ? first.reports : 'x', undefined);
  const ack = await call(url, 'EiReport', ven.registeredReport(a.venId), 'Response');
  t.assert.equal(ack.response.code, 200);
  const next = (await post(url, 'OadrPoll', ven.poll(a.venId))).payload;
  t.assert.equal(next?.type, 'Response');
});

test('R406 VTN: a registered VEN that registers without IDs is registered anew, its state erased and VTN metadata re-queued', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.store.putOpt(a.venId, 'opt-1', { any: 1 }, 0);
  vtn.store.putReportMetadata(a.venId, [], 0);
  const again = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-a' }), 'CreatedPartyRegistration');
  t.assert.equal(again.response.code, 200);
  t.assert.equal(again.venId, a.venId);
  t.assert.notEqual(again.registrationId, a.registrationId);
  t.assert.equal(vtn.store.listOpts(a.venId).length, 0);
  t.assert.equal(vtn.store.getReportMetadata(a.venId), undefined);
  const queued = await drain(url, a.venId);
  t.assert.deepEqual(queued.map((p) => p.type), ['RegisterReport']);
});

test('R407 VTN: the VEN cancels its registration; the answer is 200 and its next oadrPoll gets 463', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const c = await call(url, 'EiRegisterParty', ven.cancel(a.venId, a.registrationId), 'CanceledPartyRegistration');
  t.assert.equal(c.response.code, 200);
  t.assert.equal(c.registrationId, a.registrationId);
  t.assert.equal(vtn.vens.get(a.venId), undefined);
  const p = await call(url, 'OadrPoll', ven.poll(a.venId), 'Response');
  t.assert.equal(p.response.code, 463);
});

test('R407 VTN: a cancel with another registrationID gets 452 and changes nothing', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const c = await call(url, 'EiRegisterParty', ven.cancel(a.venId, 'reg-other'), 'CanceledPartyRegistration');
  t.assert.equal(c.response.code, 452);
  assert.ok(vtn.vens.get(a.venId) !== undefined);
});

test('R407 VTN: the VTN cancels a pull VEN; the cancel arrives by poll and the acknowledgement deletes the VEN', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.vens.cancelRegistration(a.venId);
  const got = await drain(url, a.venId);
  t.assert.equal(got.length, 1);
  t.assert.equal(got[0]?.type, 'CancelPartyRegistration');
  t.assert.equal(got[0]?.type === 'CancelPartyRegistration' ? got[0].registrationId : '', a.registrationId);
  const ack = await call(
    url,
    'EiRegisterParty',
    { type: 'CanceledPartyRegistration', schemaVersion: '2.0b', response: { code: 200, requestId: '' }, registrationId: a.registrationId, venId: a.venId },
    'Response',
  );
  t.assert.equal(ack.response.code, 200);
  t.assert.equal(vtn.vens.get(a.venId), undefined);
});

test('R401+R406 VTN: after oadrRequestReregistration a create without IDs keeps the VEN state and IDs', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  vtn.store.putOpt(a.venId, 'opt-1', { any: 1 }, 0);
  vtn.vens.requestReregistration(a.venId);
  const got = await drain(url, a.venId);
  t.assert.deepEqual(got.map((p) => p.type), ['RequestReregistration']);
  t.assert.equal((await call(url, 'EiRegisterParty', ven.response(a.venId), 'Response')).response.code, 200);
  const again = await call(url, 'EiRegisterParty', ven.create({ venName: 'ven-a' }), 'CreatedPartyRegistration');
  t.assert.equal(again.venId, a.venId);
  t.assert.equal(again.registrationId, a.registrationId);
  t.assert.equal(vtn.store.listOpts(a.venId).length, 1);
});

test('R401 VTN: oadrRequestReregistration POSTed to the VTN gets 404 and changes nothing', async (t) => {
  const { url, vtn } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const r = await post(url, 'EiRegisterParty', { type: 'RequestReregistration', schemaVersion: '2.0b', venId: a.venId });
  t.assert.equal(r.status, 404);
  t.assert.equal(vtn.vens.get(a.venId)?.reregistrationRequested, false);
});
