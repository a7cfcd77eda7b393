/**
 * Test doubles for the chaincode: a Fabric-faithful ledger that runs fabric-contract-api contracts
 * through fabric-shim's own ChaincodeStub, ClientIdentity and contract dispatcher over an emulated peer,
 * and a test CA issuing real X.509 identities with Fabric CA attributes.
 */

export { ChaincodeError, TEST_LEDGER_ERROR_CODES, TestLedgerError, type TestLedgerErrorCode } from './errors.ts';
export { runContractTransaction, type ContractRuntimeOptions, type TransactionResponse } from './invoke.ts';
export {
  compareKeys,
  type KVMetadataWrite,
  type KVRead,
  type KVWrite,
  type RangeQueryInfo,
  type ReadSet,
  type TimestampObject,
  type Version,
  type WriteSet,
} from './rwset.ts';
export {
  chaincodeEventOf,
  computeTxId,
  createChaincodeStub,
  buildUnsignedProposal,
  createSignedProposal,
  serializeIdentity,
  type ProposalOptions,
  type StubOptions,
} from './stub.ts';
export {
  createTestCa,
  createTestIdentity,
  encodeAttributes,
  FABRIC_ATTRS_OID,
  signFabric,
  type TestCa,
  type TestIdentity,
  type TestIdentityOptions,
} from './test-ca.ts';
export {
  createTestLedger,
  type ChaincodeEventRecord,
  type CommitResult,
  type InvokeOptions,
  type InvokingIdentity,
  type SnapshotEntry,
  type TestLedger,
  type TestLedgerOptions,
  type TransactionResult,
} from './test-ledger.ts';
export {
  createTxSimulator,
  DEFAULT_TOTAL_QUERY_LIMIT,
  QUERY_BATCH_SIZE,
  type SimulationResults,
  type TxSimulator,
  type TxSimulatorOptions,
} from './tx-simulator.ts';
export {
  createWorldState,
  type CommittedTransaction,
  type HistoryEntry,
  type StateEntry,
  type ValidationCode,
  type WorldState,
} from './world-state.ts';
