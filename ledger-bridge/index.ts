/**
 * The ledger-bridge part: the `Ledger` interface and the embedded ledger (a Fabric-faithful channel in
 * the process, durable in SQLite), its verification and its command line.
 */
export * from './ledger.ts';
export { LEDGER_ERROR_CODES, LedgerError, type LedgerErrorCode, type ValidationCodeInfo } from './errors.ts';
export {
  createEmbeddedLedger,
  DEFAULT_BATCH,
  DEFAULT_CHAINCODE,
  DEFAULT_CHANNEL,
  FLEXIBILITY_FUNCTIONS,
  WORKER_START_IN_FLIGHT,
  type CommitStatus,
  type EmbeddedLedger,
  type EmbeddedLedgerOptions,
  type EndorseRequestOptions,
  type PolicyOptions,
} from './embedded-ledger.ts';
export { FABRIC_BATCH_DEFAULTS, type BatchOptions } from './batch-cutter.ts';
export { DEFAULT_MSP_IDS, issueClientIdentity, loadOrCreateOrgs, type DevOrg, type OrgConfig } from './orgs.ts';
export { decodePolicy, encodePolicy, evaluatePolicy, formatPolicy, parsePolicy, PolicyParseError, type Policy, type Principal, type Role } from './policy.ts';
export { listBlocks, verifyLedger, type ListBlocksOptions, type VerifyOptions, type VerifyProblem, type VerifyReport } from './verify.ts';
export { LEDGER_USAGE, runLedgerCommand, type CommandIo } from './command.ts';

// The Fabric connector and the Gateway gRPC service over the embedded ledger.
export { createFabricLedger, DEFAULT_FABRIC_DEADLINES, readFabricIdentity, type FabricLedger, type FabricLedgerOptions } from './fabric-ledger.ts';
export { startGatewayServer, type GatewayServerOptions } from './gateway-service.ts';
export { LEDGER_SERVE_USAGE, runLedgerServe } from './gateway-command.ts';

// The OpenADR ↔ contract mapping: one function per business step (used by the VTN).
export * from './mapping.ts';
export * from './mapping-store.ts';
export * from './mapping-units.ts';
export * from './mapping-errors.ts';
