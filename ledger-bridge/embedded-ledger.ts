/**
 * The embedded ledger: a one-channel Fabric network in the process, behind the `Ledger` interface.
 *
 *   submit ─▶ SignedProposal (client identity) ─▶ endorse: each org the function's policy needs runs
 *   the contract and signs its ProposalResponse ─▶ Envelope (client signs) ─▶ submitEnvelope ─▶ batch
 *   cutter (BatchTimeout / MaxMessageCount / PreferredMaxBytes) ─▶ committer (signatures, policies,
 *   MVCC, one durable SQLite transaction per block) ─▶ commitStatus ─▶ submit resolves.
 *
 * `endorse(SignedProposal)`, `submitEnvelope(Envelope)` and `commitStatus(txId)` are the same steps a
 * Fabric Gateway service offers (Endorse, Submit, CommitStatus), so a gRPC front can serve real Fabric
 * clients from this pipeline.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { Contract } from 'fabric-contract-api';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DrContract } from '../chaincode/index.ts';
import { contractMetadata as drContractMetadata } from '../chaincode/metadata.ts';
import { computeTxId, createSignedProposal, serializeIdentity } from '../chaincode/testing/index.ts';
import { decodeBlock } from './block.ts';
import { createBatchCutter, type BatchOptions } from './batch-cutter.ts';
import { createCommitter, type CommittedBlock } from './committer.ts';
import { createEndorser, type Endorser } from './endorser.ts';
import { contractError, LedgerError, validationError } from './errors.ts';
import {
  buildTransactionEnvelope,
  decodeProposal,
  decodeTransaction,
  HEADER_TYPE_CONFIG,
  type DecodedProposal,
} from './fabric-messages.ts';
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
} from './ledger.ts';
import { createMsps } from './msp.ts';
import { loadOrCreateOrgs, type OrgConfig } from './orgs.ts';
import { endorsingOrgs, formatPolicy, parsePolicy, type Policy } from './policy.ts';
import { signerOf } from './signer.ts';
import { openStore } from './store.ts';

export interface PolicyOptions {
  /** Chaincode-level policy of every function not listed. Default: any one org's peer (OR over the orgs). */
  readonly default?: string;
  /** Per-function policies. Default: flexibility claims need every org's peer (AND). */
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
}

/**
 * Default BatchTimeout 25 ms (Fabric's is 2 s): a lone transaction commits within ~25 ms plus the block's
 * fsync, and under load MaxMessageCount cuts blocks before the timer does (see docs/ledger.md).
 */
export const DEFAULT_BATCH: BatchOptions = { timeoutMs: 25, maxMessageCount: 500, preferredMaxBytes: 2 * 1024 * 1024 };
export const DEFAULT_CHANNEL = 'mychannel';
export const DEFAULT_CHAINCODE = 'oadr-dr';
/** Functions that write flexibility claims: both the aggregator's and the operator's org must endorse. */
export const FLEXIBILITY_FUNCTIONS = ['submitFlexibility', 'validateFlexibility'] as const;

export interface CommitStatus {
  readonly txId: string;
  readonly blockNumber: number;
  readonly validationCode: ValidationCodeName;
}

export interface EndorseRequestOptions {
  /** MSP ids of the peers to ask. Default: a set that can satisfy the function's chaincode-level policy. */
  readonly orgs?: readonly string[];
}

export interface EmbeddedLedger extends Ledger {
  /** Endorsement by the peers of the given (or the policy's) orgs: Fabric Gateway's Endorse step. */
  endorse(signed: peer.SignedProposal, options?: EndorseRequestOptions): Promise<peer.ProposalResponse[]>;
  /** Hands a signed transaction to the orderer; resolves with its id once queued (Gateway's Submit). */
  submitEnvelope(envelope: common.Envelope | Uint8Array): Promise<string>;
  /** Waits until the transaction is in a block (Gateway's CommitStatus). */
  commitStatus(txId: string, options?: { readonly timeoutMs?: number }): Promise<CommitStatus>;
  readonly channel: string;
  readonly chaincodeName: string;
  readonly orgs: readonly OrgConfig[];
  /** The chaincode-level policy of a function, in the policy language. */
  policyOf(fn: string): string;
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
  for (const fn of FLEXIBILITY_FUNCTIONS) functionPolicies.set(fn, parsePolicy(`AND(${peers})`));
  for (const [fn, text] of Object.entries(options.policies?.functions ?? {})) functionPolicies.set(fn, parsePolicy(text));
  const policyFor = (fn: string): Policy => functionPolicies.get(fn) ?? defaultPolicy;

  const store = openStore(options.dataDir);
  // Certificates are checked against the wall clock (as a peer does), not the transaction clock.
  const msps = createMsps(orgs);
  const committer = createCommitter({ store, msps, channelId: channel, chaincodeName, policyFor });
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
      const envelopes = pendingBatches.shift() as Uint8Array[];
      try {
        notify(await committer.commit(envelopes));
      } catch (err) {
        // The store refused the block (disk full, I/O error): nothing of it was written.
        process.emitWarning(`embedded ledger: block ${committer.height} could not be committed: ${(err as Error).message}`);
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

  function assertOpen(): void {
    if (closing || closed) throw new LedgerError('CLOSED', 'the ledger is closed; create a new one to submit or evaluate');
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    const done = () => inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async function proposalFor(identity: LedgerIdentity, fn: string, args: readonly string[], transient?: SubmitOptions['transient']) {
    const creator = serializeIdentity(identity.mspId, identity.certificatePem);
    const nonce = randomBytes(24);
    const txId = computeTxId(nonce, creator);
    const sign = signerOf(identity);
    const signed = await createSignedProposal({
      channelId: channel,
      chaincodeName,
      txId,
      args: [fn, ...args],
      creator,
      nonce,
      timestamp: clock(),
      ...(transient ? { transient } : {}),
      sign,
    });
    return { signed, decoded: decodeProposal(signed), sign, txId };
  }

  function firstFailure(responses: readonly peer.ProposalResponse[]): peer.ProposalResponse | undefined {
    return responses.find((r) => (r.getResponse()?.getStatus() ?? 500) >= 400 || !r.hasEndorsement());
  }

  async function endorseWith(signed: peer.SignedProposal, decoded: DecodedProposal | undefined, mspIds: readonly string[], signedHere: boolean) {
    const chosen = mspIds.map((m) => {
      const e = endorsers.get(m);
      if (!e) throw new LedgerError('ENDORSEMENT', `no peer of ${m} on this channel (orgs: ${[...endorsers.keys()].join(', ')})`);
      return e;
    });
    return Promise.all(chosen.map((e) => e.endorse(signed, { ...(decoded ? { decoded } : {}), signedHere })));
  }

  function orgsFor(fn: string, creatorMsp: string): string[] {
    return endorsingOrgs(preferOrg(policyFor(fn), creatorMsp));
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

  async function enqueue(envelopeBytes: Uint8Array): Promise<string> {
    let txId: string;
    try {
      txId = decodeTransaction(envelopeBytes).txId;
    } catch (err) {
      throw new LedgerError('VALIDATION', `the envelope is not a Fabric transaction: ${(err as Error).message}`, { validationCode: 'BAD_PAYLOAD', cause: err });
    }
    cutter.enqueue(envelopeBytes);
    return txId;
  }

  const ledger: EmbeddedLedger = {
    channel,
    chaincodeName,
    orgs,
    policyOf: (fn) => formatPolicy(policyFor(fn)),

    async submit(identity, fn, args, submitOptions = {}) {
      assertOpen();
      const timeoutMs = submitOptions.timeoutMs ?? 30_000;
      const prepared = track(
        (async () => {
          const { signed, decoded, sign, txId } = await proposalFor(identity, fn, args, submitOptions.transient);
          const responses = await endorseWith(signed, decoded, orgsFor(fn, identity.mspId), true);
          const failed = firstFailure(responses);
          if (failed) throw contractError(failed.getResponse()?.getMessage() || 'endorsement failed', txId);
          let envelope: common.Envelope;
          try {
            envelope = await buildTransactionEnvelope(decoded, responses, sign);
          } catch (err) {
            throw new LedgerError('ENDORSEMENT', `endorsers disagree on the result of ${fn}: ${(err as Error).message}; the contract must be deterministic`, { txId, cause: err });
          }
          if (closing || closed) throw new LedgerError('CLOSED', 'the ledger closed before the transaction was ordered; submit it again', { txId });
          const result = Buffer.from(responses[0]?.getResponse()?.getPayload_asU8() ?? []).toString('utf8');
          const committed = waitFor(txId, timeoutMs);
          await enqueue(envelope.serializeBinary());
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
      const { signed, decoded, txId } = await proposalFor(identity, fn, args);
      const own = endorsers.has(identity.mspId) ? identity.mspId : (orgs[0] as OrgConfig).mspId;
      const [response] = await track(endorseWith(signed, decoded, [own], true));
      const r = response?.getResponse();
      if (!r || r.getStatus() >= 400) throw contractError(r?.getMessage() || 'evaluation failed', txId);
      return Buffer.from(r.getPayload_asU8()).toString('utf8');
    },

    async endorse(signed, endorseOptions = {}) {
      assertOpen();
      let mspIds = endorseOptions.orgs;
      if (!mspIds) {
        let decoded: DecodedProposal;
        try {
          decoded = decodeProposal(signed);
        } catch (err) {
          throw new LedgerError('ENDORSEMENT', `malformed proposal: ${(err as Error).message}`, { cause: err });
        }
        mspIds = orgsFor(decoded.args[0] ?? '', decoded.creator.mspId);
      }
      return track(endorseWith(signed, undefined, mspIds, false));
    },

    async submitEnvelope(envelope) {
      assertOpen();
      return enqueue(envelope instanceof Uint8Array ? envelope : envelope.serializeBinary());
    },

    commitStatus(txId, statusOptions = {}) {
      return waitFor(txId, statusOptions.timeoutMs ?? 30_000);
    },

    async *events(eventOptions: EventsOptions = {}) {
      const signal = eventOptions.signal;
      let next = eventOptions.startBlock ?? committer.height;
      while (!closed && !signal?.aborted) {
        if (next < committer.height) {
          const stored = store.block(next);
          if (!stored) return;
          for (const event of eventsOfBlock(stored.bytes)) {
            if (signal?.aborted) return;
            yield event;
          }
          next++;
          continue;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            blockListeners.delete(wake);
            signal?.removeEventListener('abort', wake);
            resolve();
          };
          blockListeners.add(wake);
          signal?.addEventListener('abort', wake, { once: true });
        });
      }
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

/** The same policy with the rules that mention `mspId` first, so an OR picks the caller's own org. */
function preferOrg(policy: Policy, mspId: string): Policy {
  if (policy.type === 'signedBy') return policy;
  const mentions = (p: Policy): boolean => (p.type === 'signedBy' ? p.principal.mspId === mspId : p.rules.some(mentions));
  const rules = [...policy.rules.filter(mentions), ...policy.rules.filter((r) => !mentions(r))].map((r) => preferOrg(r, mspId));
  return { ...policy, rules };
}
