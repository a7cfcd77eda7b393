/**
 * The folder fabric/ holds Fabric's wire formats (transaction messages, read/write sets, proposals,
 * blocks, a protobuf writer) and the connector to a real network. It may depend on the part's top
 * (ledger.ts, errors.ts), chaincode/ and Fabric's packages; not on embedded/.
 *
 * The Fabric connector: the `Ledger` interface over a Fabric Gateway (a Fabric 2.4+ peer, or
 * `oadr-ledger ledger serve`) with `@hyperledger/fabric-gateway` and `@grpc/grpc-js`.
 *
 * - One gRPC connection (TLS with the peer's TLS CA, `grpc.ssl_target_name_override` when the address
 *   is not the certificate's name); one fabric-gateway `Gateway` per signing identity on it.
 * - A deadline on every call (evaluate 5 s, endorse 15 s, submit 5 s, commit status 60 s by default;
 *   a submit's `timeoutMs` bounds its commit wait).
 * - `submit` = endorse → submit → commit status; a refusal by the contract becomes a `LedgerError`
 *   CONTRACT with the contract's code, a transaction committed invalid a VALIDATION error with Fabric's
 *   validation code, an exceeded deadline TIMEOUT.
 * - `events()` reads chaincode events; with `checkpointFile` a file checkpointer (fabric-gateway's
 *   `checkpointers.file`) records each event the consumer has finished with (the loop body came back,
 *   broke out or aborted), so a restarted connector resumes right after it: no event missed, none repeated.
 * - `height`, `block`, `transaction` ask the peer's query system chaincode (qscc), as real peers answer.
 * - An endorsement mismatch or an MVCC / phantom read conflict is retried with bounded back-off for the
 *   functions whose repetition changes nothing (retry.ts), each retry reported to `onRetry`.
 * - With `commitPeers`, `submit` resolves once each of those peers (other organisations' peers of the
 *   connection profile) has the transaction's block too, so a dependent step endorsed there sees it.
 */
import { Client, credentials as grpcCredentials, status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { checkpointers, connect, GatewayError, hash, signers, type Checkpointer, type Gateway, type Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { createPrivateKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseContractError } from '../../chaincode/index.ts';
import { LedgerError, validationError } from '../errors.ts';
import { buildProposedTransaction } from './fabric-proposal.ts';
import { newNodeCryptoSigner } from './fabric-signer.ts';
import { fabricCodeName, parseFabricBlock, validationCodeOf, type ParsedBlock, type ParsedTransaction } from './fabric-block.ts';
import { backoffMs, DEFAULT_FABRIC_RETRY, retryReasonOf, type FabricRetry, type FabricRetryOptions } from './retry.ts';
import type { BlockInfo, ContractEvent, EventsOptions, Ledger, LedgerIdentity, SubmitOptions, SubmitResult, TransactionInfo } from '../ledger.ts';

export interface FabricDeadlines {
  readonly evaluateMs: number;
  readonly endorseMs: number;
  readonly submitMs: number;
  readonly commitStatusMs: number;
}

/** The deadlines of fabric-samples' gateway applications. */
export const DEFAULT_FABRIC_DEADLINES: FabricDeadlines = { evaluateMs: 5_000, endorseMs: 15_000, submitMs: 5_000, commitStatusMs: 60_000 };

export interface FabricLedgerOptions {
  /** The peer's gateway address, host:port (e.g. `peer0.org1.example.com:7051`). */
  readonly peerEndpoint: string;
  /** PEM of the CA that issued the peer's TLS certificate (or `tlsRootCertificatePath`). */
  readonly tlsRootCertificate?: string;
  readonly tlsRootCertificatePath?: string;
  /** The name in the peer's TLS certificate when `peerEndpoint` uses another (`grpc.ssl_target_name_override`). */
  readonly hostnameOverride?: string;
  /** Connect without TLS: local tests only. */
  readonly plaintext?: boolean;
  /** The connector's own identity (events, blocks, transactions); or `mspId` + PEM file paths below. */
  readonly identity?: LedgerIdentity;
  readonly mspId?: string;
  readonly certificatePath?: string;
  readonly privateKeyPath?: string;
  /** Default 'mychannel'. */
  readonly channel?: string;
  /** Default 'oadr-dr'. */
  readonly chaincodeName?: string;
  readonly deadlines?: Partial<FabricDeadlines>;
  /** A file in which `events()` records its position: a restart resumes after the last event handled. */
  readonly checkpointFile?: string;
  /**
   * Organisations whose peers must endorse a function, when the gateway cannot work it out (a key-level
   * endorsement policy naming other orgs). Default: the gateway chooses from the chaincode's policy.
   */
  readonly endorsingOrganizations?: Readonly<Record<string, readonly string[]>>;
  /**
   * Transaction timestamps. Default: the client library stamps proposals with the wall clock, as every
   * Fabric client does; set it only to replay recorded days or in tests (the contract reads time from
   * the transaction).
   */
  readonly clock?: () => Date;
  /**
   * How requests are signed: 'node-crypto' (default; OpenSSL, see fabric-signer.ts) or 'fabric-gateway'
   * (the library's `signers.newPrivateKeySigner`, a JavaScript curve, ~1 ms per signature). Same signatures.
   */
  readonly signer?: 'node-crypto' | 'fabric-gateway';
  /** Retries of endorsement mismatches and read conflicts (retry.ts); `{ attempts: 1 }` turns them off. */
  readonly retry?: Partial<FabricRetryOptions>;
  /** Called before each retry (logs, metrics). */
  readonly onRetry?: (retry: FabricRetry) => void;
  /**
   * Peers (of the other organisations) that must have committed a transaction's block before `submit`
   * resolves: their block height, asked of each peer's own gateway (qscc `GetChainInfo`), every
   * `commitPollMs` (default 50) until the commit-status deadline; then `TIMEOUT` (the transaction is
   * committed on the gateway peer).
   */
  readonly commitPeers?: readonly FabricPeerAddress[];
  readonly commitPollMs?: number;
}

/** Where a peer is and how to reach it (a connection profile's peer). */
export interface FabricPeerAddress {
  readonly name: string;
  readonly endpoint: string;
  readonly tlsRootCertificate?: string;
  readonly hostnameOverride?: string;
  readonly plaintext?: boolean;
}

export interface FabricLedger extends Ledger {
  readonly channel: string;
  readonly chaincodeName: string;
}

/** An identity from PEM files: the certificate and its PKCS#8 private key. */
export function readFabricIdentity(mspId: string, certificatePath: string, privateKeyPath: string): LedgerIdentity {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new LedgerError('UNAVAILABLE', `cannot read the ${what} ${path}: ${(err as Error).message}; check the Fabric connector's configuration`, { cause: err });
    }
  };
  return { mspId, certificatePem: read(certificatePath, 'certificate'), privateKey: read(privateKeyPath, 'private key') };
}

const CHAINCODE_RESPONSE = 'chaincode response ';

/** The contract's own message inside a gateway error detail (`chaincode response 500, ACCESS_DENIED: …`). */
export function chaincodeMessageOf(detail: string): string | undefined {
  if (!detail.startsWith(CHAINCODE_RESPONSE)) return undefined;
  const comma = detail.indexOf(', ', CHAINCODE_RESPONSE.length);
  return comma < 0 ? '' : detail.slice(comma + 2);
}

type Stage = 'evaluate' | 'endorse' | 'submit' | 'commit status' | 'events' | 'query';

/** A fabric-gateway / gRPC failure as a `LedgerError`. */
export function ledgerErrorOf(err: unknown, stage: Stage, txId?: string): LedgerError {
  if (err instanceof LedgerError) return err;
  const tx = txId ? { txId } : {};
  if (!(err instanceof GatewayError)) return new LedgerError('UNAVAILABLE', `${stage} failed: ${(err as Error)?.message ?? String(err)}`, { ...tx, cause: err });
  for (const detail of err.details) {
    const message = chaincodeMessageOf(detail.message);
    if (message !== undefined) {
      const contract = parseContractError(message) ? { contractMessage: message } : {};
      return new LedgerError('CONTRACT', message || detail.message, { ...tx, ...contract, cause: err });
    }
  }
  const details = err.details.map((d) => `${d.mspId || d.address}: ${d.message}`).join('; ');
  const text = `${stage} failed: ${err.message}${details ? ` (${details})` : ''}`;
  switch (err.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new LedgerError('TIMEOUT', `${text}; the deadline passed${stage === 'commit status' ? ', the transaction may still commit: ask for its status later' : ''}`, { ...tx, cause: err });
    case GrpcStatus.NOT_FOUND:
      return new LedgerError('NOT_FOUND', `${text}; check the channel and chaincode names`, { ...tx, cause: err });
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.CANCELLED:
      return new LedgerError('UNAVAILABLE', `${text}; is the peer running and reachable with this TLS CA?`, { ...tx, cause: err });
    default:
      return new LedgerError(stage === 'evaluate' || stage === 'endorse' ? 'ENDORSEMENT' : 'UNAVAILABLE', text, { ...tx, cause: err });
  }
}

/** The private key of an identity as a `KeyObject` (from PKCS#8 PEM or a WebCrypto key). */
export function keyObjectOf(identity: LedgerIdentity): KeyObject {
  return typeof identity.privateKey === 'string' ? createPrivateKey(identity.privateKey) : KeyObject.from(identity.privateKey);
}

function ownIdentity(options: Readonly<FabricLedgerOptions>): LedgerIdentity {
  if (options.identity) return options.identity;
  if (options.mspId && options.certificatePath && options.privateKeyPath) return readFabricIdentity(options.mspId, options.certificatePath, options.privateKeyPath);
  throw new LedgerError('UNAVAILABLE', 'the Fabric connector needs an identity: pass identity, or mspId with certificatePath and privateKeyPath');
}

function channelCredentials(options: Readonly<FabricLedgerOptions>): ChannelCredentials {
  if (options.plaintext) return grpcCredentials.createInsecure();
  let ca = options.tlsRootCertificate;
  if (ca === undefined && options.tlsRootCertificatePath) {
    try {
      ca = readFileSync(options.tlsRootCertificatePath, 'utf8');
    } catch (err) {
      throw new LedgerError('UNAVAILABLE', `cannot read the TLS CA certificate ${options.tlsRootCertificatePath}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (ca === undefined) throw new LedgerError('UNAVAILABLE', "the Fabric connector needs the peer's TLS CA (tlsRootCertificate or tlsRootCertificatePath); plaintext is for local tests only");
  return grpcCredentials.createSsl(Buffer.from(ca));
}

const BLOCK_CACHE = 8;

function grpcClient(endpoint: string, credentials: ChannelCredentials, hostnameOverride: string | undefined): Client {
  return new Client(endpoint, credentials, {
    ...(hostnameOverride ? { 'grpc.ssl_target_name_override': hostnameOverride, 'grpc.default_authority': hostnameOverride } : {}),
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc.max_send_message_length': 100 * 1024 * 1024,
    // A peer back after an outage is reached within 5 s (grpc-js backs off up to 120 s by default).
    'grpc.max_reconnect_backoff_ms': 5_000,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function createFabricLedger(options: Readonly<FabricLedgerOptions>): Promise<FabricLedger> {
  const channel = options.channel ?? 'mychannel';
  const chaincodeName = options.chaincodeName ?? 'oadr-dr';
  const deadlines: FabricDeadlines = { ...DEFAULT_FABRIC_DEADLINES, ...options.deadlines };
  const own = ownIdentity(options);
  const client = grpcClient(options.peerEndpoint, channelCredentials(options), options.hostnameOverride);
  const retry: FabricRetryOptions = { ...DEFAULT_FABRIC_RETRY, ...options.retry };
  const commitPeers = (options.commitPeers ?? []).map((peer) => {
    const credentials = channelCredentials({ peerEndpoint: peer.endpoint, plaintext: peer.plaintext === true, ...(peer.tlsRootCertificate === undefined ? {} : { tlsRootCertificate: peer.tlsRootCertificate }) });
    const peerClient = grpcClient(peer.endpoint, credentials, peer.hostnameOverride);
    return { peer, client: peerClient, gateway: undefined as Gateway | undefined };
  });
  const gateways = new Map<string, Gateway>();
  const streams = new Set<AbortController>();
  const blocks = new Map<number, ParsedBlock>();
  let closed = false;

  const deadline = (ms: number) => () => ({ deadline: Date.now() + ms });

  function connectGateway(on: Client, identity: LedgerIdentity): Gateway {
    return connect({
      client: on,
      identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
      ...(options.signer === 'fabric-gateway'
        ? { signer: signers.newPrivateKeySigner(keyObjectOf(identity)) }
        : { signer: newNodeCryptoSigner(keyObjectOf(identity)), hash: hash.none }),
      evaluateOptions: deadline(deadlines.evaluateMs),
      endorseOptions: deadline(deadlines.endorseMs),
      submitOptions: deadline(deadlines.submitMs),
      commitStatusOptions: deadline(deadlines.commitStatusMs),
    });
  }

  function gatewayOf(identity: LedgerIdentity): Gateway {
    if (closed) throw new LedgerError('CLOSED', 'the Fabric connector is closed; create a new one');
    const key = `${identity.mspId}\n${identity.certificatePem}`;
    let gateway = gateways.get(key);
    if (!gateway) {
      gateway = connectGateway(client, identity);
      gateways.set(key, gateway);
    }
    return gateway;
  }

  /** Resolves once every commit peer's height is above `blockNumber`; TIMEOUT at the commit-status deadline. */
  async function committedOnPeers(txId: string, blockNumber: number): Promise<void> {
    const until = Date.now() + deadlines.commitStatusMs;
    for (const p of commitPeers) {
      p.gateway ??= connectGateway(p.client, own);
      const qsccOf = p.gateway.getNetwork(channel).getContract('qscc');
      for (;;) {
        let h = -1;
        let failure: unknown;
        try {
          h = common.BlockchainInfo.deserializeBinary(await qsccOf.evaluate('GetChainInfo', { arguments: [channel] })).getHeight();
        } catch (err) {
          failure = err;
        }
        if (h > blockNumber) break;
        if (closed) throw new LedgerError('CLOSED', 'the Fabric connector closed while waiting for the commit on every peer');
        if (Date.now() >= until) {
          const why = failure === undefined ? `its height is ${h}` : `it does not answer (${ledgerErrorOf(failure, 'query').message})`;
          throw new LedgerError('TIMEOUT', `transaction ${txId} committed in block ${blockNumber} on the gateway peer, but peer ${p.peer.name} has not committed that block within ${deadlines.commitStatusMs} ms (${why}); the transaction stands: check that peer`, { txId, blockNumber });
        }
        await sleep(options.commitPollMs ?? 50);
      }
    }
  }

  function networkOf(identity: LedgerIdentity): Network {
    return gatewayOf(identity).getNetwork(channel);
  }

  /** A proposal for `fn(args)`: the library's own, or one stamped with the configured clock. */
  function proposalFor(identity: LedgerIdentity, fn: string, args: readonly string[], extra: { transient?: SubmitOptions['transient']; orgs?: readonly string[] | undefined } = {}) {
    const clock = options.clock;
    if (!clock) {
      return networkOf(identity).getContract(chaincodeName).newProposal(fn, {
        arguments: [...args],
        ...(extra.transient ? { transientData: { ...extra.transient } } : {}),
        ...(extra.orgs ? { endorsingOrganizations: [...extra.orgs] } : {}),
      });
    }
    const built = buildProposedTransaction({
      channel,
      chaincodeName,
      mspId: identity.mspId,
      certificatePem: identity.certificatePem,
      args: [fn, ...args],
      timestamp: clock(),
      ...(extra.transient ? { transient: extra.transient } : {}),
      ...(extra.orgs ? { endorsingOrganizations: extra.orgs } : {}),
    });
    return gatewayOf(identity).newProposal(built.bytes);
  }

  async function qscc(fn: string, ...args: string[]): Promise<Uint8Array> {
    try {
      return await networkOf(own).getContract('qscc').evaluate(fn, { arguments: [channel, ...args] });
    } catch (err) {
      throw ledgerErrorOf(err, 'query');
    }
  }

  async function height(): Promise<number> {
    return common.BlockchainInfo.deserializeBinary(await qscc('GetChainInfo')).getHeight();
  }

  async function parsedBlock(n: number): Promise<ParsedBlock> {
    const cached = blocks.get(n);
    if (cached) return cached;
    if (!Number.isSafeInteger(n) || n < 0) throw new LedgerError('NOT_FOUND', `block ${n} does not exist; block numbers are whole numbers from 0`);
    let bytes: Uint8Array;
    try {
      bytes = await qscc('GetBlockByNumber', String(n));
    } catch (err) {
      const h = await height();
      if (n >= h) throw new LedgerError('NOT_FOUND', `block ${n} does not exist; the ledger has ${h} blocks (0…${h - 1})`, { cause: err });
      throw err;
    }
    const block = parseFabricBlock(bytes);
    if (blocks.size >= BLOCK_CACHE) blocks.delete(blocks.keys().next().value as number);
    blocks.set(n, block);
    return block;
  }

  const info = (tx: ParsedTransaction): TransactionInfo => ({
    txId: tx.txId,
    validationCode: tx.validationCode,
    creatorMspId: tx.creatorMspId,
    timestamp: tx.timestamp,
    fn: tx.fn,
    args: tx.args,
    endorsers: tx.endorsers,
  });

  /** One endorse → submit → commit status. */
  async function submitOnce(identity: LedgerIdentity, fn: string, args: readonly string[], submitOptions: SubmitOptions): Promise<SubmitResult> {
    const proposal = proposalFor(identity, fn, args, { transient: submitOptions.transient, orgs: options.endorsingOrganizations?.[fn] });
    const txId = proposal.getTransactionId();
    let transaction;
    try {
      transaction = await proposal.endorse();
    } catch (err) {
      throw ledgerErrorOf(err, 'endorse', txId);
    }
    const result = Buffer.from(transaction.getResult()).toString('utf8');
    let commit;
    try {
      commit = await transaction.submit();
    } catch (err) {
      throw ledgerErrorOf(err, 'submit', txId);
    }
    let status;
    try {
      status = await commit.getStatus(submitOptions.timeoutMs === undefined ? undefined : { deadline: Date.now() + submitOptions.timeoutMs });
    } catch (err) {
      throw ledgerErrorOf(err, 'commit status', txId);
    }
    const blockNumber = Number(status.blockNumber);
    if (!status.successful) {
      throw validationError(txId, validationCodeOf(status.code), blockNumber, `${fabricCodeName(status.code)} (${status.code})`);
    }
    return { txId, result, blockNumber } satisfies SubmitResult;
  }

  const ledger: FabricLedger = {
    channel,
    chaincodeName,

    async submit(identity, fn, args, submitOptions = {}) {
      const retried = retry.functions.includes(fn);
      for (let attempt = 1; ; attempt++) {
        let outcome;
        try {
          outcome = await submitOnce(identity, fn, args, submitOptions);
        } catch (err) {
          const error = ledgerErrorOf(err, 'submit');
          const reason = retryReasonOf(error);
          if (!retried || reason === undefined || attempt >= retry.attempts || closed) throw error;
          const delayMs = backoffMs(retry, attempt);
          options.onRetry?.({ fn, reason, attempt, delayMs, txId: error.txId ?? '', error });
          await sleep(delayMs);
          continue;
        }
        if (commitPeers.length > 0) await committedOnPeers(outcome.txId, outcome.blockNumber);
        return outcome;
      }
    },

    async evaluate(identity, fn, args) {
      try {
        const bytes = await proposalFor(identity, fn, args).evaluate();
        return Buffer.from(bytes).toString('utf8');
      } catch (err) {
        throw ledgerErrorOf(err, 'evaluate');
      }
    },

    async *events(eventOptions: EventsOptions = {}): AsyncGenerator<ContractEvent> {
      const network = networkOf(own);
      const controller = new AbortController();
      const outer = eventOptions.signal;
      if (outer?.aborted) return;
      const forward = () => controller.abort();
      outer?.addEventListener('abort', forward, { once: true });
      streams.add(controller);
      let checkpoint: Checkpointer | undefined;
      let stream: Awaited<ReturnType<Network['getChaincodeEvents']>> | undefined;
      try {
        checkpoint = options.checkpointFile ? await checkpointers.file(options.checkpointFile) : undefined;
        const resume = checkpoint?.getBlockNumber() !== undefined;
        try {
          stream = await network.getChaincodeEvents(chaincodeName, {
            ...(resume ? { checkpoint } : {}),
            ...(!resume && eventOptions.startBlock !== undefined ? { startBlock: BigInt(eventOptions.startBlock) } : {}),
          });
        } catch (err) {
          throw ledgerErrorOf(err, 'events');
        }
        const close = () => stream?.close();
        controller.signal.addEventListener('abort', close, { once: true });
        if (controller.signal.aborted) return;
        const iterator = stream[Symbol.asyncIterator]();
        while (!controller.signal.aborted) {
          let next;
          try {
            next = await iterator.next();
          } catch (err) {
            if (controller.signal.aborted) return;
            throw ledgerErrorOf(err, 'events');
          }
          if (next.done) return;
          const e = next.value;
          const blockNumber = Number(e.blockNumber);
          const block = await parsedBlock(blockNumber);
          const txIndex = block.transactions.findIndex((tx) => tx.txId === e.transactionId);
          try {
            yield { blockNumber, txId: e.transactionId, txIndex, name: e.eventName, payload: e.payload };
          } finally {
            // The consumer is done with the event (next iteration, break, or abort): record it.
            await checkpoint?.checkpointChaincodeEvent(e);
          }
        }
      } finally {
        stream?.close();
        streams.delete(controller);
        outer?.removeEventListener('abort', forward);
      }
    },

    height,

    async block(n): Promise<BlockInfo> {
      const block = await parsedBlock(n);
      return { number: block.number, hash: block.hash, previousHash: block.previousHash, dataHash: block.dataHash, transactions: block.transactions.map(info) };
    },

    async transaction(txId) {
      let bytes: Uint8Array;
      try {
        bytes = await qscc('GetBlockByTxID', txId);
      } catch (err) {
        throw new LedgerError('NOT_FOUND', `transaction ${txId} is not on the ledger; check the id or wait for its commit (${(err as Error).message})`, { txId, cause: err });
      }
      const block = parseFabricBlock(bytes);
      const tx = block.transactions.find((t) => t.txId === txId);
      if (!tx) throw new LedgerError('NOT_FOUND', `transaction ${txId} is not in the block the peer returned for it (${block.number})`, { txId });
      return { ...info(tx), blockNumber: block.number };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const c of streams) c.abort();
      for (const g of gateways.values()) g.close();
      gateways.clear();
      client.close();
      for (const p of commitPeers) {
        p.gateway?.close();
        p.client.close();
      }
    },
  };
  return ledger;
}
