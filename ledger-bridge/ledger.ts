/**
 * The `Ledger` interface: what the VTN needs of a permissioned ledger, implemented by the embedded
 * ledger (default, in-process, Fabric-faithful) and by the Fabric connector (real peers through the
 * Fabric Gateway). Same calls, same errors, same semantics on both.
 */
import type { webcrypto } from 'node:crypto';

/** An X.509 identity that signs what it submits: a Fabric client identity. */
export interface LedgerIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  /** ECDSA P-256 private key (WebCrypto `CryptoKey`, or PKCS#8 PEM). */
  readonly privateKey: webcrypto.CryptoKey | string;
}

/** A retailer's ledger identity: its certificate's `ID` attribute (the contract's retailer id) and the identity. */
export interface RetailerIdentity {
  readonly retailerId: string;
  readonly identity: LedgerIdentity;
}

export interface SubmitOptions {
  /** Transient data (never written to the ledger). */
  readonly transient?: Readonly<Record<string, Uint8Array | string>>;
  /** How long to wait for the commit, default 30 s. */
  readonly timeoutMs?: number;
}

export interface SubmitResult {
  readonly txId: string;
  /** The transaction's return value as the contract wrote it (JSON text for our contract). */
  readonly result: string;
  readonly blockNumber: number;
}

/** A contract event, delivered once its transaction committed valid. */
export interface ContractEvent {
  readonly blockNumber: number;
  readonly txId: string;
  /** Index of the transaction in its block. */
  readonly txIndex: number;
  readonly name: string;
  readonly payload: Uint8Array;
}

export interface EventsOptions {
  /** First block to deliver events from (inclusive). Default: the next block to be committed. */
  readonly startBlock?: number;
  /** Ends the iteration. */
  readonly signal?: AbortSignal;
}

/** Fabric's transaction validation codes (peer.TxValidationCode), the ones we produce. */
export const ValidationCode = {
  VALID: 0,
  BAD_PAYLOAD: 2,
  BAD_CREATOR_SIGNATURE: 4,
  INVALID_ENDORSER_TRANSACTION: 5,
  BAD_PROPOSAL_TXID: 8,
  DUPLICATE_TXID: 9,
  ENDORSEMENT_POLICY_FAILURE: 10,
  MVCC_READ_CONFLICT: 11,
  PHANTOM_READ_CONFLICT: 12,
} as const;
export type ValidationCodeName = keyof typeof ValidationCode;

export interface TransactionInfo {
  readonly txId: string;
  readonly validationCode: ValidationCodeName;
  readonly creatorMspId: string;
  /** ISO time of the transaction timestamp (the client's). */
  readonly timestamp: string;
  /** The contract function called, and its arguments. */
  readonly fn: string;
  readonly args: readonly string[];
  /** MSP ids of the endorsers whose signatures the transaction carries. */
  readonly endorsers: readonly string[];
}

export interface BlockInfo {
  readonly number: number;
  /** Hex SHA-256 of the block header (number, previous hash, data hash), as Fabric computes it. */
  readonly hash: string;
  readonly previousHash: string;
  readonly dataHash: string;
  readonly transactions: readonly TransactionInfo[];
}

export interface Ledger {
  /** Endorse → order → commit. Resolves once the transaction is committed valid; otherwise a `LedgerError`. */
  submit(identity: LedgerIdentity, fn: string, args: readonly string[], options?: SubmitOptions): Promise<SubmitResult>;
  /** Read-only call on the committed state; nothing is ordered. */
  evaluate(identity: LedgerIdentity, fn: string, args: readonly string[]): Promise<string>;
  /** Contract events in commit order, resumable from a block number. */
  events(options?: EventsOptions): AsyncIterable<ContractEvent>;
  /** Number of blocks (the next block's number). */
  height(): Promise<number>;
  block(number: number): Promise<BlockInfo>;
  transaction(txId: string): Promise<TransactionInfo & { readonly blockNumber: number }>;
  close(): Promise<void>;
}
