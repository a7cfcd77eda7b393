/**
 * Program parameters (spec sections 2–6), stored on the ledger under `program` and changed only by
 * the system operator. Everything is an integer: β and α in parts per million, σ and ε in W, the
 * token rate in milli-tokens per kW² per slot, flexibility ranges in mV and W.
 */
import { invalidArgument } from './errors.ts';

export const AVAILABILITY_ONE_PPM = 1_000_000;
/** Governance of the program parameters needs at least this many orgs (and endorsements). */
export const MIN_GOVERNANCE_ORGS = 2;

export type RewardScope = 'window' | 'day';

export interface ProgramParams {
  timeZone: string;
  slotsPerDay: number;
  baselineY: number;
  baselineXWeekday: number;
  baselineXWeekend: number;
  betaPpm: number;
  sigmaW: number;
  alphaPpm: number;
  initialAvailabilityPpm: number;
  epsilonW: number;
  maxSteps: number;
  tokenRateMilli: number;
  rewardScope: RewardScope;
  operatorMspIds: string[];
  operatorIdPrefix: string;
  retailerMspIds: string[];
  customerMspIds: string[];
  /**
   * The organisations that govern these parameters: a change of them is valid only with the
   * endorsement of `governanceQuorum` of these orgs' peers (the key-level endorsement policy the
   * contract sets on the `program` key). At least two orgs, quorum at least two.
   */
  governanceMspIds: string[];
  governanceQuorum: number;
  flexVoltageLLmV: [number, number];
  flexVoltageLNmV: [number, number];
  flexPowerW: [number, number];
}

export const DEFAULT_PARAMS: Readonly<ProgramParams> = Object.freeze<ProgramParams>({
  timeZone: 'Europe/Rome',
  slotsPerDay: 96,
  baselineY: 35,
  baselineXWeekday: 21,
  baselineXWeekend: 14,
  betaPpm: 200_000,
  sigmaW: 30,
  alphaPpm: 200_000,
  initialAvailabilityPpm: 500_000,
  epsilonW: 1,
  maxSteps: 100,
  tokenRateMilli: 1000,
  rewardScope: 'window',
  operatorMspIds: ['Org1MSP'],
  operatorIdPrefix: 'operator:',
  retailerMspIds: ['Org1MSP', 'Org2MSP'],
  customerMspIds: ['Org2MSP'],
  governanceMspIds: ['Org1MSP', 'Org2MSP'],
  governanceQuorum: 2,
  flexVoltageLLmV: [360_000, 440_000],
  flexVoltageLNmV: [207_000, 253_000],
  flexPowerW: [-1_000_000, 1_000_000],
});

function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalidArgument(`parameter ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function strings(name: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) {
    throw invalidArgument(`parameter ${name} must be a non-empty array of non-empty strings`);
  }
  return [...(v as string[])].sort();
}

function range(name: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw invalidArgument(`parameter ${name} must be [min, max]`);
  const lo = int(`${name}[0]`, v[0], -1e12, 1e12);
  const hi = int(`${name}[1]`, v[1], -1e12, 1e12);
  if (lo > hi) throw invalidArgument(`parameter ${name}: min ${lo} is above max ${hi}`);
  return [lo, hi];
}

function validTimeZone(tz: unknown): string {
  if (typeof tz !== 'string' || tz.length === 0) throw invalidArgument('parameter timeZone must be an IANA zone name');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw invalidArgument(`parameter timeZone: unknown time zone ${tz}; use an IANA name such as Europe/Rome`);
  }
  return tz;
}

const KNOWN = new Set(Object.keys(DEFAULT_PARAMS));

/**
 * Validates a (partial) update on top of the current parameters and returns the complete, checked set.
 * Unknown names are refused so that a typo never silently leaves a default in force.
 */
export function createProgramParams(update: unknown, current: Readonly<ProgramParams> = DEFAULT_PARAMS): ProgramParams {
  if (update === null || typeof update !== 'object' || Array.isArray(update)) {
    throw invalidArgument('program parameters must be a JSON object');
  }
  for (const name of Object.keys(update)) {
    if (!KNOWN.has(name)) throw invalidArgument(`unknown program parameter ${name}; known: ${[...KNOWN].sort().join(', ')}`);
  }
  const m = { ...current, ...(update as Partial<ProgramParams>) };
  const slotsPerDay = int('slotsPerDay', m.slotsPerDay, 1, 1440);
  if (1440 % slotsPerDay !== 0) throw invalidArgument(`parameter slotsPerDay must divide 1440 (minutes in a day), got ${slotsPerDay}`);
  const Y = int('baselineY', m.baselineY, 1, 366);
  const rewardScope = m.rewardScope;
  const governanceMspIds = strings('governanceMspIds', m.governanceMspIds);
  if (new Set(governanceMspIds).size !== governanceMspIds.length) throw invalidArgument('parameter governanceMspIds names an org twice; name each org once');
  if (governanceMspIds.length < MIN_GOVERNANCE_ORGS) {
    throw invalidArgument(`parameter governanceMspIds must name at least ${MIN_GOVERNANCE_ORGS} orgs: a change of the program parameters needs the endorsement of more than one org`);
  }
  if (rewardScope !== 'window' && rewardScope !== 'day') throw invalidArgument("parameter rewardScope must be 'window' or 'day'");
  return {
    timeZone: validTimeZone(m.timeZone),
    slotsPerDay,
    baselineY: Y,
    baselineXWeekday: int('baselineXWeekday', m.baselineXWeekday, 1, Y),
    baselineXWeekend: int('baselineXWeekend', m.baselineXWeekend, 1, Y),
    betaPpm: int('betaPpm', m.betaPpm, 0, AVAILABILITY_ONE_PPM),
    sigmaW: int('sigmaW', m.sigmaW, 1, 1_000_000),
    alphaPpm: int('alphaPpm', m.alphaPpm, 0, AVAILABILITY_ONE_PPM),
    initialAvailabilityPpm: int('initialAvailabilityPpm', m.initialAvailabilityPpm, 0, AVAILABILITY_ONE_PPM),
    epsilonW: int('epsilonW', m.epsilonW, 1, 1_000_000),
    maxSteps: int('maxSteps', m.maxSteps, 1, 10_000),
    tokenRateMilli: int('tokenRateMilli', m.tokenRateMilli, 0, 1e12),
    rewardScope,
    operatorMspIds: strings('operatorMspIds', m.operatorMspIds),
    operatorIdPrefix: typeof m.operatorIdPrefix === 'string' && m.operatorIdPrefix.length > 0
      ? m.operatorIdPrefix
      : (() => { throw invalidArgument('parameter operatorIdPrefix must be a non-empty string'); })(),
    retailerMspIds: strings('retailerMspIds', m.retailerMspIds),
    customerMspIds: strings('customerMspIds', m.customerMspIds),
    governanceMspIds,
    governanceQuorum: int('governanceQuorum', m.governanceQuorum, MIN_GOVERNANCE_ORGS, governanceMspIds.length),
    flexVoltageLLmV: range('flexVoltageLLmV', m.flexVoltageLLmV),
    flexVoltageLNmV: range('flexVoltageLNmV', m.flexVoltageLNmV),
    flexPowerW: range('flexPowerW', m.flexPowerW),
  };
}
