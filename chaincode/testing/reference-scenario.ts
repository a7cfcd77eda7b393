/**
 * The thesis reference scenario (chapter 5) as reusable steps over the test ledger: two households,
 * 35 recorded days, a weekday DR event of 300 W from 07:00 to 19:00 (Europe/Rome). Household 1 moves
 * its shiftable load out of the window on the event day, household 2 does not. Profiles are synthetic
 * and deterministic (the thesis data is not public): a base load, a shiftable block and a small
 * day-to-day variation. Used by the contract tests and the benchmark.
 */
import type { Contract } from 'fabric-contract-api';
import { createTestCa, createTestIdentity, type TestIdentity, type TestLedger } from './index.ts';

export const RETAILER_ID = 'utility:1234';
export const METER_1 = 'smartmeter:20360162';
export const METER_2 = 'smartmeter:20360163';
export const EVENT_DAY = '2025-06-11'; // a Wednesday: HighXofY, X = 21
export const EVENT_ID = 'dr-2025-06-11';
export const S = 96;

export interface ScenarioIdentities {
  operator: TestIdentity;
  retailer: TestIdentity;
  otherRetailer: TestIdentity;
  customer1: TestIdentity;
  customer2: TestIdentity;
  /** Same meter id as customer 1, issued by another retailer. */
  impostor: TestIdentity;
}

export async function createScenarioIdentities(): Promise<ScenarioIdentities> {
  const ca1 = await createTestCa('ca.org1.example.com');
  const ca2 = await createTestCa('ca.org2.example.com');
  return {
    operator: await createTestIdentity({ mspId: 'Org1MSP', commonName: 'dso', attrs: { ID: 'operator:dso' }, ca: ca1 }),
    retailer: await createTestIdentity({ mspId: 'Org1MSP', commonName: 'retailer', attrs: { ID: RETAILER_ID }, ca: ca1 }),
    otherRetailer: await createTestIdentity({ mspId: 'Org2MSP', commonName: 'retailer2', attrs: { ID: 'utility:9999' }, ca: ca2 }),
    customer1: await createTestIdentity({ mspId: 'Org2MSP', commonName: 'customer_1', attrs: { ID: METER_1, IDprovider: RETAILER_ID }, ca: ca2 }),
    customer2: await createTestIdentity({ mspId: 'Org2MSP', commonName: 'customer_2', attrs: { ID: METER_2, IDprovider: RETAILER_ID }, ca: ca2 }),
    impostor: await createTestIdentity({ mspId: 'Org2MSP', commonName: 'customer_x', attrs: { ID: METER_1, IDprovider: 'utility:9999' }, ca: ca2 }),
  };
}

export function addDaysUtc(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Slot range [from, to) of hours → slots at S = 96. */
const hours = (from: number, to: number) => ({ from: from * 4, to: to * 4 });
const SHIFT_1 = hours(10, 14); // household 1: 600 W shiftable (washing machine, dishwasher) late morning
const SHIFT_1_MOVED = hours(20, 24); // on the event day it runs in the evening
const SHIFT_2 = hours(8, 12); // household 2: 400 W shiftable in the morning, never moved

/** Day profile of a household, W per slot; `dayIndex` varies the load slightly and deterministically. */
export function profile(household: 1 | 2, dayIndex: number, shifted = false): number[] {
  const base = household === 1 ? 180 : 240;
  const wobble = (dayIndex * 7 + household * 3) % 23;
  const values: number[] = [];
  for (let s = 0; s < S; s++) {
    let w = base + wobble + ((s * 5 + dayIndex) % 11);
    if (s >= 72 && s < 88) w += 150; // evening lights and cooking
    if (household === 1) {
      const block = shifted ? SHIFT_1_MOVED : SHIFT_1;
      if (s >= block.from && s < block.to) w += 600;
    } else if (s >= SHIFT_2.from && s < SHIFT_2.to) w += 400;
    values.push(w);
  }
  return values;
}

/** A timestamp on `day` at `time` UTC. */
export const at = (day: string, time = '12:00:00') => ({ timestamp: new Date(`${day}T${time}Z`) });

export interface ScenarioOutcome {
  opr1: number[];
  opr2: number[];
  baseline1: number[];
  baseline2: number[];
  tokens1: number;
  tokens2: number;
}

/** Set-up: retailer enabled, both meters enrolled, 35 days recorded for both. */
export async function setUpScenario(ledger: TestLedger, contract: Contract, id: ScenarioIdentities): Promise<void> {
  const start = addDaysUtc(EVENT_DAY, -40);
  await ledger.invoke(contract, id.operator, 'enableRetailer', [RETAILER_ID], at(start));
  await ledger.invoke(contract, id.operator, 'enableRetailer', ['utility:9999'], at(start, '12:01:00'));
  await ledger.invoke(contract, id.retailer, 'enrolMeter', [METER_1], at(start, '12:02:00'));
  await ledger.invoke(contract, id.retailer, 'enrolMeter', [METER_2], at(start, '12:03:00'));
  for (let i = 35; i >= 1; i--) {
    const day = addDaysUtc(EVENT_DAY, -i);
    const next = addDaysUtc(day, 1);
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, i))], at(next, '01:00:00'));
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_2, day, JSON.stringify(profile(2, i))], at(next, '01:01:00'));
  }
}

/** Baselines, the event, the event day's measurements and settlement. */
export async function runScenario(ledger: TestLedger, contract: Contract, id: ScenarioIdentities): Promise<ScenarioOutcome> {
  await setUpScenario(ledger, contract, id);
  const eve = addDaysUtc(EVENT_DAY, -1);
  const after = addDaysUtc(EVENT_DAY, 1);
  await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_1, EVENT_DAY], at(eve, '18:00:00'));
  await ledger.invoke(contract, id.operator, 'evaluateBaseline', [METER_2, EVENT_DAY], at(eve, '18:00:01'));
  await ledger.invoke(contract, id.operator, 'notifyDRevent', [EVENT_ID, EVENT_DAY, '07:00-19:00', '300', ''], at(eve, '18:05:00'));
  const opr1 = JSON.parse((await ledger.evaluate(contract, id.customer1, 'queryLoadReduction', [EVENT_ID, METER_1], at(eve, '19:00:00'))).result).oprW as number[];
  const opr2 = JSON.parse((await ledger.evaluate(contract, id.customer2, 'queryLoadReduction', [EVENT_ID, METER_2], at(eve, '19:00:00'))).result).oprW as number[];
  const baseline1 = JSON.parse((await ledger.evaluate(contract, id.customer1, 'queryBaseline', [METER_1, EVENT_DAY], at(eve, '19:00:00'))).result).values as number[];
  const baseline2 = JSON.parse((await ledger.evaluate(contract, id.customer2, 'queryBaseline', [METER_2, EVENT_DAY], at(eve, '19:00:00'))).result).values as number[];
  await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, EVENT_DAY, JSON.stringify(profile(1, 0, true))], at(after, '01:00:00'));
  await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_2, EVENT_DAY, JSON.stringify(profile(2, 0))], at(after, '01:01:00'));
  await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])], at(after, '02:00:00'));
  const tokens1 = JSON.parse((await ledger.evaluate(contract, id.customer1, 'queryEarnedToken', [METER_1, EVENT_ID], at(after, '03:00:00'))).result).balanceMilli as number;
  const tokens2 = JSON.parse((await ledger.evaluate(contract, id.customer2, 'queryEarnedToken', [METER_2, EVENT_ID], at(after, '03:00:00'))).result).balanceMilli as number;
  return { opr1, opr2, baseline1, baseline2, tokens1, tokens2 };
}
