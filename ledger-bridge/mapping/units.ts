/**
 * Units of telemetry on their way to the contract: OpenADR reports power (`powerReal`, W) or energy
 * (`energyReal`, Wh), each with an SI scale code (OpenADR 2.0b `scale:siScaleCode`); the contract
 * takes average real power in integer W per slot. Pure functions, no OpenADR types (ledger-bridge
 * does not depend on oadr/): the VTN passes the quantity and the scale code it read.
 */
import { MappingError } from './errors.ts';

/** SI scale codes of OpenADR 2.0b (`SiScaleCodeType`) and their factors. */
export const SI_SCALE_FACTORS = Object.freeze({
  p: 1e-12,
  n: 1e-9,
  micro: 1e-6,
  m: 1e-3,
  c: 1e-2,
  d: 1e-1,
  none: 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
} as const);
export type SiScaleCode = keyof typeof SI_SCALE_FACTORS;

/** What a reading measures: average real power over its interval, or real energy over it. */
export const TELEMETRY_QUANTITIES = ['powerReal', 'energyReal'] as const;
export type TelemetryQuantity = (typeof TELEMETRY_QUANTITIES)[number];

export interface TelemetryUnit {
  readonly quantity: TelemetryQuantity;
  /** Default `none` (W or Wh). */
  readonly siScaleCode?: SiScaleCode | string;
}

/** The factor of the unit's scale code, after checking the value is a finite number. */
function scaleFactor(value: number, unit: Readonly<TelemetryUnit>): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MappingError('INVALID_READING', `reading value must be a finite number, got ${String(value)}`);
  const code = unit.siScaleCode ?? 'none';
  const factor = (SI_SCALE_FACTORS as Readonly<Record<string, number>>)[code];
  if (factor === undefined) throw new MappingError('INVALID_READING', `unknown siScaleCode '${code}'; use one of ${Object.keys(SI_SCALE_FACTORS).join(', ')}`);
  return factor;
}

function unknownQuantity(unit: Readonly<TelemetryUnit>): MappingError {
  return new MappingError('INVALID_READING', `telemetry of '${String((unit as { quantity: unknown }).quantity)}' cannot become energy; report powerReal or energyReal`);
}

/** A reading without duration: instantaneous power (W) or an energy register (Wh), scale applied (points.ts). */
export function pointValue(value: number, unit: Readonly<TelemetryUnit>): { readonly kind: 'power' | 'energy'; readonly value: number } {
  const v = value * scaleFactor(value, unit);
  if (unit.quantity === 'powerReal') return { kind: 'power', value: v };
  if (unit.quantity === 'energyReal') return { kind: 'energy', value: v };
  throw unknownQuantity(unit);
}

/** W = value · scale for powerReal (W); Wh over the interval → average W for energyReal. */
export function averageWatts(value: number, unit: Readonly<TelemetryUnit>, durationMs: number): number {
  const factor = scaleFactor(value, unit);
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new MappingError('INVALID_READING', `reading duration must be positive, got ${String(durationMs)} ms`);
  switch (unit.quantity) {
    case 'powerReal':
      return value * factor;
    case 'energyReal':
      // Wh over durationMs: W = Wh · 3 600 000 ms/h / durationMs.
      return (value * factor * 3_600_000) / durationMs;
    default:
      throw unknownQuantity(unit);
  }
}
