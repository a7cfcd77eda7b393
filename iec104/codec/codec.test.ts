/**
 * The codec checked four ways on every vector (parse, encode byte-equal, mirror, bad input), plus a
 * fuzz test: random and mutated frames give values or `Iec104Error`s, never anything else.
 */
import { test, type TestContext } from 'node:test';
import { prng } from '../../test/support/seeded-random.ts';
import { Iec104Error } from '../errors.ts';
import { hex, toHex, VECTORS } from '../testing/vectors.ts';
import { encodeApdu, parseApdu, splitApdus, type Apdu } from './apdu.ts';
import { encodeAsdu, parseAsdu, parseAsduHeader, withCause, type Asdu } from './asdu.ts';
import { COT, QUALITY, TYPE } from './constants.ts';
import { cp56FromDate, cp56ToDate } from './cp56.ts';

const roundTrip = (h: string): { apdu: Apdu; asdu: Asdu | undefined } => {
  const bytes = hex(h);
  const apdu = parseApdu(bytes);
  if (apdu.format !== 'I') return { apdu, asdu: undefined };
  const asdu = parseAsdu(apdu.asdu);
  return { apdu, asdu };
};

test('every vector parses and encodes back byte-equal (APCI and ASDU)', (t) => {
  for (const [name, h] of Object.entries(VECTORS)) {
    const { apdu, asdu } = roundTrip(h);
    const again = apdu.format === 'I' ? encodeApdu({ ...apdu, asdu: encodeAsdu(asdu as Asdu) }) : encodeApdu(apdu);
    t.assert.equal(toHex(again), h, name);
  }
});

test('U and S frames: STARTDT, TESTFR act/con and an S-frame acknowledging N(R) = 10 (104 §5.2, §5.3)', (t) => {
  t.assert.deepEqual(parseApdu(hex(VECTORS.startdtAct)), { format: 'U', fn: 'STARTDT_ACT' });
  t.assert.deepEqual(parseApdu(hex(VECTORS.startdtCon)), { format: 'U', fn: 'STARTDT_CON' });
  t.assert.deepEqual(parseApdu(hex(VECTORS.testfrAct)), { format: 'U', fn: 'TESTFR_ACT' });
  t.assert.deepEqual(parseApdu(hex(VECTORS.testfrCon)), { format: 'U', fn: 'TESTFR_CON' });
  t.assert.deepEqual(parseApdu(hex(VECTORS.sFrame10)), { format: 'S', recvSeq: 10 });
  t.assert.equal(toHex(encodeApdu({ format: 'U', fn: 'STOPDT_ACT' })), '68 04 13 00 00 00');
  t.assert.equal(toHex(encodeApdu({ format: 'U', fn: 'STOPDT_CON' })), '68 04 23 00 00 00');
});

test('15-bit sequence numbers: N(S) and N(R) up to 32767 in both octets', (t) => {
  const f = encodeApdu({ format: 'I', sendSeq: 32_767, recvSeq: 12_345, asdu: hex('64 01 06 00 01 00 00 00 00 14') });
  t.assert.equal(toHex(f.subarray(0, 6)), '68 0e fe ff 72 60');
  const p = parseApdu(f);
  t.assert.deepEqual(p.format === 'I' ? [p.sendSeq, p.recvSeq] : [], [32_767, 12_345]);
  t.assert.throws(() => encodeApdu({ format: 'S', recvSeq: 32_768 }), { code: 'BAD_VALUE' });
});

test('the interrogation and setpoint vectors read as the standard says (type, VSQ, COT, CA, IOA, S/E)', (t) => {
  const gi = roundTrip(VECTORS.interrogation);
  t.assert.deepEqual(gi.apdu.format === 'I' ? [gi.apdu.sendSeq, gi.apdu.recvSeq] : [], [0, 0]);
  t.assert.deepEqual(gi.asdu, { typeId: TYPE.C_IC_NA_1, sequence: false, cause: COT.ACTIVATION, negative: false, test: false, originator: 0, commonAddress: 1, objects: [{ ioa: 0, qualifier: 20 }] });
  const select = roundTrip(VECTORS.setpointSelect);
  t.assert.deepEqual(select.apdu.format === 'I' ? [select.apdu.sendSeq, select.apdu.recvSeq] : [], [1, 6]);
  t.assert.deepEqual(select.asdu?.objects, [{ ioa: 5000, value: 42.5, qualifier: 0, select: true }]);
  const execute = roundTrip(VECTORS.setpointExecute);
  t.assert.deepEqual(execute.asdu?.objects, [{ ioa: 5000, value: 42.5, qualifier: 0, select: false }]);
  const timed = roundTrip(VECTORS.setpointWithTime);
  t.assert.equal(timed.asdu?.typeId, TYPE.C_SE_TC_1);
  t.assert.equal(new Date(cp56ToDate(timed.asdu?.objects[0]?.time as never)).toISOString(), '2026-12-07T02:24:31.847Z');
});

test('measurements: M_ME_NC_1 230.0 at IOA 1001, M_ME_TF_1 with CP56Time2a, SQ sequences, normalized and single points', (t) => {
  t.assert.deepEqual(roundTrip(VECTORS.periodic).asdu, { typeId: TYPE.M_ME_NC_1, sequence: false, cause: COT.PERIODIC, negative: false, test: false, originator: 0, commonAddress: 1, objects: [{ ioa: 1001, value: 230, quality: 0 }] });
  const tf = roundTrip(VECTORS.measurementWithTime).asdu;
  t.assert.equal(tf?.cause, COT.SPONTANEOUS);
  t.assert.equal(new Date(cp56ToDate(tf?.objects[0]?.time as never)).toISOString(), '2026-12-07T02:23:55.748Z');
  t.assert.deepEqual(tf?.objects[0]?.time, cp56FromDate(Date.parse('2026-12-07T02:23:55.748Z')));
  const field = roundTrip(VECTORS.fieldFloatWithTime).asdu;
  t.assert.deepEqual({ ...field?.objects[0]?.time }, { ms: 1425, minute: 50, hour: 10, day: 9, dayOfWeek: 3, month: 6, year: 21, invalid: false, summerTime: false });
  t.assert.deepEqual([field?.originator, field?.commonAddress, field?.objects[0]?.ioa], [0x51, 0x51, 1006]);
  const seq = roundTrip(VECTORS.fieldFloatSequence).asdu;
  t.assert.deepEqual(seq?.objects.map((o) => o.ioa), [3047, 3048]);
  t.assert.equal(seq?.sequence, true);
  const nva = roundTrip(VECTORS.fieldNormalized).asdu;
  t.assert.deepEqual(nva?.objects.map((o) => [o.ioa, o.value]), [[649, 0], [650, 495 / 32_768]]);
  t.assert.equal(nva?.cause, COT.INTERROGATED_BY_STATION);
  const sp = roundTrip(VECTORS.fieldSinglePoints).asdu;
  t.assert.deepEqual(sp?.objects.map((o) => [o.ioa, o.value]), [[5324, true], [5348, false]]);
});

test('mirroring: act-con and act-term are the command with COT 7 and 10, P/N on a refusal (the setpoint vectors)', (t) => {
  const select = parseApdu(hex(VECTORS.setpointSelect));
  if (select.format !== 'I') throw new Error('an I-frame');
  t.assert.equal(toHex(withCause(select.asdu, COT.ACTIVATION_CON, false)), '32 01 07 00 01 00 88 13 00 00 00 2a 42 80');
  t.assert.equal(toHex(withCause(select.asdu, COT.ACTIVATION_TERMINATION, false)), '32 01 0a 00 01 00 88 13 00 00 00 2a 42 80');
  t.assert.equal(toHex(withCause(select.asdu, COT.ACTIVATION_CON, true)), '32 01 47 00 01 00 88 13 00 00 00 2a 42 80');
  const gi = parseApdu(hex(VECTORS.fieldInterrogation));
  const con = parseApdu(hex(VECTORS.fieldInterrogationCon));
  if (gi.format !== 'I' || con.format !== 'I') throw new Error('I-frames');
  // The field station's act-con differs only in COT and its originator octet.
  t.assert.deepEqual(parseAsdu(con.asdu), { ...parseAsdu(withCause(gi.asdu, COT.ACTIVATION_CON, false)), originator: 0x71 });
  const testBit = withCause(hex('64 01 86 00 01 00 00 00 00 14'), COT.UNKNOWN_COMMON_ADDRESS, true);
  t.assert.deepEqual(parseAsduHeader(testBit), { typeId: 100, sequence: false, count: 1, cause: 46, negative: true, test: true, originator: 0, commonAddress: 1 });
});

test('bad frames give typed errors: start byte, length, truncated, control field, unknown type, ASDU shorter or longer than its VSQ', (t) => {
  const code = (f: () => unknown, c: string, what: string): void => t.assert.throws(f, (e: unknown) => e instanceof Iec104Error && e.code === c, what);
  code(() => parseApdu(hex('69 04 07 00 00 00')), 'BAD_START', 'start 0x69');
  code(() => parseApdu(hex('68 04 07 00 00')), 'TRUNCATED', 'five octets of six');
  code(() => parseApdu(hex('68 05 07 00 00 00 00')), 'BAD_LENGTH', 'a U-frame of length 5');
  code(() => parseApdu(hex('68 04 07 00 00 00 00')), 'BAD_LENGTH', 'a trailing octet');
  code(() => parseApdu(hex('68 03 07 00 00')), 'BAD_LENGTH', 'length 3');
  code(() => parseApdu(hex('68 04 00 00 00 00')), 'BAD_LENGTH', 'an I-frame without ASDU');
  code(() => parseApdu(hex('68 04 0f 00 00 00')), 'BAD_CONTROL', 'STARTDT act and con at once');
  code(() => parseApdu(hex('68 04 01 00 15 00')), 'BAD_CONTROL', 'an S-frame with an odd N(R) octet');
  const giAsdu = hex('64 01 06 00 01 00 00 00 00 14');
  code(() => parseAsdu(hex('2e 01 06 00 01 00 00 00 00 01')), 'UNKNOWN_TYPE', 'C_DC_NA_1 (46) is not supported');
  code(() => parseAsdu(giAsdu.subarray(0, 9)), 'ASDU_LENGTH', 'QOI missing');
  code(() => parseAsdu(hex('64 02 06 00 01 00 00 00 00 14')), 'ASDU_LENGTH', 'VSQ announces two objects, one given');
  code(() => parseAsdu(hex('64 00 06 00 01 00')), 'ASDU_LENGTH', 'VSQ announces none');
  code(() => parseAsdu(giAsdu.subarray(0, 4)), 'TRUNCATED', 'a header of four octets');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_NC_1, cause: COT.PERIODIC, commonAddress: 1, objects: [{ ioa: 1001, value: Number.NaN }] }), 'BAD_VALUE', 'NaN');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_NB_1, cause: COT.PERIODIC, commonAddress: 1, objects: [{ ioa: 1001, value: 40_000 }] }), 'BAD_VALUE', 'scaled overflow');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_NC_1, cause: COT.PERIODIC, commonAddress: 1, objects: [{ ioa: 0x1000000, value: 1 }] }), 'BAD_VALUE', 'IOA of four octets');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_TF_1, cause: COT.SPONTANEOUS, commonAddress: 1, objects: [{ ioa: 1001, value: 1 }] }), 'BAD_VALUE', 'no time tag');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_NC_1, sequence: true, cause: COT.PERIODIC, commonAddress: 1, objects: [{ ioa: 1, value: 1 }, { ioa: 3, value: 1 }] }), 'BAD_VALUE', 'SQ with a gap');
  code(() => encodeAsdu({ typeId: TYPE.M_ME_NC_1, cause: COT.PERIODIC, commonAddress: 1, objects: Array.from({ length: 40 }, (_, i) => ({ ioa: i, value: 1 })) }), 'BAD_VALUE', 'over 249 octets');
  code(() => cp56FromDate(Date.parse('1999-12-31T23:59:59Z')), 'BAD_VALUE', 'a year before 2000');
});

test('a quality descriptor keeps its flags and drops reserved bits (IV, NT, OV)', (t) => {
  const b = encodeAsdu({ typeId: TYPE.M_ME_NC_1, cause: COT.PERIODIC, commonAddress: 1, objects: [{ ioa: 1001, value: 1, quality: QUALITY.IV | QUALITY.NT | QUALITY.OV | 0x0e }] });
  t.assert.equal(b[b.length - 1], 0xc1);
  t.assert.equal(parseAsdu(b).objects[0]?.quality, QUALITY.IV | QUALITY.NT | QUALITY.OV);
});

test('the stream splitter: frames split at every octet, joined frames, a carry across chunks; garbage throws BAD_START', (t) => {
  const stream = hex([VECTORS.startdtAct, VECTORS.interrogation, VECTORS.setpointWithTime, VECTORS.sFrame10].join(' '));
  for (let cut = 0; cut <= stream.length; cut++) {
    const a = splitApdus(stream.subarray(0, cut));
    const b = splitApdus(stream.subarray(cut), a.carry);
    t.assert.deepEqual([...a.frames, ...b.frames].map(toHex), [VECTORS.startdtAct, VECTORS.interrogation, VECTORS.setpointWithTime, VECTORS.sFrame10], `cut at ${cut}`);
    t.assert.equal(b.carry.length, 0);
  }
  let carry: Uint8Array = new Uint8Array(0);
  const frames: string[] = [];
  for (const octet of stream) {
    const s = splitApdus(Uint8Array.of(octet), carry);
    carry = s.carry;
    frames.push(...s.frames.map(toHex));
  }
  t.assert.equal(frames.length, 4);
  t.assert.throws(() => splitApdus(hex('68 04 07 00 00 00 16 00')), { code: 'BAD_START' });
  t.assert.throws(() => splitApdus(hex('68 ff')), { code: 'BAD_LENGTH' });
});

test('fuzz: 20,000 random and mutated frames never throw anything but Iec104Error, and what parses encodes back', (t: TestContext) => {
  const next = prng(104);
  const seeds = Object.values(VECTORS).map(hex);
  let parsed = 0;
  for (let i = 0; i < 20_000; i++) {
    let frame: Uint8Array;
    if (i % 2 === 0) {
      frame = Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256));
      if (frame.length > 1 && next() < 0.7) {
        frame[0] = 0x68;
        frame[1] = frame.length - 2;
      }
    } else {
      frame = (seeds[Math.floor(next() * seeds.length)] as Uint8Array).slice();
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) frame[Math.floor(next() * frame.length)] = Math.floor(next() * 256);
    }
    try {
      splitApdus(frame);
      const apdu = parseApdu(frame);
      if (apdu.format === 'I') {
        const asdu = parseAsdu(apdu.asdu);
        parsed++;
        // Whatever decodes re-encodes to the same octets, except a float NaN's payload bits or reserved bits that the decoder drops.
        const again = encodeAsdu(asdu);
        t.assert.equal(again.length, apdu.asdu.length);
      }
    } catch (e) {
      if (!(e instanceof Iec104Error)) throw new Error(`frame ${toHex(frame)} threw ${String(e)}`, { cause: e });
    }
  }
  t.assert.ok(parsed > 100, `the mutations reach the ASDU decoder (${parsed} parsed)`);
});
