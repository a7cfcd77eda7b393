import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { gunzipSync, inflateSync } from 'node:zlib';
import { decodeOadr, encodeOadr } from '../../oadr/index.ts';
import { validateXsd, xmllintAvailable } from '../../conformance/index.ts';
import { call, post, postXml, recordingLogger, registerVen, startTestVtn, ven } from '../testing/fake-ven.ts';

test('§9.1.3 VTN: GET on the EiEvent endpoint gets 501', async (t) => {
  const { url } = await startTestVtn(t);
  const res = await fetch(`${url}/OpenADR2/Simple/2.0b/EiEvent`);
  t.assert.equal(res.status, 501);
});

test('R511 VTN: POST to an unknown service gets 404; a payload posted to the wrong service gets 404', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  t.assert.equal((await post(url, 'EiUnknown' as 'EiEvent', ven.poll(a.venId))).status, 404);
  t.assert.equal((await post(url, 'EiEvent', ven.poll(a.venId))).status, 404);
  t.assert.equal((await post(url, 'OadrPoll', ven.requestEvent(a.venId))).status, 404);
});

test('§9.1.5 VTN: a valid payload with Content-Type text/plain, and an XSD-invalid oadrCreatedEvent, get 406 and change nothing', async (t) => {
  const log = recordingLogger();
  const { url, vtn } = await startTestVtn(t, {}, { logger: log });
  const a = await registerVen(url, 'ven-a');
  const before = vtn.store.queueDepth(a.venId);
  const plain = await postXml(url, 'OadrPoll', encodeOadr(ven.poll(a.venId)), { 'content-type': 'text/plain' });
  t.assert.equal(plain.status, 406);
  const other = await postXml(url, 'OadrPoll', encodeOadr(ven.poll(a.venId)), { 'content-type': 'application/xml; charset=iso-8859-1' });
  t.assert.equal(other.status, 406);
  const bad = encodeOadr(ven.createdEvent(a.venId, [{ eventId: 'e1', modificationNumber: 0 }])).replace('<ei:optType>optIn</ei:optType>', '<ei:optType>maybe</ei:optType>');
  const invalid = await postXml(url, 'EiEvent', bad);
  t.assert.equal(invalid.status, 406);
  const malformed = await postXml(url, 'EiEvent', '<oadrPayload><unclosed>');
  t.assert.equal(malformed.status, 406);
  t.assert.equal(vtn.store.queueDepth(a.venId), before);
  // Each bad input is logged once, the schema failure with the venID.
  const rejected = log.records.filter((r) => r.level === 'warn' && r.component === 'vtn.http');
  t.assert.equal(rejected.length, 4);
  t.assert.equal(rejected[2]?.venId, a.venId);
});

test('§9.1.9.5 VTN: application/xml; charset=utf-8 with Accept: application/xml gets 200 and an application/xml response', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const r = await postXml(url, 'OadrPoll', encodeOadr(ven.poll(a.venId)), { 'content-type': 'Application/XML;  Charset="UTF-8"', accept: 'application/xml' });
  t.assert.equal(r.status, 200);
  t.assert.equal(r.headers.get('content-type'), 'application/xml');
});

test('§9.1.5 VTN: a body over the limit gets 413', async (t) => {
  const { url, vtn } = await startTestVtn(t, { bodyLimitBytes: 4096 });
  const a = await registerVen(url, 'ven-a');
  const big = encodeOadr(ven.poll(a.venId)).replace('</oadr:oadrPayload>', `<!--${'x'.repeat(8192)}--></oadr:oadrPayload>`);
  const r = await postXml(url, 'OadrPoll', big);
  t.assert.equal(r.status, 413);
  assert.ok(vtn.vens.get(a.venId) !== undefined);
});

test('§9.1.9.2+3 VTN: oadrPoll with Accept-Encoding gzip (or deflate) gets a compressed valid payload with Content-Length', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  for (const enc of ['gzip', 'deflate'] as const) {
    const res = await rawPost(url, '/OpenADR2/Simple/2.0b/OadrPoll', encodeOadr(ven.poll(a.venId)), { 'accept-encoding': enc });
    t.assert.equal(res.status, 200);
    t.assert.equal(res.headers['content-encoding'], enc);
    t.assert.equal(res.headers['transfer-encoding'], undefined);
    t.assert.equal(Number(res.headers['content-length']), res.body.length);
    const xml = enc === 'gzip' ? gunzipSync(res.body) : inflateSync(res.body);
    t.assert.equal(decodeOadr(xml).payload.type, 'Response');
  }
});

test('§9.1.9.4+R53 VTN: every answer, error statuses included, has Content-Length and is never chunked', async (t) => {
  const { url } = await startTestVtn(t);
  const a = await registerVen(url, 'ven-a');
  const cases: Array<[string, string, Record<string, string>]> = [
    ['/OpenADR2/Simple/2.0b/OadrPoll', encodeOadr(ven.poll(a.venId)), {}],
    ['/OpenADR2/Simple/2.0b/OadrPoll', 'not xml', {}],
    ['/OpenADR2/Simple/2.0b/EiNothing', 'x', {}],
    ['/elsewhere', 'x', {}],
    ['/OpenADR2/Simple/2.0b/OadrPoll', encodeOadr(ven.poll(a.venId)), { 'content-type': 'text/xml' }],
  ];
  for (const [path, body, headers] of cases) {
    const res = await rawPost(url, path, body, headers);
    t.assert.equal(res.headers['transfer-encoding'], undefined, path);
    t.assert.equal(Number(res.headers['content-length']), res.body.length, path);
  }
});

test('R511 VTN: a configured prefix serves /prefix/OpenADR2/Simple/2.0b/...; the bare path is then 404', async (t) => {
  const { url } = await startTestVtn(t, { pathPrefix: '/myVTN' });
  const r = await postXml(url, 'EiRegisterParty', encodeOadr(ven.query()), {}, '/myVTN');
  t.assert.equal(r.status, 200);
  t.assert.equal(r.payload?.type, 'CreatedPartyRegistration');
  t.assert.equal((await postXml(url, 'EiRegisterParty', encodeOadr(ven.query()))).status, 404);
});

test('R45+R509 VTN: answers are XSD-valid, carry schemaVersion 2.0b and no schemaLocation', { skip: !xmllintAvailable() && 'xmllint is not installed' }, async (t) => {
  const { url } = await startTestVtn(t);
  const reg = await postXml(url, 'EiRegisterParty', encodeOadr(ven.create({ venName: 'ven-x' })));
  const created = reg.payload;
  assert.ok(created?.type === 'CreatedPartyRegistration' && created.venId !== undefined);
  const bodies = [reg.raw.toString('utf8')];
  bodies.push((await postXml(url, 'OadrPoll', encodeOadr(ven.poll(created.venId)))).raw.toString('utf8'));
  bodies.push((await postXml(url, 'OadrPoll', encodeOadr(ven.poll(created.venId)))).raw.toString('utf8'));
  bodies.push((await postXml(url, 'OadrPoll', encodeOadr(ven.poll('nobody')))).raw.toString('utf8'));
  for (const xml of bodies) {
    const v = await validateXsd(xml);
    t.assert.equal(v.valid, true, `${xml}\n${JSON.stringify(v)}`);
    assert.ok(!xml.includes('schemaLocation'));
    assert.ok(xml.includes('ei:schemaVersion="2.0b"'));
  }
});

test('R33 VTN: a payload without venID where one is needed gets 459 in oadrResponse', async (t) => {
  const { url } = await startTestVtn(t);
  const r = await call(url, 'EiReport', { type: 'Response', schemaVersion: '2.0b', response: { code: 200, requestId: '' } }, 'Response');
  t.assert.equal(r.response.code, 459);
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function rawPost(base: string, path: string, body: string, headers: Record<string, string>): Promise<RawResponse> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
