/**
 * The OpenADR 2.0a profile of the codec (R506, §7.1): messages shaped as other implementations send
 * them decode to the one model and say they are 2.0a; what we encode for 2.0a is the payload element
 * alone, in the 2.0a namespace, without schemaVersion, and validates against the 2.0a XSD; a model
 * the 2.0a schema cannot express is refused. UTF-16 documents with a byte order mark are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OADR_20A_XSD, validateXsdMany } from '../conformance/index.ts';
import { decodeDocument, decodeOadr, decodeOadrInterpreted, encodeOadr } from './codec.ts';
import { CodecErrorCode, OadrCodecError, type CodecErrorCodeValue } from './errors.ts';
import type { DistributeEvent, Payload } from './model.ts';

const DIR_20A = fileURLToPath(new URL('../test/fixtures/oadr20a/', import.meta.url));
const DIR_20B = fileURLToPath(new URL('../test/fixtures/oadr/', import.meta.url));
const fixtures = readdirSync(DIR_20A).filter((n) => n.endsWith('.xml')).sort().map((name) => ({ name, xml: readFileSync(join(DIR_20A, name), 'utf8') }));

function refuses(fn: () => unknown, code: CodecErrorCodeValue, text?: RegExp): OadrCodecError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OadrCodecError, `expected OadrCodecError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (text !== undefined) assert.match(err.message, text);
    return err;
  }
  assert.fail('expected an OadrCodecError');
}

const distribute = (): DistributeEvent => decodeOadr(readFileSync(join(DIR_20A, 'distribute-event-jaxb-prefixes.xml'))).payload as DistributeEvent;

test('R506 §7.1: 2.0a messages of other implementations decode, say 2.0a, and round-trip through the 2.0a XSD', async () => {
  assert.equal(fixtures.length, 4);
  const encoded: string[] = [];
  for (const f of fixtures) {
    const doc = decodeDocument(f.xml);
    assert.equal(doc.profile, '2.0a', f.name);
    // The generated and the interpreting decoder agree.
    assert.deepEqual(decodeOadrInterpreted(f.xml), doc.message, f.name);
    const xml = encodeOadr(doc.message, { profile: '2.0a' });
    assert.deepEqual(decodeDocument(xml), doc, `${f.name}: decode(encode(x)) equals x`);
    encoded.push(xml);
  }
  const results = await validateXsdMany([...fixtures.map((f) => f.xml), ...encoded], OADR_20A_XSD);
  results.forEach((r, i) => assert.ok(r.valid, `${i < fixtures.length ? 'fixture' : 'encoded'} ${fixtures[i % fixtures.length]?.name}: ${r.errors.join('\n')}`));
});

test('a hand-written 2.0a distributeEvent decodes to the model the 2.0b code uses', () => {
  const p = distribute();
  assert.equal(p.type, 'DistributeEvent');
  assert.equal(p.vtnId, 'UTILITY_VTN');
  const e = p.events?.[0];
  assert.ok(e !== undefined);
  assert.equal(e.descriptor.eventId, 'evt-2014-07-01');
  assert.equal(e.descriptor.marketContext, 'http://utility.example/programs/cpp');
  assert.equal(e.activePeriod.notification, 'P1D');
  assert.equal(e.activePeriod.rampUp, undefined);
  const s = e.signals[0];
  assert.deepEqual(s?.intervals.map((i) => [i.duration, i.uid, i.value]), [['PT1H', '0', 1], ['PT1H', '1', 2]]);
  assert.equal(s?.signalName, 'simple');
  assert.equal(s?.currentValue, 0);
  assert.deepEqual(e.target.venIds, ['ven-thermostat-17']);
  assert.equal(e.responseRequired, 'always');
  assert.equal((p as { schemaVersion?: string }).schemaVersion, undefined);
});

test('§7.1: a 2.0a document is the payload element in the 2.0a namespace, without oadrPayload or schemaVersion', () => {
  const xml = encodeOadr({ ...distribute(), schemaVersion: '2.0b' }, { profile: '2.0a' });
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<oadr:oadrDistributeEvent xmlns:oadr="http:\/\/openadr\.org\/oadr-2\.0a\/2012\/07"/);
  assert.doesNotMatch(xml, /oadrPayload|schemaVersion|oadr-2\.0b/);
  // The same model in 2.0b: the envelope, the 2.0b namespace.
  const b = encodeOadr(distribute());
  assert.match(b, /<oadr:oadrPayload xmlns:oadr="http:\/\/openadr\.org\/oadr-2\.0b\/2012\/07"/);
  assert.equal(decodeDocument(b).profile, '2.0b');
});

test('the 2.0b fixtures still decode as 2.0b', () => {
  for (const name of readdirSync(DIR_20B).filter((n) => n.endsWith('.xml'))) {
    assert.equal(decodeDocument(readFileSync(join(DIR_20B, name))).profile, '2.0b', name);
  }
});

test('R506 §7.1: encoding for 2.0a refuses what 2.0a cannot express', () => {
  const p = distribute();
  const first = p.events?.[0];
  assert.ok(first !== undefined);
  type Ev = typeof first;
  const event: Ev = first;
  const withEvent = (change: (e: Ev) => Ev): DistributeEvent => ({ ...p, events: [change(structuredClone(event))] });
  refuses(() => encodeOadr({ type: 'Poll', schemaVersion: '2.0b', venId: 'v' }, { profile: '2.0a' }), CodecErrorCode.INVALID_MODEL, /EiEvent only/);
  refuses(() => encodeOadr(withEvent((e) => ({ ...e, descriptor: { ...e.descriptor, modificationDateTime: '2014-07-01T09:00:00Z' } })), { profile: '2.0a' }),
    CodecErrorCode.INVALID_MODEL, /modificationDateTime .*2\.0a/);
  refuses(() => encodeOadr(withEvent((e) => ({ ...e, target: { ...e.target, meterAssets: ['m-1'] } })), { profile: '2.0a' }),
    CodecErrorCode.INVALID_MODEL, /meterAssets/);
  // R113: currentValue is mandatory towards a 2.0a VEN.
  refuses(() => encodeOadr(withEvent((e) => {
    const s = e.signals[0];
    if (s !== undefined) delete s.currentValue;
    return e;
  }), { profile: '2.0a' }), CodecErrorCode.INVALID_MODEL, /currentValue/);
  // A 2.0a interval has no dtstart, and needs a uid.
  refuses(() => encodeOadr(withEvent((e) => {
    const i = e.signals[0]?.intervals[0];
    if (i !== undefined) i.dtstart = '2014-07-01T14:00:00Z';
    return e;
  }), { profile: '2.0a' }), CodecErrorCode.INVALID_MODEL, /dtstart/);
  refuses(() => encodeOadr(withEvent((e) => {
    const i = e.signals[0]?.intervals[0];
    if (i !== undefined) delete i.uid;
    return e;
  }), { profile: '2.0a' }), CodecErrorCode.INVALID_MODEL, /uid/);
});

test('a 2.0a root that is not one of the four EiEvent payloads is refused', () => {
  const poll = '<oadr:oadrPoll xmlns:oadr="http://openadr.org/oadr-2.0a/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110"><ei:venID>v</ei:venID></oadr:oadrPoll>';
  refuses(() => decodeDocument(poll), CodecErrorCode.NOT_OADR_PAYLOAD, /2\.0a has EiEvent only/);
  // A 2.0a payload inside a 2.0b envelope is neither.
  const wrapped = `<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><oadr:oadrSignedObject>${fixtures[3]?.xml.replace(/^<\?xml[^>]*>\s*/, '')}</oadr:oadrSignedObject></oadr:oadrPayload>`;
  refuses(() => decodeDocument(wrapped), CodecErrorCode.NOT_OADR_PAYLOAD);
  // A 2.0a interval without its uid (required by the 2.0a schema) names what is missing.
  const noUid = fixtures[1]?.xml.replace(/<ns1:uid>\s*<ns1:text>0<\/ns1:text>\s*<\/ns1:uid>/, '') ?? '';
  refuses(() => decodeDocument(noUid), CodecErrorCode.SCHEMA_VIOLATION, /xcal:uid/);
});

// ---- UTF-16 (XML 1.0 §4.3.3) --------------------------------------------------------------------

function utf16(text: string, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfeff, littleEndian);
  for (let i = 0; i < text.length; i++) view.setUint16(2 + i * 2, text.charCodeAt(i), littleEndian);
  return out;
}

test('UTF-16 documents with a byte order mark are read, in both byte orders', () => {
  for (const f of [...fixtures, { name: 'payload', xml: encodeOadr(distribute()) }]) {
    const expected = decodeDocument(f.xml);
    const declared = f.xml.replace(/encoding=(["'])utf-8\1/i, 'encoding="UTF-16"');
    for (const le of [true, false]) {
      assert.deepEqual(decodeDocument(utf16(declared, le)), expected, `${f.name} ${le ? 'LE' : 'BE'}`);
      // Without a declaration too; and with text beyond ASCII.
      const bare = f.xml.replace(/^<\?xml[^>]*>/, '');
      assert.deepEqual(decodeDocument(utf16(bare, le)), expected, `${f.name} ${le ? 'LE' : 'BE'}, no declaration`);
    }
  }
  const comment = '<?xml version="1.0" encoding="UTF-16"?><oadr:oadrResponse xmlns:oadr="http://openadr.org/oadr-2.0a/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads"><ei:eiResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>Größe 😀</ei:responseDescription><pyld:requestID>r</pyld:requestID></ei:eiResponse></oadr:oadrResponse>';
  const r = decodeDocument(utf16(comment, true)).message.payload as Extract<Payload, { type: 'Response' }>;
  assert.equal(r.response.description, 'Größe 😀');
});

test('UTF-16 that is not what its byte order mark or declaration says is refused', () => {
  const xml = fixtures[3]?.xml ?? '';
  // A UTF-8 declaration in a UTF-16 document.
  refuses(() => decodeDocument(utf16(xml, true)), CodecErrorCode.MALFORMED_XML, /byte order mark says UTF-16LE/);
  // An odd number of bytes.
  const odd = utf16(xml.replace(/encoding="UTF-8"/, 'encoding="UTF-16"'), false);
  refuses(() => decodeDocument(odd.subarray(0, odd.length - 1)), CodecErrorCode.MALFORMED_XML, /not valid UTF-16BE/);
  // A UTF-16 declaration in a UTF-8 document (no byte order mark).
  refuses(() => decodeDocument(new TextEncoder().encode(xml.replace(/encoding="UTF-8"/, 'encoding="UTF-16"'))), CodecErrorCode.MALFORMED_XML, /must be UTF-8/);
  // Little-endian declared in a big-endian document.
  refuses(() => decodeDocument(utf16(xml.replace(/encoding="UTF-8"/, 'encoding="UTF-16LE"'), false)), CodecErrorCode.MALFORMED_XML, /UTF-16BE/);
});
