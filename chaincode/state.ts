/**
 * Small helpers over the ChaincodeStub: JSON values written as canonical JSON, prefix reads drained
 * into arrays (keys in the order the ledger returns them: sorted), history drained with tx ids.
 */
import type { ChaincodeStub } from 'fabric-shim-api';
import { canonicalBytes } from './canonical-json.ts';

/** UTF-8 text of state bytes, without copying them (the shim hands over Buffers already). */
export function utf8(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
}

export async function getJson<T>(stub: ChaincodeStub, key: string): Promise<T | undefined> {
  const bytes = await stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(utf8(bytes)) as T;
}

/** Whether a key holds a value (read and recorded in the read set like any read, but not decoded). */
export async function hasState(stub: ChaincodeStub, key: string): Promise<boolean> {
  const bytes = await stub.getState(key);
  return !!bytes && bytes.length > 0;
}

/** Encodes text as UTF-8 into one reusable buffer; see `createScratchEncoder`. */
export interface ScratchEncoder {
  /** The UTF-8 bytes of `text`, valid until the next call. */
  encode(text: string): Uint8Array;
}

/**
 * A UTF-8 encoder that writes every value into the same buffer (grown when needed) instead of a
 * new Buffer per value: a transaction writing 10,000 accounts then allocates no 10,000 buffers
 * outside the heap (which also spare the garbage collector's external-memory trigger). The bytes
 * returned are valid until the next `encode`, so hand them straight to `putState`, with nothing
 * awaited in between: putState takes its copy before it first yields (fabric-shim serialises the
 * value into its PutState message, the test ledger's simulator copies it).
 */
export function createScratchEncoder(initialBytes = 64 * 1024): ScratchEncoder {
  let buffer = Buffer.allocUnsafeSlow(initialBytes);
  return {
    encode(text) {
      const most = text.length * 3; // a UTF-16 code unit takes at most 3 UTF-8 bytes
      if (most > buffer.length) buffer = Buffer.allocUnsafeSlow(Math.max(most, buffer.length * 2));
      return buffer.subarray(0, buffer.write(text, 0, 'utf8'));
    },
  };
}

export async function putJson(stub: ChaincodeStub, key: string, value: unknown): Promise<void> {
  await stub.putState(key, canonicalBytes(value));
}

export interface Entry<T> {
  key: string;
  value: T;
}

interface Iter<V> {
  next(): Promise<{ value?: V; done?: boolean }>;
  close(): Promise<unknown>;
}

async function drain<V>(iterator: Iter<V>, onValue: (v: V) => void): Promise<void> {
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.value !== undefined && r.value !== null) onValue(r.value);
      if (r.done) break;
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Calls `onEntry` with every key and raw value under a partial composite key, in key order. The
 * attribute after the prefix is `key.slice(prefix.length, -1)` for a key one attribute longer.
 */
export async function scanPrefix(
  stub: ChaincodeStub,
  objectType: string,
  attributes: string[],
  onEntry: (key: string, value: Uint8Array) => void,
): Promise<void> {
  const iterator = (await stub.getStateByPartialCompositeKey(objectType, attributes)) as unknown as Iter<{
    key: string;
    value: Uint8Array;
  }>;
  await drain(iterator, (kv) => onEntry(kv.key, kv.value));
}

export async function getByPrefix<T>(stub: ChaincodeStub, objectType: string, attributes: string[]): Promise<Entry<T>[]> {
  const out: Entry<T>[] = [];
  await scanPrefix(stub, objectType, attributes, (key, value) => {
    out.push({ key, value: JSON.parse(utf8(value)) as T });
  });
  return out;
}

const patterns = new Map<string, Buffer>();

/**
 * The member `name` of a stored JSON record when it is an array of integers, read straight from
 * the bytes without decoding the rest of the record; undefined when the member is absent or holds
 * anything else (null, fractions, exponents, more than 15 digits), and the caller then parses the
 * whole value. For the contract's flat records only (no nested objects): in canonical JSON the
 * bytes `"name":[` can only be that member's key, since a quote inside a string is always escaped.
 * With `into` the values are written into that array (its length set to their count) and it is
 * returned: a caller decoding one record per customer reuses one array instead of growing a new one.
 */
export function intArrayMember(bytes: Uint8Array, name: string, into?: number[]): number[] | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pattern = patterns.get(name);
  if (!pattern) patterns.set(name, (pattern = Buffer.from(`"${name}":[`, 'utf8')));
  const at = buf.indexOf(pattern);
  if (at < 0) return undefined;
  let i = at + pattern.length;
  const out: number[] = into ?? [];
  let n = 0;
  let c = buf[i];
  if (c === 0x5d) { // ]
    out.length = 0;
    return out;
  }
  for (;;) {
    const negative = c === 0x2d; // -
    if (negative) c = buf[++i];
    if (c === undefined || c < 0x30 || c > 0x39) return undefined;
    let v = 0;
    let digits = 0;
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      if (++digits > 15) return undefined;
      v = v * 10 + (c - 0x30);
      c = buf[++i];
    }
    out[n++] = negative ? -v : v;
    if (c === 0x2c) { // ,
      c = buf[++i];
      continue;
    }
    if (c !== 0x5d) return undefined;
    if (out.length !== n) out.length = n;
    return out;
  }
}

export interface HistoryEntry<T> {
  txId: string;
  timestampMs: number;
  isDelete: boolean;
  value: T | undefined;
}

export async function getHistory<T>(stub: ChaincodeStub, key: string): Promise<HistoryEntry<T>[]> {
  const out: HistoryEntry<T>[] = [];
  const iterator = (await stub.getHistoryForKey(key)) as unknown as Iter<{
    txId: string;
    value: Uint8Array;
    isDelete: boolean;
    timestamp?: { seconds: unknown; nanos: number } | null;
  }>;
  await drain(iterator, (m) => {
    const seconds = m.timestamp ? Number(String(m.timestamp.seconds)) : 0;
    const nanos = m.timestamp ? m.timestamp.nanos : 0;
    out.push({
      txId: m.txId,
      timestampMs: seconds * 1000 + Math.floor(nanos / 1e6),
      isDelete: m.isDelete,
      value: m.isDelete || !m.value || m.value.length === 0
        ? undefined
        : (JSON.parse(utf8(m.value)) as T),
    });
  });
  return out;
}

/** The transaction timestamp in ms since the epoch: the contract's only clock (spec section 7). */
export function txTimeMs(stub: ChaincodeStub): number {
  const ts = stub.getTxTimestamp() as unknown as { seconds: unknown; nanos: number };
  return Number(String(ts.seconds)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
