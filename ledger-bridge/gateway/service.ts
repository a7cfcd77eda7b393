/**
 * The folder gateway/ serves the embedded ledger to standard Fabric clients (`oadr-ledger ledger
 * serve`). It may depend on the part's top, embedded/, fabric/ and certs/.
 *
 * The Fabric Gateway gRPC service (`gateway.Gateway`, as a Fabric 2.5 peer serves it) over the embedded
 * ledger, so any Fabric client (Node, Go, Java fabric-gateway) can use it:
 *
 *   Evaluate         SignedProposal → one org's peer runs the contract read-only → Response
 *                    (chaincode `qscc` is answered by the query system chaincode: blocks, transactions)
 *   Endorse          SignedProposal → the peers the endorsement policy needs (or the client's
 *                    endorsing_organizations) → prepared transaction Envelope for the client to sign
 *   Submit           signed Envelope (signature and creator checked) → ordered
 *   CommitStatus     SignedCommitStatusRequest (signature checked) → validation code and block number
 *   ChaincodeEvents  SignedChaincodeEventsRequest (signature checked) → events of valid transactions
 *                    from a block number / the next commit, after a checkpointed transaction id
 *
 * Proposal signatures are verified by the embedded peers at endorsement; failures come back as gRPC
 * statuses with `gateway.ErrorDetail`s (address, MSP id of each peer or of the ordering service,
 * message), which the clients turn into EndorseError, SubmitError and CommitStatusError.
 *
 * Beside it, for standard tools (the `peer` CLI, block listeners, explorers): the Endorser's
 * ProcessProposal (one peer's answer, the same code as Evaluate and Endorse), the peer's Deliver
 * services (deliver.ts) and the orderer's AtomicBroadcast (orderer.ts), whose Broadcast also orders
 * what Submit receives. `startGatewayServer` listens with TLS (plain text only when asked for), the
 * ordering service on the same port or its own.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import type { EmbeddedLedger, OrgResponse } from '../embedded/embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { DELIVER_STATUS, statusName } from './deliver-messages.ts';
import { createDeliverer, PEER_DELIVER_SERVICE, type DeliverCall } from './deliver.ts';
import { createCallerVerifier } from './identity.ts';
import { decodeEnvelopeFields, decodeProposalFields, preparedTransaction, type ProposalFields } from './messages.ts';
import { ATOMIC_BROADCAST_SERVICE, createOrderer } from './orderer.ts';
import { createQscc, QSCC } from './qscc.ts';
import { chaincodeResponseMessage, GATEWAY_STATUS, gatewayError, type EndpointError } from './status.ts';
import { ValidationCode, type ContractEvent } from '../ledger.ts';

/** The embedded ledger the services run over. */
export type GatewayLedger = EmbeddedLedger;

export interface GatewayServiceOptions {
  readonly ledger: GatewayLedger;
  /** The address reported in error details (a function when known only once listening); default `localhost:7051`. */
  readonly endpoint?: string | (() => string);
  /** Longest CommitStatus wait when the client sets no deadline; default 60 s. */
  readonly commitStatusTimeoutMs?: number;
  /** Clock for certificate validity; default the wall clock. */
  readonly clock?: () => Date;
  /** Told why a Deliver or Broadcast request was refused: their clients hear a status alone, as from Fabric. */
  readonly onRefusal?: (line: string) => void;
  /**
   * The organisation whose peer this endpoint is (its MSP id): ProcessProposal and Evaluate without a
   * target run on that org's peer and carry its endorsement, as a network's peer of that org would.
   * Default: the caller's org (else the first).
   */
  readonly peerOrg?: string;
}

export interface GatewayService {
  /** `gateway.Gateway`. */
  readonly implementation: UntypedServiceImplementation;
  /** `protos.Endorser` (ProcessProposal). */
  readonly endorser: UntypedServiceImplementation;
  /** `protos.Deliver` (Deliver, DeliverFiltered, DeliverWithPrivateData). */
  readonly deliver: UntypedServiceImplementation;
  /** `orderer.AtomicBroadcast` (Broadcast, Deliver). */
  readonly orderer: UntypedServiceImplementation;
  /** Ends every open ChaincodeEvents and Deliver stream (before a server shutdown). */
  endStreams(): void;
}

const DEFAULT_COMMIT_STATUS_TIMEOUT_MS = 60_000;

type Callback<T> = sendUnaryData<T>;

function ledgerStatus(err: unknown): number {
  if (err instanceof LedgerError) {
    if (err.code === 'CLOSED' || err.code === 'UNAVAILABLE') return GATEWAY_STATUS.UNAVAILABLE;
    if (err.code === 'TIMEOUT') return GATEWAY_STATUS.DEADLINE_EXCEEDED;
    if (err.code === 'NOT_FOUND') return GATEWAY_STATUS.NOT_FOUND;
  }
  return GATEWAY_STATUS.UNKNOWN;
}

function remainingMs(deadline: Date | number, fallback: number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return fallback;
  return Math.max(1, Math.min(fallback, at - Date.now()));
}

export function createGatewayService(options: Readonly<GatewayServiceOptions>): GatewayService {
  const { ledger } = options;
  const endpointOption = options.endpoint ?? 'localhost:7051';
  const endpoint = () => (typeof endpointOption === 'function' ? endpointOption() : endpointOption);
  const verifier = createCallerVerifier(ledger.orgs, options.clock);
  const qscc = createQscc(ledger, ledger.channel, ledger.chaincodeName);
  const onRefusal = options.onRefusal ? { onRefusal: options.onRefusal } : {};
  const deliverer = createDeliverer({ ledger, verifier, ...(options.clock ? { clock: options.clock } : {}), ...onRefusal });
  const ordering = createOrderer({ ledger, verifier, deliverer, ...onRefusal });
  const commitStatusTimeoutMs = options.commitStatusTimeoutMs ?? DEFAULT_COMMIT_STATUS_TIMEOUT_MS;
  const streams = new Set<AbortController>();
  const memberMsps = new Set(ledger.orgs.map((o) => o.mspId));
  if (options.peerOrg !== undefined && !memberMsps.has(options.peerOrg)) {
    throw new LedgerError('NOT_FOUND', `peerOrg ${options.peerOrg} is not an organisation of this ledger (${[...memberMsps].join(', ')})`);
  }

  /** Decodes and routes a proposal, or the error to answer with. */
  function proposalOf(signed: peer.SignedProposal | undefined, channelId: string): ProposalFields | Error {
    if (!signed) return gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, 'a proposed transaction (SignedProposal) is required');
    let fields: ProposalFields;
    try {
      fields = decodeProposalFields(signed);
    } catch (err) {
      return gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `failed to unpack the transaction proposal: ${(err as Error).message}`);
    }
    const channel = fields.channelId || channelId;
    // A qscc proposal may name no channel (`peer channel getinfo`): qscc takes the channel from its arguments.
    if (channel === '' && fields.chaincodeName === QSCC) return fields;
    if (channel !== ledger.channel) return gatewayError(GATEWAY_STATUS.NOT_FOUND, `channel '${channel}' not found; this gateway serves '${ledger.channel}'`);
    if (fields.chaincodeName !== QSCC && fields.chaincodeName !== ledger.chaincodeName) {
      return gatewayError(GATEWAY_STATUS.NOT_FOUND, `chaincode '${fields.chaincodeName}' is not deployed on channel '${ledger.channel}' (it runs '${ledger.chaincodeName}')`);
    }
    return fields;
  }

  function endpointError(mspId: string, message: string): EndpointError {
    return { address: endpoint(), mspId, message };
  }

  /** The gRPC error for refused proposal responses: the peer's own refusals (4xx) or the contract's (5xx). */
  function refusal(summary: string, failed: readonly OrgResponse[], chaincodeCode: number): Error {
    const details = failed.map(({ mspId, response }) => {
      const r = response.getResponse();
      const status = r?.getStatus() ?? 500;
      const message = r?.getMessage() || 'no endorsement returned';
      return endpointError(mspId, status >= 500 ? chaincodeResponseMessage(status, message) : message);
    });
    const denied = failed.some(({ response }) => response.getResponse()?.getStatus() === 403);
    return gatewayError(denied ? GATEWAY_STATUS.PERMISSION_DENIED : chaincodeCode, `${summary}, see attached details for more info`, details);
  }

  /** The org whose peer answers a proposal alone: a requested target, else this endpoint's org, else the caller's org, else the first. */
  function answeringOrg(targets: readonly string[], creatorMsp: string): string {
    return targets.find((m) => memberMsps.has(m)) ?? options.peerOrg ?? (memberMsps.has(creatorMsp) ? creatorMsp : (ledger.orgs[0]?.mspId ?? ''));
  }

  /**
   * One peer's answer to a proposal (Evaluate, and the Endorser's ProcessProposal): qscc is answered
   * here once the signature is checked; the contract runs on the peer of `org`, which checks the
   * creator and signature itself and signs its endorsement — the same endorsement Endorse collects.
   */
  async function answerProposal(proposal: peer.SignedProposal, fields: ProposalFields, org: string): Promise<OrgResponse | Error> {
    if (fields.chaincodeName === QSCC) {
      const caller = await verifier.verify(fields.creator.bytes, proposal.getProposalBytes_asU8(), proposal.getSignature_asU8());
      if (!caller.ok) return gatewayError(GATEWAY_STATUS.PERMISSION_DENIED, `access denied: ${caller.reason}`);
      const answer = await qscc.invoke(fields.args);
      const r = new peer.Response();
      r.setStatus(answer.status);
      r.setMessage(answer.message);
      r.setPayload(answer.payload);
      const response = new peer.ProposalResponse();
      response.setVersion(1);
      response.setResponse(r);
      return { mspId: caller.mspId, response };
    }
    const [answer] = await ledger.endorseByOrg(proposal, { orgs: [org] });
    return answer ?? { mspId: org, response: new peer.ProposalResponse() };
  }

  async function evaluate(call: ServerUnaryCall<gateway.EvaluateRequest, gateway.EvaluateResponse>, callback: Callback<gateway.EvaluateResponse>): Promise<void> {
    const request = call.request;
    const signed = request.getProposedTransaction();
    const fields = proposalOf(signed, request.getChannelId());
    if (fields instanceof Error) return callback(fields);
    const answer = await answerProposal(signed as peer.SignedProposal, fields, answeringOrg(request.getTargetOrganizationsList(), fields.creator.mspId));
    if (answer instanceof Error) return callback(answer);
    const r = answer.response.getResponse();
    if (!r || r.getStatus() >= 400) return callback(refusal('evaluate call to endorser returned error', [answer], GATEWAY_STATUS.UNKNOWN));
    const out = new gateway.EvaluateResponse();
    out.setResult(r);
    callback(null, out);
  }

  /**
   * `protos.Endorser/ProcessProposal`, as a peer answers `peer chaincode query|invoke` and `peer channel
   * getinfo`: a proposal the peer refuses before running it (malformed, channel, chaincode, creator,
   * signature, duplicate id) is a gRPC error; the chaincode's own failure is a ProposalResponse with its
   * status and message and no endorsement; success is the endorsed ProposalResponse.
   */
  async function processProposal(call: ServerUnaryCall<peer.SignedProposal, peer.ProposalResponse>, callback: Callback<peer.ProposalResponse>): Promise<void> {
    const fields = proposalOf(call.request, '');
    if (fields instanceof Error) return callback(fields);
    const answer = await answerProposal(call.request, fields, answeringOrg([], fields.creator.mspId));
    if (answer instanceof Error) return callback(answer);
    const status = answer.response.getResponse()?.getStatus() ?? 500;
    if (status >= 400 && status < 500 && !answer.response.hasEndorsement()) {
      const denied = status === 403;
      return callback(gatewayError(denied ? GATEWAY_STATUS.PERMISSION_DENIED : GATEWAY_STATUS.UNKNOWN, answer.response.getResponse()?.getMessage() || 'the proposal was refused', [endpointError(answer.mspId, answer.response.getResponse()?.getMessage() ?? '')]));
    }
    callback(null, answer.response);
  }

  async function endorse(call: ServerUnaryCall<gateway.EndorseRequest, gateway.EndorseResponse>, callback: Callback<gateway.EndorseResponse>): Promise<void> {
    const request = call.request;
    const signed = request.getProposedTransaction();
    const fields = proposalOf(signed, request.getChannelId());
    if (fields instanceof Error) return callback(fields);
    if (fields.chaincodeName === QSCC) return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, 'qscc is a query system chaincode: evaluate it, do not submit it'));
    if (request.getTransactionId() && request.getTransactionId() !== fields.txId) {
      return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `transaction id ${request.getTransactionId()} does not match the proposal's ${fields.txId}`));
    }
    const requested = request.getEndorsingOrganizationsList();
    const unknown = requested.filter((m) => !memberMsps.has(m));
    if (unknown.length > 0) return callback(gatewayError(GATEWAY_STATUS.UNAVAILABLE, `no peers of ${unknown.join(', ')} on channel '${ledger.channel}'`));
    const withOrg = await ledger.endorseByOrg(signed as peer.SignedProposal, requested.length > 0 ? { orgs: requested } : {});
    const failed = withOrg.filter(({ response }) => (response.getResponse()?.getStatus() ?? 500) >= 400 || !response.hasEndorsement());
    if (failed.length > 0) return callback(refusal('failed to endorse transaction', failed, GATEWAY_STATUS.ABORTED));
    let envelope;
    try {
      envelope = preparedTransaction(fields, withOrg.map(({ response }) => response));
    } catch (err) {
      return callback(gatewayError(GATEWAY_STATUS.ABORTED, `failed to assemble transaction: ${(err as Error).message}`, withOrg.map(({ mspId }) => endpointError(mspId, (err as Error).message))));
    }
    const out = new gateway.EndorseResponse();
    out.setPreparedTransaction(envelope);
    callback(null, out);
  }

  async function submit(call: ServerUnaryCall<gateway.SubmitRequest, gateway.SubmitResponse>, callback: Callback<gateway.SubmitResponse>): Promise<void> {
    const request = call.request;
    const envelope = request.getPreparedTransaction();
    if (!envelope) return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, 'a prepared transaction (signed Envelope) is required'));
    let fields;
    try {
      fields = decodeEnvelopeFields(envelope);
    } catch (err) {
      return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `failed to unpack the prepared transaction: ${(err as Error).message}`));
    }
    if (fields.channelId !== ledger.channel) return callback(gatewayError(GATEWAY_STATUS.NOT_FOUND, `channel '${fields.channelId}' not found; this gateway serves '${ledger.channel}'`));
    if (request.getTransactionId() && request.getTransactionId() !== fields.txId) {
      return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `transaction id ${request.getTransactionId()} does not match the envelope's ${fields.txId}`));
    }
    // The orderer's checks (the envelope is signed by its creator, a member of the channel), then ordered.
    const result = await ordering.broadcast(envelope);
    if (result.status !== DELIVER_STATUS.SUCCESS) {
      const detail = endpointError(ordering.mspId, `received unsuccessful response from orderer: status=${statusName(result.status)}, info=${result.info}`);
      const forbidden = result.status === DELIVER_STATUS.FORBIDDEN;
      const hint = forbidden ? "; sign the prepared transaction with the proposal's identity" : '';
      return callback(gatewayError(forbidden ? GATEWAY_STATUS.PERMISSION_DENIED : GATEWAY_STATUS.ABORTED, `transaction ${fields.txId} refused: ${result.info}${hint}`, [detail]));
    }
    callback(null, new gateway.SubmitResponse());
  }

  async function commitStatus(call: ServerUnaryCall<gateway.SignedCommitStatusRequest, gateway.CommitStatusResponse>, callback: Callback<gateway.CommitStatusResponse>): Promise<void> {
    const signed = call.request;
    let request: gateway.CommitStatusRequest;
    try {
      request = gateway.CommitStatusRequest.deserializeBinary(signed.getRequest_asU8());
    } catch (err) {
      return callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `failed to unpack the commit status request: ${(err as Error).message}`));
    }
    const caller = await verifier.verify(request.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    if (!caller.ok) return callback(gatewayError(GATEWAY_STATUS.PERMISSION_DENIED, `access denied: ${caller.reason}`));
    if (request.getChannelId() !== ledger.channel) return callback(gatewayError(GATEWAY_STATUS.NOT_FOUND, `channel '${request.getChannelId()}' not found; this gateway serves '${ledger.channel}'`));
    const status = await ledger.commitStatus(request.getTransactionId(), { timeoutMs: remainingMs(call.getDeadline(), commitStatusTimeoutMs) });
    const out = new gateway.CommitStatusResponse();
    out.setResult(ValidationCode[status.validationCode] as never);
    out.setBlockNumber(status.blockNumber);
    callback(null, out);
  }

  async function chaincodeEvents(call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>): Promise<void> {
    const signed = call.request;
    let request: gateway.ChaincodeEventsRequest;
    try {
      request = gateway.ChaincodeEventsRequest.deserializeBinary(signed.getRequest_asU8());
    } catch (err) {
      return void call.emit('error', gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `failed to unpack the chaincode events request: ${(err as Error).message}`));
    }
    const caller = await verifier.verify(request.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    if (!caller.ok) return void call.emit('error', gatewayError(GATEWAY_STATUS.PERMISSION_DENIED, `access denied: ${caller.reason}`));
    if (request.getChannelId() !== ledger.channel) {
      return void call.emit('error', gatewayError(GATEWAY_STATUS.NOT_FOUND, `channel '${request.getChannelId()}' not found; this gateway serves '${ledger.channel}'`));
    }
    if (request.getChaincodeId() !== ledger.chaincodeName) {
      return void call.emit('error', gatewayError(GATEWAY_STATUS.NOT_FOUND, `chaincode '${request.getChaincodeId()}' is not deployed on channel '${ledger.channel}'`));
    }
    const position = request.getStartPosition();
    const height = await ledger.height();
    const startBlock = position?.hasSpecified() ? (position.getSpecified()?.getNumber() ?? 0) : position?.hasOldest() ? 0 : position?.hasNewest() ? Math.max(0, height - 1) : height;
    // after_transaction_id: skip the start block's events up to and including that transaction.
    let skipThrough = -1;
    const afterTxId = request.getAfterTransactionId();
    if (afterTxId) {
      const found = await ledger.transaction(afterTxId).catch(() => undefined);
      if (found && found.blockNumber === startBlock) {
        const block = await ledger.block(startBlock);
        skipThrough = block.transactions.findIndex((tx) => tx.txId === afterTxId);
      }
    }
    const controller = new AbortController();
    streams.add(controller);
    const stop = () => controller.abort();
    call.on('cancelled', stop);
    call.on('close', stop);
    try {
      for await (const event of ledger.events({ startBlock, signal: controller.signal })) {
        if (event.blockNumber === startBlock && event.txIndex <= skipThrough) continue;
        if (!call.write(responseOf(event, ledger.chaincodeName))) await new Promise((resolve) => call.once('drain', resolve));
        if (controller.signal.aborted) break;
      }
      if (!call.cancelled) call.emit('error', gatewayError(GATEWAY_STATUS.UNAVAILABLE, 'the gateway is shutting down; reconnect and resume from your checkpoint'));
    } finally {
      streams.delete(controller);
      call.off('cancelled', stop);
      call.off('close', stop);
    }
  }

  function unary<Req, Res>(handler: (call: ServerUnaryCall<Req, Res>, callback: Callback<Res>) => Promise<void>) {
    return (call: ServerUnaryCall<Req, Res>, callback: Callback<Res>) => {
      handler(call, callback).catch((err: unknown) => callback(gatewayError(ledgerStatus(err), (err as Error).message ?? String(err))));
    };
  }

  return {
    implementation: {
      evaluate: unary(evaluate),
      endorse: unary(endorse),
      submit: unary(submit),
      commitStatus: unary(commitStatus),
      chaincodeEvents: (call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>) => {
        chaincodeEvents(call).catch((err: unknown) => {
          if (!call.cancelled) call.emit('error', gatewayError(ledgerStatus(err), (err as Error).message ?? String(err)));
        });
      },
    },
    endorser: { processProposal: unary(processProposal) },
    deliver: {
      deliver: (call: DeliverCall) => deliverer.handle(call, 'block'),
      deliverFiltered: (call: DeliverCall) => deliverer.handle(call, 'filtered'),
      deliverWithPrivateData: (call: DeliverCall) => deliverer.handle(call, 'private-data'),
    },
    orderer: ordering.implementation,
    endStreams() {
      for (const c of streams) c.abort();
      deliverer.endStreams();
    },
  };
}

function responseOf(event: ContractEvent, chaincodeName: string): gateway.ChaincodeEventsResponse {
  const e = new peer.ChaincodeEvent();
  e.setChaincodeId(chaincodeName);
  e.setTxId(event.txId);
  e.setEventName(event.name);
  e.setPayload(event.payload);
  const out = new gateway.ChaincodeEventsResponse();
  out.setBlockNumber(event.blockNumber);
  out.setEventsList([e]);
  return out;
}

export interface GatewayServerOptions extends GatewayServiceOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 7051 (a peer's port); 0 picks a free port. */
  readonly port?: number;
  /**
   * Where the ordering service (`orderer.AtomicBroadcast`: Broadcast, Deliver) listens: undefined (the
   * default) serves it on `port` beside the peer's services; a number (7050 is an orderer's; 0 a free
   * one) serves it there alone, with the same TLS.
   */
  readonly ordererPort?: number;
  /** The server's TLS certificate (chain) and key, PEM. Required unless `plaintext`. */
  readonly tls?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Listen without TLS: for tests and local development only. */
  readonly plaintext?: boolean;
  /**
   * One more listening port per entry, each serving the peer's services (Gateway, Endorser, Deliver)
   * as the peer of that organisation (`peerOrg`): `peer chaincode invoke --peerAddresses A
   * --peerAddresses B` then collects one endorsement per org, as on a network with a peer per org.
   * `port` 0 picks a free one. `port`/`address` above stay the default peer (the caller's org).
   */
  readonly orgPeers?: ReadonlyArray<{ readonly mspId: string; readonly port: number }>;
}

export interface GatewayServer {
  readonly port: number;
  /** host:port */
  readonly address: string;
  /** host:port of the ordering service (`address` when it shares the peer's port). */
  readonly ordererAddress: string;
  /** host:port of each `orgPeers` entry's peer, by MSP id. */
  readonly orgPeerAddresses: Readonly<Record<string, string>>;
  /** Ends event streams, lets unary calls finish (2 s at most), closes the listener. The ledger stays open. */
  close(): Promise<void>;
}

/** The gRPC service definition of `gateway.Gateway` from @hyperledger/fabric-protos. */
export const GATEWAY_SERVICE_DEFINITION = gateway.GatewayService;

export async function startGatewayServer(options: Readonly<GatewayServerOptions>): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  let credentials: ServerCredentials;
  if (options.tls) {
    credentials = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(options.tls.certificatePem), private_key: Buffer.from(options.tls.privateKeyPem) }], false);
  } else if (options.plaintext) {
    credentials = ServerCredentials.createInsecure();
  } else {
    throw new LedgerError('UNAVAILABLE', 'the gateway needs a TLS certificate and key (tls: { certificatePem, privateKeyPem }); pass plaintext: true only for local tests');
  }
  const hostOf = (port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let address = hostOf(options.port ?? 7051);
  const service = createGatewayService({ ...options, endpoint: options.endpoint ?? (() => address) });
  const newServer = () => new Server({ 'grpc.max_receive_message_length': 100 * 1024 * 1024, 'grpc.max_send_message_length': 100 * 1024 * 1024 });
  const bind = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      const hostPort = hostOf(port);
      server.bindAsync(hostPort, credentials, (err, bound) => (err ? reject(new LedgerError('UNAVAILABLE', `cannot listen on ${hostPort}: ${err.message}; choose another port`, { cause: err })) : resolve(bound)));
    });
  const server = newServer();
  server.addService(GATEWAY_SERVICE_DEFINITION, service.implementation);
  server.addService(peer.EndorserService, service.endorser);
  server.addService(PEER_DELIVER_SERVICE, service.deliver);
  const ordererServer = options.ordererPort === undefined ? server : newServer();
  ordererServer.addService(ATOMIC_BROADCAST_SERVICE, service.orderer);
  // A peer per organisation: its own port and service, over the same ledger.
  const orgPeers = (options.orgPeers ?? []).map((p) => {
    let at = hostOf(p.port);
    const orgService = createGatewayService({ ...options, peerOrg: p.mspId, endpoint: () => at });
    const s = newServer();
    s.addService(GATEWAY_SERVICE_DEFINITION, orgService.implementation);
    s.addService(peer.EndorserService, orgService.endorser);
    s.addService(PEER_DELIVER_SERVICE, orgService.deliver);
    return { mspId: p.mspId, port: p.port, server: s, service: orgService, setAddress: (a: string) => void (at = a) };
  });
  const servers = [...(ordererServer === server ? [server] : [server, ordererServer]), ...orgPeers.map((p) => p.server)];
  let port: number;
  let ordererPort: number;
  const orgPeerAddresses: Record<string, string> = {};
  try {
    port = await bind(server, options.port ?? 7051);
    ordererPort = ordererServer === server ? port : await bind(ordererServer, options.ordererPort ?? 7050);
    for (const p of orgPeers) {
      const bound = hostOf(await bind(p.server, p.port));
      p.setAddress(bound);
      orgPeerAddresses[p.mspId] = bound;
    }
  } catch (err) {
    for (const s of servers) s.forceShutdown();
    throw err;
  }
  address = hostOf(port);
  const ordererAddress = hostOf(ordererPort);
  return {
    port,
    address,
    ordererAddress,
    orgPeerAddresses,
    async close() {
      service.endStreams();
      for (const p of orgPeers) p.service.endStreams();
      await Promise.all(servers.map((s) => shutDown(s)));
    },
  };
}

/** Lets running calls finish (2 s at most), then closes the listener. */
function shutDown(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
