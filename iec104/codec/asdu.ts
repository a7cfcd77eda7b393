/**
 * ASDU of IEC 60870-5-101 as 104 uses it (§7, 104 §9): type identification, variable structure
 * qualifier (SQ bit, number of objects 1–127), two-octet cause of transmission (cause, P/N and test
 * bits, originator address), two-octet common address, then the information objects, each with a
 * three-octet address (with SQ set only the first object carries one; the others follow at +1).
 * The types a UVAM needs are known (constants.ts); another type id is an `UNKNOWN_TYPE` error whose
 * header is still readable with `parseAsduHeader`, so the station answers it with cause 44.
 */
import { Iec104Error } from '../errors.ts';
import { TYPE, type TypeId } from './constants.ts';
import { CP56_SIZE, decodeCp56, encodeCp56, type Cp56Time } from './cp56.ts';

export interface AsduHeader {
  readonly typeId: number;
  /** SQ: one address, the objects at consecutive addresses. */
  readonly sequence: boolean;
  /** Number of information objects (VSQ bits 0–6). */
  readonly count: number;
  readonly cause: number;
  /** P/N: negative confirmation. */
  readonly negative: boolean;
  /** T: test. */
  readonly test: boolean;
  readonly originator: number;
  readonly commonAddress: number;
}

/**
 * An information object. Which fields a type uses: M_SP_NA_1 `value` (boolean), `quality`;
 * M_ME_NA_1/NB_1/NC_1 `value`, `quality`; M_ME_TF_1 also `time`; C_SC_NA_1 `value` (boolean),
 * `qualifier` (QU), `select`; C_SE_NC_1 `value`, `qualifier` (QL), `select`; C_SE_TC_1 also
 * `time`; C_IC_NA_1 `qualifier` (QOI); C_CS_NA_1 `time`; C_TS_TA_1 `counter`, `time`.
 */
export interface InformationObject {
  /** Information object address, 0–16777215. */
  readonly ioa: number;
  readonly value?: number | boolean;
  /** Quality descriptor bits (QUALITY: OV, BL, SB, NT, IV). */
  readonly quality?: number;
  readonly qualifier?: number;
  /** S/E: select (true) or execute (false). */
  readonly select?: boolean;
  readonly time?: Cp56Time;
  readonly counter?: number;
}

export interface Asdu {
  readonly typeId: TypeId;
  readonly sequence?: boolean;
  readonly cause: number;
  readonly negative?: boolean;
  readonly test?: boolean;
  readonly originator?: number;
  readonly commonAddress: number;
  readonly objects: readonly InformationObject[];
}

export const ASDU_HEADER_SIZE = 6;
const IOA_SIZE = 3;
/** The largest ASDU: an APDU of 255 octets less its six APCI octets. */
export const MAX_ASDU_SIZE = 249;

type Element = Omit<InformationObject, 'ioa'>;

interface ElementCodec {
  readonly size: number;
  decode(v: DataView, at: number, b: Uint8Array): Element;
  encode(o: InformationObject, v: DataView, at: number, b: Uint8Array): void;
}

function bad(message: string): never {
  throw new Iec104Error('BAD_VALUE', message);
}

function num(o: InformationObject): number {
  if (typeof o.value !== 'number' || !Number.isFinite(o.value)) bad(`IOA ${o.ioa}: the value must be a finite number, got ${String(o.value)}`);
  return o.value;
}

function bits(x: number | undefined, max: number, what: string, o: InformationObject): number {
  const v = x ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > max) bad(`IOA ${o.ioa}: ${what} must be an integer 0–${max}, got ${v}`);
  return v;
}

function time(o: InformationObject): Cp56Time {
  if (o.time === undefined) bad(`IOA ${o.ioa}: this type carries a CP56Time2a time tag; give \`time\` (cp56FromDate)`);
  return o.time;
}

/** QDS: OV and the BL/SB/NT/IV bits; the three reserved bits stay zero. */
const QDS_MASK = 0xf1;
const quality = (o: InformationObject): number => bits(o.quality, 0xff, 'quality', o) & QDS_MASK;

const float: ElementCodec = {
  size: 5,
  decode: (v, at, b) => ({ value: v.getFloat32(at, true), quality: (b[at + 4] as number) & QDS_MASK }),
  encode(o, v, at, b) {
    v.setFloat32(at, num(o), true);
    b[at + 4] = quality(o);
  },
};

const setpoint: ElementCodec = {
  size: 5,
  decode: (v, at, b) => ({ value: v.getFloat32(at, true), qualifier: (b[at + 4] as number) & 0x7f, select: ((b[at + 4] as number) & 0x80) !== 0 }),
  encode(o, v, at, b) {
    v.setFloat32(at, num(o), true);
    b[at + 4] = bits(o.qualifier, 0x7f, 'QL', o) | (o.select === true ? 0x80 : 0);
  },
};

function withTime(base: ElementCodec): ElementCodec {
  return {
    size: base.size + CP56_SIZE,
    decode: (v, at, b) => ({ ...base.decode(v, at, b), time: decodeCp56(b, at + base.size) }),
    encode(o, v, at, b) {
      base.encode(o, v, at, b);
      encodeCp56(time(o), b, at + base.size);
    },
  };
}

const ELEMENTS: ReadonlyMap<number, ElementCodec> = new Map<number, ElementCodec>([
  [
    TYPE.M_SP_NA_1,
    {
      size: 1,
      decode: (_v, at, b) => ({ value: ((b[at] as number) & 0x01) !== 0, quality: (b[at] as number) & 0xf0 }),
      encode(o, _v, at, b) {
        if (typeof o.value !== 'boolean') bad(`IOA ${o.ioa}: a single point's value is a boolean`);
        b[at] = (o.value ? 1 : 0) | (quality(o) & 0xf0);
      },
    },
  ],
  [
    TYPE.M_ME_NA_1,
    {
      size: 3,
      decode: (v, at, b) => ({ value: v.getInt16(at, true) / 32_768, quality: (b[at + 2] as number) & QDS_MASK }),
      encode(o, v, at, b) {
        const x = num(o);
        if (x < -1 || x > 1 - 2 ** -15) bad(`IOA ${o.ioa}: a normalized value lies in −1 … 1−2⁻¹⁵, got ${x}`);
        v.setInt16(at, Math.round(x * 32_768), true);
        b[at + 2] = quality(o);
      },
    },
  ],
  [
    TYPE.M_ME_NB_1,
    {
      size: 3,
      decode: (v, at, b) => ({ value: v.getInt16(at, true), quality: (b[at + 2] as number) & QDS_MASK }),
      encode(o, v, at, b) {
        const x = num(o);
        if (!Number.isInteger(x) || x < -32_768 || x > 32_767) bad(`IOA ${o.ioa}: a scaled value is an integer −32768 … 32767, got ${x}; choose a coarser unit`);
        v.setInt16(at, x, true);
        b[at + 2] = quality(o);
      },
    },
  ],
  [TYPE.M_ME_NC_1, float],
  [TYPE.M_ME_TF_1, withTime(float)],
  [
    TYPE.C_SC_NA_1,
    {
      size: 1,
      decode: (_v, at, b) => ({ value: ((b[at] as number) & 0x01) !== 0, qualifier: ((b[at] as number) >> 2) & 0x1f, select: ((b[at] as number) & 0x80) !== 0 }),
      encode(o, _v, at, b) {
        if (typeof o.value !== 'boolean') bad(`IOA ${o.ioa}: a single command's value is a boolean`);
        b[at] = (o.value ? 1 : 0) | (bits(o.qualifier, 0x1f, 'QU', o) << 2) | (o.select === true ? 0x80 : 0);
      },
    },
  ],
  [TYPE.C_SE_NC_1, setpoint],
  [TYPE.C_SE_TC_1, withTime(setpoint)],
  [
    TYPE.C_IC_NA_1,
    {
      size: 1,
      decode: (_v, at, b) => ({ qualifier: b[at] as number }),
      encode(o, _v, at, b) {
        b[at] = bits(o.qualifier, 0xff, 'QOI', o);
      },
    },
  ],
  [
    TYPE.C_CS_NA_1,
    {
      size: CP56_SIZE,
      decode: (_v, at, b) => ({ time: decodeCp56(b, at) }),
      encode(o, _v, at, b) {
        encodeCp56(time(o), b, at);
      },
    },
  ],
  [
    TYPE.C_TS_TA_1,
    {
      size: 2 + CP56_SIZE,
      decode: (v, at, b) => ({ counter: v.getUint16(at, true), time: decodeCp56(b, at + 2) }),
      encode(o, v, at, b) {
        v.setUint16(at, bits(o.counter, 0xffff, 'TSC', o), true);
        encodeCp56(time(o), b, at + 2);
      },
    },
  ],
]);

/** Whether this codec knows the type id. */
export function knownType(typeId: number): typeId is TypeId {
  return ELEMENTS.has(typeId);
}

/** The data unit identifier (six octets) of any ASDU, known type or not. */
export function parseAsduHeader(b: Uint8Array): AsduHeader {
  if (b.length < ASDU_HEADER_SIZE) throw new Iec104Error('TRUNCATED', `an ASDU has a six-octet data unit identifier, got ${b.length} octets`);
  const cot = b[2] as number;
  return {
    typeId: b[0] as number,
    sequence: ((b[1] as number) & 0x80) !== 0,
    count: (b[1] as number) & 0x7f,
    cause: cot & 0x3f,
    negative: (cot & 0x40) !== 0,
    test: (cot & 0x80) !== 0,
    originator: b[3] as number,
    commonAddress: (b[4] as number) | ((b[5] as number) << 8),
  };
}

export function parseAsdu(b: Uint8Array): Asdu {
  const h = parseAsduHeader(b);
  const typeId = h.typeId;
  const codec = ELEMENTS.get(typeId);
  if (codec === undefined || !knownType(typeId)) throw new Iec104Error('UNKNOWN_TYPE', `type identification ${h.typeId} is not supported; known: ${[...ELEMENTS.keys()].join(', ')}`);
  if (h.count === 0) throw new Iec104Error('ASDU_LENGTH', 'the VSQ announces no information object');
  const expected = ASDU_HEADER_SIZE + (h.sequence ? IOA_SIZE + h.count * codec.size : h.count * (IOA_SIZE + codec.size));
  if (b.length !== expected) {
    throw new Iec104Error('ASDU_LENGTH', `type ${h.typeId} with ${h.count} object(s)${h.sequence ? ' in sequence' : ''} has ${expected} octets, got ${b.length}`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ioaAt = (at: number): number => (b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16);
  const objects: InformationObject[] = [];
  let at = ASDU_HEADER_SIZE;
  const first = ioaAt(at);
  if (h.sequence) at += IOA_SIZE;
  for (let i = 0; i < h.count; i++) {
    let ioa = first + i;
    if (!h.sequence) {
      ioa = ioaAt(at);
      at += IOA_SIZE;
    }
    objects.push({ ioa, ...codec.decode(view, at, b) });
    at += codec.size;
  }
  return { typeId, sequence: h.sequence, cause: h.cause, negative: h.negative, test: h.test, originator: h.originator, commonAddress: h.commonAddress, objects };
}

export function encodeAsdu(a: Asdu): Uint8Array {
  const codec = ELEMENTS.get(a.typeId);
  if (codec === undefined) bad(`type identification ${String(a.typeId)} is not supported; known: ${[...ELEMENTS.keys()].join(', ')}`);
  const n = a.objects.length;
  if (n < 1 || n > 127) bad(`an ASDU holds 1–127 information objects, got ${n}`);
  const sq = a.sequence === true;
  const size = ASDU_HEADER_SIZE + (sq ? IOA_SIZE + n * codec.size : n * (IOA_SIZE + codec.size));
  if (size > MAX_ASDU_SIZE) bad(`${n} objects of type ${a.typeId} need ${size} octets, more than an ASDU's ${MAX_ASDU_SIZE}; send several ASDUs`);
  if (!Number.isInteger(a.cause) || a.cause < 1 || a.cause > 63) bad(`the cause of transmission is an integer 1–63, got ${a.cause}`);
  const originator = a.originator ?? 0;
  if (!Number.isInteger(originator) || originator < 0 || originator > 255) bad(`the originator address is an integer 0–255, got ${originator}`);
  if (!Number.isInteger(a.commonAddress) || a.commonAddress < 0 || a.commonAddress > 0xffff) bad(`the common address is an integer 0–65535, got ${a.commonAddress}`);
  const b = new Uint8Array(size);
  const view = new DataView(b.buffer);
  b[0] = a.typeId;
  b[1] = n | (sq ? 0x80 : 0);
  b[2] = a.cause | (a.negative === true ? 0x40 : 0) | (a.test === true ? 0x80 : 0);
  b[3] = originator;
  b[4] = a.commonAddress & 0xff;
  b[5] = a.commonAddress >> 8;
  const putIoa = (ioa: number, at: number): void => {
    if (!Number.isInteger(ioa) || ioa < 0 || ioa > 0xffffff) bad(`an information object address is an integer 0–16777215, got ${ioa}`);
    b[at] = ioa & 0xff;
    b[at + 1] = (ioa >> 8) & 0xff;
    b[at + 2] = ioa >> 16;
  };
  let at = ASDU_HEADER_SIZE;
  const first = (a.objects[0] as InformationObject).ioa;
  if (sq) {
    putIoa(first, at);
    at += IOA_SIZE;
  }
  a.objects.forEach((o, i) => {
    if (sq) {
      if (o.ioa !== first + i) bad(`with SQ set the objects have consecutive addresses; object ${i} has ${o.ioa}, expected ${first + i}`);
    } else {
      putIoa(o.ioa, at);
      at += IOA_SIZE;
    }
    codec.encode(o, view, at, b);
    at += codec.size;
  });
  return b;
}

/**
 * The same ASDU with another cause and P/N bit, every other octet as received (type id, VSQ, test
 * bit, originator, common address, objects with their S/E bits): how a station confirms (act-con,
 * act-term) or refuses (causes 44–47) what it received.
 */
export function withCause(asdu: Uint8Array, cause: number, negative: boolean): Uint8Array {
  if (asdu.length < ASDU_HEADER_SIZE) throw new Iec104Error('TRUNCATED', `an ASDU has a six-octet data unit identifier, got ${asdu.length} octets`);
  const out = asdu.slice();
  out[2] = ((asdu[2] as number) & 0x80) | (negative ? 0x40 : 0) | (cause & 0x3f);
  return out;
}
