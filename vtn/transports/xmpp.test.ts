/**
 * The VTN over XMPP (R38, R507, §9.3) against a real Prosody with certificate authentication:
 * registration, pushes as IQ sets to the VEN's JID, answers in IQ results, discovery, ping, bad
 * stanzas and the venID ↔ JID binding, and a VEN that was offline getting what it is owed when its
 * presence returns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { xml } from '@xmpp/xml';
import { encodeOadr, type Payload } from '../../oadr/index.ts';
import { discoInfoQuery, discoItemsQuery, featuresOf, itemsOf, NS_OADR_PAYLOAD, NS_PING, OPENADR_FEATURE, payloadElement, XmppStanzaError } from '../../xmpp/index.ts';
import { call, startTestVtn, ven } from '../testing/fake-ven.ts';
import { startXmppRig, startXmppTestVen, type XmppRig, type XmppTestVen } from '../testing/xmpp-ven.ts';
import { until } from '../../test/support/until.ts';

const xmppCreate = (venName: string, jid: string): Payload => ({ ...ven.create({ venName, pull: false, transportAddress: jid }), transportName: 'xmpp' }) as Payload;

/** Within Prosody's stanza limit (256 KiB), so that an oversized payload reaches the VTN's check. */
const BODY_LIMIT = 32 * 1024;

async function xmppVtn(t: { after(fn: () => unknown): void }, rig: XmppRig) {
  const client = await rig.connection('vtn', 'vtn');
  const started = await startTestVtn(t, { bodyLimitBytes: BODY_LIMIT, push: { initialBackoffMs: 20, timeoutMs: 5000 } }, { xmpp: client });
  const vtnJid = client.jid() ?? '';
  return { ...started, vtnJid };
}

async function register(v: XmppTestVen, venName: string): Promise<string> {
  const created = await v.call(xmppCreate(venName, v.jid), 'CreatedPartyRegistration');
  assert.equal(created.response.code, 200, created.response.description);
  return created.venId ?? '';
}

const rejectsWith = (condition: string) => (err: unknown): boolean => err instanceof XmppStanzaError && err.condition === condition;

test('R38+R507 flow over XMPP: register with the full JID, metadata and the event pushed as IQ sets, createdEvent in an IQ set, discovery and ping', async (t) => {
  const rig = await startXmppRig(t);
  const { vtn, clock, vtnJid } = await xmppVtn(t, rig);
  const v = await startXmppTestVen(t, rig, 'house-1', vtnJid);
  t.assert.equal(v.jid, 'house-1@localhost/ven');

  const created = await v.call(xmppCreate('house-1', v.jid), 'CreatedPartyRegistration');
  t.assert.equal(created.response.code, 200);
  t.assert.deepEqual(created.profiles[0]?.transports, ['simpleHttp', 'xmpp']);
  t.assert.equal(created.pollFrequency, undefined, 'XMPP is push: no poll frequency');
  const venId = created.venId ?? '';
  t.assert.equal(vtn.store.getRegistration(venId)?.transportAddress, 'house-1@localhost/ven');

  // R309: the VTN's metadata, pushed; the VEN answers oadrRegisteredReport in the IQ result.
  await v.waitForPushed(1);
  t.assert.equal(v.pushed[0]?.type, 'RegisterReport');
  vtn.events.create({ eventId: 'dr-x', start: clock.now() + 30 * 60_000, slots: 2, perVenReductionW: { [venId]: [700, 900] } });
  const [, distribute] = await v.waitForPushed(2);
  assert.ok(distribute?.type === 'DistributeEvent');
  t.assert.equal(distribute.events?.[0]?.descriptor.eventId, 'dr-x');
  const ack = await v.call(ven.createdEvent(venId, [{ eventId: 'dr-x', modificationNumber: 0, requestId: distribute.requestId }]), 'Response');
  t.assert.equal(ack.response.code, 200);
  t.assert.equal(vtn.events.get('dr-x')?.vens[0]?.optType, 'optIn');
  t.assert.equal(vtn.store.queueDepth(venId), 0, 'every pushed payload left the queue');

  // §9.3.4.9: discovery.
  const info = await v.client.request(vtnJid, discoInfoQuery(), { type: 'get' });
  assert.ok(featuresOf(info).includes(OPENADR_FEATURE));
  const items = itemsOf(await v.client.request(vtnJid, discoItemsQuery('http://openadr.org/OpenADR2#services'), { type: 'get' }));
  t.assert.deepEqual(items.map((i) => [i.jid, i.node]), ['EiRegisterParty', 'EiEvent', 'EiReport', 'EiOpt'].map((s) => [vtnJid, `http://openadr.org/OpenADR2/${s}`]));
  // XEP-0199.
  t.assert.equal(await v.client.request(vtnJid, xml('ping', { xmlns: NS_PING }), { type: 'get' }), undefined);
});

test('§9.3.4.4.2, R507, R517: bad stanzas get IQ errors and change nothing; another VEN\'s venID gets 452', async (t) => {
  const rig = await startXmppRig(t);
  const { vtn, url, clock, vtnJid } = await xmppVtn(t, rig);
  const a = await startXmppTestVen(t, rig, 'ven-a', vtnJid);
  const b = await startXmppTestVen(t, rig, 'ven-b', vtnJid);
  const venA = await register(a, 'ven-a');
  const venB = await register(b, 'ven-b');
  vtn.events.create({ eventId: 'dr-b', start: clock.now() + 30 * 60_000, slots: 1, perVenReductionW: { [venA]: 100, [venB]: 200 } });
  const registrations = vtn.store.listRegistrations().length;

  // Not an oadrPayload, or the right name in the wrong namespace: nobody serves it.
  await t.assert.rejects(a.raw(xml('hello', { xmlns: NS_OADR_PAYLOAD })), rejectsWith('service-unavailable'));
  await t.assert.rejects(a.raw(xml('oadrPayload', { xmlns: 'urn:example:other' })), rejectsWith('service-unavailable'));
  // Schema-invalid: bad-request, nothing stored.
  const invalid = encodeOadr(xmppCreate('ven-z', `ven-a@localhost/ven`)).replace('<pyld:requestID>rq-reg</pyld:requestID>', '');
  await t.assert.rejects(a.raw(payloadElement(invalid)), rejectsWith('bad-request'));
  t.assert.equal(vtn.store.listRegistrations().length, registrations);
  // Oversized (the body limit): policy-violation.
  const huge = encodeOadr(xmppCreate('ven-z', a.jid)).replace('<oadr:oadrVenName>ven-z</oadr:oadrVenName>', `<oadr:oadrVenName>${'z'.repeat(vtn.config.bodyLimitBytes)}</oadr:oadrVenName>`);
  await t.assert.rejects(a.raw(payloadElement(huge)), rejectsWith('policy-violation'));
  // An operation as IQ get; oadrPoll (R507).
  await t.assert.rejects(a.raw(payloadElement(encodeOadr(ven.requestEvent(venA))), 'get'), rejectsWith('bad-request'));
  await t.assert.rejects(a.raw(payloadElement(encodeOadr(ven.poll(venA)))), rejectsWith('not-allowed'));
  t.assert.equal(vtn.store.listRegistrations().length, registrations);

  // VEN a speaks for VEN b: 452 in the answer, b's opt state unchanged.
  const forged = await a.call(ven.createdEvent(venB, [{ eventId: 'dr-b', modificationNumber: 0, optType: 'optOut' }]), 'Response');
  t.assert.equal(forged.response.code, 452);
  t.assert.equal(vtn.events.get('dr-b')?.vens.find((x) => x.venId === venB)?.optType, undefined);
  // …nor can it take over b's registration or register with b's JID.
  const takeover = await a.call(xmppCreate('ven-b', a.jid), 'CreatedPartyRegistration');
  t.assert.equal(takeover.response.code, 452);
  const otherJid = await a.call(xmppCreate('ven-a', b.jid), 'CreatedPartyRegistration');
  t.assert.equal(otherJid.response.code, 452);
  t.assert.equal(vtn.store.getRegistration(venB)?.transportAddress, b.jid);
  // Over HTTP nobody registers for XMPP.
  const overHttp = await call(url, 'EiRegisterParty', xmppCreate('ven-h', 'ven-h@localhost/ven'), 'CreatedPartyRegistration');
  t.assert.equal(overHttp.response.code, 459);
  t.assert.equal(vtn.store.listRegistrations().length, registrations);
});

test('an XMPP VEN that was offline gets what it is owed when its presence returns', async (t) => {
  const rig = await startXmppRig(t);
  const { vtn, clock, vtnJid } = await xmppVtn(t, rig);
  const first = await startXmppTestVen(t, rig, 'house-9', vtnJid);
  const venId = await register(first, 'house-9');
  await first.waitForPushed(1);
  await first.client.stop();

  vtn.events.create({ eventId: 'dr-off', start: clock.now() + 30 * 60_000, slots: 1, perVenReductionW: { [venId]: 300 } });
  // The push finds the VEN offline: the event stays queued.
  for (let i = 0; i < 500 && vtn.store.queueDepth(venId) === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200));
  t.assert.equal(vtn.store.queueDepth(venId), 1);

  const again = await startXmppTestVen(t, rig, 'house-9', vtnJid);
  const [distribute] = await again.waitForPushed(1);
  t.assert.equal(distribute?.type, 'DistributeEvent');
  // The item leaves the queue when the VEN's IQ result reaches the VTN.
  for (let i = 0; i < 500 && vtn.store.queueDepth(venId) > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.assert.equal(vtn.store.queueDepth(venId), 0);
});

test('a fan-out keeps at most maxPushesInFlight pushes unanswered on the VTN connection; the others wait for a slot, none is lost', async (t) => {
  const rig = await startXmppRig(t);
  const client = await rig.connection('vtn', 'vtn');
  const { vtn } = await startTestVtn(t, { push: { initialBackoffMs: 20, timeoutMs: 5000 } }, { xmpp: client, xmppMaxPushesInFlight: 2 });
  const vtnJid = client.jid() ?? '';
  // Four VENs that hold each push 300 ms before answering: the VTN's oadrRegisterReport after each registration.
  let unanswered = 0;
  let most = 0;
  const answered: string[] = [];
  const vens = await Promise.all(
    ['hold-1', 'hold-2', 'hold-3', 'hold-4'].map(async (name) => {
      const c = await rig.connection(name, 'ven');
      t.after(() => c.stop());
      c.onIq('set', NS_OADR_PAYLOAD, 'oadrPayload', async () => {
        most = Math.max(most, ++unanswered);
        await new Promise((r) => setTimeout(r, 300));
        unanswered--;
        answered.push(name);
        return undefined;
      });
      const jid = await c.start();
      return { c, jid, name };
    }),
  );
  await Promise.all(
    vens.map(async ({ c, jid, name }) => {
      const answer = await c.request(vtnJid, payloadElement(encodeOadr(xmppCreate(name, jid))));
      assert.notEqual(answer, undefined);
    }),
  );
  await until('every VEN answered its push', () => answered.length === 4, 20_000);
  t.assert.equal(most, 2, 'two pushes in flight at most, and the window was used');
  // A VEN's answer leaves its queue once the IQ result reaches the VTN and its removal commits.
  await until('every push removed from its queue', () => vtn.store.vensWithQueuedItems().length === 0, 20_000);
});
