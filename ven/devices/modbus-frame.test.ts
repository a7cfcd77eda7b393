import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../../test/support/seeded-random.ts';
import { FrameErrorCode, ModbusFrameError } from './errors.ts';
import {
  encodeAdu,
  encodeRequest,
  encodeResponse,
  exceptionFor,
  ExceptionCode,
  parseAdu,
  parseRequest,
  parseResponse,
  splitFrames,
  type ModbusRequest,
  type ModbusResponse,
} from './modbus-frame.ts';

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function frameError(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof ModbusFrameError && err.code === code;
}

interface Fixture<T> {
  readonly name: string;
  readonly hex: string;
  readonly transactionId: number;
  readonly unitId: number;
  readonly value: T;
}

const requests: Fixture<ModbusRequest>[] = [
  {
    name: 'read holding registers 40000×2 (SunS marker)',
    hex: '0001 0000 0006 01 03 9c40 0002',
    transactionId: 1,
    unitId: 1,
    value: { kind: 'read', fc: 0x03, address: 40000, quantity: 2 },
  },
  {
    name: 'read input registers 0×125 on unit 255',
    hex: '0005 0000 0006 ff 04 0000 007d',
    transactionId: 5,
    unitId: 255,
    value: { kind: 'read', fc: 0x04, address: 0, quantity: 125 },
  },
  {
    name: 'write single register 40005 = 3',
    hex: '0002 0000 0006 01 06 9c45 0003',
    transactionId: 2,
    unitId: 1,
    value: { kind: 'write-single', address: 40005, value: 3 },
  },
  {
    name: 'write multiple registers 40014 = [50, 65535]',
    hex: '0003 0000 000b 01 10 9c4e 0002 04 0032 ffff',
    transactionId: 3,
    unitId: 1,
    value: { kind: 'write-multiple', address: 40014, values: [50, 0xffff] },
  },
];

const responses: Fixture<ModbusResponse>[] = [
  {
    name: 'read response with the SunS marker',
    hex: '0001 0000 0007 01 03 04 5375 6e53',
    transactionId: 1,
    unitId: 1,
    value: { kind: 'read', fc: 0x03, values: [0x5375, 0x6e53] },
  },
  {
    name: 'write single echo',
    hex: '0002 0000 0006 01 06 9c45 0003',
    transactionId: 2,
    unitId: 1,
    value: { kind: 'write-single', address: 40005, value: 3 },
  },
  {
    name: 'write multiple answer',
    hex: '0003 0000 0006 01 10 9c4e 0002',
    transactionId: 3,
    unitId: 1,
    value: { kind: 'write-multiple', address: 40014, quantity: 2 },
  },
  {
    name: 'exception 02 illegal data address on 0x03',
    hex: '0004 0000 0003 01 83 02',
    transactionId: 4,
    unitId: 1,
    value: { kind: 'exception', fc: 0x03, exceptionCode: ExceptionCode.ILLEGAL_DATA_ADDRESS },
  },
  {
    name: 'exception 01 illegal function on 0x01',
    hex: '0006 0000 0003 01 81 01',
    transactionId: 6,
    unitId: 1,
    value: { kind: 'exception', fc: 0x01, exceptionCode: ExceptionCode.ILLEGAL_FUNCTION },
  },
];

for (const f of requests) {
  test(`request fixture: ${f.name}`, () => {
    const adu = parseAdu(bytes(f.hex));
    assert.equal(adu.transactionId, f.transactionId);
    assert.equal(adu.unitId, f.unitId);
    assert.deepEqual(parseRequest(adu.pdu), f.value); // parse
    const encoded = encodeAdu({ transactionId: f.transactionId, unitId: f.unitId, pdu: encodeRequest(f.value) });
    assert.equal(toHex(encoded), toHex(bytes(f.hex))); // encode, byte compare
    assert.deepEqual(parseRequest(parseAdu(encoded).pdu), f.value); // mirror
    // bad input: every strict prefix of the PDU is refused with a typed error
    for (let n = 0; n < adu.pdu.length; n++) {
      assert.throws(() => parseRequest(adu.pdu.subarray(0, n)), ModbusFrameError);
    }
  });
}

for (const f of responses) {
  test(`response fixture: ${f.name}`, () => {
    const adu = parseAdu(bytes(f.hex));
    assert.equal(adu.transactionId, f.transactionId);
    assert.deepEqual(parseResponse(adu.pdu), f.value);
    const encoded = encodeAdu({ transactionId: f.transactionId, unitId: f.unitId, pdu: encodeResponse(f.value) });
    assert.equal(toHex(encoded), toHex(bytes(f.hex)));
    assert.deepEqual(parseResponse(parseAdu(encoded).pdu), f.value);
    for (let n = 0; n < adu.pdu.length; n++) {
      assert.throws(() => parseResponse(adu.pdu.subarray(0, n)), ModbusFrameError);
    }
  });
}

test('parseAdu refuses short frames, wrong protocol id, length mismatch, oversize', () => {
  assert.throws(() => parseAdu(bytes('0001 0000 0006 01')), frameError(FrameErrorCode.TRUNCATED));
  assert.throws(() => parseAdu(bytes('0001 0001 0006 01 03 9c40 0002')), frameError(FrameErrorCode.BAD_PROTOCOL_ID));
  assert.throws(() => parseAdu(bytes('0001 0000 0007 01 03 9c40 0002')), frameError(FrameErrorCode.LENGTH_MISMATCH));
  assert.throws(() => parseAdu(bytes('0001 0000 0005 01 03 9c40 0002')), frameError(FrameErrorCode.LENGTH_MISMATCH));
  const big = new Uint8Array(6 + 255);
  big[5] = 255; // length field 255: PDU of 254 bytes
  assert.throws(() => parseAdu(big), frameError(FrameErrorCode.TOO_LARGE));
});

test('encodeAdu refuses a PDU over 253 bytes and out-of-range header fields [AP 4.1]', () => {
  assert.throws(() => encodeAdu({ transactionId: 1, unitId: 1, pdu: new Uint8Array(254) }), frameError(FrameErrorCode.TOO_LARGE));
  assert.equal(encodeAdu({ transactionId: 1, unitId: 1, pdu: new Uint8Array(253) }).length, 260);
  assert.throws(() => encodeAdu({ transactionId: 0x10000, unitId: 1, pdu: Uint8Array.of(3) }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeAdu({ transactionId: 1, unitId: 256, pdu: Uint8Array.of(3) }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeAdu({ transactionId: 1, unitId: 1, pdu: new Uint8Array(0) }), frameError(FrameErrorCode.INVALID_VALUE));
});

test('request field checks map to the right exception [AP 6.3, 6.12]', () => {
  const zeroQty = bytes('03 9c40 0000');
  assert.throws(() => parseRequest(zeroQty), frameError(FrameErrorCode.BAD_PDU));
  assert.throws(() => parseRequest(bytes('03 9c40 007e')), frameError(FrameErrorCode.BAD_PDU));
  assert.throws(() => parseRequest(bytes('10 9c40 0002 03 0000 00')), frameError(FrameErrorCode.BAD_PDU)); // byte count ≠ 2×qty
  assert.throws(() => parseRequest(bytes('10 9c40 007c f8')), frameError(FrameErrorCode.BAD_PDU)); // qty 124 > 123
  assert.throws(() => parseRequest(bytes('03 9c40 0002 00')), frameError(FrameErrorCode.BAD_PDU)); // trailing byte
  const unsupported = (() => {
    try {
      parseRequest(bytes('01 0000 0001'));
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(unsupported instanceof ModbusFrameError);
  assert.equal(unsupported.code, FrameErrorCode.UNSUPPORTED_FUNCTION);
  assert.equal(exceptionFor(unsupported), ExceptionCode.ILLEGAL_FUNCTION);
  assert.equal(exceptionFor(new ModbusFrameError(FrameErrorCode.BAD_PDU, 'x')), ExceptionCode.ILLEGAL_DATA_VALUE);
});

test('encoders refuse values the wire cannot carry', () => {
  assert.throws(() => encodeRequest({ kind: 'read', fc: 0x03, address: 65535, quantity: 2 }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeRequest({ kind: 'read', fc: 0x03, address: 0, quantity: 126 }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeRequest({ kind: 'write-single', address: 0, value: -1 }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeRequest({ kind: 'write-multiple', address: 0, values: [] }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeRequest({ kind: 'write-multiple', address: 0, values: [1.5] }), frameError(FrameErrorCode.INVALID_VALUE));
  assert.throws(() => encodeResponse({ kind: 'exception', fc: 0x83, exceptionCode: 2 }), frameError(FrameErrorCode.INVALID_VALUE));
});

test('splitFrames reassembles ADUs cut at every byte boundary', () => {
  const stream = bytes(requests.map((f) => f.hex).join(''));
  for (let cut = 0; cut <= stream.length; cut++) {
    const first = splitFrames(stream.subarray(0, cut), new Uint8Array(0));
    const second = splitFrames(stream.subarray(cut), first.carry);
    const frames = [...first.frames, ...second.frames];
    assert.equal(second.carry.length, 0);
    assert.deepEqual(frames.map(toHex), requests.map((f) => toHex(bytes(f.hex))));
  }
});

test('splitFrames refuses a stream it cannot re-synchronise', () => {
  assert.throws(() => splitFrames(bytes('0001 0002 0006 01 03 9c40 0002')), frameError(FrameErrorCode.BAD_PROTOCOL_ID));
  assert.throws(() => splitFrames(bytes('0001 0000 00ff')), frameError(FrameErrorCode.TOO_LARGE));
  assert.throws(() => splitFrames(bytes('0001 0000 0001 01')), frameError(FrameErrorCode.LENGTH_MISMATCH));
  // a header alone is not yet a frame
  const partial = splitFrames(bytes('0001 0000 0006 01 03'));
  assert.equal(partial.frames.length, 0);
  assert.equal(partial.carry.length, 8);
});

test('fuzz: random bytes never escape as anything but ModbusFrameError (seed 0xC0FFEE)', () => {
  const rand = prng(0xc0ffee);
  let parsed = 0;
  for (let i = 0; i < 5000; i++) {
    const len = Math.floor(rand() * 270);
    const b = new Uint8Array(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    // bias a third of the inputs towards plausible frames so the decoders get past the header
    if (len >= 8 && i % 3 === 0) {
      b[2] = 0;
      b[3] = 0;
      b[4] = 0;
      b[5] = len - 6 <= 254 ? len - 6 : 254;
      b[7] = [0x03, 0x04, 0x06, 0x10, 0x83][i % 5] ?? 0x03;
    }
    for (const decode of [
      () => parseAdu(b),
      () => splitFrames(b),
      () => parseRequest(b),
      () => parseResponse(b),
      () => parseRequest(parseAdu(b).pdu),
    ]) {
      try {
        decode();
        parsed++;
      } catch (err) {
        assert.ok(err instanceof ModbusFrameError, `seed 0xC0FFEE case ${i}: ${String(err)}`);
      }
    }
  }
  assert.ok(parsed > 0, 'the fuzz must reach the success path too');
});

test('fuzz: random valid requests round-trip through encode/split/parse (seed 7)', () => {
  const rand = prng(7);
  const int = (max: number): number => Math.floor(rand() * (max + 1));
  for (let i = 0; i < 2000; i++) {
    let req: ModbusRequest;
    const k = int(2);
    if (k === 0) {
      const quantity = 1 + int(124);
      req = { kind: 'read', fc: rand() < 0.5 ? 0x03 : 0x04, address: int(0x10000 - quantity), quantity };
    } else if (k === 1) req = { kind: 'write-single', address: int(0xffff), value: int(0xffff) };
    else {
      const n = 1 + int(122);
      req = { kind: 'write-multiple', address: int(0x10000 - n), values: Array.from({ length: n }, () => int(0xffff)) };
    }
    const adu = encodeAdu({ transactionId: int(0xffff), unitId: int(0xff), pdu: encodeRequest(req) });
    const { frames, carry } = splitFrames(adu);
    assert.equal(carry.length, 0);
    assert.equal(frames.length, 1);
    assert.deepEqual(parseRequest(parseAdu(frames[0] ?? new Uint8Array(0)).pdu), req);
  }
});
