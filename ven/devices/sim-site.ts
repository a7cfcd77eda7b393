/**
 * A simulated site: a household load and a battery behind one meter. What the VEN reads is the
 * meter, the site's net consumption — household load plus battery power (grid-side sign: the
 * battery discharging counts negative), so a site drawing 1,316 W whose battery discharges 230 W
 * reads 1,086 W — never the battery's own output.
 *
 * Control works on the same quantity: `setPowerTarget(W)` asks the site to draw W at the meter,
 * and the battery is set to W − load (the load at that moment), clamped to the battery's limits.
 * `limits()` are the site's: what the battery can add to or take from the load now.
 *
 * The battery is any `Device` (the CLI's `sim-site` uses the SunSpec driver against the Modbus
 * battery simulator), the load any function of time (the CLI uses the household simulator).
 */
import { Metering, type Device, type DeviceLimits, type DeviceReading } from './device.ts';

export const SIM_SITE_KIND = 'sim-site';

export interface SimulatedSiteOptions {
  /** The battery behind the meter; its readings are its own power. */
  readonly battery: Device;
  /** The household's load at `atMs`, W (≥ 0). */
  readonly loadW: (atMs: number) => number;
  /** ms; default Date.now. */
  readonly clock?: () => number;
}

export function createSimulatedSite(options: Readonly<SimulatedSiteOptions>): Device {
  const { battery, loadW } = options;
  const clock = options.clock ?? Date.now;
  /** The meter: load + battery, and the site's target when the battery has one. */
  const atMeter = (r: DeviceReading, load: number): DeviceReading => ({
    ...r,
    powerW: load + r.powerW,
    targetW: r.targetW === undefined ? undefined : load + r.targetW,
  });
  return {
    kind: SIM_SITE_KIND,
    metering: Metering.SITE,
    connect: () => battery.connect(),
    async read() {
      const r = await battery.read();
      return atMeter(r, loadW(clock()));
    },
    async setPowerTarget(targetW) {
      const load = loadW(clock());
      return atMeter(await battery.setPowerTarget(targetW - load), load);
    },
    restoreNormal: () => battery.restoreNormal(),
    limits(): DeviceLimits {
      const b = battery.limits();
      const load = loadW(clock());
      return { ...b, maxChargeW: load + b.maxChargeW, maxDischargeW: Math.max(0, b.maxDischargeW - load) };
    },
    close: () => battery.close(),
  };
}
