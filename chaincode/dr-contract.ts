/**
 * The demand-response contract (shared/spec/dr-contract.md) as a fabric-contract-api `Contract`,
 * without decorators: fabric-shim discovers the transactions as the own methods of this class's
 * prototype, and `contractMetadata()` supplies their read-only tags and parameter names. Each method
 * only builds the transaction context and hands over to the function of its area.
 */
import { Contract, type Context } from 'fabric-contract-api';
import { notFound } from './errors.ts';
import * as admin from './tx-admin.ts';
import * as baseline from './tx-baseline.ts';
import { createTx } from './tx-context.ts';
import * as energy from './tx-energy.ts';
import * as event from './tx-event.ts';
import * as flex from './tx-flexibility.ts';
import * as opt from './tx-opt.ts';
import * as settlement from './tx-settlement.ts';

export const CONTRACT_NAME = 'oadr.dr';

export class DrContract extends Contract {
  constructor() {
    super(CONTRACT_NAME);
  }

  override async unknownTransaction(ctx: Context): Promise<void> {
    const { fcn } = ctx.stub.getFunctionAndParameters();
    throw notFound(`transaction ${fcn} does not exist in contract ${CONTRACT_NAME}`);
  }

  async setProgramParams(ctx: Context, params: string): Promise<string> { return admin.setProgramParams(await createTx(ctx), params); }
  async queryProgramParams(ctx: Context): Promise<string> { return admin.queryProgramParams(await createTx(ctx)); }
  async enableRetailer(ctx: Context, retailerId: string): Promise<string> { return admin.enableRetailer(await createTx(ctx), retailerId); }
  async disableRetailer(ctx: Context, retailerId: string): Promise<string> { return admin.disableRetailer(await createTx(ctx), retailerId); }
  async queryRetailer(ctx: Context, retailerId: string): Promise<string> { return admin.queryRetailer(await createTx(ctx), retailerId); }
  async enrolMeter(ctx: Context, meterId: string): Promise<string> { return admin.enrolMeter(await createTx(ctx), meterId); }
  async disableMeter(ctx: Context, meterId: string): Promise<string> { return admin.disableMeter(await createTx(ctx), meterId); }
  async queryMeter(ctx: Context, meterId: string): Promise<string> { return admin.queryMeter(await createTx(ctx), meterId); }

  async recordEnergy(ctx: Context, meterId: string, day: string, values: string): Promise<string> { return energy.recordEnergy(await createTx(ctx), meterId, day, values); }
  async queryEnergyValue(ctx: Context, meterId: string, day: string): Promise<string> { return energy.queryEnergyValue(await createTx(ctx), meterId, day); }
  async queryDailyEnergy(ctx: Context, meterId: string, fromDay: string, toDay: string): Promise<string> { return energy.queryDailyEnergy(await createTx(ctx), meterId, fromDay, toDay); }

  async evaluateBaseline(ctx: Context, meterId: string, day: string): Promise<string> { return baseline.evaluateBaseline(await createTx(ctx), meterId, day); }
  async queryBaseline(ctx: Context, meterId: string, day: string): Promise<string> { return baseline.queryBaseline(await createTx(ctx), meterId, day); }
  async queryMissingBaselines(ctx: Context, day: string, meterIds: string): Promise<string> { return baseline.queryMissingBaselines(await createTx(ctx), day, meterIds); }

  async notifyDRevent(ctx: Context, eventId: string, day: string, window: string, request: string, cluster: string): Promise<string> { return event.notifyDRevent(await createTx(ctx), eventId, day, window, request, cluster); }
  async modifyDRevent(ctx: Context, eventId: string, window: string, request: string, cluster: string): Promise<string> { return event.modifyDRevent(await createTx(ctx), eventId, window, request, cluster); }
  async cancelDRevent(ctx: Context, eventId: string): Promise<string> { return event.cancelDRevent(await createTx(ctx), eventId); }
  async queryDRevent(ctx: Context, eventId: string): Promise<string> { return event.queryDRevent(await createTx(ctx), eventId); }
  async queryLoadReduction(ctx: Context, eventId: string, meterId: string): Promise<string> { return event.queryLoadReduction(await createTx(ctx), eventId, meterId); }
  async queryLoadReductions(ctx: Context, eventId: string, meterIds: string): Promise<string> { return event.queryLoadReductions(await createTx(ctx), eventId, meterIds); }

  async recordOptState(ctx: Context, eventId: string, meterId: string, optType: string, version: string, atMs: string): Promise<string> { return opt.recordOptState(await createTx(ctx), eventId, meterId, optType, version, atMs); }
  async queryOptState(ctx: Context, eventId: string, meterId: string): Promise<string> { return opt.queryOptState(await createTx(ctx), eventId, meterId); }
  async queryEventOpts(ctx: Context, eventId: string): Promise<string> { return opt.queryEventOpts(await createTx(ctx), eventId); }

  async evaluateAvailability(ctx: Context, eventId: string, meterIds: string): Promise<string> { return settlement.evaluateAvailability(await createTx(ctx), eventId, meterIds); }
  async getDRToken(ctx: Context, eventId: string, meterIds: string): Promise<string> { return settlement.getDRToken(await createTx(ctx), eventId, meterIds); }
  async queryEarnedToken(ctx: Context, meterId: string, eventId: string): Promise<string> { return settlement.queryEarnedToken(await createTx(ctx), meterId, eventId); }
  async redeemTokens(ctx: Context, meterId: string, amountMilli: string): Promise<string> { return settlement.redeemTokens(await createTx(ctx), meterId, amountMilli); }
  async queryTokenSupply(ctx: Context): Promise<string> { return settlement.queryTokenSupply(await createTx(ctx)); }

  async submitFlexibility(ctx: Context, record: string): Promise<string> { return flex.submitFlexibility(await createTx(ctx), record); }
  async validateFlexibility(ctx: Context, claimId: string): Promise<string> { return flex.validateFlexibility(await createTx(ctx), claimId); }
  async queryFlexibility(ctx: Context, claimId: string): Promise<string> { return flex.queryFlexibility(await createTx(ctx), claimId); }
}
