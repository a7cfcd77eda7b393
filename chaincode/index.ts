/**
 * The chaincode part's public surface: the contract class, the `contracts` array fabric-shim loads,
 * its metadata, error codes, event names and the record types other parts read.
 */
import { DrContract } from './dr-contract.ts';

export { DrContract, CONTRACT_NAME } from './dr-contract.ts';
export { contractMetadata, CONTRACT_TITLE, CONTRACT_VERSION } from './metadata.ts';
export { TRANSACTIONS, type TransactionSpec } from './transactions.ts';
export { ContractError, ERROR_CODES, parseBaselineNotFound, parseContractError, type ContractErrorCode } from './errors.ts';
export * from './events.ts';
export { DEFAULT_PARAMS, createProgramParams, type ProgramParams, type RewardScope } from './params.ts';
export { ATTR_ID, ATTR_ID_PROVIDER, type MeterRecord, type RetailerRecord } from './access.ts';
export { MAX_SLOT_POWER_W, slotPowerProblem } from './validate.ts';
export type { EnergyRecord } from './tx-energy.ts';
export type { BaselineRecord } from './tx-baseline.ts';
export type { AccountRecord, AllocationRecord, DrEventRecord, EventStatus } from './tx-event.ts';
export type { AllocationShardRecord, RewardShardRecord } from './shards.ts';
export type { BalanceRecord, RewardRecord, SupplyRecord } from './tx-settlement.ts';
export type { FlexRecord, FlexStatus } from './tx-flexibility.ts';
export { createCcaasPackage, type CcaasPackageOptions } from './ccaas-package.ts';
export { canonicalJson } from './canonical-json.ts';
export { skipDisabledDebugLogs } from './shim-logging.ts';

/** What fabric-shim's bootstrap reads from the chaincode's main module. */
export const contracts = [DrContract];

// The contract's calendar of days and 15-minute slots, for those who map readings onto it.
export { addDays, baselineModeFor, dayStartEpochMs, slotOf, slotStartEpochMs } from './math/index.ts';
