/**
 * Small helpers over the ChaincodeStub: JSON values written as canonical JSON, prefix reads drained
 * into arrays (keys in the order the ledger returns them: sorted), history drained with tx ids.
 */
import type { ChaincodeStub } from 'fabric-shim-api';
import { canonicalBytes } from './canonical-json.ts';

export async function getJson<T>(stub: ChaincodeStub, key: string): Promise<T | undefined> {
  const bytes = await stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
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

export async function getByPrefix<T>(stub: ChaincodeStub, objectType: string, attributes: string[]): Promise<Entry<T>[]> {
  const out: Entry<T>[] = [];
  const iterator = (await stub.getStateByPartialCompositeKey(objectType, attributes)) as unknown as Iter<{
    key: string;
    value: Uint8Array;
  }>;
  await drain(iterator, (kv) => {
    out.push({ key: kv.key, value: JSON.parse(Buffer.from(kv.value).toString('utf8')) as T });
  });
  return out;
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
        : (JSON.parse(Buffer.from(m.value).toString('utf8')) as T),
    });
  });
  return out;
}

/** The transaction timestamp in ms since the epoch: the contract's only clock (spec section 7). */
export function txTimeMs(stub: ChaincodeStub): number {
  const ts = stub.getTxTimestamp() as unknown as { seconds: unknown; nanos: number };
  return Number(String(ts.seconds)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
