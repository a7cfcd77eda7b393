/**
 * Settlement (spec sections 3 and 5): evaluateAvailability, getDRToken, queryEarnedToken,
 * redeemTokens. Both batch transactions take a JSON list of meter ids and process them in sorted
 * order; one transaction reads each listed customer's allocation (with the window baseline frozen
 * in it; the baseline record only for rewardScope 'day' or an allocation written without it),
 * measured day, availability, reward marker and balance once, and writes each key at most once (a
 * transaction does not see its own writes). Batches of one event must be submitted one after the other: each updates
 * the event totals, so two concurrent batches conflict on MVCC and one is retried, never double-counted.
 */
import { getMeter, isOperator, requireReader, requireRetailer } from './access.ts';
import { accessDenied, conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_AVAILABILITY_EVALUATED, EVENT_DR_TOKENS_MINTED, EVENT_TOKENS_REDEEMED } from './events.ts';
import { computeReward, updateAvailability } from './math/index.ts';
import { getJson, hasState, intArrayMember, putJson, utf8 } from './state.ts';
import type { BaselineRecord } from './tx-baseline.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import type { EnergyRecord } from './tx-energy.ts';
import { effectiveStatus, getEvent, type AllocationRecord, type AvailabilityRecord, type DrEventRecord } from './tx-event.ts';
import { parseId, parseIdList, parseInteger } from './validate.ts';

export interface RewardRecord {
  eventId: string;
  version: number;
  meterId: string;
  day: string;
  /** Slots rewarded (the window, or the whole day with rewardScope 'day'). */
  slots: number[];
  perSlotMilli: number[];
  totalMilli: number;
  txId: string;
}

export interface BalanceRecord {
  meterId: string;
  balanceMilli: number;
  mintedMilli: number;
  redeemedMilli: number;
}

export interface SupplyRecord {
  mintedMilli: number;
  redeemedMilli: number;
}

interface CustomerInputs {
  meterId: string;
  /** OPR per window slot, W. */
  oprW: number[];
  baseline: number[];
  measured: number[];
  availability: AvailabilityRecord | undefined;
}

function requireCompleted(tx: Tx, e: DrEventRecord, action: string): void {
  const status = effectiveStatus(e, tx.nowMs);
  if (status !== 'completed' && status !== 'settled') {
    throw conflict(`${action}: event ${e.eventId} is ${status}; settle it after its window has ended`);
  }
}

async function authorizeBatch(tx: Tx, meterIds: string[], action: string): Promise<void> {
  if (isOperator(tx.caller, tx.params)) return;
  const retailer = await requireRetailer(tx.ctx, tx.keys, tx.caller, tx.params, action);
  for (const meterId of meterIds) {
    const m = await getMeter(tx.ctx, tx.keys, meterId);
    if (m.retailerId !== retailer.retailerId) throw accessDenied(`${action}: meter ${meterId} belongs to another retailer, not ${retailer.retailerId}`);
    if (!m.enabled) throw accessDenied(`${action}: meter ${meterId} is disabled; re-enrol it first`);
  }
}

async function loadInputs(tx: Tx, e: DrEventRecord, meterId: string): Promise<CustomerInputs> {
  const bytes = await tx.stub.getState(tx.keys.allocation(e.eventId, e.version, meterId));
  if (!bytes || bytes.length === 0) throw notFound(`meter ${meterId} has no allocation in event ${e.eventId}`);
  // Only the two integer arrays of the allocation are needed: read them from the bytes.
  let oprW = intArrayMember(bytes, 'oprW');
  let baselineW = intArrayMember(bytes, 'baselineW');
  if (!oprW) ({ oprW, baselineW } = JSON.parse(utf8(bytes)) as AllocationRecord);
  const S = tx.params.slotsPerDay;
  let baseline: number[];
  if (tx.params.rewardScope === 'window' && baselineW?.length === e.window.length) {
    // The window baseline frozen in the allocation is all that reward and availability read.
    baseline = new Array<number>(S).fill(0);
    for (let k = 0; k < e.window.length; k++) baseline[e.window[k] as number] = baselineW[k] as number;
  } else {
    const record = await getJson<BaselineRecord>(tx.stub, tx.keys.baseline(e.day, meterId));
    if (!record) throw notFound(`meter ${meterId} has no baseline for ${e.day}`);
    baseline = record.values;
  }
  const measured = await measuredDay(tx, e, meterId);
  const availability = await getJson<AvailabilityRecord>(tx.stub, tx.keys.availability(meterId));
  return { meterId, oprW, baseline, measured, availability };
}

/** The measured power of the event day, W per slot; NOT_FOUND when a settled slot is missing. */
async function measuredDay(tx: Tx, e: DrEventRecord, meterId: string): Promise<number[]> {
  const bytes = await tx.stub.getState(tx.keys.energy(meterId, e.day));
  const S = tx.params.slotsPerDay;
  if (bytes && bytes.length > 0) {
    // A complete day is a plain integer array: read it from the bytes (no null to look for).
    const values = intArrayMember(bytes, 'values');
    if (values && values.length === S) return values;
  }
  const energy = bytes && bytes.length > 0 ? (JSON.parse(utf8(bytes)) as EnergyRecord) : undefined;
  const slots = tx.params.rewardScope === 'day' ? Array.from({ length: S }, (_, s) => s) : e.window;
  const missing = energy ? slots.filter((s) => energy.values[s] === null || energy.values[s] === undefined) : slots;
  if (!energy || missing.length > 0) {
    throw notFound(`meter ${meterId} has no measured power for ${e.day} slot(s) ${missing.slice(0, 8).join(',')}${missing.length > 8 ? '…' : ''}; record the event day (recordEnergy) first`);
  }
  return energy.values.map(nullToZero);
}

const nullToZero = (v: number | null): number => v ?? 0;

/** The customer's availability after this event, or undefined when the event was already applied. */
function nextAvailability(tx: Tx, e: DrEventRecord, c: CustomerInputs): AvailabilityRecord | undefined {
  if (c.availability?.applied.includes(e.eventId)) return undefined;
  const S = tx.params.slotsPerDay;
  const previous = c.availability?.values ?? new Array<number>(S).fill(tx.params.initialAvailabilityPpm);
  const assigned = new Array<number>(S).fill(0);
  const opr = c.oprW;
  for (let i = 0; i < e.window.length; i++) assigned[e.window[i] as number] = opr[i] ?? 0;
  const values = updateAvailability({
    previous,
    baseline: c.baseline,
    assigned,
    measured: c.measured,
    window: e.window,
    beta: tx.params.betaPpm,
    sigmaW: tx.params.sigmaW,
    alpha: tx.params.alphaPpm,
  });
  const applied = [...(c.availability?.applied ?? []), e.eventId].sort();
  // Members in sorted order: canonicalJson then writes it with the native JSON.stringify.
  return { applied, meterId: c.meterId, txId: tx.txId, values };
}

export async function evaluateAvailability(tx: Tx, eventIdArg: string, meterIdsArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  await authorizeBatch(tx, meterIds, 'evaluateAvailability');
  const e = await getEvent(tx, eventId);
  if (e.status === 'cancelled') throw conflict(`event ${eventId} was cancelled; it does not change availability`);
  requireCompleted(tx, e, 'evaluateAvailability');
  let updated = 0;
  for (const meterId of meterIds) {
    const next = nextAvailability(tx, e, await loadInputs(tx, e, meterId));
    if (!next) continue;
    await putJson(tx.stub, tx.keys.availability(meterId), next);
    updated++;
  }
  const result = { eventId, requested: meterIds.length, updated, txId: tx.txId };
  if (updated > 0) emit(tx, EVENT_AVAILABILITY_EVALUATED, result);
  return reply(result);
}

/**
 * Settles a batch of customers of one event: per customer, r_h = H(B−P)·(B−P)² (P in kW) over the
 * window (or the day), tokens = round(k·Σ r_h) milli-tokens, credited once (the `reward` key is the
 * idempotency marker: a customer already settled is skipped), and availability updated if not yet.
 */
export async function getDRToken(tx: Tx, eventIdArg: string, meterIdsArg: string): Promise<string> {
  const eventId = parseId('eventId', eventIdArg);
  const meterIds = parseIdList('meterIds', meterIdsArg);
  await authorizeBatch(tx, meterIds, 'getDRToken');
  const e = await getEvent(tx, eventId);
  if (e.status === 'cancelled') throw conflict(`event ${eventId} was cancelled; nothing to settle`);
  requireCompleted(tx, e, 'getDRToken');
  let minted = 0;
  let settled = 0;
  const perCustomer: { meterId: string; totalMilli: number }[] = [];
  const slotsOfDay = tx.params.rewardScope === 'day' ? Array.from({ length: tx.params.slotsPerDay }, (_, h) => h) : undefined;
  for (const meterId of meterIds) {
    // The reward key is the idempotency marker: only its presence matters, so it is not decoded.
    if (await hasState(tx.stub, tx.keys.reward(eventId, meterId))) continue;
    const c = await loadInputs(tx, e, meterId);
    const slots = slotsOfDay ?? e.window;
    const r = computeReward({ baseline: c.baseline, measured: c.measured, window: slots, tokenRateMilli: tx.params.tokenRateMilli });
    const perSlotMilli = new Array<number>(slots.length);
    for (let i = 0; i < slots.length; i++) perSlotMilli[i] = r.perSlot[slots[i] as number] ?? 0;
    // Records are built with their members in sorted order (canonicalJson's native path).
    const reward: RewardRecord = { day: e.day, eventId, meterId, perSlotMilli, slots, totalMilli: r.total, txId: tx.txId, version: e.version };
    await putJson(tx.stub, tx.keys.reward(eventId, meterId), reward);
    const balance = await getJson<BalanceRecord>(tx.stub, tx.keys.balance(meterId));
    const next: BalanceRecord = {
      balanceMilli: (balance?.balanceMilli ?? 0) + r.total,
      meterId,
      mintedMilli: (balance?.mintedMilli ?? 0) + r.total,
      redeemedMilli: balance?.redeemedMilli ?? 0,
    };
    await putJson(tx.stub, tx.keys.balance(meterId), next);
    const availability = nextAvailability(tx, e, c);
    if (availability) await putJson(tx.stub, tx.keys.availability(meterId), availability);
    minted += r.total;
    settled++;
    perCustomer.push({ meterId, totalMilli: r.total });
  }
  if (settled > 0) {
    const supply = (await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 };
    await putJson(tx.stub, tx.keys.supply(), { ...supply, mintedMilli: supply.mintedMilli + minted });
    const settledCustomers = e.settledCustomers + settled;
    await putJson(tx.stub, tx.keys.event(eventId), {
      ...e,
      settledCustomers,
      mintedMilli: e.mintedMilli + minted,
      status: settledCustomers >= e.customers ? 'settled' : e.status,
      updatedTxId: tx.txId,
    } satisfies DrEventRecord);
    emit(tx, EVENT_DR_TOKENS_MINTED, { eventId, settled, mintedMilli: minted, settledCustomers, customers: e.customers, txId: tx.txId });
  }
  // Members in sorted order (10,000 rewards in a batch): canonicalJson's native path.
  return reply({ alreadySettled: meterIds.length - settled, eventId, mintedMilli: minted, requested: meterIds.length, rewards: perCustomer, settled });
}

/** A customer's balance, and with an eventId its reward for that event (per slot). */
export async function queryEarnedToken(tx: Tx, meterIdArg: string, eventIdArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryEarnedToken');
  const balance = (await getJson<BalanceRecord>(tx.stub, tx.keys.balance(meterId))) ?? { meterId, balanceMilli: 0, mintedMilli: 0, redeemedMilli: 0 };
  if (eventIdArg === '') return reply({ ...balance });
  const eventId = parseId('eventId', eventIdArg);
  const reward = await getJson<RewardRecord>(tx.stub, tx.keys.reward(eventId, meterId));
  return reply({ ...balance, eventId, reward: reward ?? null });
}

/** Redeems tokens of a customer: by the customer itself or its retailer; never below zero. */
export async function redeemTokens(tx: Tx, meterIdArg: string, amountArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  const { role } = await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'redeemTokens');
  if (role === 'operator') throw invalidArgument('redeemTokens is for the customer or its retailer, not the system operator');
  const amount = parseInteger('amountMilli', amountArg, 1);
  const balance = await getJson<BalanceRecord>(tx.stub, tx.keys.balance(meterId));
  if (!balance || balance.balanceMilli < amount) {
    throw conflict(`meter ${meterId} holds ${balance?.balanceMilli ?? 0} milli-tokens, fewer than ${amount}`);
  }
  const next: BalanceRecord = { ...balance, balanceMilli: balance.balanceMilli - amount, redeemedMilli: balance.redeemedMilli + amount };
  await putJson(tx.stub, tx.keys.balance(meterId), next);
  const supply = (await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 };
  await putJson(tx.stub, tx.keys.supply(), { ...supply, redeemedMilli: supply.redeemedMilli + amount });
  emit(tx, EVENT_TOKENS_REDEEMED, { meterId, amountMilli: amount, by: role, txId: tx.txId });
  return reply(next);
}

export async function queryTokenSupply(tx: Tx): Promise<string> {
  return reply((await getJson<SupplyRecord>(tx.stub, tx.keys.supply())) ?? { mintedMilli: 0, redeemedMilli: 0 });
}
