/**
 * The emulated Fabric peer at the core of the embedded ledger: fabric-shim's own ChaincodeStub,
 * ClientIdentity and contract dispatcher run a fabric-contract-api contract over a transaction
 * simulator (read/write sets, range queries, key metadata) and an in-memory world state with MVCC and
 * phantom-read validation; proposals and their signatures are built as a Fabric client builds them.
 *
 * This folder is the peer's public surface for the rest of the embedded ledger and for the chaincode's
 * test ledger. It may depend on `chaincode/` (its public index) and on Fabric's own packages, nothing
 * else of ours.
 */

export { runContractTransaction, type ContractRuntimeOptions, type TransactionResponse } from './invoke.ts';

// Fabric's read/write set model, which the simulator produces and the world state validates.
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
} from '../../fabric/rwset.ts';

export { chaincodeEventOf, createChaincodeStub, type StubOptions } from './stub.ts';

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
  type ReadValidationCode,
  type WorldState,
} from './world-state.ts';
