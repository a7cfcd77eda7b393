/**
 * Settlement (spec sections 3 and 5): evaluateAvailability, getDRToken, queryEarnedToken,
 * redeemTokens. Both batch transactions take a JSON list of meter ids and process them in sorted
 * order; one transaction reads each listed customer's allocation, baseline, measured day,
 * availability and reward marker once, and writes each key at most once (a transaction does not
 * see its own writes). Batches of one event must be submitted one after the other: each updates
 * the event totals, so two concurrent batches conflict on MVCC and one is retried, never double-counted.
 */
import { getMeter, isOperator, requireReader, requireRetailer } from './access.ts';
import { accessDenied, conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_AVAILABILITY_EVALUATED, EVENT_DR_TOKENS_MINTED, EVENT_TOKENS_REDEEMED } from './events.ts';
import { computeReward, updateAvailability } from './math/index.ts';
import { getJson, putJson } from './state.ts';
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
  allocation: AllocationRecord;
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
  const allocation = await getJson<AllocationRecord>(tx.stub, tx.keys.allocation(e.eventId, e.version, meterId));
  if (!allocation) throw notFound(`meter ${meterId} has no allocation in event ${e.eventId}`);
  const baseline = await getJson<BaselineRecord>(tx.stub, tx.keys.baseline(e.day, meterId));
  if (!baseline) throw notFound(`meter ${meterId} has no baseline for ${e.day}`);
  const energy = await getJson<EnergyRecord>(tx.stub, tx.keys.energy(meterId, e.day));
  const slots = tx.params.rewardScope === 'day' ? baseline.values.map((_, s) => s) : e.window;
  const missing = energy ? slots.filter((s) => energy.values[s] === null || energy.values[s] === undefined) : slots;
  if (!energy || missing.length > 0) {
    throw notFound(`meter ${meterId} has no measured power for ${e.day} slot(s) ${missing.slice(0, 8).join(',')}${missing.length > 8 ? '…' : ''}; record the event day (recordEnergy) first`);
  }
  const measured = energy.values.map((v) => v ?? 0);
  const availability = await getJson<AvailabilityRecord>(tx.stub, tx.keys.availability(meterId));
  return { meterId, allocation, baseline: baseline.values, measured, availability };
}

/** The customer's availability after this event, or undefined when the event was already applied. */
function nextAvailability(tx: Tx, e: DrEventRecord, c: CustomerInputs): AvailabilityRecord | undefined {
  if (c.availability?.applied.includes(e.eventId)) return undefined;
  const S = tx.params.slotsPerDay;
  const previous = c.availability?.values ?? new Array<number>(S).fill(tx.params.initialAvailabilityPpm);
  const assigned = new Array<number>(S).fill(0);
  e.window.forEach((s, i) => { assigned[s] = c.allocation.oprW[i] ?? 0; });
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
  return { meterId: c.meterId, values, applied, txId: tx.txId };
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
  for (const meterId of meterIds) {
    if (await getJson<RewardRecord>(tx.stub, tx.keys.reward(eventId, meterId))) continue;
    const c = await loadInputs(tx, e, meterId);
    const slots = tx.params.rewardScope === 'day' ? c.baseline.map((_, s) => s) : e.window;
    const r = computeReward({ baseline: c.baseline, measured: c.measured, window: slots, tokenRateMilli: tx.params.tokenRateMilli });
    const reward: RewardRecord = {
      eventId,
      version: e.version,
      meterId,
      day: e.day,
      slots,
      perSlotMilli: slots.map((s) => r.perSlot[s] ?? 0),
      totalMilli: r.total,
      txId: tx.txId,
    };
    await putJson(tx.stub, tx.keys.reward(eventId, meterId), reward);
    const balance = (await getJson<BalanceRecord>(tx.stub, tx.keys.balance(meterId))) ?? { meterId, balanceMilli: 0, mintedMilli: 0, redeemedMilli: 0 };
    await putJson(tx.stub, tx.keys.balance(meterId), {
      ...balance,
      balanceMilli: balance.balanceMilli + r.total,
      mintedMilli: balance.mintedMilli + r.total,
    });
    const next = nextAvailability(tx, e, c);
    if (next) await putJson(tx.stub, tx.keys.availability(meterId), next);
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
  return reply({ eventId, requested: meterIds.length, settled, alreadySettled: meterIds.length - settled, mintedMilli: minted, rewards: perCustomer });
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
