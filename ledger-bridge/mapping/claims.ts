/**
 * The JRC flexibility claims of an event (docs/uvam.md, contract spec section 6): one `EnergyFlex`
 * record per metering period — each window slot of the event — with the unit's aggregate power and
 * each customer's component, both from the slot values the ledger holds (`queryEnergyValue`), never
 * from the VTN's own store. A customer without a value on the ledger for the period is a component
 * with `power: null`: the contract keeps that claim as failed, naming the customer. The voltages are
 * not metered: the configured nominal values go in their place.
 *
 * Pure: no ledger, no clock. The mapping (mapping.ts) reads the ledger and submits.
 */
import { createHash } from 'node:crypto';
import type { FlexRecord } from '../../chaincode/index.ts';

/** A claim as the contract holds it (mV, W, epoch ms; status and reasons). */
export type ClaimRecord = FlexRecord;

/** What the record says for voltages we do not meter: nominal values, V. */
export interface NominalVoltages {
  readonly voltageLLV: number;
  readonly voltageLNV: number;
}

/** 400 V line to line, 230 V line to neutral: the European low-voltage network. */
export const DEFAULT_NOMINAL_VOLTAGES: NominalVoltages = Object.freeze({ voltageLLV: 400, voltageLNV: 230 });

/** The contract's ids are at most 128 characters. */
const MAX_ID_LENGTH = 128;

/**
 * The id of the claim of an event's window slot: `<eventId>:s<slot>`, so the same period always has
 * the same id and the contract refuses a second record of it (nothing is claimed twice); an event id
 * too long for that gives `claim:<sha-256 of the event id, 40 hex>:s<slot>`.
 */
export function claimIdOf(eventId: string, slot: number): string {
  const id = `${eventId}:s${slot}`;
  if (id.length <= MAX_ID_LENGTH) return id;
  return `claim:${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}:s${slot}`;
}

/**
 * The record `submitFlexibility` takes for one period, in the paper's units (V, kW; + consumption):
 * every customer (meter) an asset, its average power over the period from the ledger as its
 * component (null where the ledger has none), the aggregate the sum of the components measured.
 */
export function claimRecord(claimId: string, periodStartMs: number, valuesW: ReadonlyMap<string, number | null>, nominal: NominalVoltages): Record<string, unknown> {
  const assetIds = [...valuesW.keys()].sort();
  let sumW = 0;
  const components = assetIds.map((assetId) => {
    const w = valuesW.get(assetId) ?? null;
    if (w !== null) sumW += w;
    return { assetId, power: w === null ? null : w / 1000 };
  });
  return { id: claimId, time: periodStartMs, voltageLL: nominal.voltageLLV, voltageLN: nominal.voltageLNV, power: sumW / 1000, assetIds, components };
}
