/**
 * An in-memory `Device` for VEN tests: records every command, follows its target at once. It
 * stands for a whole site behind its meter (`metering: site`) unless told it is a device alone.
 */
import { clampToLimits, Metering, type Device, type DeviceLimits, type DeviceReading, type MeteringValue } from '../devices/device.ts';

export interface MemoryDevice extends Device {
  readonly commands: (number | 'normal')[];
  set(reading: Partial<DeviceReading>): void;
}

export function createMemoryDevice(limits: DeviceLimits = { maxChargeW: 5000, maxDischargeW: 5000, capacityWh: 10_000, minReservePct: 10 }, basePowerW = 0, metering: MeteringValue = Metering.SITE): MemoryDevice {
  let reading: DeviceReading = { powerW: basePowerW, socPct: 60, online: true, manualOverride: false };
  const commands: (number | 'normal')[] = [];
  return {
    kind: 'memory',
    metering,
    commands,
    set: (r) => void (reading = { ...reading, ...r }),
    connect: async () => undefined,
    read: async () => reading,
    async setPowerTarget(targetW) {
      const t = clampToLimits(targetW, limits);
      commands.push(t);
      reading = { ...reading, powerW: t, targetW: t };
      return reading;
    },
    async restoreNormal() {
      commands.push('normal');
      reading = { ...reading, powerW: basePowerW, targetW: undefined };
    },
    limits: () => limits,
    close: async () => undefined,
  };
}
