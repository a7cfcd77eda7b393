/**
 * The household EMS (thesis section 5.6): schedules the flexible appliances of a household to meet a
 * DR event's target at the least supply cost, runs kept whole, within the contract power.
 */
export { EmsError, EmsErrorCode } from './errors.ts';
export type { EmsErrorCodeValue } from './errors.ts';
export { ToleranceMode, prepareProblem, POWER_SLACK_W } from './problem.ts';
export type { DrEventRequest, EmsProblem, FlexibleAppliance, PreparedProblem, ToleranceModeValue } from './problem.ts';
export { DEFAULT_MAX_NODES, InfeasibilityCode, SolveStatus, solveSchedule } from './solver.ts';
export type { EmsSolution, Infeasibility, InfeasibilityCodeValue, ScheduledRun, SolveBudget, SolveStatusValue } from './solver.ts';
export { ViolationCode, evaluateSchedule } from './evaluate.ts';
export type { ScheduleEvaluation, Violation, ViolationCodeValue } from './evaluate.ts';
export { MINUTES_PER_DAY, italianWeekdayPrices, slotOfTime, timeOfSlot, touPrices } from './time-of-use.ts';
export type { ItalianBandPrices, TariffPeriod, TouPricesOptions } from './time-of-use.ts';
export { THESIS_FIXED_LOAD_BY_HOUR_W, THESIS_PRICES_C_EUR_PER_KWH, thesisCase } from './thesis-case.ts';
