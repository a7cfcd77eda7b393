/**
 * For tests: a gRPC proxy in front of a Fabric Gateway service (ours, or a peer's) that injects the
 * faults of a real network. It forwards the `gateway.Gateway` calls byte for byte (TLS on both sides
 * when given) and lets a test:
 * - answer an Endorse with the error a Fabric 2.5 gateway sends when the endorsing peers disagree
 *   (`10 ABORTED failed to collect enough transaction endorsements`, detail `ProposalResponsePayloads
 *   do not match`) — nothing reaches the ledger, as on Fabric;
 * - run something before a Submit is forwarded (`beforeSubmit`: commit a conflicting transaction, so
 *   the held one is committed with a real MVCC_READ_CONFLICT);
 * - hold the Evaluate calls (a peer that has not answered yet);
 * - count the calls per method.
 */
import { Client, credentials as grpcCredentials, Server, ServerCredentials, type ServerUnaryCall, type ServerWritableStream, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import { decodeProposal, decodeTransaction } from '../fabric/fabric-messages.ts';
import { GATEWAY_STATUS, gatewayError } from '../gateway/status.ts';

const METHODS = ['Endorse', 'Submit', 'CommitStatus', 'Evaluate', 'ChaincodeEvents'] as const;
export type GatewayMethod = (typeof METHODS)[number];

export interface GatewayProxyOptions {
  /** The service proxied: host:port. */
  readonly target: string;
  /** TLS to the target (its CA and the name in its certificate); absent: plaintext. */
  readonly targetTls?: { readonly caPem: string; readonly hostname: string };
  /** The proxy's own TLS server certificate; absent: plaintext. */
  readonly serverTls?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Port to listen on (default 0: a free one) on 127.0.0.1. */
  readonly port?: number;
}

export interface GatewayProxy {
  readonly address: string;
  /** The next `count` Endorse calls of contract function `fn` fail as an endorsement mismatch. */
  failEndorsements(fn: string, count: number): void;
  /** Holds every Evaluate (e.g. a block-height query) until the returned function is called. */
  holdEvaluate(): () => void;
  /** Runs `hook` (awaited) before the next Submit of `fn` is forwarded. */
  beforeSubmit(fn: string, hook: () => Promise<void>): void;
  /** Calls forwarded or answered, per method; per contract function for Endorse and Submit (`Endorse:recordEnergy`). */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

/** The error a Fabric 2.5 gateway returns when the endorsements it collected differ. */
export function endorsementMismatchError(mspId = 'Org2MSP', address = 'peer0.org2.example.com:9051'): ServiceError {
  return gatewayError(GATEWAY_STATUS.ABORTED, 'failed to collect enough transaction endorsements, see attached details for more info', [
    { address, mspId, message: 'ProposalResponsePayloads do not match' },
  ]);
}

export async function startGatewayProxy(options: Readonly<GatewayProxyOptions>): Promise<GatewayProxy> {
  const upstream = new Client(
    options.target,
    options.targetTls === undefined ? grpcCredentials.createInsecure() : grpcCredentials.createSsl(Buffer.from(options.targetTls.caPem)),
    options.targetTls === undefined ? {} : { 'grpc.ssl_target_name_override': options.targetTls.hostname, 'grpc.default_authority': options.targetTls.hostname },
  );
  const calls = new Map<string, number>();
  const count = (key: string): void => void calls.set(key, (calls.get(key) ?? 0) + 1);
  const endorseFaults = new Map<string, number>();
  const submitHooks = new Map<string, Array<() => Promise<void>>>();
  let evaluateHold: Promise<void> | undefined;
  const path = (m: GatewayMethod): string => `/gateway.Gateway/${m}`;

  const fnOfEndorse = (request: Buffer): string => {
    const signed = gateway.EndorseRequest.deserializeBinary(request).getProposedTransaction() as peer.SignedProposal;
    return decodeProposal(signed).args[0] ?? '';
  };
  const fnOfSubmit = (request: Buffer): string => {
    const envelope = gateway.SubmitRequest.deserializeBinary(request).getPreparedTransaction();
    const tx = envelope === undefined ? undefined : decodeTransaction(envelope.serializeBinary());
    return tx?.action?.args[0] ?? '';
  };

  const forwardUnary = (m: GatewayMethod) => async (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> => {
    count(m);
    try {
      if (m === 'Endorse') {
        const fn = fnOfEndorse(call.request);
        count(`${m}:${fn}`);
        const left = endorseFaults.get(fn) ?? 0;
        if (left > 0) {
          endorseFaults.set(fn, left - 1);
          count(`${m}:${fn}:mismatch`);
          callback(endorsementMismatchError());
          return;
        }
      }
      if (m === 'Evaluate' && evaluateHold !== undefined) await evaluateHold;
      if (m === 'Submit') {
        const fn = fnOfSubmit(call.request);
        count(`${m}:${fn}`);
        const hook = submitHooks.get(fn)?.shift();
        if (hook !== undefined) await hook();
      }
    } catch (err) {
      callback(gatewayError(GATEWAY_STATUS.INVALID_ARGUMENT, `proxy: ${(err as Error).message}`));
      return;
    }
    const deadline = call.getDeadline();
    upstream.makeUnaryRequest(path(m), bytes.serialize, bytes.deserialize, call.request, call.metadata, { deadline }, (err, response) => {
      if (err) callback(err);
      else callback(null, response);
    });
  };

  const forwardStream = (m: GatewayMethod) => (call: ServerWritableStream<Buffer, Buffer>): void => {
    count(m);
    const up = upstream.makeServerStreamRequest(path(m), bytes.serialize, bytes.deserialize, call.request, call.metadata, { deadline: call.getDeadline() });
    up.on('data', (chunk: Buffer) => call.write(chunk));
    up.on('error', (err: ServiceError) => call.emit('error', err));
    up.on('end', () => call.end());
    call.on('cancelled', () => up.cancel());
  };

  const definition = Object.fromEntries(
    METHODS.map((m) => [m, { path: path(m), requestStream: false, responseStream: m === 'ChaincodeEvents', requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize }]),
  );
  const handlers = Object.fromEntries(METHODS.map((m) => [m, m === 'ChaincodeEvents' ? forwardStream(m) : forwardUnary(m)]));
  const server = new Server();
  server.addService(definition, handlers as never);
  const credentials =
    options.serverTls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(options.serverTls.certificatePem), private_key: Buffer.from(options.serverTls.privateKeyPem) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    calls,
    failEndorsements(fn, n) {
      endorseFaults.set(fn, (endorseFaults.get(fn) ?? 0) + n);
    },
    holdEvaluate() {
      let release!: () => void;
      evaluateHold = new Promise<void>((resolve) => (release = resolve));
      return () => {
        evaluateHold = undefined;
        release();
      };
    },
    beforeSubmit(fn, hook) {
      submitHooks.set(fn, [...(submitHooks.get(fn) ?? []), hook]);
    },
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      upstream.close();
    },
  };
}
