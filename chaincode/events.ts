/**
 * Names of the chaincode events the contract emits, one per state-changing transaction (Fabric keeps
 * only the last `setEvent` of a transaction). Listeners import these constants; never spell the names.
 */
export const EVENT_PROGRAM_UPDATED = 'ProgramUpdated';
export const EVENT_RETAILER_ENABLED = 'RetailerEnabled';
export const EVENT_RETAILER_DISABLED = 'RetailerDisabled';
export const EVENT_METER_ENROLLED = 'MeterEnrolled';
export const EVENT_METER_DISABLED = 'MeterDisabled';
export const EVENT_ENERGY_RECORDED = 'EnergyRecorded';
export const EVENT_BASELINE_EVALUATED = 'BaselineEvaluated';
export const EVENT_DR_EVENT_NOTIFIED = 'DREventNotified';
export const EVENT_DR_EVENT_MODIFIED = 'DREventModified';
export const EVENT_DR_EVENT_CANCELLED = 'DREventCancelled';
export const EVENT_AVAILABILITY_EVALUATED = 'AvailabilityEvaluated';
export const EVENT_DR_TOKENS_MINTED = 'DRTokensMinted';
export const EVENT_TOKENS_REDEEMED = 'TokensRedeemed';
export const EVENT_FLEXIBILITY_RECORDED = 'FlexibilityRecorded';
export const EVENT_FLEXIBILITY_VALIDATED = 'FlexibilityValidated';
export const EVENT_OPT_RECORDED = 'OptRecorded';

export const CONTRACT_EVENTS = [
  EVENT_PROGRAM_UPDATED,
  EVENT_RETAILER_ENABLED,
  EVENT_RETAILER_DISABLED,
  EVENT_METER_ENROLLED,
  EVENT_METER_DISABLED,
  EVENT_ENERGY_RECORDED,
  EVENT_BASELINE_EVALUATED,
  EVENT_DR_EVENT_NOTIFIED,
  EVENT_DR_EVENT_MODIFIED,
  EVENT_DR_EVENT_CANCELLED,
  EVENT_AVAILABILITY_EVALUATED,
  EVENT_DR_TOKENS_MINTED,
  EVENT_TOKENS_REDEEMED,
  EVENT_FLEXIBILITY_RECORDED,
  EVENT_FLEXIBILITY_VALIDATED,
  EVENT_OPT_RECORDED,
] as const;

export type ContractEventName = (typeof CONTRACT_EVENTS)[number];
