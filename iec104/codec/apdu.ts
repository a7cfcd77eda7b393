/**
 * APCI framing of IEC 60870-5-104 (§5): start octet 0x68, a length octet (4–253, the octets that
 * follow it), four control octets, then the ASDU of an I-frame. I format: N(S) and N(R), 15 bits
 * each, shifted left by one; S format: 0x01 0x00 and N(R); U format: one of STARTDT, STOPDT,
 * TESTFR act or con in the first octet. `splitApdus` cuts a TCP byte stream into frames, keeping a
 * partial frame as carry for the next chunk.
 */
import { Iec104Error } from '../errors.ts';
import { MAX_APDU_LENGTH } from './constants.ts';

export const START = 0x68;
/** Sequence numbers count modulo 32768 (15 bits). */
export const SEQ_MODULO = 32_768;

/** U-format functions and their first control octet (§5.3). */
export const U_FUNCTION = {
  STARTDT_ACT: 0x07,
  STARTDT_CON: 0x0b,
  STOPDT_ACT: 0x13,
  STOPDT_CON: 0x23,
  TESTFR_ACT: 0x43,
  TESTFR_CON: 0x83,
} as const;

export type UFunction = keyof typeof U_FUNCTION;

export type Apdu =
  | { readonly format: 'I'; readonly sendSeq: number; readonly recvSeq: number; readonly asdu: Uint8Array }
  | { readonly format: 'S'; readonly recvSeq: number }
  | { readonly format: 'U'; readonly fn: UFunction };

const U_BY_OCTET = new Map<number, UFunction>(Object.entries(U_FUNCTION).map(([k, v]) => [v, k as UFunction]));

function seq(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= SEQ_MODULO) throw new Iec104Error('BAD_VALUE', `${what} must be an integer 0–32767, got ${v}`);
  return v << 1;
}

/** One whole APDU (start octet to the last ASDU octet) → its value. */
export function parseApdu(frame: Uint8Array): Apdu {
  if (frame.length < 2) throw new Iec104Error('TRUNCATED', `an APDU has at least 6 octets, got ${frame.length}`);
  if (frame[0] !== START) throw new Iec104Error('BAD_START', `an APDU starts with 0x68, got 0x${(frame[0] as number).toString(16).padStart(2, '0')}; the peer does not speak IEC 104 framing`);
  const length = frame[1] as number;
  if (length < 4 || length > MAX_APDU_LENGTH) throw new Iec104Error('BAD_LENGTH', `the APDU length octet must be 4–253, got ${length}`);
  if (frame.length < length + 2) throw new Iec104Error('TRUNCATED', `the APDU announces ${length + 2} octets, got ${frame.length}`);
  if (frame.length > length + 2) throw new Iec104Error('BAD_LENGTH', `the APDU announces ${length + 2} octets but holds ${frame.length}; split the stream with splitApdus`);
  const c1 = frame[2] as number;
  const c2 = frame[3] as number;
  const c3 = frame[4] as number;
  const c4 = frame[5] as number;
  if ((c1 & 0x01) === 0) {
    if (length === 4) throw new Iec104Error('BAD_LENGTH', 'an I-frame carries an ASDU; this one has none');
    if ((c3 & 0x01) !== 0) throw new Iec104Error('BAD_CONTROL', 'the I-frame control octet 3 has its bit 0 set; it must be 0');
    return { format: 'I', sendSeq: (c1 >> 1) | (c2 << 7), recvSeq: (c3 >> 1) | (c4 << 7), asdu: frame.subarray(6) };
  }
  if (length !== 4) throw new Iec104Error('BAD_LENGTH', `an ${(c1 & 0x03) === 0x01 ? 'S' : 'U'}-frame has length 4, got ${length}`);
  if ((c1 & 0x03) === 0x01) {
    if (c1 !== 0x01 || c2 !== 0 || (c3 & 0x01) !== 0) throw new Iec104Error('BAD_CONTROL', 'an S-frame has control octets 0x01 0x00 and an even third octet');
    return { format: 'S', recvSeq: (c3 >> 1) | (c4 << 7) };
  }
  const fn = U_BY_OCTET.get(c1);
  if (fn === undefined || c2 !== 0 || c3 !== 0 || c4 !== 0) {
    throw new Iec104Error('BAD_CONTROL', `a U-frame has exactly one of STARTDT/STOPDT/TESTFR act or con and zero octets 2–4, got ${[c1, c2, c3, c4].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return { format: 'U', fn };
}

export function encodeApdu(apdu: Apdu): Uint8Array {
  switch (apdu.format) {
    case 'I': {
      if (apdu.asdu.length < 1 || apdu.asdu.length > MAX_APDU_LENGTH - 4) throw new Iec104Error('BAD_VALUE', `an ASDU has 1–249 octets, got ${apdu.asdu.length}`);
      const s = seq(apdu.sendSeq, 'N(S)');
      const r = seq(apdu.recvSeq, 'N(R)');
      const out = new Uint8Array(6 + apdu.asdu.length);
      out.set([START, 4 + apdu.asdu.length, s & 0xff, s >> 8, r & 0xff, r >> 8]);
      out.set(apdu.asdu, 6);
      return out;
    }
    case 'S': {
      const r = seq(apdu.recvSeq, 'N(R)');
      return Uint8Array.of(START, 4, 0x01, 0x00, r & 0xff, r >> 8);
    }
    case 'U': {
      const octet = U_FUNCTION[apdu.fn];
      if (octet === undefined) throw new Iec104Error('BAD_VALUE', `unknown U-frame function '${String(apdu.fn)}'; use one of ${Object.keys(U_FUNCTION).join(', ')}`);
      return Uint8Array.of(START, 4, octet, 0, 0, 0);
    }
  }
}

export interface Split {
  /** Whole frames, each from its start octet to its last octet. */
  readonly frames: Uint8Array[];
  /** The octets of a frame not yet complete; pass them with the next chunk. */
  readonly carry: Uint8Array;
}

/**
 * Cuts `carry` + `chunk` into whole frames. A wrong start octet or length octet throws (the stream
 * cannot be resynchronised: the connection closes, §5).
 */
export function splitApdus(chunk: Uint8Array, carry: Uint8Array = new Uint8Array(0)): Split {
  let buf: Uint8Array;
  if (carry.length === 0) buf = chunk;
  else {
    buf = new Uint8Array(carry.length + chunk.length);
    buf.set(carry);
    buf.set(chunk, carry.length);
  }
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf[at] !== START) throw new Iec104Error('BAD_START', `an APDU starts with 0x68, got 0x${(buf[at] as number).toString(16).padStart(2, '0')} at octet ${at}; the peer does not speak IEC 104 framing`);
    if (at + 1 >= buf.length) break;
    const length = buf[at + 1] as number;
    if (length < 4 || length > MAX_APDU_LENGTH) throw new Iec104Error('BAD_LENGTH', `the APDU length octet must be 4–253, got ${length}`);
    if (at + 2 + length > buf.length) break;
    frames.push(buf.slice(at, at + 2 + length));
    at += 2 + length;
  }
  return { frames, carry: buf.slice(at) };
}
