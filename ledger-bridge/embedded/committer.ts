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
import { computeTxId } from '../fabric/fabric-proposal.ts';
import type { ReadSet, TimestampObject, WriteSet } from '../fabric/rwset.ts';
import type { PreparedTransaction } from './client-transaction.ts';
import { buildBlock, type BuiltBlock } from './block.ts';
import { decodeTransaction, decodeTxRwSet } from '../fabric/fabric-messages.ts';
import { ValidationCode } from '../ledger.ts';
import type { Msps, ValidIdentity } from './msp.ts';
import { decodePolicy, evaluatePolicy, VALIDATION_PARAMETER, type Policy } from './policy.ts';
import type { SignatureMemo } from './signature-memo.ts';
import type { LedgerStore } from './store.ts';

export interface CommitterOptions {
  readonly store: LedgerStore;
  readonly msps: Msps;
  readonly channelId: string;
  readonly chaincodeName: string;
  /** The chaincode-level endorsement policy of a contract function. */
  readonly policyFor: (fn: string) => Policy;
  /**
   * The decoded form of an envelope this process built itself (see `PreparedTransaction`): used instead
   * of decoding the bytes again. Its signatures are verified all the same.
   */
  readonly preparedOf?: (envelope: Uint8Array) => PreparedTransaction | undefined;
  /**
   * Signatures this process made (see `signature-memo.ts`): consulted for the envelopes `preparedOf`
   * knows, and only for them; a signature it does not know is verified with ECDSA.
   */
  readonly memo?: SignatureMemo;
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
  /**
   * Validates and commits consecutive blocks in ONE store transaction (group commit: one fsync for
   * all): each block is validated against the state the blocks before it left; all of them become
   * durable together, or none (a crash or a store error leaves none of them).
   */
  commitBlocks(batches: readonly (readonly Uint8Array[])[]): Promise<CommittedBlock[]>;
}

interface Checked {
  code: number;
  /** '' when the envelope could not be read. */
  txId: string;
  /** Set for a well-formed endorser transaction that passed the stateless checks. */
  valid?: {
    fn: string;
    timestamp: TimestampObject;
    signers: ValidIdentity[];
    rw: { readSet: ReadSet; writeSet: WriteSet };
  };
}

interface Endorsement {
  readonly endorser: Uint8Array;
  readonly signature: Uint8Array;
}

export function createCommitter(options: Readonly<CommitterOptions>): Committer {
  const { store, msps, channelId, chaincodeName } = options;
  const world = store.worldState;
  let height = store.height();
  const last = height > 0 ? store.block(height - 1) : undefined;
  let previousHash: Uint8Array = last?.hash ?? new Uint8Array(0);
  let previousCommitHash: Uint8Array = last?.commitHash ?? new Uint8Array(0);

  /**
   * ECDSA check of `parts` (concatenated) against the identity; `known` lets a signature found in the
   * memo of our own signatures through without the curve arithmetic (in-process envelopes only).
   */
  function verifySignature(identity: ValidIdentity, parts: readonly Uint8Array[], signature: Uint8Array, known: boolean): boolean | Promise<boolean> {
    if (known && options.memo?.consume(identity.certificatePem, parts, signature)) return true;
    return msps.verify(identity, parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts), signature);
  }

  /** The endorsers whose signature over `proposal_response_payload ‖ endorser` verifies, each once. */
  async function verifiedSigners(proposalResponsePayload: Uint8Array, endorsements: readonly Endorsement[], known = false): Promise<ValidIdentity[]> {
    const verified = await Promise.all(
      endorsements.map(async (e) => {
        const id = msps.check(e.endorser);
        if (!id.ok) return undefined;
        const ok = await verifySignature(id.identity, [proposalResponsePayload, e.endorser], e.signature, known);
        return ok ? id.identity : undefined;
      }),
    );
    // The same identity endorsing twice counts once (Fabric deduplicates signed data by identity).
    const signers: ValidIdentity[] = [];
    for (const s of verified) if (s && !signers.some((o) => o.certificatePem === s.certificatePem)) signers.push(s);
    return signers;
  }

  async function creatorSigned(creatorBytes: Uint8Array, payloadBytes: Uint8Array, signature: Uint8Array, known = false): Promise<boolean> {
    const creator = msps.check(creatorBytes);
    return creator.ok && (await verifySignature(creator.identity, [payloadBytes], signature, known));
  }

  /** The stateless checks of an envelope this process built (its decoded form at hand). */
  async function checkPrepared(tx: PreparedTransaction, blockNumber: number): Promise<Checked> {
    const txId = tx.txId;
    if (tx.channelId !== channelId || blockNumber === 0) return { code: ValidationCode.BAD_PAYLOAD, txId };
    if (computeTxId(tx.nonce, tx.creator) !== txId) return { code: ValidationCode.BAD_PROPOSAL_TXID, txId };
    const [creatorOk, signers] = await Promise.all([
      creatorSigned(tx.creator, tx.payloadBytes, tx.signature, true),
      verifiedSigners(tx.proposalResponsePayload, tx.endorsements, true),
    ]);
    if (!creatorOk) return { code: ValidationCode.BAD_CREATOR_SIGNATURE, txId };
    if (tx.chaincodeName !== chaincodeName || tx.status >= 400) return { code: ValidationCode.INVALID_ENDORSER_TRANSACTION, txId };
    return { code: ValidationCode.VALID, txId, valid: { fn: tx.fn, timestamp: tx.timestamp, signers, rw: { readSet: tx.readSet, writeSet: tx.writeSet } } };
  }

  async function check(envelope: Uint8Array, blockNumber: number): Promise<Checked> {
    const prepared = options.preparedOf?.(envelope);
    if (prepared) return checkPrepared(prepared, blockNumber);
    let tx;
    try {
      tx = decodeTransaction(envelope);
    } catch {
      return { code: ValidationCode.BAD_PAYLOAD, txId: '' };
    }
    const txId = tx.txId;
    if (tx.channelId !== channelId) return { code: ValidationCode.BAD_PAYLOAD, txId };
    if (tx.config) return { code: blockNumber === 0 ? ValidationCode.VALID : ValidationCode.BAD_PAYLOAD, txId };
    const action = tx.action;
    if (!action) return { code: ValidationCode.BAD_PAYLOAD, txId };
    if (computeTxId(tx.nonce, tx.creator.bytes) !== txId) return { code: ValidationCode.BAD_PROPOSAL_TXID, txId };
    if (!(await creatorSigned(tx.creator.bytes, tx.payloadBytes, tx.signature))) return { code: ValidationCode.BAD_CREATOR_SIGNATURE, txId };
    if (action.chaincodeName !== chaincodeName || action.response.status >= 400) {
      return { code: ValidationCode.INVALID_ENDORSER_TRANSACTION, txId };
    }
    const signers = await verifiedSigners(action.proposalResponsePayload, action.endorsements.map((e) => ({ endorser: e.endorser.bytes, signature: e.signature })));
    let rw: { readSet: ReadSet; writeSet: WriteSet };
    try {
      rw = decodeTxRwSet(action.rwset, chaincodeName);
    } catch {
      return { code: ValidationCode.BAD_PAYLOAD, txId };
    }
    return { code: ValidationCode.VALID, txId, valid: { fn: action.args[0] ?? '', timestamp: tx.timestamp, signers, rw } };
  }

  function policySatisfied(fn: string, writeSet: WriteSet, signers: readonly ValidIdentity[]): boolean {
    const keys = new Set<string>([...writeSet.writes.map((w) => w.key), ...writeSet.metadataWrites.map((m) => m.key)]);
    let chaincodeLevel = keys.size === 0;
    for (const key of keys) {
      const parameter = store.keyMetadata(key, VALIDATION_PARAMETER);
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

  /** Validates one block's transactions in order and appends the block; inside the store transaction. */
  function commitChecked(number: number, envelopes: readonly Uint8Array[], checked: readonly Checked[]): { block: CommittedBlock; built: BuiltBlock } {
    const txs: CommittedTx[] = [];
    const seen = new Set<string>();
    checked.forEach((c, i) => {
      const txId = c.txId;
      let code = c.code;
      if (code === ValidationCode.VALID && txId !== '' && (seen.has(txId) || world.hasTransaction(txId))) code = ValidationCode.DUPLICATE_TXID;
      const v = c.valid;
      if (code === ValidationCode.VALID && v) {
        if (!policySatisfied(v.fn, v.rw.writeSet, v.signers)) code = ValidationCode.ENDORSEMENT_POLICY_FAILURE;
        else {
          // The transaction id was checked just above (DUPLICATE_TXID): only the reads are left.
          const result = store.validateReads(v.rw.readSet);
          code = ValidationCode[result];
          if (code === ValidationCode.VALID) {
            world.apply({ txId, timestamp: v.timestamp, writeSet: v.rw.writeSet }, { blockNum: number, txNum: i });
          }
        }
      }
      if (txId !== '' && code !== ValidationCode.DUPLICATE_TXID) {
        store.indexTransaction(txId, { blockNumber: number, txIndex: i, validationCode: code });
      }
      if (txId !== '') seen.add(txId);
      txs.push({ txId, code });
    });
    const built = buildBlock(number, previousHash, previousCommitHash, envelopes, txs.map((t) => t.code));
    store.appendBlock(built);
    previousHash = built.hash;
    previousCommitHash = built.commitHash;
    return { block: { number, hash: built.hash, txs }, built };
  }

  async function commitBlocks(batches: readonly (readonly Uint8Array[])[]): Promise<CommittedBlock[]> {
    const first = height;
    // The stateless checks (signatures on the thread pool) of every block at once; then the blocks in order.
    const checked = await Promise.all(batches.map((envelopes, b) => Promise.all(envelopes.map((e) => check(e, first + b)))));
    const saved = { previousHash, previousCommitHash };
    const blocks: CommittedBlock[] = [];
    try {
      store.atomically(() => {
        batches.forEach((envelopes, b) => blocks.push(commitChecked(first + b, envelopes, checked[b] as Checked[]).block));
      });
    } catch (err) {
      // Rolled back: none of these blocks exists.
      previousHash = saved.previousHash;
      previousCommitHash = saved.previousCommitHash;
      throw err;
    }
    height = first + batches.length;
    return blocks;
  }

  return {
    get height() {
      return height;
    },
    commit: async (envelopes) => (await commitBlocks([envelopes]))[0] as CommittedBlock,
    commitBlocks,
  };
}
