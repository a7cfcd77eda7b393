/**
 * The ledger-bridge part: the `Ledger` interface (ledger.ts) and its two implementations, the embedded
 * ledger (embedded/: a Fabric-faithful channel in the process, durable in SQLite, on the emulated peer
 * of embedded/peer/) and the Fabric connector (fabric/, with Fabric's wire formats); the Fabric Gateway
 * gRPC service over the embedded ledger (gateway/); and the OpenADR ↔ contract mapping the VTN uses
 * (mapping/). This file is the part's public surface; it may depend on chaincode/ and certs/.
 */
export * from './ledger.ts';
export { LEDGER_ERROR_CODES, LedgerError, type LedgerErrorCode, type ValidationCodeInfo } from './errors.ts';
export {
  createEmbeddedLedger,
  DEFAULT_BATCH,
  DEFAULT_CHAINCODE,
  DEFAULT_CHANNEL,
  FLEXIBILITY_FUNCTIONS,
  GOVERNANCE_FUNCTIONS,
  WORKER_START_IN_FLIGHT,
  type CommitStatus,
  type EmbeddedLedger,
  type EmbeddedLedgerOptions,
  type EndorseRequestOptions,
  type PolicyOptions,
} from './embedded/embedded-ledger.ts';
export { FABRIC_BATCH_DEFAULTS, type BatchOptions } from './embedded/batch-cutter.ts';
export { DEFAULT_MSP_IDS, issueClientIdentity, loadOrCreateOrgs, type DevOrg, type LoadOrgsOptions, type OrgConfig } from './embedded/orgs.ts';
export { decodePolicy, encodePolicy, evaluatePolicy, formatPolicy, parsePolicy, PolicyParseError, type Policy, type Principal, type Role } from './embedded/policy.ts';
export { listBlocks, verifyLedger, verifyLedgerInWorker, type ListBlocksOptions, type VerifyOptions, type VerifyProblem, type VerifyReport } from './embedded/verify.ts';
export { LEDGER_SUBDIR, LEDGER_USAGE, ledgerDirOf, runLedgerCommand, type CommandIo } from './embedded/command.ts';

// The emulated peer (for the chaincode's test ledger) and how a Fabric client builds and signs a proposal.
export * from './embedded/peer/index.ts';
export { signerOf, type Sign, type SigningKey } from './embedded/signer.ts';
export { buildUnsignedProposal, computeTxId, createSignedProposal, serializeIdentity, type ProposalFields, type ProposalOptions } from './fabric/fabric-proposal.ts';
export { timestampOf } from './fabric/rwset.ts';

// The Fabric connector and the Gateway gRPC service over the embedded ledger.
export { createFabricLedger, DEFAULT_FABRIC_DEADLINES, readFabricIdentity, type FabricLedger, type FabricLedgerOptions } from './fabric/fabric-ledger.ts';
export { DEFAULT_FABRIC_RETRY, RETRY_REASONS, RETRYABLE_FUNCTIONS, type FabricRetry, type FabricRetryOptions, type RetryReason } from './fabric/retry.ts';
export { parseConnectionProfile, readConnectionProfile, type ConnectionProfile, type ProfilePeer } from './fabric/connection-profile.ts';
export { readMspFolder } from './fabric/msp-folder.ts';
export type { FabricPeerAddress } from './fabric/fabric-ledger.ts';
export { startGatewayServer, type GatewayServerOptions } from './gateway/service.ts';
export { LEDGER_SERVE_USAGE, runLedgerServe } from './gateway/command.ts';

// The OpenADR ↔ contract mapping: one function per business step (used by the VTN).
export * from './mapping/mapping.ts';
export * from './mapping/store.ts';
export { createPgMappingStore, type PgMappingStoreOptions } from './mapping/pg-store.ts';
export * from './mapping/units.ts';
export * from './mapping/errors.ts';
export { claimIdOf, DEFAULT_NOMINAL_VOLTAGES, type ClaimRecord, type NominalVoltages } from './mapping/claims.ts';
export * from './mapping/retailer-identities.ts';
export { STORE_FILE as LEDGER_STORE_FILE } from './embedded/store.ts';
