/**
 * A 2.0a VEN beside the 2.0b ones (R506, §7.1), end to end over HTTP on loopback with the embedded
 * ledger: the operator enrols the VEN by venID and certificate fingerprint; an event from a total
 * reduction is allocated by the ledger; the VEN polls at the 2.0a URL with oadrRequestEvent and
 * receives its share as SIMPLE levels only (R7, R9, R113), opts in with oadrCreatedEvent, gets
 * oadrResponse; it sends no reports, so the operator imports its meter data and the ledger settles
 * from it. Every message the VTN sends it is checked against the 2.0a XSD.
 *
 * The VEN here is a test client written from the 2.0a XSD: its requests are XML templates, not our
 * encoder's output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../chaincode/testing/reference-scenario.ts';
import { OADR_20A_XSD, validateXsdMany } from '../conformance/index.ts';
import { decodeDocument, decodeOadr, type DistributeEvent, type Payload } from '../oadr/index.ts';
import type { LedgerEventView } from '../vtn/services/event-service.ts';
import { startLedgerScheduler } from '../vtn/ledger/scheduler.ts';
import { startLedgerVtn } from '../vtn/testing/ledger-vtn.ts';

const MIN = 60_000;
const A = 'thermostat:A';
const VEN = 'ven-20a-A';
const FINGERPRINT = '3F:A9:11:0C:5D:E2:77:81:9B:04';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`); // 17:00 in Rome: contract slots 68–71
const NS = 'xmlns:oadr="http://openadr.org/oadr-2.0a/2012/07" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"';

/** The 2.0a client's messages (oadr_20a.xsd, oadr_pyld_20a.xsd), as templates. */
const requestEvent = (venId: string, requestId: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrRequestEvent ${NS}><pyld:eiRequestEvent><pyld:requestID>${requestId}</pyld:requestID><ei:venID>${venId}</ei:venID></pyld:eiRequestEvent></oadr:oadrRequestEvent>`;
const createdEvent = (venId: string, requestId: string, eventId: string, modificationNumber: number, optType: 'optIn' | 'optOut'): string =>
  `<?xml version="1.0" encoding="UTF-8"?><oadr:oadrCreatedEvent ${NS}><pyld:eiCreatedEvent><ei:eiResponse><ei:responseCode>200</ei:responseCode><pyld:requestID></pyld:requestID></ei:eiResponse>` +
  `<ei:eventResponses><ei:eventResponse><ei:responseCode>200</ei:responseCode><pyld:requestID>${requestId}</pyld:requestID><ei:qualifiedEventID><ei:eventID>${eventId}</ei:eventID>` +
  `<ei:modificationNumber>${modificationNumber}</ei:modificationNumber></ei:qualifiedEventID><ei:optType>${optType}</ei:optType></ei:eventResponse></ei:eventResponses><ei:venID>${venId}</ei:venID></pyld:eiCreatedEvent></oadr:oadrCreatedEvent>`;

test('R506 §7.1 R7 R9 R113: a 2.0a VEN enrolled by venID and fingerprint receives a ledger event as SIMPLE levels, opts in, and is settled from imported meter data; every message to it is 2.0a XSD-valid', async (t) => {
  const { clock, port, url, vtn, ledger: vl } = await startLedgerVtn(t, {
    prefix: 'oadr-vtn-20a-',
    start: START - 60 * MIN,
    customerId: A,
    // The program maps a customer's share to SIMPLE levels: ≥ 50 W level 1, ≥ 150 W level 2, ≥ 400 W level 3.
    config: { programs: [{ id: 'default', signals: ['LOAD_DISPATCH'], simpleLevelsW: [50, 150, 400] }] },
  });
  const enrolled = vtn.vens.enrol20a({ venId: VEN, customerId: A, fingerprint: FINGERPRINT });
  t.assert.deepEqual([enrolled.profileName, enrolled.httpPullModel, enrolled.fingerprint], ['2.0a', true, FINGERPRINT]);

  const created = (await vtn.events.create({ eventId: 'ev-a', start: START, slots: 4, reductionW: 300, targets: { customerIds: [A] } })) as LedgerEventView;
  t.assert.deepEqual(created.customersWithoutVen, []);
  const opr = port.allocations?.oprOf('ev-a')?.get(A) ?? [];
  t.assert.equal(opr.length, 4);
  const levels = opr.map((w) => (w >= 400 ? 3 : w >= 150 ? 2 : w >= 50 ? 1 : 0));

  const sent: string[] = [];
  const post20a = async (xml: string): Promise<Payload> => {
    const res = await fetch(`${url}/OpenADR2/Simple/EiEvent`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
    t.assert.equal(res.status, 200);
    const body = await res.text();
    sent.push(body);
    const doc = decodeDocument(body);
    t.assert.equal(doc.profile, '2.0a');
    return doc.message.payload;
  };

  // The VEN polls with oadrRequestEvent at the 2.0a URL.
  const d = (await post20a(requestEvent(VEN, 'rq-1'))) as DistributeEvent;
  t.assert.equal(d.type, 'DistributeEvent');
  t.assert.equal(d.response?.code, 200);
  const e = d.events?.[0];
  assert.ok(e !== undefined);
  // R7: exactly one signal, SIMPLE; R9: levels 0–3 from the customer's share; R113: currentValue present (R14: 0 before the start).
  t.assert.equal(e.signals.length, 1);
  t.assert.deepEqual([e.signals[0]?.signalName, e.signals[0]?.signalType], ['SIMPLE', 'level']);
  t.assert.deepEqual(e.signals[0]?.intervals.map((i) => i.value), levels);
  t.assert.equal(e.signals[0]?.currentValue, 0);
  t.assert.equal(e.descriptor.modificationDateTime, undefined);
  t.assert.deepEqual(e.target.venIds, [VEN]);

  // It opts in with oadrCreatedEvent and gets oadrResponse (no venID in 2.0a, §7.1).
  const ack = await post20a(createdEvent(VEN, d.requestId, 'ev-a', e.descriptor.modificationNumber, 'optIn'));
  t.assert.deepEqual([ack.type, ack.type === 'Response' ? ack.response.code : 0], ['Response', 200]);
  t.assert.equal(vtn.events.get('ev-a')?.vens[0]?.optType, 'optIn');

  // During the event: currentValue is the level in force (R29, R113).
  clock.set(START + 20 * MIN);
  const during = (await post20a(requestEvent(VEN, 'rq-2'))) as DistributeEvent;
  t.assert.equal(during.events?.[0]?.signals[0]?.currentValue, levels[1]);

  const results = await validateXsdMany(sent, OADR_20A_XSD);
  results.forEach((r, i) => assert.ok(r.valid, `message ${i} to the 2.0a VEN is not valid 2.0a: ${r.errors.join('\n')}\n${sent[i]}`));
  t.assert.equal(sent.length, 3);

  // 2.0a VENs send no reports: the operator imports the day's meter data, with the reduction in it.
  const day = profile(1, 0).map((w) => w / 4);
  const baseline = (JSON.parse(await vl.ledger.evaluate(vl.identities.operator, 'queryBaseline', [A, EVENT_DAY])) as { values: number[] }).values;
  for (let i = 0; i < 4; i++) day[68 + i] = ((baseline[68 + i] ?? 0) - (opr[i] ?? 0)) / 4;
  await port.importEnergy?.(A, [{ date: EVENT_DAY, valuesWh: day }]);
  clock.set(Date.parse(`${addDaysUtc(EVENT_DAY, 1)}T06:00:00Z`));
  const scheduler = startLedgerScheduler({ events: vtn.events, port, now: clock.now });
  t.after(() => scheduler.stop());
  await scheduler.tick();
  const s = await vtn.events.settle('ev-a');
  t.assert.equal(s.status, 'settled', [...s.unsettled.values()].join('; '));
  const sumW2 = opr.reduce((sum, w) => sum + w ** 2, 0);
  t.assert.equal(s.rewardsMilli.get(A), Math.round(sumW2 / 1000));
  assert.ok((s.rewardsMilli.get(A) ?? 0) > 0);
});

test('R506: the profile is the URL\'s; a 2.0a VEN is bound to its certificate; 2.0a has EiEvent only', async (t) => {
  const { url, vtn } = await startLedgerVtn(t, { prefix: 'oadr-vtn-20a-url-', start: START - 60 * MIN, customerId: A });
  vtn.vens.enrol20a({ venId: VEN, customerId: A, fingerprint: FINGERPRINT });
  const postTo = (path: string, xml: string) => fetch(`${url}/OpenADR2/Simple/${path}`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
  // A 2.0a document at the 2.0b URL, and EiReport (not a 2.0a service) at the 2.0a URL.
  t.assert.equal((await postTo('2.0b/EiEvent', requestEvent(VEN, 'r'))).status, 406);
  t.assert.equal((await postTo('EiReport', requestEvent(VEN, 'r'))).status, 404);
  // A 2.0b document at the 2.0a URL.
  const b = `<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"><oadr:oadrSignedObject><oadr:oadrRequestEvent ei:schemaVersion="2.0b"><pyld:eiRequestEvent><pyld:requestID>r</pyld:requestID><ei:venID>${VEN}</ei:venID></pyld:eiRequestEvent></oadr:oadrRequestEvent></oadr:oadrSignedObject></oadr:oadrPayload>`;
  t.assert.equal((await postTo('EiEvent', b)).status, 406);
  // The 2.0a VEN speaking 2.0b at the 2.0b URL is refused in the answer (452), not served events it cannot read.
  const wrong = await postTo('2.0b/EiEvent', b);
  t.assert.equal(wrong.status, 200);
  const answer = decodeOadr(Buffer.from(await wrong.arrayBuffer())).payload;
  t.assert.deepEqual([answer.type, answer.type === 'DistributeEvent' ? answer.response?.code : 0], ['DistributeEvent', 452]);

  // §10.5.1: the venID is bound to the enrolled certificate (transport-free: the fingerprint TLS would give).
  const request = decodeOadr(requestEvent(VEN, 'r')).payload;
  const own = vtn.handle(request, { peerFingerprint: FINGERPRINT, profile: '2.0a' });
  t.assert.equal(own.error, undefined);
  const other = vtn.handle(request, { peerFingerprint: '00:11:22:33:44:55:66:77:88:99', profile: '2.0a' });
  t.assert.equal(other.error?.responseCode, 463);
});

test('R506: enrolling a 2.0a VEN refuses an unknown customer, a bad fingerprint, a certificate or venID of another VEN', async (t) => {
  const { vtn } = await startLedgerVtn(t, { prefix: 'oadr-vtn-20a-enrol-', start: START - 60 * MIN, customerId: A });
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return undefined;
  };
  t.assert.equal(code(() => vtn.vens.enrol20a({ venId: VEN, customerId: 'nobody', fingerprint: FINGERPRINT })), 'NOT_FOUND');
  t.assert.equal(code(() => vtn.vens.enrol20a({ venId: VEN, customerId: A, fingerprint: 'not-hex' })), 'INVALID_ARGUMENT');
  vtn.customers.enrol({ customerId: 'B' });
  vtn.vens.enrol20a({ venId: VEN, customerId: A, fingerprint: FINGERPRINT });
  t.assert.equal(code(() => vtn.vens.enrol20a({ venId: 'ven-b', customerId: 'B', fingerprint: FINGERPRINT })), 'NOT_ALLOWED');
  t.assert.equal(code(() => vtn.vens.enrol20a({ venId: VEN, customerId: 'B', fingerprint: '00:11:22:33:44:55:66:77:88:99' })), 'NOT_ALLOWED');
  // Re-enrolling with a new certificate replaces the fingerprint.
  t.assert.equal(vtn.vens.enrol20a({ venId: VEN, customerId: A, fingerprint: '00:11:22:33:44:55:66:77:88:99' }).fingerprint, '00:11:22:33:44:55:66:77:88:99');
});
