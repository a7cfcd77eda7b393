/**
 * An in-memory ledger that runs fabric-contract-api contracts the way a Fabric 2.5 peer does: each
 * `invoke` simulates one transaction against the COMMITTED state (no read-your-writes), keeps only the
 * last event, discards everything if the chaincode fails, then validates the read set (MVCC and phantom
 * reads) and commits the write set as one block. `evaluate` simulates without committing. `invoke` with
 * `{ commit: false }` returns a simulated transaction that `commit` can validate and apply later, so
 * tests can reproduce MVCC conflicts between concurrent transactions.
 */

import type { Contract } from 'fabric-contract-api';
import { createHash } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { ChaincodeError, TestLedgerError } from './errors.ts';
import {
  chaincodeEventOf,
  computeTxId,
  createChaincodeStub,
  createSignedProposal,
  createTxSimulator,
  createWorldState,
  runContractTransaction,
  serializeIdentity,
  signerOf,
  timestampOf,
  type HistoryEntry,
  type ReadSet,
  type TimestampObject,
  type ReadValidationCode,
  type WorldState,
  type WriteSet,
} from '../../ledger-bridge/index.ts';

/** What `invoke` needs of an identity; a `TestIdentity` fits. */
export interface InvokingIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  /** When present the proposal is signed with it (DER, low-S), as a client signs. */
  readonly privateKey?: webcrypto.CryptoKey;
}

export interface TestLedgerOptions {
  readonly channelId?: string;
  readonly chaincodeName?: string;
  /** What `ctx.stub.getMspID()` answers. Default 'Org1MSP'. */
  readonly peerMspId?: string;
  /** Transaction timestamp when `invoke` gets none. Default: the wall clock. */
  readonly clock?: () => Date;
  /** Contents of the chaincode's META-INF/metadata.json, if any. */
  readonly contractMetadata?: object;
  /** core.yaml ledger.state.totalQueryLimit. Default 100000. */
  readonly totalQueryLimit?: number;
  /** Silence fabric-shim's console log of failed transactions. Default true. */
  readonly quiet?: boolean;
}

export interface InvokeOptions {
  readonly timestamp?: Date;
  /** Default: Fabric's sha256(nonce ‖ creator), with a deterministic nonce per ledger. */
  readonly txId?: string;
  readonly nonce?: Uint8Array;
  readonly transient?: Readonly<Record<string, Uint8Array | string>>;
  /** `invoke` only: false = simulate and return, `commit(tx)` later. Default true. */
  readonly commit?: boolean;
}

export interface ChaincodeEventRecord {
  readonly name: string;
  readonly payload: Buffer;
}

export interface TransactionResult {
  readonly txId: string;
  /** The chaincode's response payload as UTF-8 text (JSON for objects, '' for undefined). */
  readonly result: string;
  readonly payload: Buffer;
  /** The last event the chaincode set (a peer delivers only that one, and only once committed). */
  readonly event?: ChaincodeEventRecord;
  readonly readSet: ReadSet;
  readonly writeSet: WriteSet;
  readonly timestamp: TimestampObject;
  /** Set once committed. */
  readonly blockNum?: number;
  readonly validationCode?: ReadValidationCode;
}

export interface CommitResult {
  readonly blockNum: number;
  readonly validationCode: ReadValidationCode;
}

export interface SnapshotEntry {
  readonly key: string;
  readonly value: Buffer;
}

export interface TestLedger {
  invoke(
    contract: Contract,
    identity: InvokingIdentity,
    fn: string,
    args?: readonly string[],
    options?: Readonly<InvokeOptions>,
  ): Promise<TransactionResult>;
  evaluate(
    contract: Contract,
    identity: InvokingIdentity,
    fn: string,
    args?: readonly string[],
    options?: Readonly<Omit<InvokeOptions, 'commit'>>,
  ): Promise<TransactionResult>;
  /**
   * Validates a simulated transaction against the current state and, when valid, applies it. An invalid
   * transaction still takes a block (as in Fabric) but changes no state; it does not throw.
   */
  commit(tx: TransactionResult): CommitResult;
  /** Committed value, or undefined. */
  get(key: string): Buffer | undefined;
  /** Committed history of a key, newest first (as Fabric 2.x's getHistoryForKey). */
  history(key: string): readonly HistoryEntry[];
  /** Every committed key and value in UTF-8 byte order of the keys (composite keys first). */
  snapshot(): SnapshotEntry[];
  /** Events of valid committed transactions, in commit order. */
  readonly events: readonly (ChaincodeEventRecord & { txId: string; blockNum: number })[];
  /** Number of blocks committed (one transaction per block). */
  readonly height: number;
  readonly worldState: WorldState;
}

export function createTestLedger(options: Readonly<TestLedgerOptions> = {}): TestLedger {
  const channelId = options.channelId ?? 'mychannel';
  const chaincodeName = options.chaincodeName ?? 'oadr-dr';
  const peerMspId = options.peerMspId ?? 'Org1MSP';
  const clock = options.clock ?? (() => new Date());
  const world = createWorldState();
  const events: (ChaincodeEventRecord & { txId: string; blockNum: number })[] = [];
  const committed = new WeakSet<TransactionResult>();
  let height = 0;
  let nonceCounter = 0;

  async function simulate(
    contract: Contract,
    identity: InvokingIdentity,
    fn: string,
    args: readonly string[],
    opts: Readonly<InvokeOptions>,
  ): Promise<TransactionResult> {
    const creator = serializeIdentity(identity.mspId, identity.certificatePem);
    const nonce =
      opts.nonce ?? createHash('sha256').update(`${channelId}/${chaincodeName}/nonce/${++nonceCounter}`).digest().subarray(0, 24);
    const txId = opts.txId ?? computeTxId(nonce, creator);
    if (world.hasTransaction(txId)) {
      throw new TestLedgerError('DUPLICATE_TXID', `duplicate transaction found [${txId}]; use a new transaction id`, { txId });
    }
    const date = opts.timestamp ?? clock();
    const fullArgs = [fn, ...args];
    const privateKey = identity.privateKey;
    const signedProposal = await createSignedProposal({
      channelId,
      chaincodeName,
      txId,
      args: fullArgs,
      creator,
      nonce,
      timestamp: timestampOf(date),
      ...(opts.transient ? { transient: opts.transient } : {}),
      ...(privateKey ? { sign: signerOf({ privateKey }) } : {}),
    });
    const simulator = createTxSimulator({
      world,
      txId,
      channelId,
      namespace: chaincodeName,
      ...(options.totalQueryLimit !== undefined ? { totalQueryLimit: options.totalQueryLimit } : {}),
    });
    const stub = createChaincodeStub({ handler: simulator, channelId, txId, args: fullArgs, signedProposal, peerMspId });
    const response = await runContractTransaction(contract, stub, {
      ...(options.contractMetadata ? { metadata: options.contractMetadata } : {}),
      quiet: options.quiet ?? true,
    });
    simulator.done();
    if (response.status >= 400) throw new ChaincodeError(response.status, response.message, txId);
    const { readSet, writeSet } = simulator.results();
    const event = chaincodeEventOf(stub);
    return {
      txId,
      result: response.payload.toString('utf8'),
      payload: response.payload,
      ...(event ? { event } : {}),
      readSet,
      writeSet,
      timestamp: timestampOf(date),
    };
  }

  function commit(tx: TransactionResult): CommitResult {
    if (committed.has(tx) || tx.blockNum !== undefined) {
      throw new TestLedgerError('INVALID_COMMIT', `transaction ${tx.txId} was already committed`, { txId: tx.txId });
    }
    committed.add(tx);
    const blockNum = ++height;
    const validationCode = world.validate(tx.txId, tx.readSet);
    const writeSet: WriteSet = validationCode === 'VALID' ? tx.writeSet : { writes: [], metadataWrites: [] };
    if (validationCode !== 'DUPLICATE_TXID') {
      world.apply({ txId: tx.txId, timestamp: tx.timestamp, writeSet }, { blockNum, txNum: 0 });
    }
    if (validationCode === 'VALID' && tx.event) events.push({ ...tx.event, txId: tx.txId, blockNum });
    return { blockNum, validationCode };
  }

  return {
    async invoke(contract, identity, fn, args = [], opts = {}) {
      const tx = await simulate(contract, identity, fn, args, opts);
      if (opts.commit === false) return tx;
      const { blockNum, validationCode } = commit(tx);
      if (validationCode !== 'VALID') {
        throw new TestLedgerError(validationCode, `transaction ${tx.txId} invalidated: ${validationCode}`, { txId: tx.txId });
      }
      return { ...tx, blockNum, validationCode };
    },
    evaluate(contract, identity, fn, args = [], opts = {}) {
      return simulate(contract, identity, fn, args, opts);
    },
    commit,
    get: (key) => {
      const entry = world.get(key);
      return entry ? Buffer.from(entry.value) : undefined;
    },
    history: (key) => [...world.history(key)].reverse(),
    snapshot: () => [...world.range('', '')].map(([key, entry]) => ({ key, value: Buffer.from(entry.value) })),
    events,
    get height() {
      return height;
    },
    worldState: world,
  };
}
