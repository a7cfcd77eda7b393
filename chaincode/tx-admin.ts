/** Administration: program parameters, allowed retailers, enrolled meters. */
import { getMeter, isOperator, requireOperator, requireRetailer, requireReader, type MeterRecord, type RetailerRecord } from './access.ts';
import { conflict, accessDenied, meterHeld, operatorLockout } from './errors.ts';
import {
  EVENT_METER_DISABLED,
  EVENT_METER_ENROLLED,
  EVENT_PROGRAM_UPDATED,
  EVENT_RETAILER_DISABLED,
  EVENT_RETAILER_ENABLED,
} from './events.ts';
import { governancePolicy } from './governance.ts';
import { createProgramParams } from './params.ts';
import { getJson, putJson } from './state.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import { parseId, parseJsonArg } from './validate.ts';

export async function setProgramParams(tx: Tx, paramsJson: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'setProgramParams');
  const next = createProgramParams(parseJsonArg('params', paramsJson), tx.params);
  // A change that leaves the caller no longer the operator could never be undone: nobody else may
  // call setProgramParams. Refused; hand the role over by adding the new operator first, then let it
  // remove the old one.
  if (!isOperator(tx.caller, next)) {
    throw operatorLockout(
      `the change would take the system operator's authority from the caller (${tx.caller.mspId} ID=${tx.caller.id ?? '(none)'}): operatorMspIds ${JSON.stringify(next.operatorMspIds)}, operatorIdPrefix ${JSON.stringify(next.operatorIdPrefix)}; keep the caller's MSP and ID prefix, and let a new operator remove the old one`,
    );
  }
  if (next.slotsPerDay !== tx.params.slotsPerDay) {
    const anyEnergy = await tx.stub.getStateByPartialCompositeKey('energy', []);
    const first = await (anyEnergy as unknown as { next(): Promise<{ value?: unknown }>; close(): Promise<unknown> }).next();
    await (anyEnergy as unknown as { close(): Promise<unknown> }).close();
    if (first.value) throw conflict('slotsPerDay cannot change once energy has been recorded; start a new program (channel) instead');
  }
  const program = tx.keys.program();
  await putJson(tx.stub, program, next);
  // The next change of the parameters needs the governance orgs' endorsements (see governance.ts).
  await tx.stub.setStateValidationParameter(program, governancePolicy(next));
  emit(tx, EVENT_PROGRAM_UPDATED, { params: next, txId: tx.txId });
  return reply(next);
}

export function queryProgramParams(tx: Tx): string {
  return reply(tx.params);
}

async function setRetailer(tx: Tx, retailerIdArg: string, enabled: boolean): Promise<string> {
  const action = enabled ? 'enableRetailer' : 'disableRetailer';
  requireOperator(tx.caller, tx.params, action);
  const retailerId = parseId('retailerId', retailerIdArg);
  const record: RetailerRecord = { retailerId, enabled, updatedTxId: tx.txId };
  await putJson(tx.stub, tx.keys.retailer(retailerId), record);
  emit(tx, enabled ? EVENT_RETAILER_ENABLED : EVENT_RETAILER_DISABLED, { retailerId, txId: tx.txId });
  return reply(record);
}

export const enableRetailer = (tx: Tx, retailerId: string) => setRetailer(tx, retailerId, true);
export const disableRetailer = (tx: Tx, retailerId: string) => setRetailer(tx, retailerId, false);

export async function queryRetailer(tx: Tx, retailerIdArg: string): Promise<string> {
  const retailerId = parseId('retailerId', retailerIdArg);
  if (!isOperator(tx.caller, tx.params) && tx.caller.id !== retailerId) {
    throw accessDenied(`queryRetailer: only the system operator or retailer ${retailerId} itself may read its record`);
  }
  const r = await getJson<RetailerRecord>(tx.stub, tx.keys.retailer(retailerId));
  return reply(r ?? { retailerId, enabled: false });
}

/**
 * A retailer enrols a meter (= a customer, identified by its smart-meter id as in the thesis). A meter
 * enabled under another retailer is refused (CONFLICT); a disabled one may be taken over (the
 * customer switched retailer).
 */
export async function enrolMeter(tx: Tx, meterIdArg: string): Promise<string> {
  const retailer = await requireRetailer(tx.ctx, tx.keys, tx.caller, tx.params, 'enrolMeter');
  const meterId = parseId('meterId', meterIdArg);
  const existing = await getJson<MeterRecord>(tx.stub, tx.keys.meter(meterId));
  if (existing && existing.enabled && existing.retailerId !== retailer.retailerId) {
    throw meterHeld(`meter ${meterId} is enrolled by another retailer; that retailer (or the system operator) must disable it before another retailer can enrol it`);
  }
  const record: MeterRecord = { meterId, retailerId: retailer.retailerId, enabled: true, enrolledTxId: tx.txId };
  await putJson(tx.stub, tx.keys.meter(meterId), record);
  emit(tx, EVENT_METER_ENROLLED, { meterId, retailerId: retailer.retailerId, txId: tx.txId });
  return reply(record);
}

export async function disableMeter(tx: Tx, meterIdArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  const meter = await getMeter(tx.ctx, tx.keys, meterId);
  if (!isOperator(tx.caller, tx.params)) {
    const retailer = await requireRetailer(tx.ctx, tx.keys, tx.caller, tx.params, 'disableMeter');
    if (retailer.retailerId !== meter.retailerId) throw accessDenied(`disableMeter: meter ${meterId} belongs to another retailer`);
  }
  const record: MeterRecord = { ...meter, enabled: false };
  await putJson(tx.stub, tx.keys.meter(meterId), record);
  emit(tx, EVENT_METER_DISABLED, { meterId, retailerId: meter.retailerId, txId: tx.txId });
  return reply(record);
}

export async function queryMeter(tx: Tx, meterIdArg: string): Promise<string> {
  const meterId = parseId('meterId', meterIdArg);
  const { meter } = await requireReader(tx.ctx, tx.keys, tx.caller, tx.params, meterId, 'queryMeter');
  return reply(meter);
}
