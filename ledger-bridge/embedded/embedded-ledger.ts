/**
 * The folder embedded/ is the embedded ledger's engine: peer/ (the emulated Fabric peer that runs the
 * contract), endorsers and their worker pool, MSP and policies, signers and the signature memo, the
 * batch cutter, committer, block store, verify and the `ledger verify|blocks` command. It may depend on
 * the part's top (ledger.ts, errors.ts), fabric/ (Fabric's wire formats), chaincode/ and certs/.
 *
 * The embedded ledger: a one-channel Fabric network in the process, behind the `Ledger` interface.
 *
 *   submit ─▶ SignedProposal (client identity) ─▶ endorse: each org the function's policy needs runs
 *   the contract and signs its ProposalResponse ─▶ Envelope (client signs) ─▶ submitEnvelope ─▶ batch
 *   cutter (BatchTimeout / MaxMessageCount / PreferredMaxBytes) ─▶ committer (signatures, policies,
 *   MVCC, one durable SQLite transaction per block or per group of blocks cut during a commit) ─▶
 *   commitStatus ─▶ submit resolves.
 *
 * For the default DR contract the first three steps run in endorsement worker threads
 * (`endorsement-pool.ts`) that read committed state through their own read-only store connection;
 * the envelope comes back with its decoded form (`PreparedTransaction`), whose signatures the committer
 * verifies like any other.
 *
 * `endorse(SignedProposal)`, `submitEnvelope(Envelope)` and `commitStatus(txId)` are the same steps a
 * Fabric Gateway service offers (Endorse, Submit, CommitStatus), so a gRPC front can serve real Fabric
 * clients from this pipeline.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { Contract } from 'fabric-contract-api';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DrContract } from '../../chaincode/index.ts';
import { contractMetadata as drContractMetadata } from '../../chaincode/index.ts';
import { decodeBlock } from './block.ts';
import { createBatchCutter, type BatchOptions } from './batch-cutter.ts';
import { createCommitter, type CommittedBlock } from './committer.ts';
import { collectEndorsements, runClientJob, type ClientJob, type ClientKey, type ClientOutcome, type PreparedTransaction } from './client-transaction.ts';
import { createEndorsementPool, type EndorsementPool } from './endorsement-pool.ts';
import { createEndorser, type Endorser } from './endorser.ts';
import { contractError, LedgerError, validationError } from '../errors.ts';
import { decodeProposal, decodeTransaction, HEADER_TYPE_CONFIG, type DecodedProposal } from '../fabric/fabric-messages.ts';
import {
  ValidationCode,
  type BlockInfo,
  type ContractEvent,
  type EventsOptions,
  type Ledger,
  type LedgerIdentity,
  type SubmitOptions,
  type SubmitResult,
  type TransactionInfo,
  type ValidationCodeName,
} from '../ledger.ts';
import { createMsps } from './msp.ts';
import { loadOrCreateOrgs, type OrgConfig } from './orgs.ts';
import { endorsingOrgs, formatPolicy, parsePolicy, type Policy } from './policy.ts';
import { createSignatureMemo } from './signature-memo.ts';
import { keyObjectOf } from './signer.ts';
import { openStore } from './store.ts';

export interface PolicyOptions {
  /** Chaincode-level policy of every function not listed. Default: any one org's peer (OR over the orgs). */
  readonly default?: string;
  /** Per-function policies. Default: flexibility claims and governance changes need every org's peer (AND). */
  readonly functions?: Readonly<Record<string, string>>;
}

export interface EmbeddedLedgerOptions {
  /** Where the store (and, when `orgs` is absent, the org certificates under `certs/`) live. */
  readonly dataDir: string;
  /** The contract, a class or an instance. Default: the DR contract. */
  readonly contract?: Contract | (new () => Contract);
  /** The chaincode's META-INF/metadata.json. Default: the DR contract's when the contract is the default. */
  readonly contractMetadata?: object;
  /** Default 'mychannel'. */
  readonly channel?: string;
  /** Default 'oadr-dr'. */
  readonly chaincodeName?: string;
  /** Organisations with their peer identity and root CAs. Default: Org1MSP and Org2MSP from `<dataDir>/certs`. */
  readonly orgs?: readonly OrgConfig[];
  readonly policies?: PolicyOptions;
  readonly batch?: Partial<BatchOptions>;
  /** Transaction timestamps (certificates are always checked against the wall clock). Default: the wall clock. */
  readonly clock?: () => Date;
  /**
   * Worker threads that endorse `submit` and `evaluate` calls (client and peer signatures, the contract
   * run) beside the thread that orders and commits. Only for the default DR contract (a contract given
   * as an object stays on the calling thread). A number starts that many with the ledger (0 = none).
   * Default: 1 per CPU (at most 4), started in the background once
   * `WORKER_START_IN_FLIGHT` calls are in flight at once; until they are up, the ledger's thread endorses.
   */
  readonly endorsementWorkers?: number;
  /**
   * Verify with ECDSA at commit even the signatures this process made for its own submits (default
   * false: they are checked against the memo of own signatures, see docs/ledger.md; ~2 × 65 µs of CPU
   * more per transaction when true). Signatures from outside are always verified.
   */
  readonly verifyOwnSignatures?: boolean;
}

/**
 * Default BatchTimeout 25 ms (Fabric's is 2 s): a lone transaction commits within ~25 ms plus the block's
 * fsync, and under load MaxMessageCount cuts blocks before the timer does (see docs/ledger.md).
 */
export const DEFAULT_BATCH: BatchOptions = { timeoutMs: 25, maxMessageCount: 500, preferredMaxBytes: 2 * 1024 * 1024 };
export const DEFAULT_CHANNEL = 'mychannel';
/** Most blocks committed in one store transaction (group commit). */
const MAX_GROUP_BLOCKS = 32;
/** Calls in flight at once that make a ledger start its default endorsement workers. */
export const WORKER_START_IN_FLIGHT = 8;
export const DEFAULT_CHAINCODE = 'oadr-dr';
/** Functions that write flexibility claims: both the aggregator's and the operator's org must endorse. */
export const FLEXIBILITY_FUNCTIONS = ['submitFlexibility', 'validateFlexibility'] as const;
/**
 * Functions that change the program's governance: every org's peer must endorse. After the first
 * change the contract's key-level policy on the `program` key (its governance orgs) decides instead;
 * this chaincode-level policy covers the first one, made before that key has a policy.
 */
export const GOVERNANCE_FUNCTIONS = ['setProgramParams'] as const;

export interface CommitStatus {
  readonly txId: string;
  readonly blockNumber: number;
  readonly validationCode: ValidationCodeName;
}

export interface EndorseRequestOptions {
  /** MSP ids of the peers to ask. Default: a set that can satisfy the function's chaincode-level policy. */
  readonly orgs?: readonly string[];
}

/** A peer's answer to a proposal, with the MSP of the peer that gave it (also when it refused). */
export interface OrgResponse {
  readonly mspId: string;
  readonly response: peer.ProposalResponse;
}

/** A stored block as Fabric serializes it (`common.Block`). */
export interface StoredBlockBytes {
  readonly number: number;
  readonly bytes: Uint8Array;
}

export interface EmbeddedLedger extends Ledger {
  /** Endorsement by the peers of the given (or the policy's) orgs: Fabric Gateway's Endorse step. */
  endorse(signed: peer.SignedProposal, options?: EndorseRequestOptions): Promise<peer.ProposalResponse[]>;
  /** `endorse`, each answer with the MSP of its peer. */
  endorseByOrg(signed: peer.SignedProposal, options?: EndorseRequestOptions): Promise<OrgResponse[]>;
  /** The stored `common.Block` bytes of block `number`, as committed; undefined beyond the height. */
  blockBytes(number: number): Promise<Uint8Array | undefined>;
  /** Stored blocks from `startBlock` (default: the next to commit) on, waiting for new ones until the signal aborts or the ledger closes. */
  blocks(options?: EventsOptions): AsyncIterable<StoredBlockBytes>;
  /** Hands a signed transaction to the orderer; resolves with its id once queued (Gateway's Submit). */
  submitEnvelope(envelope: common.Envelope | Uint8Array): Promise<string>;
  /** Waits until the transaction is in a block (Gateway's CommitStatus). */
  commitStatus(txId: string, options?: { readonly timeoutMs?: number }): Promise<CommitStatus>;
  readonly channel: string;
  readonly chaincodeName: string;
  readonly orgs: readonly OrgConfig[];
  /** Endorsement worker threads running now (0 until the default ones started, or when there are none). */
  readonly endorsementWorkers: number;
  /** The chaincode-level policy of a function, in the policy language. */
  policyOf(fn: string): string;
  /** The store's error when the last block commit failed (disk full, I/O error); undefined once a block commits again. */
  readonly storeError: Error | undefined;
  /** Throws when the store cannot commit a write now (full disk…), before any block commit fails (readiness). */
  probeWrite(): void;
}

const CODE_NAMES = new Map<number, ValidationCodeName>(Object.entries(ValidationCode).map(([name, n]) => [n, name as ValidationCodeName]));

export function validationCodeName(code: number): ValidationCodeName {
  return CODE_NAMES.get(code) ?? 'BAD_PAYLOAD';
}

function isoOf(t: { seconds: number; nanos: number }): string {
  return new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
}

/** Reads a stored block into what an explorer shows. */
export function blockInfoOf(bytes: Uint8Array, hash: Uint8Array): BlockInfo {
  const block = decodeBlock(bytes);
  const transactions = block.envelopes.map((envelope, i): TransactionInfo => {
    const code = validationCodeName(block.validationCodes[i] ?? ValidationCode.BAD_PAYLOAD);
    try {
      const tx = decodeTransaction(envelope);
      return {
        txId: tx.txId,
        validationCode: code,
        creatorMspId: tx.creator.mspId,
        timestamp: isoOf(tx.timestamp),
        fn: tx.action?.args[0] ?? (tx.type === HEADER_TYPE_CONFIG ? 'config' : ''),
        args: tx.action?.args.slice(1) ?? [],
        endorsers: tx.action?.endorsements.map((e) => e.endorser.mspId) ?? [],
      };
    } catch {
      return { txId: '', validationCode: code, creatorMspId: '', timestamp: '', fn: '', args: [], endorsers: [] };
    }
  });
  return {
    number: block.number,
    hash: Buffer.from(hash).toString('hex'),
    previousHash: block.previousHash.toString('hex'),
    dataHash: block.dataHash.toString('hex'),
    transactions,
  };
}

/** The contract events of a stored block: one per valid transaction that set one, in block order. */
export function eventsOfBlock(bytes: Uint8Array): ContractEvent[] {
  const block = decodeBlock(bytes);
  const out: ContractEvent[] = [];
  block.envelopes.forEach((envelope, i) => {
    if (block.validationCodes[i] !== ValidationCode.VALID) return;
    const tx = decodeTransaction(envelope);
    const event = tx.action?.event;
    if (event) out.push({ blockNumber: block.number, txId: tx.txId, txIndex: i, name: event.name, payload: event.payload });
  });
  return out;
}

function genesisEnvelope(channelId: string, config: object, now: Date): Uint8Array {
  const data = Buffer.from(JSON.stringify(config), 'utf8');
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(HEADER_TYPE_CONFIG);
  channelHeader.setChannelId(channelId);
  channelHeader.setTxId(createHash('sha256').update(data).digest('hex'));
  const ms = now.getTime();
  const timestamp = new Timestamp();
  timestamp.setSeconds(Math.floor(ms / 1000));
  timestamp.setNanos((ms % 1000) * 1e6);
  channelHeader.setTimestamp(timestamp as never);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(new common.SignatureHeader().serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(data);
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}

interface Waiter {
  resolve(status: CommitStatus): void;
  reject(err: LedgerError): void;
}

const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => { setSeconds(s: number): void; setNanos(n: number): void };
};

export async function createEmbeddedLedger(options: Readonly<EmbeddedLedgerOptions>): Promise<EmbeddedLedger> {
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const chaincodeName = options.chaincodeName ?? DEFAULT_CHAINCODE;
  const clock = options.clock ?? (() => new Date());
  const batch: BatchOptions = { ...DEFAULT_BATCH, ...options.batch };
  const orgs = options.orgs ?? (await loadOrCreateOrgs(join(options.dataDir, 'certs')));
  if (orgs.length === 0) throw new LedgerError('UNAVAILABLE', 'the embedded ledger needs at least one organisation; pass orgs or leave it out');
  const contractOption = options.contract ?? DrContract;
  const contract: Contract = typeof contractOption === 'function' ? new contractOption() : contractOption;
  const contractMetadata = options.contractMetadata ?? (options.contract === undefined ? drContractMetadata() : undefined);

  const peers = orgs.map((o) => `'${o.mspId}.peer'`).join(',');
  const defaultPolicy = parsePolicy(options.policies?.default ?? `OR(${peers})`);
  const functionPolicies = new Map<string, Policy>();
  for (const fn of [...FLEXIBILITY_FUNCTIONS, ...GOVERNANCE_FUNCTIONS]) functionPolicies.set(fn, parsePolicy(`AND(${peers})`));
  for (const [fn, text] of Object.entries(options.policies?.functions ?? {})) functionPolicies.set(fn, parsePolicy(text));
  const policyFor = (fn: string): Policy => functionPolicies.get(fn) ?? defaultPolicy;

  const store = openStore(options.dataDir);
  // Certificates are checked against the wall clock (as a peer does), not the transaction clock.
  const msps = createMsps(orgs);
  // Envelopes this process built, with their decoded form: the committer does not decode them again.
  const preparedEnvelopes = new WeakMap<Uint8Array, PreparedTransaction>();
  // Signatures this process made for its own submits: the committer need not verify them again
  // (see signature-memo.ts for the exact rule and the trade-off; outside envelopes are always verified).
  const memo = options.verifyOwnSignatures === true ? undefined : createSignatureMemo();
  const committer = createCommitter({ store, msps, channelId: channel, chaincodeName, policyFor, preparedOf: (e) => preparedEnvelopes.get(e), ...(memo ? { memo } : {}) });
  const endorsers = new Map<string, Endorser>(
    orgs.map((o) => [
      o.mspId,
      createEndorser({ world: store.worldState, contract, ...(contractMetadata ? { contractMetadata } : {}), channelId: channel, chaincodeName, peer: o.peer, msps }),
    ]),
  );

  const waiters = new Map<string, Waiter[]>();
  const blockListeners = new Set<() => void>();
  const pendingBatches: Uint8Array[][] = [];
  const inflight = new Set<Promise<unknown>>();
  let draining: Promise<void> | undefined;
  let storeError: Error | undefined;
  let closing = false;
  let closed = false;

  function notify(block: CommittedBlock): void {
    for (const tx of block.txs) {
      const list = waiters.get(tx.txId);
      if (!list) continue;
      // A duplicate never takes the first one's place: its waiters keep waiting for nothing new.
      if (tx.code === ValidationCode.DUPLICATE_TXID) continue;
      waiters.delete(tx.txId);
      const status: CommitStatus = { txId: tx.txId, blockNumber: block.number, validationCode: validationCodeName(tx.code) };
      for (const w of list) w.resolve(status);
    }
    for (const wake of [...blockListeners]) wake();
  }

  async function drain(): Promise<void> {
    while (pendingBatches.length > 0) {
      // Group commit: the blocks cut while the previous commit was running share one store transaction.
      const group = pendingBatches.splice(0, MAX_GROUP_BLOCKS);
      try {
        for (const block of await committer.commitBlocks(group)) notify(block);
        storeError = undefined;
      } catch (err) {
        // The store refused the blocks (disk full, I/O error): nothing of them was written. Their
        // submitters hear it now, with the store's own error, instead of at their timeout.
        storeError = err as Error;
        process.emitWarning(`embedded ledger: blocks ${committer.height}… (${group.length}) could not be committed: ${(err as Error).message}`);
        for (const envelope of group.flat()) {
          let txId: string;
          try {
            txId = preparedEnvelopes.get(envelope)?.txId ?? decodeTransaction(envelope).txId;
          } catch {
            continue;
          }
          const list = waiters.get(txId);
          if (list === undefined) continue;
          waiters.delete(txId);
          const failure = new LedgerError('UNAVAILABLE', `transaction ${txId} was not committed: the ledger's store could not write its block (${(err as Error).message}); nothing of it is on the ledger — submit it again once the store can write`, { txId, cause: err });
          for (const w of list) w.reject(failure);
        }
      }
    }
    draining = undefined;
  }

  const cutter = createBatchCutter(batch, (envelopes) => {
    pendingBatches.push(envelopes);
    draining ??= drain();
  });

  if (committer.height === 0) {
    const config = {
      channel,
      chaincode: chaincodeName,
      orgs: orgs.map((o) => ({ mspId: o.mspId, rootCertificates: o.rootCertificates })),
      policies: { default: formatPolicy(defaultPolicy), functions: Object.fromEntries([...functionPolicies].map(([fn, p]) => [fn, formatPolicy(p)])) },
      batch,
    };
    await committer.commit([genesisEnvelope(channel, config, clock())]);
  }

  let workerCount = options.contract === undefined ? (options.endorsementWorkers ?? defaultWorkerCount()) : 0;
  const poolStart = new AbortController();
  const startPool = () => createEndorsementPool({ size: workerCount, dataDir: options.dataDir, channel, chaincodeName, orgs, signal: poolStart.signal, ...(memo ? { memo } : {}) });
  let pool: EndorsementPool | undefined;
  let poolStarting: Promise<void> | undefined;
  if (workerCount > 0 && options.endorsementWorkers !== undefined) {
    try {
      pool = await startPool();
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /** The default workers start once the ledger is busy (short-lived and idle ledgers never pay for them). */
  function maybeStartPool(): void {
    if (pool || poolStarting || workerCount === 0 || closing || inflight.size < WORKER_START_IN_FLIGHT) return;
    poolStarting = startPool().then(
      async (started) => {
        if (closing || closed) await started.close();
        else pool = started;
      },
      (err: unknown) => {
        workerCount = 0;
        if (!closing) process.emitWarning(`embedded ledger: endorsing on the main thread: ${(err as Error).message}`);
      },
    );
  }
  const clientContext = { channelId: channel, chaincodeName, endorsers, ...(memo ? { record: memo.add } : {}) };
  const clientKeys = new WeakMap<LedgerIdentity, ClientKey>();

  /** Proposal → endorsement → (submit) envelope, on a worker when there is one. */
  function runJob(identity: LedgerIdentity, job: ClientJob): Promise<ClientOutcome> {
    const onWorker = pool?.prepare(identity, job);
    if (onWorker) return onWorker;
    let client = clientKeys.get(identity);
    if (!client) clientKeys.set(identity, (client = { mspId: identity.mspId, certificatePem: identity.certificatePem, key: keyObjectOf(identity) }));
    return runClientJob(clientContext, client, job).catch((err: unknown) => {
      throw new LedgerError('ENDORSEMENT', (err as Error).message, { cause: err });
    });
  }

  function assertOpen(): void {
    if (closing || closed) throw new LedgerError('CLOSED', 'the ledger is closed; create a new one to submit or evaluate');
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    maybeStartPool();
    const done = () => inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** The peers of the given orgs endorse (the client chose them and answers for the policy). */
  async function endorseWith(signed: peer.SignedProposal, mspIds: readonly string[]): Promise<OrgResponse[]> {
    const chosen = mspIds.map((m) => {
      const e = endorsers.get(m);
      if (!e) throw new LedgerError('ENDORSEMENT', `no peer of ${m} on this channel (orgs: ${[...endorsers.keys()].join(', ')})`);
      return e;
    });
    return Promise.all(chosen.map(async (e) => ({ mspId: e.mspId, response: await e.endorse(signed) })));
  }

  /** The gateway's own plan: the chaincode-level policy's peers, then those the key-level policies need. */
  async function endorsePlanned(signed: peer.SignedProposal, decoded: DecodedProposal): Promise<OrgResponse[]> {
    const collected = await collectEndorsements(endorsers, orgsFor(decoded.args[0] ?? '', decoded.creator.mspId), (e) => e.endorseDetailed(signed, { decoded }));
    if (!collected.ok) throw new LedgerError('ENDORSEMENT', `cannot collect the endorsements ${decoded.args[0] ?? ''} needs: ${collected.message}`, { txId: decoded.txId });
    return collected.endorsed.map((d, i) => ({ mspId: collected.orgs[i] ?? '', response: d.response }));
  }

  function endorseByOrg(signed: peer.SignedProposal, endorseOptions: EndorseRequestOptions = {}): Promise<OrgResponse[]> {
    assertOpen();
    const mspIds = endorseOptions.orgs;
    if (mspIds) return track(endorseWith(signed, mspIds));
    let decoded: DecodedProposal;
    try {
      decoded = decodeProposal(signed);
    } catch (err) {
      return Promise.reject(new LedgerError('ENDORSEMENT', `malformed proposal: ${(err as Error).message}`, { cause: err }));
    }
    return track(endorsePlanned(signed, decoded));
  }

  /** Resolves once a block commits, the signal aborts or the ledger closes. */
  function nextCommit(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        blockListeners.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      blockListeners.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  function orgsFor(fn: string, creatorMsp: string): string[] {
    return endorsingOrgs(policyFor(fn), [creatorMsp]);
  }

  function waitFor(txId: string, timeoutMs: number): Promise<CommitStatus> {
    const known = store.transaction(txId);
    if (known) return Promise.resolve({ txId, blockNumber: known.blockNumber, validationCode: validationCodeName(known.validationCode) });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = waiters.get(txId);
        if (list) {
          const rest = list.filter((w) => w !== waiter);
          if (rest.length > 0) waiters.set(txId, rest);
          else waiters.delete(txId);
        }
        reject(new LedgerError('TIMEOUT', `transaction ${txId} was not committed within ${timeoutMs} ms; it may still commit: ask commitStatus(txId) later`, { txId }));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve(status) {
          clearTimeout(timer);
          resolve(status);
        },
        reject(err) {
          clearTimeout(timer);
          reject(err);
        },
      };
      const list = waiters.get(txId);
      if (list) list.push(waiter);
      else waiters.set(txId, [waiter]);
    });
  }

  async function enqueue(envelopeBytes: Uint8Array, prepared?: PreparedTransaction): Promise<string> {
    let txId: string;
    if (prepared) {
      txId = prepared.txId;
      preparedEnvelopes.set(envelopeBytes, prepared);
    } else {
      try {
        txId = decodeTransaction(envelopeBytes).txId;
      } catch (err) {
        throw new LedgerError('VALIDATION', `the envelope is not a Fabric transaction: ${(err as Error).message}`, { validationCode: 'BAD_PAYLOAD', cause: err });
      }
    }
    cutter.enqueue(envelopeBytes);
    return txId;
  }

  const ledger: EmbeddedLedger = {
    channel,
    chaincodeName,
    orgs,
    policyOf: (fn) => formatPolicy(policyFor(fn)),
    get endorsementWorkers() {
      return pool?.size ?? 0;
    },

    async submit(identity, fn, args, submitOptions = {}) {
      assertOpen();
      const timeoutMs = submitOptions.timeoutMs ?? 30_000;
      const prepared = track(
        (async () => {
          const job: ClientJob = {
            kind: 'submit',
            fn,
            args,
            ...(submitOptions.transient ? { transient: submitOptions.transient } : {}),
            timestampMs: clock().getTime(),
            orgs: orgsFor(fn, identity.mspId),
          };
          const outcome = await runJob(identity, job);
          const txId = outcome.txId;
          if (!outcome.ok) {
            if (outcome.stage === 'contract') throw contractError(outcome.message, txId);
            if (outcome.stage === 'policy') throw new LedgerError('ENDORSEMENT', `cannot collect the endorsements ${fn} needs: ${outcome.message}; nothing was ordered`, { txId });
            throw new LedgerError('ENDORSEMENT', `endorsers disagree on the result of ${fn}: ${outcome.message}; the contract must be deterministic`, { txId });
          }
          if (!outcome.envelope || !outcome.prepared) throw new LedgerError('ENDORSEMENT', `no transaction was assembled for ${fn}`, { txId });
          if (closing || closed) throw new LedgerError('CLOSED', 'the ledger closed before the transaction was ordered; submit it again', { txId });
          const result = Buffer.from(outcome.result).toString('utf8');
          const committed = waitFor(txId, timeoutMs);
          await enqueue(outcome.envelope, outcome.prepared);
          return { txId, result, committed };
        })(),
      );
      const { txId, result, committed } = await prepared;
      const status = await committed;
      if (status.validationCode !== 'VALID') throw validationError(txId, status.validationCode, status.blockNumber);
      return { txId, result, blockNumber: status.blockNumber } satisfies SubmitResult;
    },

    async evaluate(identity, fn, args) {
      assertOpen();
      const own = endorsers.has(identity.mspId) ? identity.mspId : (orgs[0] as OrgConfig).mspId;
      const outcome = await track(runJob(identity, { kind: 'evaluate', fn, args, timestampMs: clock().getTime(), orgs: [own] }));
      if (!outcome.ok) throw contractError(outcome.message || 'evaluation failed', outcome.txId);
      return Buffer.from(outcome.result).toString('utf8');
    },

    async endorse(signed, endorseOptions = {}) {
      return (await endorseByOrg(signed, endorseOptions)).map((r) => r.response);
    },

    endorseByOrg,

    async submitEnvelope(envelope) {
      assertOpen();
      return enqueue(envelope instanceof Uint8Array ? envelope : envelope.serializeBinary());
    },

    commitStatus(txId, statusOptions = {}) {
      return waitFor(txId, statusOptions.timeoutMs ?? 30_000);
    },

    async *events(eventOptions: EventsOptions = {}) {
      const signal = eventOptions.signal;
      for await (const block of ledger.blocks(eventOptions)) {
        for (const event of eventsOfBlock(block.bytes)) {
          if (signal?.aborted) return;
          yield event;
        }
      }
    },

    async *blocks(blockOptions: EventsOptions = {}) {
      const signal = blockOptions.signal;
      let next = blockOptions.startBlock ?? committer.height;
      while (!closed && !signal?.aborted) {
        if (next < committer.height) {
          const stored = store.block(next);
          if (!stored) return;
          yield { number: next, bytes: stored.bytes };
          next++;
          continue;
        }
        await nextCommit(signal);
      }
    },

    async blockBytes(number) {
      return Number.isInteger(number) && number >= 0 ? store.block(number)?.bytes : undefined;
    },

    get storeError() {
      return storeError;
    },
    probeWrite() {
      if (closed) throw new LedgerError('UNAVAILABLE', 'the embedded ledger is closed');
      store.probeWrite();
    },
    async height() {
      return committer.height;
    },

    async block(number) {
      const stored = Number.isInteger(number) && number >= 0 ? store.block(number) : undefined;
      if (!stored) throw new LedgerError('NOT_FOUND', `block ${number} does not exist; the ledger has ${committer.height} blocks (0…${committer.height - 1})`);
      return blockInfoOf(stored.bytes, stored.hash);
    },

    async transaction(txId) {
      const location = store.transaction(txId);
      const stored = location ? store.block(location.blockNumber) : undefined;
      const info = stored ? blockInfoOf(stored.bytes, stored.hash).transactions[location?.txIndex ?? -1] : undefined;
      if (!location || !info) throw new LedgerError('NOT_FOUND', `transaction ${txId} is not on the ledger; check the id or wait for its commit`, { txId });
      return { ...info, blockNumber: location.blockNumber };
    },

    async close() {
      if (closed || closing) return;
      closing = true;
      await Promise.allSettled([...inflight]);
      cutter.flush();
      cutter.close();
      while (draining) await draining;
      poolStart.abort(); // workers still starting are not waited for
      await poolStarting;
      await pool?.close();
      closed = true;
      for (const [txId, list] of waiters) {
        waiters.delete(txId);
        for (const w of list) w.reject(new LedgerError('CLOSED', `the ledger closed before transaction ${txId} was committed`, { txId }));
      }
      for (const wake of [...blockListeners]) wake();
      store.close();
    },
  };
  return ledger;
}

/**
 * One endorsement worker per CPU, at most 4. A worker spends ~3× the CPU per transaction of the
 * ledger's thread (ordering, validation, commit), so on 2 cores two workers and the ledger thread
 * keep both cores busy: 4,600–5,100 committed tx/s against 3,800 with one worker (bench/ledger.bench.ts).
 */
function defaultWorkerCount(): number {
  return Math.min(4, Math.max(1, availableParallelism()));
}
