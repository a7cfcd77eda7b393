/**
 * What every transaction starts from: the stub, the key builders, the program parameters on the
 * ledger (defaults until the operator sets them), the caller and the transaction clock.
 */
import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim-api';
import { callerOf, type Caller } from './access.ts';
import { canonicalJson } from './canonical-json.ts';
import { createKeys, type Keys } from './keys.ts';
import { dayOf } from './math/index.ts';
import { createProgramParams, DEFAULT_PARAMS, type ProgramParams } from './params.ts';
import { getJson, txTimeMs } from './state.ts';

export interface Tx {
  ctx: Context;
  stub: ChaincodeStub;
  keys: Keys;
  params: ProgramParams;
  caller: Caller;
  txId: string;
  /** Transaction timestamp, ms since the epoch: the only clock. */
  nowMs: number;
  /** The day of the transaction timestamp in the program's time zone. */
  today: string;
}

export async function createTx(ctx: Context): Promise<Tx> {
  const stub = ctx.stub;
  const keys = createKeys(stub);
  const stored = await getJson<ProgramParams>(stub, keys.program());
  const params = stored ? createProgramParams(stored, DEFAULT_PARAMS) : { ...DEFAULT_PARAMS };
  const nowMs = txTimeMs(stub);
  return {
    ctx,
    stub,
    keys,
    params,
    caller: callerOf(ctx),
    txId: stub.getTxID(),
    nowMs,
    today: dayOf(nowMs, params.timeZone),
  };
}

/** Emits the transaction's one chaincode event (Fabric keeps only the last per transaction). */
export function emit(tx: Tx, name: string, payload: unknown): void {
  tx.stub.setEvent(name, Buffer.from(canonicalJson(payload), 'utf8'));
}

/** The JSON string a transaction function returns (sorted keys, like the state). */
export function reply(value: unknown): string {
  return canonicalJson(value);
}
