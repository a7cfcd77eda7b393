/**
 * JRC flexibility claims (spec section 6, paper section 3.4). An aggregator (retailer) publishes an
 * `EnergyFlex` record; a record out of range, from the future, or whose aggregate power is not the
 * sum of its components is KEPT with status `failed` and its reasons (the paper records failures, it
 * does not drop them). So is a record with data missing: an asset of `assetIds` without a component,
 * or a component whose power is null (no measurement for that asset in the period). A malformed
 * record (not the shape below) is refused with INVALID_ARGUMENT and writes nothing. The system operator then confirms a recorded claim (validateFlexibility).
 *
 * Units on the wire are the paper's (V, kW, time as ISO 8601 or epoch ms); in state integers: mV, W, ms.
 */
import { requireOperator, requireRetailer } from './access.ts';
import { conflict, invalidArgument, notFound } from './errors.ts';
import { EVENT_FLEXIBILITY_RECORDED, EVENT_FLEXIBILITY_VALIDATED } from './events.ts';
import { getJson, putJson } from './state.ts';
import { emit, reply, type Tx } from './tx-context.ts';
import { parseId, parseJsonArg } from './validate.ts';

export type FlexStatus = 'recorded' | 'failed' | 'confirmed';

export interface FlexRecord {
  claimId: string;
  retailerId: string;
  timeMs: number;
  voltageLLmV: number;
  voltageLNmV: number;
  /** + charging, − injecting. */
  powerW: number;
  assetIds: string[];
  /** powerW null: no measurement of the asset for the record's period. */
  components: { assetId: string; powerW: number | null }[];
  status: FlexStatus;
  reasons: string[];
  submittedTxId: string;
  confirmedTxId: string | null;
}

function num(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArgument(`record.${name} must be a number`);
  return v;
}

/** Decimal V/kW → integer mV/W, rounded half away from zero on the decimal value as written. */
function milli(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v) * 1000);
}

function parseTime(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw invalidArgument('record.time must be epoch ms or an ISO 8601 time with an offset (2025-06-01T10:00:00Z)');
}

export function parseFlexRecord(value: unknown): Omit<FlexRecord, 'retailerId' | 'status' | 'reasons' | 'submittedTxId' | 'confirmedTxId'> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('record must be a JSON object');
  const r = value as Record<string, unknown>;
  const assetIds = r['assetIds'];
  if (!Array.isArray(assetIds) || assetIds.length === 0) throw invalidArgument('record.assetIds must be a non-empty array');
  const components = r['components'];
  if (!Array.isArray(components) || components.length === 0) throw invalidArgument('record.components must be a non-empty array of { assetId, power }');
  return {
    claimId: parseId('record.id', r['id']),
    timeMs: parseTime(r['time']),
    voltageLLmV: milli(num('voltageLL', r['voltageLL'])),
    voltageLNmV: milli(num('voltageLN', r['voltageLN'])),
    powerW: milli(num('power', r['power'])),
    assetIds: assetIds.map((a, i) => parseId(`record.assetIds[${i}]`, a)).sort(),
    components: components.map((c, i) => {
      if (c === null || typeof c !== 'object') throw invalidArgument(`record.components[${i}] must be { assetId, power }`);
      const o = c as Record<string, unknown>;
      const power = o['power'];
      return { assetId: parseId(`record.components[${i}].assetId`, o['assetId']), powerW: power === null ? null : milli(num(`components[${i}].power`, power)) };
    }),
  };
}

/** The reasons a well-formed record fails (empty = valid). */
export function flexFailures(r: ReturnType<typeof parseFlexRecord>, tx: Pick<Tx, 'nowMs' | 'params'>): string[] {
  const p = tx.params;
  const reasons: string[] = [];
  const inRange = (v: number, [lo, hi]: [number, number]) => v >= lo && v <= hi;
  if (r.timeMs > tx.nowMs) reasons.push(`time ${new Date(r.timeMs).toISOString()} is after the transaction timestamp`);
  if (!inRange(r.voltageLLmV, p.flexVoltageLLmV)) reasons.push(`voltageLL ${r.voltageLLmV / 1000} V outside [${p.flexVoltageLLmV[0] / 1000}, ${p.flexVoltageLLmV[1] / 1000}] V`);
  if (!inRange(r.voltageLNmV, p.flexVoltageLNmV)) reasons.push(`voltageLN ${r.voltageLNmV / 1000} V outside [${p.flexVoltageLNmV[0] / 1000}, ${p.flexVoltageLNmV[1] / 1000}] V`);
  if (!inRange(r.powerW, p.flexPowerW)) reasons.push(`power ${r.powerW / 1000} kW outside [${p.flexPowerW[0] / 1000}, ${p.flexPowerW[1] / 1000}] kW`);
  const sum = r.components.reduce((s, c) => s + (c.powerW ?? 0), 0);
  if (sum !== r.powerW) reasons.push(`aggregate power ${r.powerW} W is not the sum of its components ${sum} W`);
  const assets = new Set(r.assetIds);
  const unknown = r.components.filter((c) => !assets.has(c.assetId)).map((c) => c.assetId);
  if (unknown.length > 0) reasons.push(`components name assets not in assetIds: ${unknown.join(', ')}`);
  const unmeasured = r.components.filter((c) => c.powerW === null).map((c) => c.assetId);
  if (unmeasured.length > 0) reasons.push(`no measurement for assets: ${unmeasured.join(', ')}`);
  const named = new Set(r.components.map((c) => c.assetId));
  const without = r.assetIds.filter((a) => !named.has(a));
  if (without.length > 0) reasons.push(`assets without a component: ${without.join(', ')}`);
  return reasons;
}

export async function submitFlexibility(tx: Tx, recordArg: string): Promise<string> {
  const retailer = await requireRetailer(tx.ctx, tx.keys, tx.caller, tx.params, 'submitFlexibility');
  const parsed = parseFlexRecord(parseJsonArg('record', recordArg));
  const key = tx.keys.flex(parsed.claimId);
  if (await getJson<FlexRecord>(tx.stub, key)) throw conflict(`flexibility record ${parsed.claimId} already exists; records are immutable, submit a new id`);
  const reasons = flexFailures(parsed, tx);
  const record: FlexRecord = {
    ...parsed,
    retailerId: retailer.retailerId,
    status: reasons.length === 0 ? 'recorded' : 'failed',
    reasons,
    submittedTxId: tx.txId,
    confirmedTxId: null,
  };
  await putJson(tx.stub, key, record);
  emit(tx, EVENT_FLEXIBILITY_RECORDED, { claimId: record.claimId, retailerId: record.retailerId, status: record.status, reasons, txId: tx.txId });
  return reply(record);
}

export async function validateFlexibility(tx: Tx, claimIdArg: string): Promise<string> {
  requireOperator(tx.caller, tx.params, 'validateFlexibility');
  const claimId = parseId('claimId', claimIdArg);
  const record = await getJson<FlexRecord>(tx.stub, tx.keys.flex(claimId));
  if (!record) throw notFound(`flexibility record ${claimId} does not exist`);
  if (record.status !== 'recorded') throw conflict(`flexibility record ${claimId} is ${record.status}; only a recorded claim can be confirmed`);
  const next: FlexRecord = { ...record, status: 'confirmed', confirmedTxId: tx.txId };
  await putJson(tx.stub, tx.keys.flex(claimId), next);
  emit(tx, EVENT_FLEXIBILITY_VALIDATED, { claimId, retailerId: record.retailerId, txId: tx.txId });
  return reply(next);
}

/** Anyone on the channel may confirm a delivery. */
export async function queryFlexibility(tx: Tx, claimIdArg: string): Promise<string> {
  const claimId = parseId('claimId', claimIdArg);
  const record = await getJson<FlexRecord>(tx.stub, tx.keys.flex(claimId));
  if (!record) throw notFound(`flexibility record ${claimId} does not exist`);
  return reply(record);
}
