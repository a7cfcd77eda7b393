/**
 * The payload checker against what our own VTN sends over real HTTP on loopback: a pull VEN's
 * registration, metadata both ways, events created, modified and cancelled, polls and
 * oadrRequestEvent. Every answer must pass every check (and the requests this test writes with our
 * encoder too); a planted fault in one answer must be found.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { allMessageChecks, checkExchanges, payloadChecks, type Exchange } from '../conformance/index.ts';
import { decodeOadr, encodeOadr, type Payload } from '../oadr/index.ts';
import { postXml, startTestVtn, ven } from '../vtn/testing/fake-ven.ts';

test('R1, R2, R5, R8, R15, R45, R53, R104, R115, R509…: every message our VTN sends to a pull VEN passes the payload checker', async (t: TestContext) => {
  const { url, vtn, clock } = await startTestVtn(t);
  const exchanges: Exchange[] = [];
  const send = async (service: string, payload: Payload): Promise<Payload | undefined> => {
    const body = encodeOadr(payload);
    const target = `${url}/OpenADR2/Simple/2.0b/${service}`;
    exchanges.push({ at: clock.now(), direction: 'sent', channel: 'http', method: 'POST', url: target, headers: { host: new URL(url).host, 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) }, body });
    const res = await postXml(url, service, body);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => { headers[name] = value; });
    exchanges.push({ at: clock.now(), direction: 'received', channel: 'http', status: res.status, headers, body: res.raw.toString('utf8'), answers: exchanges.length - 1 });
    return res.payload;
  };
  const drain = async (venId: string): Promise<Payload[]> => {
    const out: Payload[] = [];
    for (let p = await send('OadrPoll', ven.poll(venId)); p !== undefined && p.type !== 'Response'; p = await send('OadrPoll', ven.poll(venId))) out.push(p);
    return out;
  };

  const created = await send('EiRegisterParty', ven.create({ venName: 'house-1' }));
  assert.ok(created?.type === 'CreatedPartyRegistration' && created.venId !== undefined);
  const venId = created.venId;
  await send('EiReport', ven.telemetryMetadata(venId, { reportSpecifierId: 'telemetry' }));
  await send('EiEvent', ven.requestEvent(venId));
  for (const p of await drain(venId)) if (p.type === 'RegisterReport') await send('EiReport', ven.registeredReport(venId));

  vtn.events.create({ eventId: 'dr-late', start: clock.now() + 3 * 3_600_000, slots: 4, perVenReductionW: { [venId]: [800, 900, 1000, 1100] } });
  vtn.events.create({ eventId: 'dr-early', start: clock.now() + 30 * 60_000, slots: 2, priority: 2, perVenReductionW: { [venId]: 500 } });
  vtn.events.modify('dr-late', { perVenReductionW: { [venId]: 700 }, modificationReason: 'new OPR' });
  for (const p of await drain(venId)) {
    if (p.type === 'DistributeEvent') await send('EiEvent', ven.createdEvent(venId, (p.events ?? []).map((e) => ({ eventId: e.descriptor.eventId, modificationNumber: e.descriptor.modificationNumber, requestId: p.requestId }))));
  }
  clock.advance(40 * 60_000); // dr-early is active now
  await send('EiEvent', ven.requestEvent(venId));
  vtn.events.cancel('dr-late');
  await drain(venId);
  await send('EiEvent', ven.requestEvent(venId));

  const received = exchanges.filter((e) => e.direction === 'received' && e.body !== '').map((e) => decodeOadr(e.body).payload.type);
  t.assert.ok(received.filter((type) => type === 'DistributeEvent').length >= 3, `oadrDistributeEvents received: ${received.join(', ')}`);
  const events = exchanges.flatMap((e) => {
    if (e.direction !== 'received' || e.body === '') return [];
    const p = decodeOadr(e.body).payload;
    return p.type === 'DistributeEvent' ? (p.events ?? []).map((ev) => `${ev.descriptor.eventId}#${ev.descriptor.modificationNumber}:${ev.descriptor.eventStatus}`) : [];
  });
  t.assert.ok(events.includes('dr-late#2:cancelled'), `the cancellation was seen (${events.join(' ')})`);
  t.assert.ok(events.some((e) => e.startsWith('dr-early#0:active')), 'an active event was seen');

  t.assert.deepStrictEqual(checkExchanges(exchanges, payloadChecks), [], 'the VTN\'s answers');
  t.assert.deepStrictEqual(checkExchanges(exchanges, allMessageChecks), [], 'and what this test sent with our encoder');

  // The same exchanges with one answer broken: the checker notices.
  const i = exchanges.findIndex((e) => e.direction === 'received' && e.body.includes('dr-late') && e.body.includes('cancelled'));
  const broken = exchanges.map((e, j) => (j === i ? { ...e, body: e.body.replace(/<ei:modificationNumber>2<\/ei:modificationNumber>/, '<ei:modificationNumber>1</ei:modificationNumber>') } : e));
  t.assert.notEqual(broken[i]?.body, exchanges[i]?.body);
  t.assert.deepStrictEqual([...new Set(checkExchanges(broken, payloadChecks).flatMap((f) => f.ruleIds))], ['R5']);
});
