/**
 * How an event signal becomes a device command (configurable; see docs/ven.md). Pure.
 *
 * Default mapping (grid-side sign, see ven/devices/device.ts):
 * - `LOAD_DISPATCH` / `delta`, itemBase powerReal: `delta` W (negative = use less).
 * - `LOAD_DISPATCH` / `setpoint`, itemBase powerReal: `target` W.
 * - `x-LOAD_AMOUNT` (any signalType), itemBase powerReal or none: W to shed, so `delta = −value`.
 * - `SIMPLE` / `level`: level 0 = normal operation, 1..3 = a configured delta per level.
 * - `LOAD_CONTROL` / `x-loadControlCapacity`: run at `value` × the device's largest consumption.
 * - `LOAD_CONTROL` / `x-loadControlPercentOffset`: delta = value % of the largest consumption.
 * - `ELECTRICITY_PRICE`, `ENERGY_PRICE`, `DEMAND_CHARGE` (price types): accepted, no action (R510).
 * Anything else is 460 (R48 signalName, R109 signalType + units).
 */
import { ResponseCode, type EventSignal, type ItemBase } from '../oadr/index.ts';

/** What a signal interval asks the device to do. */
export type PowerCommand =
  | { readonly kind: 'delta'; readonly w: number }
  | { readonly kind: 'target'; readonly w: number }
  | { readonly kind: 'fraction'; readonly f: number }
  | { readonly kind: 'deltaFraction'; readonly f: number }
  | { readonly kind: 'normal' };

export const SignalUse = { ACTUATE: 'actuate', INFORM: 'inform' } as const;
export type SignalUseValue = (typeof SignalUse)[keyof typeof SignalUse];

export interface SignalMapOptions {
  /** Delta in W for SIMPLE levels 1, 2, 3 (default −1000, −2000, −3000). */
  readonly simpleLevelDeltaW?: readonly [number, number, number];
  /** Accept `LOAD_DISPATCH` delta (default true). */
  readonly loadDispatchDelta?: boolean;
  /** Accept `LOAD_DISPATCH` setpoint (default true; R510 requires it). */
  readonly loadDispatchSetpoint?: boolean;
  /** Accept `x-LOAD_AMOUNT` (default true). */
  readonly loadAmount?: boolean;
  /** Accept `LOAD_CONTROL` capacity and percent offset (default true). */
  readonly loadControl?: boolean;
  /** Accept price signals without acting on them (default true; R510 requires ELECTRICITY_PRICE/price). */
  readonly acceptPrices?: boolean;
  /** Order in which signals of one event are used for actuation; first supported wins. */
  readonly preference?: readonly string[];
}

export const DEFAULT_SIGNAL_PREFERENCE: readonly string[] = ['LOAD_DISPATCH', 'x-LOAD_AMOUNT', 'LOAD_CONTROL', 'SIMPLE', 'simple'];
export const LOAD_AMOUNT_SIGNAL = 'x-LOAD_AMOUNT';

export type SignalResolution =
  | { readonly ok: true; readonly use: SignalUseValue; readonly command: (value: number) => PowerCommand }
  | { readonly ok: false; readonly code: number; readonly reason: string };

const SI_SCALE: Record<string, number> = { p: 1e-12, n: 1e-9, micro: 1e-6, m: 1e-3, c: 1e-2, d: 1e-1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, none: 1 };

/** Factor from the signal's unit to W, or undefined when the unit is not a real power. */
function wattFactor(itemBase: ItemBase | undefined, required: boolean): number | undefined {
  if (itemBase === undefined) return required ? undefined : 1;
  if (itemBase.type !== 'powerReal') return undefined;
  const unit = itemBase.units === 'W' || itemBase.units === 'J/s' ? 1 : undefined;
  const scale = SI_SCALE[itemBase.siScaleCode];
  return unit === undefined || scale === undefined ? undefined : unit * scale;
}

const unsupported = (code: number, reason: string): SignalResolution => ({ ok: false, code, reason });

/** Decides whether the VEN supports `signal` and how its values map to device commands. */
export function resolveSignal(signal: EventSignal, options: Readonly<SignalMapOptions> = {}): SignalResolution {
  const name: string = signal.signalName;
  const type = signal.signalType;
  if (name === 'LOAD_DISPATCH' && (type === 'delta' || type === 'setpoint')) {
    if (type === 'delta' && options.loadDispatchDelta === false) return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, 'LOAD_DISPATCH delta is disabled');
    if (type === 'setpoint' && options.loadDispatchSetpoint === false) return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, 'LOAD_DISPATCH setpoint is disabled');
    // CHOICE: no itemBase on a power signal means W (many VTNs omit it).
    const k = wattFactor(signal.itemBase, false);
    if (k === undefined) return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, `LOAD_DISPATCH ${type} in ${signal.itemBase?.type ?? '?'} units: only powerReal (W) is supported (R109)`);
    return type === 'delta'
      ? { ok: true, use: SignalUse.ACTUATE, command: (v) => ({ kind: 'delta', w: v * k }) }
      : { ok: true, use: SignalUse.ACTUATE, command: (v) => ({ kind: 'target', w: v * k }) };
  }
  if (name === LOAD_AMOUNT_SIGNAL && options.loadAmount !== false) {
    const k = wattFactor(signal.itemBase, false);
    if (k === undefined) return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, `x-LOAD_AMOUNT in ${signal.itemBase?.type ?? '?'} units: only powerReal (W) is supported (R109)`);
    return { ok: true, use: SignalUse.ACTUATE, command: (v) => (v === 0 ? { kind: 'normal' } : { kind: 'delta', w: -v * k }) };
  }
  if ((name === 'SIMPLE' || name === 'simple') && type === 'level') {
    const levels = options.simpleLevelDeltaW ?? [-1000, -2000, -3000];
    return {
      ok: true,
      use: SignalUse.ACTUATE,
      command: (v) => {
        const level = Math.round(v);
        if (level <= 0) return { kind: 'normal' };
        return { kind: 'delta', w: levels[Math.min(level, 3) - 1] ?? 0 };
      },
    };
  }
  if (name === 'LOAD_CONTROL' && options.loadControl !== false) {
    if (type === 'x-loadControlCapacity') return { ok: true, use: SignalUse.ACTUATE, command: (v) => ({ kind: 'fraction', f: Math.min(1, Math.max(0, v)) }) };
    if (type === 'x-loadControlPercentOffset') return { ok: true, use: SignalUse.ACTUATE, command: (v) => (v === 0 ? { kind: 'normal' } : { kind: 'deltaFraction', f: v / 100 }) };
    return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, `LOAD_CONTROL ${type} is not supported by a power device (R109)`);
  }
  if ((name === 'ELECTRICITY_PRICE' || name === 'ENERGY_PRICE' || name === 'DEMAND_CHARGE') && options.acceptPrices !== false) {
    if (type === 'price' || type === 'priceRelative' || type === 'priceMultiplier') return { ok: true, use: SignalUse.INFORM, command: () => ({ kind: 'normal' }) };
  }
  return unsupported(ResponseCode.SIGNAL_NOT_SUPPORTED, `signal ${name}/${type} is not supported by this VEN (R48, R109)`);
}
