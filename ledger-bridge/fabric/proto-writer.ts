/**
 * A minimal protocol-buffers wire-format writer (proto3 rules as google-protobuf applies them: fields in
 * field-number order, scalar fields left out when they hold their default — 0, '', empty bytes, false —
 * and a set sub-message always written, even when empty). Used to build the few Fabric messages of the
 * in-process transaction path byte for byte as `@hyperledger/fabric-protos` would, without building a
 * google-protobuf object per message. Pure functions of values.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function checkVarint(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/** Writes `n` at `at`; returns the position after it. */
function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** An encoded field, or undefined when proto3 leaves it out. */
export type Field = Uint8Array | undefined;

/**
 * A length-delimited sub-message, always written (google-protobuf writes a set message even when empty).
 * Tag, length and body go into one allocation (a `Buffer.concat` of a separately built head cost about
 * twice as much on the transaction path, profiled).
 */
export function messageField(fieldNumber: number, encoded: Uint8Array): Uint8Array {
  const tag = fieldNumber * 8 + WIRE_LENGTH_DELIMITED;
  checkVarint(tag);
  const headLength = varintLength(tag) + varintLength(encoded.length);
  const out = Buffer.allocUnsafe(headLength + encoded.length);
  writeVarint(out, writeVarint(out, 0, tag), encoded.length);
  out.set(encoded, headLength);
  return out;
}

/** A `bytes` field: left out when empty. */
export function bytesField(fieldNumber: number, value: Uint8Array): Field {
  return value.length === 0 ? undefined : messageField(fieldNumber, value);
}

/** A repeated `bytes` (or repeated message) element: written even when empty. */
export const repeatedBytes = messageField;

/** A `string` field: left out when ''. */
export function stringField(fieldNumber: number, value: string): Field {
  return value === '' ? undefined : messageField(fieldNumber, Buffer.from(value, 'utf8'));
}

/** A non-negative integer field (`int32` ≥ 0, `uint64`, an enum): left out when 0. */
export function uintField(fieldNumber: number, value: number): Field {
  if (value === 0) return undefined;
  const tag = fieldNumber * 8 + WIRE_VARINT;
  checkVarint(tag);
  checkVarint(value);
  const out = Buffer.allocUnsafe(varintLength(tag) + varintLength(value));
  writeVarint(out, writeVarint(out, 0, tag), value);
  return out;
}

/** A `bool` field: left out when false. */
export function boolField(fieldNumber: number, value: boolean): Field {
  return value ? uintField(fieldNumber, 1) : undefined;
}

/** The message made of these fields (already in field-number order). */
export function message(...fields: readonly Field[]): Buffer {
  const present: Uint8Array[] = [];
  for (const f of fields) if (f !== undefined) present.push(f);
  return Buffer.concat(present);
}
