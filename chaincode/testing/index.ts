/**
 * What the chaincode's tests use: a small in-memory ledger that runs fabric-contract-api contracts the
 * way a peer does (on the embedded ledger's emulated peer, which ledger-bridge exports), and test
 * identities from certs' Fabric org CA, one CA per name per process. Never imported by production code.
 */

export { ChaincodeError, TEST_LEDGER_ERROR_CODES, TestLedgerError, type TestLedgerErrorCode } from './errors.ts';

export { createTestCa, createTestIdentity, type TestCa, type TestIdentity, type TestIdentityOptions } from './test-ca.ts';

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
