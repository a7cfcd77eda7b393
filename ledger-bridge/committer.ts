/**
 * The committing peer: turns a cut batch of envelopes into the next block, as a Fabric 2.5 peer's
 * validator and committer do.
 *
 * 1. Checks every transaction independently (in parallel; signatures on the thread pool): well-formed
 *    (BAD_PAYLOAD), creator identity and envelope signature (BAD_CREATOR_SIGNATURE), our chaincode and a
 *    successful response (INVALID_ENDORSER_TRANSACTION), and the endorsements: each one's identity must
 *    be valid in its MSP and its signature over `proposal_response_payload ‖ endorser` must verify; a bad
 *    endorsement counts for nothing.
 * 2. Then, in block order inside one store transaction: duplicate transaction id (DUPLICATE_TXID); the
 *    endorsement policy — a key's own policy (VALIDATION_PARAMETER metadata, as committed by the
 *    transactions before it) for each key the transaction writes, the function's chaincode-level policy
 *    for the other keys (ENDORSEMENT_POLICY_FAILURE); MVCC and phantom reads against the state including
 *    the valid transactions before it in the block (MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT); the
 *    writes of a valid transaction are applied at version (block, index).
 * 3. The block, hash-chained, with every transaction and its code in TRANSACTIONS_FILTER, is appended in
 *    the same store transaction: durable before anyone hears "committed".
 */
import { computeTxId } from '../chaincode/testing/index.ts';
import type { ReadSet, WriteSet } from '../chaincode/testing/rwset.ts';
import { buildBlock, type BuiltBlock } from './block.ts';
import {
  decodeTransaction,
  decodeTxRwSet,
  type DecodedTransaction,
} from './fabric-messages.ts';
import { ValidationCode } from './ledger.ts';
import type { Msps, ValidIdentity } from './msp.ts';
import { decodePolicy, evaluatePolicy, type Policy } from './policy.ts';
import type { LedgerStore } from './store.ts';

export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export interface CommitterOptions {
  readonly store: LedgerStore;
  readonly msps: Msps;
  readonly channelId: string;
  readonly chaincodeName: string;
  /** The chaincode-level endorsement policy of a contract function. */
  readonly policyFor: (fn: string) => Policy;
}

export interface CommittedTx {
  readonly txId: string;
  readonly code: number;
}

export interface CommittedBlock {
  readonly number: number;
  readonly hash: Buffer;
  readonly txs: readonly CommittedTx[];
}

export interface Committer {
  /** Number of blocks on the ledger. */
  readonly height: number;
  /** Validates and commits one block. Calls must not overlap (the ledger runs them one at a time). */
  commit(envelopes: readonly Uint8Array[]): Promise<CommittedBlock>;
}

interface Checked {
  code: number;
  tx?: DecodedTransaction;
  signers?: ValidIdentity[];
  rw?: { readSet: ReadSet; writeSet: WriteSet };
}

export function createCommitter(options: Readonly<CommitterOptions>): Committer {
  const { store, msps, channelId, chaincodeName } = options;
  const world = store.worldState;
  let height = store.height();
  const last = height > 0 ? store.block(height - 1) : undefined;
  let previousHash: Uint8Array = last?.hash ?? new Uint8Array(0);
  let previousCommitHash: Uint8Array = last?.commitHash ?? new Uint8Array(0);

  async function check(envelope: Uint8Array, blockNumber: number): Promise<Checked> {
    let tx: DecodedTransaction;
    try {
      tx = decodeTransaction(envelope);
    } catch {
      return { code: ValidationCode.BAD_PAYLOAD };
    }
    if (tx.channelId !== channelId) return { code: ValidationCode.BAD_PAYLOAD, tx };
    if (tx.config) return { code: blockNumber === 0 ? ValidationCode.VALID : ValidationCode.BAD_PAYLOAD, tx };
    const action = tx.action;
    if (!action) return { code: ValidationCode.BAD_PAYLOAD, tx };
    if (computeTxId(tx.nonce, tx.creator.bytes) !== tx.txId) return { code: ValidationCode.BAD_PROPOSAL_TXID, tx };
    const creator = msps.check(tx.creator.bytes);
    if (!creator.ok || !(await msps.verify(creator.identity, tx.payloadBytes, tx.signature))) {
      return { code: ValidationCode.BAD_CREATOR_SIGNATURE, tx };
    }
    if (action.chaincodeName !== chaincodeName || action.response.status >= 400) {
      return { code: ValidationCode.INVALID_ENDORSER_TRANSACTION, tx };
    }
    const verified = await Promise.all(
      action.endorsements.map(async (e) => {
        const id = msps.check(e.endorser.bytes);
        if (!id.ok) return undefined;
        const ok = await msps.verify(id.identity, Buffer.concat([action.proposalResponsePayload, e.endorser.bytes]), e.signature);
        return ok ? id.identity : undefined;
      }),
    );
    // The same identity endorsing twice counts once (Fabric deduplicates signed data by identity).
    const signers: ValidIdentity[] = [];
    for (const s of verified) if (s && !signers.some((o) => o.certificatePem === s.certificatePem)) signers.push(s);
    let rw: Checked['rw'];
    try {
      rw = decodeTxRwSet(action.rwset, chaincodeName);
    } catch {
      return { code: ValidationCode.BAD_PAYLOAD, tx };
    }
    return { code: ValidationCode.VALID, tx, signers, rw };
  }

  function policySatisfied(fn: string, writeSet: WriteSet, signers: readonly ValidIdentity[]): boolean {
    const keys = new Set<string>([...writeSet.writes.map((w) => w.key), ...writeSet.metadataWrites.map((m) => m.key)]);
    let chaincodeLevel = keys.size === 0;
    for (const key of keys) {
      const parameter = world.get(key)?.metadata.get(VALIDATION_PARAMETER);
      if (!parameter || parameter.length === 0) {
        chaincodeLevel = true;
        continue;
      }
      let keyPolicy: Policy;
      try {
        keyPolicy = decodePolicy(parameter);
      } catch {
        return false;
      }
      if (!evaluatePolicy(keyPolicy, signers)) return false;
    }
    return !chaincodeLevel || evaluatePolicy(options.policyFor(fn), signers);
  }

  async function commit(envelopes: readonly Uint8Array[]): Promise<CommittedBlock> {
    const number = height;
    const checked = await Promise.all(envelopes.map((e) => check(e, number)));
    let built: BuiltBlock | undefined;
    const txs: CommittedTx[] = [];
    store.atomically(() => {
      const seen = new Set<string>();
      checked.forEach((c, i) => {
        const txId = c.tx?.txId ?? '';
        let code = c.code;
        if (code === ValidationCode.VALID && c.tx && (seen.has(txId) || world.hasTransaction(txId))) code = ValidationCode.DUPLICATE_TXID;
        if (code === ValidationCode.VALID && c.tx?.action && c.rw && c.signers) {
          const fn = c.tx.action.args[0] ?? '';
          if (!policySatisfied(fn, c.rw.writeSet, c.signers)) code = ValidationCode.ENDORSEMENT_POLICY_FAILURE;
          else {
            const result = world.validate(txId, c.rw.readSet);
            code = ValidationCode[result];
            if (code === ValidationCode.VALID) {
              world.apply({ txId, timestamp: c.tx.timestamp, writeSet: c.rw.writeSet }, { blockNum: number, txNum: i });
            }
          }
        }
        if (txId !== '' && code !== ValidationCode.DUPLICATE_TXID) {
          store.indexTransaction(txId, { blockNumber: number, txIndex: i, validationCode: code });
        }
        if (txId !== '') seen.add(txId);
        txs.push({ txId, code });
      });
      built = buildBlock(number, previousHash, previousCommitHash, envelopes, txs.map((t) => t.code));
      store.appendBlock(built);
    });
    const block = built as unknown as BuiltBlock;
    height = number + 1;
    previousHash = block.hash;
    previousCommitHash = block.commitHash;
    return { number, hash: block.hash, txs };
  }

  return {
    get height() {
      return height;
    },
    commit,
  };
}
