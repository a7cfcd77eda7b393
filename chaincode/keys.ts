/**
 * World-state key layout. Every key is a Fabric composite key (`\u0000type\u0000attr…\u0000`), built
 * by the stub so it is byte-identical to what a peer builds. The attribute order is chosen so that
 * the reads the contract does are partial-key prefix reads that touch only what they need:
 *
 *   program                          the program parameters (one value)
 *   retailer  [retailerId]           allowed retailer (enabled flag), set by the system operator
 *   meter     [meterId]              enrolled meter/customer: its retailer, enabled flag
 *   energy    [meterId, day]         one meter-day load profile: reading a customer's 35-day window
 *                                    scans only that customer's keys
 *   baseline  [day, meterId]         a customer's baseline for a target day: notifyDRevent reads the
 *                                    cluster's baselines of ONE day with one prefix read
 *   account   [meterId]              a customer's settlement state in one record: token balance
 *                                    (milli-tokens) and availability vector (ppm per slot) with the
 *                                    events applied to it
 *   event     [eventId]              the event record (current version, window, request, totals)
 *   eventday  [day, eventId]         index of the events on a day (baseline exclusion of event days)
 *   allocation [eventId, version, shard]  the OPR (and window baseline, frozen) of one settlement
 *                                    shard: up to SHARD_SIZE consecutive customers in id order; an
 *                                    event with 100,000 customers writes 100 values of ~0.4 MB
 *   reward    [eventId, shard]       settlement of the shard's settled customers (idempotency marker)
 *   supply                           total minted / redeemed (milli-tokens)
 *   flex      [claimId]              JRC EnergyFlex record (recorded, failed with reason, confirmed)
 *   opt       [eventId, meterId]     a customer's opt answer to an event (one key each: no conflicts)
 */
import type { ChaincodeStub } from 'fabric-shim-api';

export const KEY_PROGRAM = 'program';
export const KEY_RETAILER = 'retailer';
export const KEY_METER = 'meter';
export const KEY_ENERGY = 'energy';
export const KEY_BASELINE = 'baseline';
export const KEY_ACCOUNT = 'account';
export const KEY_EVENT = 'event';
export const KEY_EVENT_DAY = 'eventday';
export const KEY_ALLOCATION = 'allocation';
export const KEY_REWARD = 'reward';
export const KEY_SUPPLY = 'supply';
export const KEY_FLEX = 'flex';
export const KEY_OPT = 'opt';

/** Customers per settlement shard (allocation and reward records), consecutive in id order. */
export const SHARD_SIZE = 1000;

/** Event versions are zero-padded so that their keys sort numerically. */
export function versionAttr(version: number): string {
  return String(version).padStart(6, '0');
}

/** Shard indexes likewise. */
export function shardAttr(shard: number): string {
  return String(shard).padStart(6, '0');
}

export function createKeys(stub: Pick<ChaincodeStub, 'createCompositeKey'>) {
  const k = (type: string, attrs: string[]) => stub.createCompositeKey(type, attrs);
  return {
    program: () => k(KEY_PROGRAM, []),
    retailer: (retailerId: string) => k(KEY_RETAILER, [retailerId]),
    meter: (meterId: string) => k(KEY_METER, [meterId]),
    energy: (meterId: string, day: string) => k(KEY_ENERGY, [meterId, day]),
    baseline: (day: string, meterId: string) => k(KEY_BASELINE, [day, meterId]),
    account: (meterId: string) => k(KEY_ACCOUNT, [meterId]),
    event: (eventId: string) => k(KEY_EVENT, [eventId]),
    eventDay: (day: string, eventId: string) => k(KEY_EVENT_DAY, [day, eventId]),
    allocation: (eventId: string, version: number, shard: number) =>
      k(KEY_ALLOCATION, [eventId, versionAttr(version), shardAttr(shard)]),
    reward: (eventId: string, shard: number) => k(KEY_REWARD, [eventId, shardAttr(shard)]),
    supply: () => k(KEY_SUPPLY, []),
    flex: (claimId: string) => k(KEY_FLEX, [claimId]),
    opt: (eventId: string, meterId: string) => k(KEY_OPT, [eventId, meterId]),
  };
}

export type Keys = ReturnType<typeof createKeys>;
