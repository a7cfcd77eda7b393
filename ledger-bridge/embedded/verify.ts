/**
 * Checks of an embedded ledger's data directory, stopped or running (a running ledger is read as a
 * snapshot of the blocks it had committed when the check opened the store).
 *
 * `verifyLedger` re-checks the whole chain and the world state against it:
 * - every block decodes, carries its own number, its data hash is the SHA-256 of its envelopes, its
 *   previous hash is the hash of the block before, its stored hash is its header's hash, and its commit
 *   hash chains the previous one with its hash and validation codes;
 * - every transaction marked VALID has a creator signature and endorsement signatures that verify
 *   (optional, on by default), and an id no earlier transaction has (a later one is DUPLICATE_TXID,
 *   and only a later one);
 * - replaying the write sets of the valid transactions (into the peer's in-memory world state)
 *   gives exactly the stored state, key history and transaction index.
 * Every difference is reported with the number of the block it concerns.
 */
import { Worker } from 'node:worker_threads';
import { createWorldState, type StateEntry } from './peer/index.ts';
import { compareVersions } from '../fabric/rwset.ts';
import { blockHash, commitHash, dataHash, decodeBlock } from './block.ts';
import { blockInfoOf } from './embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { decodeTransaction, decodeTxRwSet } from '../fabric/fabric-messages.ts';
import { ValidationCode, type BlockInfo } from '../ledger.ts';
import { createMsps, type Msps } from './msp.ts';
import { encodeMetadata, openStore, type LedgerStore } from './store.ts';

export interface VerifyProblem {
  /** The block the problem is in (or, for a state row, the block that last wrote the key). */
  readonly blockNumber: number;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly blocks: number;
  readonly transactions: number;
  readonly validTransactions: number;
  readonly stateKeys: number;
  readonly problems: readonly VerifyProblem[];
}

export interface VerifyOptions {
  /** Re-verify creator and endorsement signatures of valid transactions. Default true. */
  readonly signatures?: boolean;
  /** Stop after this many problems. Default 100. */
  readonly maxProblems?: number;
}

interface GenesisConfig {
  channel: string;
  chaincode: string;
  orgs: { mspId: string; rootCertificates: string[] }[];
}

function withStore<T>(dataDir: string, fn: (store: LedgerStore) => T): T {
  const store = openStore(dataDir, { readOnly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').slice(0, 16);

export async function verifyLedger(dataDir: string, options: Readonly<VerifyOptions> = {}): Promise<VerifyReport> {
  const maxProblems = options.maxProblems ?? 100;
  const problems: VerifyProblem[] = [];
  const report = (blockNumber: number, message: string) => {
    if (problems.length < maxProblems) problems.push({ blockNumber, message });
  };
  const store = openStore(dataDir, { readOnly: true });
  try {
    const world = createWorldState();
    const expectedIndex = new Map<string, { blockNumber: number; txIndex: number; code: number }>();
    let previousHash: Uint8Array = new Uint8Array(0);
    let previousCommitHash: Uint8Array = new Uint8Array(0);
    let msps: Msps | undefined;
    let namespace = '';
    let transactions = 0;
    let validTransactions = 0;
    const height = store.height();
    const pendingSignatures: Promise<void>[] = [];

    for (let n = 0; n < height; n++) {
      const stored = store.block(n);
      if (!stored) {
        report(n, `block ${n} is missing from the block log`);
        continue;
      }
      let block: ReturnType<typeof decodeBlock>;
      try {
        block = decodeBlock(stored.bytes);
      } catch (err) {
        report(n, `block ${n} does not decode: ${(err as Error).message}`);
        continue;
      }
      if (block.number !== n) report(n, `block ${n} says it is block ${block.number}`);
      const dHash = dataHash(block.envelopes);
      if (!dHash.equals(block.dataHash)) report(n, `block ${n}: data hash ${hex(block.dataHash)}… does not match its transactions (${hex(dHash)}…)`);
      if (!Buffer.from(previousHash).equals(block.previousHash)) report(n, `block ${n}: previous hash ${hex(block.previousHash)}… is not the hash of block ${n - 1} (${hex(previousHash)}…)`);
      const hash = blockHash(block.number, block.previousHash, block.dataHash);
      if (!hash.equals(stored.hash)) report(n, `block ${n}: stored hash ${hex(stored.hash)}… is not the hash of its header (${hex(hash)}…)`);
      if (block.validationCodes.length !== block.envelopes.length) {
        report(n, `block ${n}: ${block.validationCodes.length} validation codes for ${block.envelopes.length} transactions`);
      }
      const cHash = commitHash(previousCommitHash, hash, Uint8Array.from(block.validationCodes));
      if (!cHash.equals(block.commitHash) || !cHash.equals(stored.commitHash)) {
        report(n, `block ${n}: commit hash does not match its validation codes (a validation result was changed)`);
      }
      previousHash = hash;
      previousCommitHash = cHash;

      block.envelopes.forEach((envelope, i) => {
        transactions++;
        const code = block.validationCodes[i];
        let tx: ReturnType<typeof decodeTransaction>;
        try {
          tx = decodeTransaction(envelope);
        } catch (err) {
          if (code === ValidationCode.VALID) report(n, `block ${n} transaction ${i} is marked VALID but does not decode: ${(err as Error).message}`);
          return;
        }
        // The committer marks every later use of a transaction id DUPLICATE_TXID, and only those.
        const first = expectedIndex.get(tx.txId);
        if (code === ValidationCode.DUPLICATE_TXID) {
          if (!first) report(n, `block ${n} transaction ${i}: marked DUPLICATE_TXID, but no earlier transaction has the id ${tx.txId}`);
        } else if (first) {
          if (code === ValidationCode.VALID) report(n, `block ${n} transaction ${i}: transaction ${tx.txId} of block ${first.blockNumber} committed again as VALID (a replay must be DUPLICATE_TXID)`);
        } else {
          expectedIndex.set(tx.txId, { blockNumber: n, txIndex: i, code: code ?? -1 });
        }
        if (code !== ValidationCode.VALID) return;
        validTransactions++;
        if (tx.config) {
          if (n !== 0) report(n, `block ${n} transaction ${i}: a configuration transaction after the genesis block`);
          try {
            const config = JSON.parse(Buffer.from(tx.config).toString('utf8')) as GenesisConfig;
            msps = createMsps(config.orgs, () => new Date(tx.timestamp.seconds * 1000));
            namespace = config.chaincode;
          } catch (err) {
            report(n, `block ${n}: the genesis configuration does not parse: ${(err as Error).message}`);
          }
          return;
        }
        const action = tx.action;
        if (!action) return;
        if (options.signatures ?? true) {
          const checker = msps;
          if (!checker) report(n, `block ${n}: transaction ${tx.txId} before any channel configuration`);
          else pendingSignatures.push(checkSignatures(checker, tx, n, report));
        }
        let rw: ReturnType<typeof decodeTxRwSet>;
        try {
          rw = decodeTxRwSet(action.rwset, namespace);
        } catch (err) {
          report(n, `block ${n} transaction ${tx.txId}: read-write set does not decode: ${(err as Error).message}`);
          return;
        }
        world.apply({ txId: tx.txId, timestamp: tx.timestamp, writeSet: rw.writeSet }, { blockNum: n, txNum: i });
      });
    }
    await Promise.all(pendingSignatures);

    // The stored world state against the replayed one.
    let stateKeys = 0;
    const expected = world.range('', '')[Symbol.iterator]();
    let want = expected.next();
    const describe = (e: StateEntry) => `block ${e.version.blockNum} tx ${e.version.txNum}`;
    for (const row of store.stateRows()) {
      stateKeys++;
      // Keys the chain has but the store lacks, before this row.
      while (!want.done && compareUtf8(want.value[0], row.key) < 0) {
        report(want.value[1].version.blockNum, `state key ${JSON.stringify(want.value[0])} (written in ${describe(want.value[1])}) is missing from the state store`);
        want = expected.next();
      }
      if (want.done || want.value[0] !== row.key) {
        report(row.version.blockNum, `state key ${JSON.stringify(row.key)} is in the state store but no valid transaction wrote it (claims block ${row.version.blockNum})`);
        continue;
      }
      const entry = want.value[1];
      if (!entry.value.equals(row.value)) report(entry.version.blockNum, `state value of ${JSON.stringify(row.key)} differs from what ${describe(entry)} wrote`);
      if (!compareVersions(entry.version, row.version)) report(entry.version.blockNum, `state version of ${JSON.stringify(row.key)} is block ${row.version.blockNum} tx ${row.version.txNum}, the chain says ${describe(entry)}`);
      const a = encodeMetadata(new Map(entry.metadata));
      const b = encodeMetadata(new Map(row.metadata));
      if (!(a === null ? b === null : b !== null && a.equals(b))) report(entry.version.blockNum, `key metadata of ${JSON.stringify(row.key)} differs from what ${describe(entry)} wrote`);
      want = expected.next();
    }
    while (!want.done) {
      report(want.value[1].version.blockNum, `state key ${JSON.stringify(want.value[0])} (written in ${describe(want.value[1])}) is missing from the state store`);
      want = expected.next();
    }

    // Key history and transaction index.
    const seenHistory = new Map<string, number>();
    for (const { key, entry } of store.historyRows()) {
      const k = seenHistory.get(key) ?? 0;
      seenHistory.set(key, k + 1);
      const chain = world.history(key)[k];
      if (!chain || chain.txId !== entry.txId || chain.blockNum !== entry.blockNum || chain.txNum !== entry.txNum || chain.isDelete !== entry.isDelete || !chain.value.equals(entry.value)) {
        report(entry.blockNum, `history of ${JSON.stringify(key)} entry ${k} (block ${entry.blockNum}) differs from the chain`);
      }
    }
    for (const row of store.txRows()) {
      const want = expectedIndex.get(row.txId);
      if (!want || want.blockNumber !== row.blockNumber || want.txIndex !== row.txIndex || want.code !== row.validationCode) {
        report(row.blockNumber, `transaction index entry ${row.txId} (block ${row.blockNumber}) differs from the chain`);
      }
      expectedIndex.delete(row.txId);
    }
    for (const [txId, want] of expectedIndex) report(want.blockNumber, `transaction ${txId} of block ${want.blockNumber} is missing from the transaction index`);

    problems.sort((a, b) => a.blockNumber - b.blockNumber);
    return { ok: problems.length === 0, blocks: height, transactions, validTransactions, stateKeys, problems };
  } finally {
    store.close();
  }
}

/**
 * `verifyLedger` in a worker thread, so a process that serves (the VTN) keeps answering while a large
 * ledger is re-checked; the same report. Rejects with `LedgerError` UNAVAILABLE when the check
 * cannot run (no ledger there, a store it cannot open).
 */
export function verifyLedgerInWorker(dataDir: string, options: Readonly<VerifyOptions> = {}): Promise<VerifyReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { workerData: { dataDir, options: { ...options } } });
    worker.once('message', (m: { report?: VerifyReport; error?: string }) => {
      if (m.report !== undefined) resolve(m.report);
      else reject(new LedgerError('UNAVAILABLE', `the ledger in ${dataDir} could not be verified: ${m.error ?? 'no report'}`));
      void worker.terminate();
    });
    worker.once('error', (err) => reject(new LedgerError('UNAVAILABLE', `the verification of ${dataDir} stopped: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => reject(new LedgerError('UNAVAILABLE', `the verification of ${dataDir} ended (exit code ${code}) without a report`)));
  });
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function checkSignatures(
  msps: Msps,
  tx: ReturnType<typeof decodeTransaction>,
  n: number,
  report: (blockNumber: number, message: string) => void,
): Promise<void> {
  const creator = msps.check(tx.creator.bytes);
  if (!creator.ok || !(await msps.verify(creator.identity, tx.payloadBytes, tx.signature))) {
    report(n, `block ${n} transaction ${tx.txId}: the creator signature does not verify`);
  }
  const action = tx.action;
  if (!action) return;
  for (const e of action.endorsements) {
    const id = msps.check(e.endorser.bytes);
    if (!id.ok || !(await msps.verify(id.identity, Buffer.concat([action.proposalResponsePayload, e.endorser.bytes]), e.signature))) {
      report(n, `block ${n} transaction ${tx.txId}: the endorsement of ${e.endorser.mspId} does not verify`);
    }
  }
}

export interface ListBlocksOptions {
  /** First block, default 0. */
  readonly from?: number;
  /** At most this many blocks, default 100. */
  readonly limit?: number;
}

/** Blocks of a data directory (the ledger must not be running). */
export function listBlocks(dataDir: string, options: Readonly<ListBlocksOptions> = {}): BlockInfo[] {
  return withStore(dataDir, (store) => {
    try {
      return store.blocks(options.from ?? 0, options.limit ?? 100).map((b) => blockInfoOf(b.bytes, b.hash));
    } catch (err) {
      throw new LedgerError('UNAVAILABLE', `cannot read the blocks of ${dataDir}: ${(err as Error).message}`, { cause: err });
    }
  });
}
