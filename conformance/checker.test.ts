/**
 * The payload checker on good and bad messages: good ones from test/fixtures (the codec's golden
 * files, which our VTN and VEN write), bad ones by a small edit each; every bad one must fail on
 * its rule id, and a body that is not XML, or XML our decoder refuses, is judged without a crash.
 * Ends with a tiny VEN over real loopback HTTP that keeps `schemaLocation` (R45).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { decodeOadr, encodeOadr, type Payload } from '../oadr/index.ts';
import type { Exchange, Finding } from './case.ts';
import { allMessageChecks, checkExchanges, payloadChecks, prevalidateXsd } from './checker.ts';

const fixture = (name: string): string => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');

/** `xml` with `from` replaced by `to`; fails when `from` is not there (an edit that changes nothing proves nothing). */
function edit(xml: string, from: string | RegExp, to: string): string {
  const out = xml.replace(from, to);
  if (out === xml) throw new Error(`edit: ${String(from)} not found`);
  return out;
}

/** A well-formed HTTP 200 response from the peer carrying `body`. */
function answer(body: string, headers: Record<string, string> = {}): Exchange {
  return { at: 0, direction: 'received', channel: 'http', status: 200, headers: { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...headers }, body, answers: 0 };
}

/** A well-formed HTTP request from the peer carrying `body`. */
function posted(body: string, headers: Record<string, string> = {}): Exchange {
  return { at: 0, direction: 'received', channel: 'http', method: 'POST', url: 'https://vtn.test/OpenADR2/Simple/2.0b/EiEvent', headers: { host: 'vtn.test', 'content-type': 'application/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers }, body };
}

const rulesOf = (findings: readonly Finding[]): string[] => [...new Set(findings.flatMap((f) => f.ruleIds))].sort();
const check = (...exchanges: Exchange[]): Finding[] => checkExchanges(exchanges, payloadChecks);

const DISTRIBUTE = fixture('oadr/oadrDistributeEvent-multi.xml');

test('good messages: the 2.0b fixtures and the 2.0a ones pass every check', (t: TestContext) => {
  for (const name of ['oadrDistributeEvent-multi', 'oadrDistributeEvent-prices', 'oadrDistributeEvent-setpoints', 'oadrDistributeEvent-targets', 'oadrDistributeEvent-open-ended', 'oadrCreatedEvent', 'oadrRegisterReport', 'oadrUpdateReport-telemetry-usage', 'oadrUpdateReport-telemetry-status', 'oadrUpdateReport-history-usage', 'oadrCreatePartyRegistration-push', 'oadrCreatedPartyRegistration', 'oadrPoll', 'oadrResponse', 'oadrCreateOpt-event']) {
    t.assert.deepStrictEqual(check(answer(fixture(`oadr/${name}.xml`))), [], name);
  }
  for (const name of ['created-event-no-description', 'distribute-event-jaxb-prefixes', 'request-event-default-ns', 'response-no-description']) {
    t.assert.deepStrictEqual(check(answer(fixture(`oadr20a/${name}.xml`))), [], `2.0a ${name} against the 2.0a schema`);
  }
});

test('XSD: a schema-invalid payload, an HTML page and a truncated body fail on XSD, without a crash', async (t: TestContext) => {
  const noVtnId = edit(DISTRIBUTE, '<ei:vtnID>oadr-ledger-vtn-01</ei:vtnID>', '');
  t.assert.deepStrictEqual(rulesOf(check(answer(noVtnId))), ['XSD']);
  const html = '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>';
  const htmlFindings = check(answer(html, { 'content-type': 'text/html' }));
  assert.ok(rulesOf(htmlFindings).includes('XSD'));
  assert.ok(htmlFindings.every((f) => f.exchange === 0 && f.expected !== undefined && f.actual !== undefined));
  t.assert.deepStrictEqual(rulesOf(check(answer(DISTRIBUTE.slice(0, 900)))), ['XSD']);
  // A 2.0b body in a 2.0a exchange is judged by its own namespace, and the other way round.
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(fixture('oadr20a/response-no-description.xml'), /<\/ei:eiResponse>/, '<ei:unknown/></ei:eiResponse>')))), ['XSD']);
  // Warmed off the event loop, the verdicts are the same.
  const many = [answer(noVtnId), answer(DISTRIBUTE)];
  await prevalidateXsd(many);
  t.assert.deepStrictEqual(rulesOf(check(...many)), ['XSD']);
  t.assert.deepStrictEqual(check(...many).map((f) => f.exchange), [0]);
});

test('R45: schemaLocation anywhere fails, in XML and in a body that is not XML', (t: TestContext) => {
  const xsi = edit(DISTRIBUTE, '<oadr:oadrPayload ', '<oadr:oadrPayload xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://openadr.org/oadr-2.0b/2012/07 oadr_20b.xsd" ');
  const findings = check(answer(xsi));
  t.assert.deepStrictEqual(rulesOf(findings), ['R45']);
  t.assert.match(findings[0]?.actual ?? '', /schemaLocation="http:\/\/openadr.org/);
  assert.ok(rulesOf(check(answer(`${xsi.slice(0, 700)}`))).includes('R45'), 'a truncated body is searched as text');
});

test('R509: schemaVersion="2.0b" on 2.0b payloads, none on 2.0a ones', (t: TestContext) => {
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(DISTRIBUTE, ' ei:schemaVersion="2.0b"', '')))), ['R509']);
  assert.ok(rulesOf(check(answer(edit(DISTRIBUTE, 'ei:schemaVersion="2.0b"', 'ei:schemaVersion="2.0a"')))).includes('R509'));
  const a = fixture('oadr20a/response-no-description.xml');
  const withVersion = edit(a, /<(\w+:)?oadrResponse /, '<$1oadrResponse xmlns:ei2="http://docs.oasis-open.org/ns/energyinterop/201110" ei2:schemaVersion="2.0b" ');
  assert.ok(rulesOf(check(answer(withVersion))).includes('R509'));
});

test('R1: offsets, zoneless date-times and decimal durations fail', (t: TestContext) => {
  const offset = edit(DISTRIBUTE, '<ei:createdDateTime>2025-06-12T08:15:00Z<', '<ei:createdDateTime>2025-06-12T08:15:00+00:00<');
  const f = check(answer(offset)).filter((x) => x.ruleIds.includes('R1'));
  t.assert.equal(f.length, 1);
  t.assert.equal(f[0]?.actual, '2025-06-12T08:15:00+00:00');
  assert.ok(rulesOf(check(answer(edit(DISTRIBUTE, '<xcal:date-time>2025-06-12T17:00:00Z<', '<xcal:date-time>2025-06-12T17:00:00<')))).includes('R1'));
  assert.ok(rulesOf(check(answer(edit(DISTRIBUTE, '<xcal:duration>PT2H<', '<xcal:duration>PT1.5H<')))).includes('R1'));
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(DISTRIBUTE, '2025-06-12T08:15:00Z', '2025-06-12T08:15:00.123Z').replaceAll('2025-06-12T08:15:00Z', '2025-06-12T08:15:00.123Z')))), [], 'fractional seconds with Z are fine');
});

/** The first oadrDistributeEvent fixture decoded, changed by `change`, encoded again. */
function changed(xml: string, change: (p: Extract<Payload, { type: 'DistributeEvent' }>) => void): string {
  const p = structuredClone(decodeOadr(xml).payload);
  if (p.type !== 'DistributeEvent') throw new Error('not an oadrDistributeEvent');
  change(p);
  return encodeOadr({ payload: p });
}
const event0 = (p: Extract<Payload, { type: 'DistributeEvent' }>) => {
  const e = p.events?.[0];
  if (e === undefined) throw new Error('no event');
  return e;
};

test('R2, R8, R101, R102, R103, R116, R63, R111: the shared payload rules, as findings', (t: TestContext) => {
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(DISTRIBUTE, '<xcal:text>1</xcal:text>', '<xcal:text>5</xcal:text>')))), ['R2']);
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(DISTRIBUTE, '<xcal:duration>PT2H</xcal:duration>', '<xcal:duration>PT3H</xcal:duration>')))), ['R8']);
  t.assert.deepStrictEqual(rulesOf(check(answer(fixture('oadr/foreign-openleadr-oadrDistributeEvent.xml')))), ['R103'], 'OpenLEADR writes interval dtstarts');
  t.assert.deepStrictEqual(rulesOf(check(answer(changed(DISTRIBUTE, (p) => { const s = event0(p).signals.find((x) => x.signalName === 'SIMPLE'); if (s) s.signalType = 'price'; })))), ['R116']);
  const baseline = (change: (b: NonNullable<ReturnType<typeof event0>['baseline']>) => void) => changed(DISTRIBUTE, (p) => { const b = event0(p).baseline; if (b === undefined) throw new Error('no baseline'); change(b); });
  t.assert.deepStrictEqual(rulesOf(check(answer(baseline((b) => { const iv = b.intervals[1]; if (iv) iv.uid = '7'; })))), ['R101', 'R2'], 'a baseline\'s uids');
  t.assert.deepStrictEqual(rulesOf(check(answer(baseline((b) => { b.duration = 'PT3H'; })))), ['R102', 'R8'], 'a baseline\'s durations');
  t.assert.deepStrictEqual(rulesOf(check(answer(changed(DISTRIBUTE, (p) => { event0(p).target = { venIds: ['ven-1', 'ven-2'] }; })))), ['R63']);
  t.assert.deepStrictEqual(rulesOf(check(answer(changed(DISTRIBUTE, (p) => { const s = event0(p).signals[0]; if (s) s.target = { resourceIds: ['r1'] }; })))), ['R111']);
});

test('R104 and R111: units that do not match the signal, an mrid outside the list', (t: TestContext) => {
  const prices = fixture('oadr/oadrDistributeEvent-prices.xml');
  const kw = changed(prices, (p) => { const s = event0(p).signals.find((x) => x.signalName === 'ENERGY_PRICE' && x.signalType === 'price'); if (s?.itemBase?.type === 'currencyPerKWh') s.itemBase = { ...s.itemBase, type: 'currencyPerKW' }; });
  const f = check(answer(kw));
  t.assert.deepStrictEqual(rulesOf(f), ['R104']);
  t.assert.equal(f[0]?.actual, 'currencyPerKW');
  const none = changed(DISTRIBUTE, (p) => { const s = event0(p).signals.find((x) => x.signalName === 'LOAD_DISPATCH'); if (s) delete (s as { itemBase?: unknown }).itemBase; });
  t.assert.deepStrictEqual(rulesOf(check(answer(none))), ['R104']);
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(DISTRIBUTE, '<power:mrid>Storage</power:mrid>', '<power:mrid>Toaster</power:mrid>')))), ['R111']);
});

test('R100: a second signalPayload in an interval fails (our decoder refuses it; the check reads the XML)', (t: TestContext) => {
  const two = edit(DISTRIBUTE, /(<ei:signalPayload>\s*<ei:payloadFloat>\s*<ei:value>-1500<\/ei:value>\s*<\/ei:payloadFloat>\s*<\/ei:signalPayload>)/, '$1$1');
  const f = check(answer(two));
  assert.ok(rulesOf(f).includes('R100'));
  t.assert.equal(f.filter((x) => x.ruleIds.includes('R100')).length, 1);
});

test('R115: events of one oadrDistributeEvent with different createdDateTimes fail', (t: TestContext) => {
  const f = check(answer(edit(DISTRIBUTE, /(<ei:createdDateTime>)2025-06-12T08:15:00Z(<\/ei:createdDateTime>\s*<ei:eventStatus>near)/, '$12025-06-12T08:16:00Z$2')));
  t.assert.deepStrictEqual(rulesOf(f), ['R115']);
});

test('R15: a pending event that starts earlier sent after a later one fails', (t: TestContext) => {
  const f = check(answer(edit(DISTRIBUTE, '<xcal:date-time>2025-06-12T17:00:00Z<', '<xcal:date-time>2025-06-12T08:10:00Z<')));
  t.assert.deepStrictEqual(rulesOf(f), ['R15']);
  const active = changed(DISTRIBUTE, (p) => { const e = p.events?.[1]; if (e) { e.descriptor.eventStatus = 'active'; e.descriptor.priority = 0; } });
  t.assert.deepStrictEqual(rulesOf(check(answer(active))), [], 'priority 0 ranks last among active events');
  const zeroFirst = changed(DISTRIBUTE, (p) => { event0(p).descriptor.priority = 0; const e = p.events?.[1]; if (e) e.descriptor.eventStatus = 'active'; });
  t.assert.deepStrictEqual(rulesOf(check(answer(zeroFirst))), ['R15'], 'an active event of priority 0 before one of priority 2');
});

test('R5, R10: a modificationNumber that goes down, is reused for other content, or stays on a cancellation', (t: TestContext) => {
  const same = check(answer(DISTRIBUTE), answer(DISTRIBUTE));
  t.assert.deepStrictEqual(same, []);
  const bumped = edit(edit(DISTRIBUTE, '<ei:modificationNumber>2</ei:modificationNumber>', '<ei:modificationNumber>3</ei:modificationNumber>'), 'zone NORD', 'zone SUD');
  t.assert.deepStrictEqual(check(answer(DISTRIBUTE), answer(bumped)), [], 'a change with the next number');
  const status = edit(DISTRIBUTE, '<ei:eventStatus>active</ei:eventStatus>', '<ei:eventStatus>completed</ei:eventStatus>');
  t.assert.deepStrictEqual(check(answer(DISTRIBUTE), answer(status)), [], 'a status change alone keeps the number');
  const lower = check(answer(DISTRIBUTE), answer(edit(DISTRIBUTE, '<ei:modificationNumber>2</ei:modificationNumber>', '<ei:modificationNumber>1</ei:modificationNumber>')));
  t.assert.deepStrictEqual(rulesOf(lower), ['R5']);
  t.assert.equal(lower[0]?.exchange, 1);
  t.assert.deepStrictEqual(rulesOf(check(answer(DISTRIBUTE), answer(edit(DISTRIBUTE, 'zone NORD', 'zone SUD')))), ['R5']);
  t.assert.deepStrictEqual(rulesOf(check(answer(DISTRIBUTE), answer(edit(DISTRIBUTE, '<ei:eventStatus>active</ei:eventStatus>', '<ei:eventStatus>cancelled</ei:eventStatus>')))), ['R10', 'R5']);
  // What the suite sent does not count against the peer.
  const sent: Exchange = { ...answer(DISTRIBUTE), direction: 'sent' };
  t.assert.deepStrictEqual(check(sent, answer(edit(DISTRIBUTE, 'zone NORD', 'zone SUD'))), []);
});

/** An oadrUpdateReport with two intervals starting at `first` and `second`. */
function updateReport(first: string, second: string, reportRequestId = 'rq-usage-0001'): string {
  const interval = (dtstart: string) => ({ dtstart, duration: 'PT15M', payloads: [{ rId: 'power', value: { type: 'float' as const, value: 1.5 } }] });
  return encodeOadr({ payload: { type: 'UpdateReport', schemaVersion: '2.0b', requestId: 'u1', venId: 'ven-1', reports: [{ dtstart: first, duration: 'PT30M', intervals: [interval(first), interval(second)], reportRequestId, reportSpecifierId: 'RS-1', reportName: 'TELEMETRY_USAGE', createdDateTime: '2025-06-12T09:00:00Z' }] } });
}

test('R314: report intervals out of time order fail', (t: TestContext) => {
  t.assert.deepStrictEqual(check(answer(updateReport('2025-06-12T08:00:00Z', '2025-06-12T08:15:00Z'))), []);
  const f = check(answer(updateReport('2025-06-12T08:15:00Z', '2025-06-12T08:00:00Z')));
  assert.ok(rulesOf(f).includes('R314'));
});

test('R311, R322: reportRequestID 0 only on metadata, a top-level one only in answer to a METADATA request, no ID for two requests', (t: TestContext) => {
  t.assert.deepStrictEqual(rulesOf(check(answer(updateReport('2025-06-12T08:00:00Z', '2025-06-12T08:15:00Z', '0')))), ['R311']);
  const register = fixture('oadr/oadrRegisterReport.xml');
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(register, '<ei:reportRequestID>0</ei:reportRequestID>', '<ei:reportRequestID>rq-7</ei:reportRequestID>')))), ['R311']);
  t.assert.deepStrictEqual(rulesOf(check(answer(edit(register, '<ei:reportRequestID>0</ei:reportRequestID>', '<ei:reportRequestID></ei:reportRequestID>')))), [], 'an empty one is accepted');
  const answerToMetadata = fixture('oadr/oadrRegisterReport-metadata-answer.xml');
  const metadataRequest: Exchange = { ...posted(fixture('oadr/oadrCreateReport-metadata.xml')), direction: 'sent' };
  t.assert.deepStrictEqual(check(metadataRequest, answer(answerToMetadata)), []);
  t.assert.deepStrictEqual(rulesOf(check(answer(answerToMetadata))), ['R311'], 'no METADATA request asked for it');
  const create = fixture('oadr/oadrCreateReport.xml');
  const reuse = edit(create, 'rq-history-0003', 'rq-usage-0001');
  t.assert.deepStrictEqual(rulesOf(check(posted(reuse)).filter((f) => f.ruleIds.includes('R322'))), ['R322']);
  t.assert.deepStrictEqual(rulesOf(check(posted(create), posted(create)).filter((f) => f.ruleIds.includes('R322'))), [], 'the same request sent again');
});

test('HTTP: Host, Content-Length, chunked, Content-Type, method and status codes', (t: TestContext) => {
  const body = fixture('oadr/oadrPoll.xml');
  t.assert.deepStrictEqual(check(posted(body)), []);
  t.assert.deepStrictEqual(check(answer(fixture('oadr/oadrResponse.xml'), { 'content-type': 'Application/XML;Charset=UTF-8' })), []);
  t.assert.deepStrictEqual(check({ ...answer(''), headers: { 'content-length': '0' } }), [], 'an empty 200 needs no Content-Type');
  const { host: _h, ...noHost } = posted(body).headers;
  t.assert.deepStrictEqual(rulesOf(check({ ...posted(body), headers: noHost })), ['R53', '§9.1.9.6']);
  const { 'content-length': _l, ...noLength } = posted(body).headers;
  t.assert.deepStrictEqual(rulesOf(check({ ...posted(body), headers: noLength })), ['R53', '§9.1.9.4']);
  t.assert.deepStrictEqual(rulesOf(check({ ...posted(body), headers: { ...noLength, 'transfer-encoding': 'chunked' } })), ['§9.1.9.4']);
  t.assert.deepStrictEqual(rulesOf(check(posted(body, { 'content-length': '12' }))), ['R53', '§9.1.9.4']);
  t.assert.deepStrictEqual(rulesOf(check(posted(body, { 'content-type': 'text/xml' }))), ['R53', '§9.1.9.5']);
  t.assert.deepStrictEqual(rulesOf(check(answer(body, { 'content-type': 'application/xml; charset=iso-8859-1' }))), ['R53', '§9.1.9.5']);
  t.assert.deepStrictEqual(rulesOf(check({ ...posted(''), method: 'GET', headers: { host: 'vtn.test', 'content-length': '0' } })), ['§9.1.3']);
  t.assert.deepStrictEqual(rulesOf(check({ ...answer('moved'), status: 302, headers: { 'content-length': '5' } })), ['§9.1.5']);
  t.assert.deepStrictEqual(check({ ...answer('<html>overloaded</html>'), status: 503, headers: { 'content-length': '23', 'content-type': 'text/html' } }), [], 'a non-200 body is not judged');
  t.assert.deepStrictEqual(check({ ...posted(body), error: 'connection closed', headers: {} }), [], 'a transport error is no message');
});

test('payloadChecks judge what the peer sends; allMessageChecks the suite\'s own messages too', (t: TestContext) => {
  const bad: Exchange = { ...posted(edit(DISTRIBUTE, ' ei:schemaVersion="2.0b"', '')), direction: 'sent' };
  t.assert.deepStrictEqual(checkExchanges([bad], payloadChecks), []);
  t.assert.deepStrictEqual(rulesOf(checkExchanges([bad], allMessageChecks)), ['R509']);
  t.assert.match(checkExchanges([bad], allMessageChecks)[0]?.message ?? '', /^the suite /);
});

/** One POST over loopback, recorded as the runner records it: the request sent, the answer received. */
async function exchange(url: string, body: string): Promise<Exchange[]> {
  const sentHeaders = { host: new URL(url).host, 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) };
  const res = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: sentHeaders }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  return [
    { at: Date.now(), direction: 'sent', channel: 'http', method: 'POST', url, headers: sentHeaders, body },
    { at: Date.now(), direction: 'received', channel: 'http', status: res.status, headers, body: res.body, answers: 0 },
  ];
}

test('R45: a push VEN that keeps schemaLocation in its answers is flagged, over real HTTP', async (t: TestContext) => {
  const canceled = fixture('oadr/oadrCanceledPartyRegistration.xml');
  const broken = edit(canceled, '<oadr:oadrPayload ', '<oadr:oadrPayload xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://openadr.org/oadr-2.0b/2012/07 oadr_20b.xsd" ');
  let keepSchemaLocation = true;
  // The broken VEN: answers oadrCancelPartyRegistration with oadrCanceledPartyRegistration, as a JAXB marshaller configured with a schema location would.
  const ven = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const out = keepSchemaLocation ? broken : canceled;
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((resolve) => ven.listen(0, '127.0.0.1', resolve));
  t.after(() => ven.close());
  const url = `http://127.0.0.1:${(ven.address() as AddressInfo).port}/OpenADR2/Simple/2.0b/EiRegisterParty`;
  const cancel = fixture('oadr/oadrCancelPartyRegistration-vtn.xml');

  const run = await exchange(url, cancel);
  const findings = checkExchanges(run, allMessageChecks);
  t.assert.deepStrictEqual(rulesOf(findings), ['R45']);
  t.assert.equal(findings[0]?.exchange, 1);
  t.assert.match(findings[0]?.message ?? '', /^the peer sent a schemaLocation attribute/);

  keepSchemaLocation = false;
  t.assert.deepStrictEqual(checkExchanges(await exchange(url, cancel), allMessageChecks), [], 'the same VEN without schemaLocation passes');
});
