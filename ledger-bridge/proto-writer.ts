/**
 * A minimal protocol-buffers wire-format writer (proto3 rules as google-protobuf applies them: fields in
 * field-number order, scalar fields left out when they hold their default — 0, '', empty bytes, false —
 * and a set sub-message always written, even when empty). Used to build the few Fabric messages of the
 * in-process transaction path byte for byte as `@hyperledger/fabric-protos` would, without building a
 * google-protobuf object per message. Pure functions of values.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function pushVarint(out: number[], n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function head(fieldNumber: number, wireType: number, length?: number): Buffer {
  const out: number[] = [];
  pushVarint(out, fieldNumber * 8 + wireType);
  if (length !== undefined) pushVarint(out, length);
  return Buffer.from(out);
}

/** An encoded field, or undefined when proto3 leaves it out. */
export type Field = Uint8Array | undefined;

/** A length-delimited sub-message, always written (google-protobuf writes a set message even when empty). */
export function messageField(fieldNumber: number, encoded: Uint8Array): Uint8Array {
  return Buffer.concat([head(fieldNumber, WIRE_LENGTH_DELIMITED, encoded.length), encoded]);
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
  const out: number[] = [];
  pushVarint(out, fieldNumber * 8 + WIRE_VARINT);
  pushVarint(out, value);
  return Buffer.from(out);
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
