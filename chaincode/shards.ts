/**
 * Settlement shards: an event's customers, sorted by id (UTF-16 code units, the order allocateEvent
 * uses), cut into runs of SHARD_SIZE. One `allocation [eventId, version, shard]` record holds the
 * OPR and frozen window baseline of every customer of a shard, and one `reward [eventId, shard]`
 * record the rewards of its settled customers, so settlement reads and writes one key per shard
 * instead of one per customer. The event record keeps the first id of each shard (`shardFirstIds`):
 * a meter's shard is found by binary search. Query transactions read a shard and return only the
 * caller's customer's part (`allocationOf`, `rewardOf`).
 */
import { SHARD_SIZE } from './keys.ts';
import { getJson, utf8 } from './state.ts';
import type { Tx } from './tx-context.ts';

export { SHARD_SIZE };

/** Members in sorted order: canonicalJson writes it with the native JSON.stringify. */
export interface AllocationShardRecord {
  /**
   * The window baseline of each customer, W: customer i's slot k at `i * window.length + k`
   * (frozen with the event). Absent in a shard written without it: settlement then reads the
   * baseline records.
   */
  baselineW?: number[];
  eventId: string;
  /** The shard's customers, sorted. */
  meterIds: string[];
  /** OPR per customer and window slot, W, laid out as `baselineW`. */
  oprW: number[];
  shard: number;
  version: number;
}

/** Members in sorted order (canonicalJson's native path). */
export interface RewardShardRecord {
  day: string;
  eventId: string;
  /** The shard's settled customers, sorted. */
  meterIds: string[];
  /** Reward per customer and rewarded slot, milli-tokens: customer i's slot k at `i * slots.length + k`. */
  perSlotMilli: number[];
  shard: number;
  /** Slots rewarded (the window, or the whole day with rewardScope 'day'). */
  slots: number[];
  totalMilli: number[];
  /** The settling transaction of each customer. */
  txIds: string[];
  version: number;
}

/** One customer's allocation, as `queryLoadReduction` returns it. */
export interface AllocationRecord {
  baselineW?: number[];
  eventId: string;
  meterId: string;
  oprW: number[];
  version: number;
}

/** One customer's reward, as `queryEarnedToken` returns it. */
export interface RewardRecord {
  day: string;
  eventId: string;
  meterId: string;
  perSlotMilli: number[];
  slots: number[];
  totalMilli: number;
  txId: string;
  version: number;
}

/**
 * Integers as JSON array text, the same bytes as JSON.stringify. A typed array is copied into a
 * plain array of small integers first: V8 writes those much faster than doubles.
 */
function intsJson(values: ArrayLike<number>): string {
  if (Array.isArray(values)) return JSON.stringify(values);
  const n = values.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    const small = v | 0;
    out[i] = small === v ? small : v;
  }
  return JSON.stringify(out);
}

/**
 * The canonical JSON of an allocation shard (members in sorted order, exactly what canonicalJson
 * writes for the record), built from typed arrays without an intermediate JS array per customer.
 */
export function allocationShardJson(eventId: string, version: number, shard: number, meterIds: readonly string[], oprW: Float64Array, baselineW: Float64Array): string {
  return `{"baselineW":${intsJson(baselineW)},"eventId":${JSON.stringify(eventId)},"meterIds":${JSON.stringify(meterIds)},"oprW":${intsJson(oprW)},"shard":${shard},"version":${version}}`;
}

/** The canonical JSON of a reward shard (members in sorted order), as canonicalJson writes it. */
export function rewardShardJson(r: RewardShardRecord): string {
  return `{"day":${JSON.stringify(r.day)},"eventId":${JSON.stringify(r.eventId)},"meterIds":${JSON.stringify(r.meterIds)},"perSlotMilli":${intsJson(r.perSlotMilli)},"shard":${r.shard},"slots":${intsJson(r.slots)},"totalMilli":${intsJson(r.totalMilli)},"txIds":${JSON.stringify(r.txIds)},"version":${r.version}}`;
}

/** The first id of each shard of `sortedIds`. */
export function shardFirstIds(sortedIds: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < sortedIds.length; i += SHARD_SIZE) out.push(sortedIds[i] as string);
  return out;
}

/** The shard a meter id falls in (the last shard whose first id is ≤ it), or -1. */
export function shardOf(firstIds: readonly string[], meterId: string): number {
  let low = 0;
  let high = firstIds.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((firstIds[mid] as string) <= meterId) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

/** Index of `id` in a sorted list, or -1. */
export function indexOfSorted(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const v = sorted[mid] as string;
    if (v === id) return mid;
    if (v < id) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/** Reads an allocation shard; the integer arrays straight from the bytes, the rest parsed. */
export async function getAllocationShard(tx: Tx, eventId: string, version: number, shard: number): Promise<AllocationShardRecord | undefined> {
  const bytes = await tx.stub.getState(tx.keys.allocation(eventId, version, shard));
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(utf8(bytes)) as AllocationShardRecord;
}

export async function getRewardShard(tx: Tx, eventId: string, shard: number): Promise<RewardShardRecord | undefined> {
  return getJson<RewardShardRecord>(tx.stub, tx.keys.reward(eventId, shard));
}

/** Customer `i`'s part of a shard. */
export function allocationAt(s: AllocationShardRecord, i: number, width: number): AllocationRecord {
  const oprW = s.oprW.slice(i * width, (i + 1) * width);
  const meterId = s.meterIds[i] as string;
  if (!s.baselineW) return { eventId: s.eventId, meterId, oprW, version: s.version };
  return { baselineW: s.baselineW.slice(i * width, (i + 1) * width), eventId: s.eventId, meterId, oprW, version: s.version };
}

/** A meter's allocation in the current version of an event, or undefined. */
export async function allocationOf(tx: Tx, e: { eventId: string; version: number; window: number[]; shardFirstIds?: string[] }, meterId: string): Promise<AllocationRecord | undefined> {
  const shard = shardOf(e.shardFirstIds ?? [], meterId);
  if (shard < 0) return undefined;
  const s = await getAllocationShard(tx, e.eventId, e.version, shard);
  if (!s) return undefined;
  const i = indexOfSorted(s.meterIds, meterId);
  return i < 0 ? undefined : allocationAt(s, i, e.window.length);
}

const meterIdsMember = Buffer.from('"meterIds":[', 'utf8');

/**
 * Whether a meter has an allocation in the current version of an event, without decoding the
 * shard: its quoted id is looked for inside the `meterIds` member only (ids are letters, digits and
 * `. _ : @ -`, so the member ends at the first `]` and a quoted match is an exact one).
 */
export async function hasAllocation(tx: Tx, e: { eventId: string; version: number; shardFirstIds?: string[] }, meterId: string): Promise<boolean> {
  const shard = shardOf(e.shardFirstIds ?? [], meterId);
  if (shard < 0) return false;
  const bytes = await tx.stub.getState(tx.keys.allocation(e.eventId, e.version, shard));
  if (!bytes || bytes.length === 0) return false;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = buf.indexOf(meterIdsMember);
  if (start < 0) return false;
  const end = buf.indexOf(0x5d, start + meterIdsMember.length); // ]
  const at = buf.indexOf(`"${meterId}"`, start + meterIdsMember.length - 1, 'utf8');
  return at >= 0 && at < end;
}

/** A meter's reward for an event, or undefined when it is not settled. */
export async function rewardOf(tx: Tx, e: { eventId: string; shardFirstIds?: string[] }, meterId: string): Promise<RewardRecord | undefined> {
  const shard = shardOf(e.shardFirstIds ?? [], meterId);
  if (shard < 0) return undefined;
  const s = await getRewardShard(tx, e.eventId, shard);
  if (!s) return undefined;
  const i = indexOfSorted(s.meterIds, meterId);
  if (i < 0) return undefined;
  const n = s.slots.length;
  return {
    day: s.day,
    eventId: s.eventId,
    meterId,
    perSlotMilli: s.perSlotMilli.slice(i * n, (i + 1) * n),
    slots: s.slots,
    totalMilli: s.totalMilli[i] as number,
    txId: s.txIds[i] as string,
    version: s.version,
  };
}
