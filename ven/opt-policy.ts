/**
 * The opt decision for an event (R16/R36 on the VTN side; the VEN chooses). Pure and
 * configurable: opt in by default, opt out when the device is offline, under manual override, or
 * cannot deliver the largest reduction the event asks for.
 */
import type { DeviceLimits, DeviceReading } from './devices/device.ts';
import type { PowerCommand } from './signal-map.ts';

export type OptTypeValue = 'optIn' | 'optOut';

export interface OptDecision {
  readonly optType: OptTypeValue;
  /** Why, for logs and the eventResponse's responseDescription. */
  readonly reason: string;
}

export interface OptInput {
  readonly eventId: string;
  /** Every command the event's actuating signal asks for, one per interval. */
  readonly commands: readonly PowerCommand[];
  /** The device's last reading and limits; undefined when the VEN has no device (or it never answered). */
  readonly reading: DeviceReading | undefined;
  readonly limits: DeviceLimits | undefined;
  readonly test: boolean;
}

export interface OptPolicyOptions {
  /** Opt in unless a rule below says otherwise (default true). */
  readonly defaultOptIn?: boolean;
  /** Opt out when the device is offline or unknown (default true). */
  readonly optOutWhenOffline?: boolean;
  /** Opt out when the device reports a manual override (default true). */
  readonly optOutWhenManualOverride?: boolean;
  /**
   * Opt out when a requested power is beyond the device's limits by more than this share
   * (default 0.1, i.e. it can deliver 90 % of the ask). `Infinity` disables the check.
   */
  readonly cannotDeliverTolerance?: number;
  /** Opt out of reductions when the state of charge is at or below the device's reserve (default true). */
  readonly optOutWhenEmpty?: boolean;
}

export type OptPolicy = (input: OptInput) => OptDecision;

/** Target power a command asks for, given the device's normal power and limits. */
export function commandTargetW(command: PowerCommand, normalW: number, limits: DeviceLimits): number | undefined {
  switch (command.kind) {
    case 'delta':
      return normalW + command.w;
    case 'target':
      return command.w;
    case 'fraction':
      return command.f * limits.maxChargeW;
    case 'deltaFraction':
      return normalW + command.f * limits.maxChargeW;
    case 'normal':
      return undefined;
  }
}

export function createOptPolicy(options: Readonly<OptPolicyOptions> = {}): OptPolicy {
  const defaultOptIn = options.defaultOptIn ?? true;
  const offline = options.optOutWhenOffline ?? true;
  const override = options.optOutWhenManualOverride ?? true;
  const tolerance = options.cannotDeliverTolerance ?? 0.1;
  const empty = options.optOutWhenEmpty ?? true;
  return (input) => {
    if (!defaultOptIn) return { optType: 'optOut', reason: 'configured to opt out of every event' };
    if (input.test) return { optType: 'optIn', reason: 'test event: acknowledged, not actuated (R6)' };
    const { reading, limits } = input;
    if (reading === undefined || limits === undefined) {
      return offline ? { optType: 'optOut', reason: 'no device reading: cannot deliver' } : { optType: 'optIn', reason: 'participating' };
    }
    if (offline && !reading.online) return { optType: 'optOut', reason: 'device offline' };
    if (override && reading.manualOverride) return { optType: 'optOut', reason: 'device under manual override' };
    const normalW = reading.targetW === undefined ? reading.powerW : 0;
    for (const command of input.commands) {
      const target = commandTargetW(command, normalW, limits);
      if (target === undefined) continue;
      if (Number.isFinite(tolerance)) {
        const over = target > limits.maxChargeW ? target - limits.maxChargeW : target < -limits.maxDischargeW ? -limits.maxDischargeW - target : 0;
        const ask = Math.abs(target - normalW);
        if (over > 0 && over > tolerance * Math.max(ask, 1)) {
          return { optType: 'optOut', reason: `cannot deliver ${Math.round(target)} W: the device allows ${-limits.maxDischargeW}..${limits.maxChargeW} W` };
        }
      }
      if (empty && target < normalW && reading.socPct !== undefined && reading.socPct <= (limits.minReservePct ?? 0)) {
        return { optType: 'optOut', reason: `state of charge ${reading.socPct} % is at the reserve: cannot reduce` };
      }
    }
    return { optType: 'optIn', reason: 'participating' };
  };
}
