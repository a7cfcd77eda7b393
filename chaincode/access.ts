/**
 * Access control (spec "Actors and identities", thesis listings 5.1–5.2). Decided from the caller's
 * MSP and the certificate attributes `ID` and `IDprovider`, against the allowed-retailer records and
 * the per-retailer meter records kept on the ledger:
 *
 * - system operator: MSP in `operatorMspIds` and `ID` starting with `operatorIdPrefix` (`operator:`);
 * - retailer: MSP in `retailerMspIds`, `ID` = a retailer the operator enabled;
 * - customer: MSP in `customerMspIds`, `ID` = its meter id, `IDprovider` = the retailer that enrolled
 *   that meter (a customer with the same meter id under another retailer is somebody else).
 *
 * Every check runs before the first write, so a refused call writes nothing.
 */
import type { Context } from 'fabric-contract-api';
import { accessDenied, notFound } from './errors.ts';
import type { Keys } from './keys.ts';
import type { ProgramParams } from './params.ts';
import { getJson } from './state.ts';

export const ATTR_ID = 'ID';
export const ATTR_ID_PROVIDER = 'IDprovider';

export interface Caller {
  mspId: string;
  id: string | undefined;
  provider: string | undefined;
}

export interface RetailerRecord {
  retailerId: string;
  enabled: boolean;
  updatedTxId: string;
}

export interface MeterRecord {
  meterId: string;
  retailerId: string;
  enabled: boolean;
  enrolledTxId: string;
}

export function callerOf(ctx: Context): Caller {
  const ci = ctx.clientIdentity;
  return {
    mspId: ci.getMSPID(),
    id: ci.getAttributeValue(ATTR_ID) ?? undefined,
    provider: ci.getAttributeValue(ATTR_ID_PROVIDER) ?? undefined,
  };
}

function describe(c: Caller): string {
  return `${c.mspId} ID=${c.id ?? '(none)'}`;
}

export function isOperator(c: Caller, p: ProgramParams): boolean {
  return p.operatorMspIds.includes(c.mspId) && c.id !== undefined && c.id.startsWith(p.operatorIdPrefix);
}

export function requireOperator(c: Caller, p: ProgramParams, action: string): void {
  if (!isOperator(c, p)) {
    throw accessDenied(`${action} is reserved to the system operator (${p.operatorMspIds.join('|')} with ID ${p.operatorIdPrefix}…); caller is ${describe(c)}`);
  }
}

/** The caller's retailer record if the caller is an enabled retailer, else undefined. */
export async function retailerOf(ctx: Context, keys: Keys, c: Caller, p: ProgramParams): Promise<RetailerRecord | undefined> {
  if (!p.retailerMspIds.includes(c.mspId) || c.id === undefined) return undefined;
  const r = await getJson<RetailerRecord>(ctx.stub, keys.retailer(c.id));
  return r && r.enabled ? r : undefined;
}

export async function requireRetailer(ctx: Context, keys: Keys, c: Caller, p: ProgramParams, action: string): Promise<RetailerRecord> {
  const r = await retailerOf(ctx, keys, c, p);
  if (!r) {
    throw accessDenied(`${action} is reserved to an enabled retailer; caller ${describe(c)} is not in the allowed-retailer list (ask the system operator to enable it)`);
  }
  return r;
}

export async function getMeter(ctx: Context, keys: Keys, meterId: string): Promise<MeterRecord> {
  const m = await getJson<MeterRecord>(ctx.stub, keys.meter(meterId));
  if (!m) throw notFound(`meter ${meterId} is not enrolled; a retailer must enrol it first (enrolMeter)`);
  return m;
}

/** The caller must be the enabled retailer owning the enabled meter (thesis listing 5.2). */
export async function requireMeterOfRetailer(ctx: Context, keys: Keys, c: Caller, p: ProgramParams, meterId: string, action: string): Promise<MeterRecord> {
  const r = await requireRetailer(ctx, keys, c, p, action);
  const m = await getMeter(ctx, keys, meterId);
  if (m.retailerId !== r.retailerId) {
    throw accessDenied(`${action}: meter ${meterId} belongs to another retailer, not ${r.retailerId}`);
  }
  if (!m.enabled) throw accessDenied(`${action}: meter ${meterId} is disabled; re-enrol it first`);
  return m;
}

export type ReaderRole = 'operator' | 'retailer' | 'customer';

/**
 * Who may read a meter's data: the system operator, the retailer owning the meter, or the customer
 * whose certificate carries `ID` = meterId and `IDprovider` = the meter's retailer.
 */
export async function requireReader(ctx: Context, keys: Keys, c: Caller, p: ProgramParams, meterId: string, action: string): Promise<{ role: ReaderRole; meter: MeterRecord }> {
  if (isOperator(c, p)) return { role: 'operator', meter: await getMeter(ctx, keys, meterId) };
  const retailer = await retailerOf(ctx, keys, c, p);
  if (retailer) {
    const m = await getMeter(ctx, keys, meterId);
    if (m.retailerId !== retailer.retailerId) throw accessDenied(`${action}: meter ${meterId} is not a customer of retailer ${retailer.retailerId}`);
    return { role: 'retailer', meter: m };
  }
  // Stryker disable next-line ConditionalExpression: a meter's retailerId is never undefined, so without a provider the comparison below fails anyway
  if (p.customerMspIds.includes(c.mspId) && c.id === meterId && c.provider !== undefined) {
    const m = await getJson<MeterRecord>(ctx.stub, keys.meter(meterId));
    if (m && m.retailerId === c.provider) return { role: 'customer', meter: m };
  }
  throw accessDenied(`${action}: ${describe(c)} may read only its own meter's data (certificate ID and IDprovider must match meter ${meterId} and its retailer)`);
}
