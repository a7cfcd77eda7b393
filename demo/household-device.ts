/**
 * A simulated household as the VEN's device: its smart meter is the site's connection point
 * (metering `site`, so the VEN reports it as TELEMETRY_USAGE). A household has no setpoint to
 * write: its appliances are its own, and what it can do about an event is move the runs of its
 * shiftable loads (the household EMS does, before the event). So a target is taken note of and
 * nothing is forced; limits are the contract power, with nothing to inject.
 */
import { Metering, type Device, type DeviceReading, type HouseholdSim } from '../ven/index.ts';

export const HOUSEHOLD_DEVICE_KIND = 'household-sim';

export function createHouseholdDevice(options: Readonly<{ sim: HouseholdSim; contractPowerW: number }>): Device {
  const read = (): DeviceReading => ({ powerW: options.sim.powerW(), online: true, manualOverride: false });
  return {
    kind: HOUSEHOLD_DEVICE_KIND,
    metering: Metering.SITE,
    connect: async () => {},
    read: async () => read(),
    setPowerTarget: async () => read(),
    restoreNormal: async () => {},
    limits: () => ({ maxChargeW: options.contractPowerW, maxDischargeW: 0 }),
    close: async () => {},
  };
}
