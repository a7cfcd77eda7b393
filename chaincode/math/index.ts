/**
 * The demand-response math of the contract (dr-contract.md §2–5): pure functions over integers,
 * no Fabric types, no clock, no randomness. Units: power W (average over a slot), availability
 * and the β/α weights in parts per million, tokens in milli-tokens. Invalid input throws
 * `MathArgumentError`, whose message starts with `INVALID_ARGUMENT: `.
 */
export { MathArgumentError, MathErrorCode } from './errors.ts';
export type { MathErrorCodeValue } from './errors.ts';

export {
  DEFAULT_SLOTS_PER_DAY,
  DEFAULT_TIME_ZONE,
  addDays,
  dayOf,
  dayStartEpochMs,
  isDay,
  isWeekend,
  previousDays,
  slotOf,
  slotStartEpochMs,
} from './calendar.ts';
export type { DaySlot } from './calendar.ts';

export { BASELINE_DEFAULTS, baselineModeFor, computeBaseline, sumBaselines } from './baseline.ts';
export type { BaselineInput, BaselineMode, BaselineResult, DayProfile } from './baseline.ts';

export {
  AVAILABILITY_DEFAULTS,
  AVAILABILITY_INITIAL,
  AVAILABILITY_ONE,
  MAX_POWER_W,
  initialAvailability,
  updateAvailability,
} from './availability.ts';
export type { AvailabilityInput } from './availability.ts';

export { ALLOCATION_DEFAULTS, MAX_ALLOCATION_W, allocate, allocateEvent } from './allocation.ts';
export type {
  AllocationCustomer,
  AllocationInput,
  EventAllocation,
  EventAllocationInput,
  EventCustomer,
  EventSlotOutcome,
  SlotAllocation,
  SlotOutcome,
} from './allocation.ts';

export { MAX_REWARD_POWER_W, REWARD_DEFAULTS, computeReward, fullDayWindow } from './reward.ts';
export type { Reward, RewardInput } from './reward.ts';
