/**
 * What the VEN sees of any controllable device: a battery over Modbus/SunSpec, a load over MQTT,
 * a household EMS. Drivers implement `Device`; the VEN never speaks a device protocol itself.
 *
 * ## Sign convention (one for the whole device layer)
 *
 * Power is seen from the grid connection: **positive = power drawn from the grid (consumption,
 * battery charging), negative = power fed into the grid (injection, battery discharging)**, in W.
 * That is the sign of the metered consumption the VEN reports, and of OpenADR's LOAD_DISPATCH
 * `delta` (negative = use less than otherwise). So the VEN turns a delta into a target with
 *
 *     targetW = normalPowerW + deltaW          // e.g. idle battery: 0 + (−3000) → discharge 3 kW
 *
 * where `normalPowerW` is what the device would do without the event (its reading before the
 * event). An `x-LOAD_AMOUNT` (positive W to shed) is `deltaW = −loadAmountW`.
 *
 * SunSpec model 103 `W` counts the other way (+ = inverter exporting); drivers convert.
 *
 * ## What `powerW` measures
 *
 * A VEN reports the customer's meter: the site's net consumption at the connection point, never a
 * device's own output (a battery discharging 230 W is not a site consuming −230 W: its household
 * still draws its load through the same meter). Each driver says which it reads in `metering`:
 * `site` (the connection point: what the VEN may report as TELEMETRY_USAGE) or `device` (the
 * device's own power only; the VEN then offers no usage report and the VTN settles the customer
 * from its imported meter data).
 */

export const Metering = {
  /** `powerW` is the net consumption at the customer's connection point (the site meter). */
  SITE: 'site',
  /** `powerW` is the device's own power; the site's consumption is not visible to the driver. */
  DEVICE: 'device',
} as const;
export type MeteringValue = (typeof Metering)[keyof typeof Metering];

export interface DeviceReading {
  /** Grid-side power in W: + consumption / charging, − injection / discharging; of the site or of the device, as `Device.metering` says. */
  readonly powerW: number;
  /** State of charge in % (storage devices only). */
  readonly socPct?: number | undefined;
  /**
   * False when the value is the last known one of a device that is not answering (drivers that
   * cannot get a fresh value reject `read()` with a DeviceError instead; the SunSpec driver does).
   */
  readonly online: boolean;
  /**
   * True when the device is not doing what the driver last commanded: a local operator changed
   * the mode, or the device's own revert timer ended control. The VEN should report an opt-out.
   */
  readonly manualOverride: boolean;
  /** The setpoint in force (after clamping), in the same sign convention; undefined in normal operation. */
  readonly targetW?: number | undefined;
}

export interface DeviceLimits {
  /** Largest consumption / charge power the device may be set to, W (≥ 0). */
  readonly maxChargeW: number;
  /** Largest injection / discharge power the device may be set to, W (≥ 0, a magnitude). */
  readonly maxDischargeW: number;
  /** Usable energy, Wh, when known (storage). */
  readonly capacityWh?: number | undefined;
  /** State of charge below which the device will not discharge, % (storage). */
  readonly minReservePct?: number | undefined;
}

export interface Device {
  /** Driver kind, e.g. `sunspec-storage`, `mqtt-power-reference`. */
  readonly kind: string;
  /** What `read().powerW` measures: the site's connection point, or only the device (see above). */
  readonly metering: MeteringValue;
  /** Opens the connection and discovers the device; rejects with a DeviceError saying what is wrong. */
  connect(): Promise<void>;
  /** A fresh reading. */
  read(): Promise<DeviceReading>;
  /**
   * Asks the device to run at `targetW` (grid-side sign convention above). The driver clamps the
   * target to `limits()` — it never commands more than the device allows — writes it, verifies it
   * with a read-back and resolves with a reading whose `targetW` is the clamped value.
   */
  setPowerTarget(targetW: number): Promise<DeviceReading>;
  /** Ends external control: the device returns to its own normal operation. Verified like a setpoint. */
  restoreNormal(): Promise<void>;
  /** The limits `setPowerTarget` clamps to; valid after `connect()`. */
  limits(): DeviceLimits;
  /** Closes the connection; the device keeps whatever mode it is in (call `restoreNormal` first). */
  close(): Promise<void>;
}

/** Clamps a grid-side target to the limits; NaN/±Infinity are the caller's bug and are refused. */
export function clampToLimits(targetW: number, limits: DeviceLimits): number {
  if (!Number.isFinite(targetW)) throw new RangeError(`power target ${String(targetW)} W is not a finite number`);
  return Math.min(limits.maxChargeW, Math.max(-limits.maxDischargeW, targetW));
}
