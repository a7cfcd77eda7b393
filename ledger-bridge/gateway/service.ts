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
 * statuses with `gateway.ErrorDetail`s, which the clients turn into EndorseError, SubmitError and
 * CommitStatusError. `startGatewayServer` listens with TLS (plain text only when asked for).
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import type { EmbeddedLedger } from '../embedded/embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { createCallerVerifier } from './identity.ts';
import { decodeCreator, decodeEnvelopeFields, decodeProposalFields, preparedTransaction, type ProposalFields } from './messages.ts';
import { createQscc, QSCC } from './qscc.ts';
import { chaincodeResponseMessage, GATEWAY_STATUS, gatewayError, type EndpointError } from './status.ts';
import { ValidationCode, type ContractEvent } from '../ledger.ts';

/** The embedded ledger, optionally able to hand out its stored blocks (served by qscc as they are). */
export type GatewayLedger = EmbeddedLedger & { readonly blockBytes?: (number: number) => Promise<Uint8Array | undefined> };

export interface GatewayServiceOptions {
  readonly ledger: GatewayLedger;
  /** The address reported in error details (a function when known only once listening); default `localhost:7051`. */
  readonly endpoint?: string | (() => string);
  /** Longest CommitStatus wait when the client sets no deadline; default 60 s. */
  readonly commitStatusTimeoutMs?: number;
  /** Clock for certificate validity; default the wall clock. */
  readonly clock?: () => Date;
}

export interface GatewayService {
  readonly implementation: UntypedServiceImplementation;
  /** Ends every open ChaincodeEvents stream (before a server shutdown). */
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
  const commitStatusTimeoutMs = options.commitStatusTimeoutMs ?? DEFAULT_COMMIT_STATUS_TIMEOUT_MS;
  const streams = new Set<AbortController>();
  const memberMsps = new Set(ledger.orgs.map((o) => o.mspId));

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
  function refusal(summary: string, failed: readonly { readonly mspId: string; readonly response: peer.ProposalResponse }[], chaincodeCode: number): Error {
    const details = failed.map(({ mspId, response }) => {
      const r = response.getResponse();
      const status = r?.getStatus() ?? 500;
      const message = r?.getMessage() || 'no endorsement returned';
      return endpointError(mspId, status >= 500 ? chaincodeResponseMessage(status, message) : message);
    });
    const denied = failed.some(({ response }) => response.getResponse()?.getStatus() === 403);
    return gatewayError(denied ? GATEWAY_STATUS.PERMISSION_DENIED : chaincodeCode, `${summary}, see attached details for more info`, details);
  }

  async function evaluate(call: ServerUnaryCall<gateway.EvaluateRequest, gateway.EvaluateResponse>, callback: Callback<gateway.EvaluateResponse>): Promise<void> {
    const request = call.request;
    const signed = request.getProposedTransaction();
    const fields = proposalOf(signed, request.getChannelId());
    if (fields instanceof Error) return callback(fields);
    const proposal = signed as peer.SignedProposal;
    const response = new peer.Response();
    if (fields.chaincodeName === QSCC) {
      const caller = await verifier.verify(fields.creator.bytes, proposal.getProposalBytes_asU8(), proposal.getSignature_asU8());
      if (!caller.ok) return callback(gatewayError(GATEWAY_STATUS.PERMISSION_DENIED, `access denied: ${caller.reason}`));
      const answer = await qscc.invoke(fields.args);
      if (answer.status >= 400) {
        const detail = endpointError(caller.mspId, chaincodeResponseMessage(answer.status, answer.message));
        return callback(gatewayError(GATEWAY_STATUS.UNKNOWN, `evaluate call to endorser returned error: ${detail.message}`, [detail]));
      }
      response.setStatus(answer.status);
      response.setPayload(answer.payload);
    } else {
      const targets = request.getTargetOrganizationsList();
      const org = targets.find((m) => memberMsps.has(m)) ?? (memberMsps.has(fields.creator.mspId) ? fields.creator.mspId : (ledger.orgs[0]?.mspId ?? ''));
      const [answer] = await ledger.endorse(proposal, { orgs: [org] });
      const r = answer?.getResponse();
      if (!answer || !r || r.getStatus() >= 400) {
        return callback(refusal('evaluate call to endorser returned error', [{ mspId: org, response: answer ?? new peer.ProposalResponse() }], GATEWAY_STATUS.UNKNOWN));
      }
      response.setStatus(r.getStatus());
      response.setMessage(r.getMessage());
      response.setPayload(r.getPayload_asU8());
    }
    const out = new gateway.EvaluateResponse();
    out.setResult(response);
    callback(null, out);
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
    const responses = await ledger.endorse(signed as peer.SignedProposal, requested.length > 0 ? { orgs: requested } : {});
    const withOrg = responses.map((response, i) => ({ response, mspId: requested[i] ?? endorserMsp(response) }));
    const failed = withOrg.filter(({ response }) => (response.getResponse()?.getStatus() ?? 500) >= 400 || !response.hasEndorsement());
    if (failed.length > 0) return callback(refusal('failed to endorse transaction', failed, GATEWAY_STATUS.ABORTED));
    let envelope;
    try {
      envelope = preparedTransaction(fields, responses);
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
    // The orderer's check: the envelope is signed by its creator, a member of the channel.
    const caller = await verifier.verify(fields.creator.bytes, fields.payloadBytes, fields.signature);
    if (!caller.ok) {
      const detail = endpointError('', `received unsuccessful response from orderer: status=FORBIDDEN, info=${caller.reason}`);
      return callback(gatewayError(GATEWAY_STATUS.PERMISSION_DENIED, `transaction ${fields.txId} refused: ${caller.reason}; sign the prepared transaction with the proposal's identity`, [detail]));
    }
    await ledger.submitEnvelope(envelope.serializeBinary());
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
    endStreams() {
      for (const c of streams) c.abort();
    },
  };
}

function endorserMsp(response: peer.ProposalResponse): string {
  const endorser = response.getEndorsement()?.getEndorser_asU8();
  if (!endorser || endorser.length === 0) return '';
  try {
    return decodeCreator(endorser).mspId;
  } catch {
    return '';
  }
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
  /** The server's TLS certificate (chain) and key, PEM. Required unless `plaintext`. */
  readonly tls?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Listen without TLS: for tests and local development only. */
  readonly plaintext?: boolean;
}

export interface GatewayServer {
  readonly port: number;
  /** host:port */
  readonly address: string;
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
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 7051}`;
  let address = hostPort;
  const service = createGatewayService({ ...options, endpoint: options.endpoint ?? (() => address) });
  const server = new Server({ 'grpc.max_receive_message_length': 100 * 1024 * 1024, 'grpc.max_send_message_length': 100 * 1024 * 1024 });
  server.addService(GATEWAY_SERVICE_DEFINITION, service.implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort, credentials, (err, bound) => (err ? reject(new LedgerError('UNAVAILABLE', `cannot listen on ${hostPort}: ${err.message}; choose another --port`, { cause: err })) : resolve(bound)));
  });
  address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    port,
    address,
    async close() {
      service.endStreams();
      await new Promise<void>((resolve) => {
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
    },
  };
}
