/**
 * Block delivery over the embedded ledger, as a Fabric peer's `protos.Deliver` service (Deliver,
 * DeliverFiltered, DeliverWithPrivateData) and an orderer's `orderer.AtomicBroadcast/Deliver` serve it
 * (Fabric 2.5 `common/deliver/deliver.go`):
 *
 *   each request Envelope on the stream, in turn:
 *     malformed, no timestamp, or a timestamp more than 15 min from the server's clock → BAD_REQUEST
 *     channel not served                                                              → NOT_FOUND
 *     creator not a member of a channel org (root CA, validity) or a bad signature     → FORBIDDEN
 *       (the channel's Readers policy: any member of a known org)
 *     the SeekInfo's range (deliver-messages.ts); for each block in it: FAIL_IF_NOT_READY and the
 *       block not committed yet → NOT_FOUND; else wait for it (BLOCK_UNTIL_READY); the creator's
 *       certificate expired meanwhile → FORBIDDEN; send the block
 *     → SUCCESS, and the next request is read; any other status ends the stream.
 *
 * The ledger closing or the server shutting down ends a delivery with SERVICE_UNAVAILABLE. TLS
 * binding (the channel header's tls_cert_hash) is not checked: the service does not ask clients for
 * TLS certificates.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { orderer, peer, type common } from '@hyperledger/fabric-protos';
import type { EmbeddedLedger } from '../embedded/embedded-ledger.ts';
import { blockResponse, DELIVER_STATUS, parseSeekRequest, seekRange, statusName, statusResponse, type DeliverForm, type Refusal } from './deliver-messages.ts';
import type { CallerVerifier } from './identity.ts';

/** Fabric's `peer.authentication.timewindow` (and the orderer's `General.Authentication.TimeWindow`) default. */
export const DELIVER_TIME_WINDOW_MS = 15 * 60 * 1000;

export type DeliverLedger = Pick<EmbeddedLedger, 'channel' | 'height' | 'blocks'>;

export interface DelivererOptions {
  readonly ledger: DeliverLedger;
  readonly verifier: CallerVerifier;
  /** The server's clock (request timestamps, certificate expiry); default the wall clock. */
  readonly clock?: () => Date;
  readonly timeWindowMs?: number;
  /** Told why a delivery ended with a status other than SUCCESS (the client hears the status alone). */
  readonly onRefusal?: (line: string) => void;
}

export type DeliverCall = ServerDuplexStream<common.Envelope, Uint8Array>;

export interface Deliverer {
  /** Serves one Deliver stream, answering each request with blocks in `form`, then a status. */
  handle(call: DeliverCall, form: DeliverForm): void;
  /** Ends every delivery with SERVICE_UNAVAILABLE (before a server shutdown). */
  endStreams(): void;
}

/** Responses go out as the bytes deliver-messages.ts builds (blocks exactly as stored). */
function rawBytes(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** `protos.Deliver` with the responses written as built (`@hyperledger/fabric-protos`' definition otherwise). */
export const PEER_DELIVER_SERVICE = {
  deliver: { ...peer.DeliverService.deliver, responseSerialize: rawBytes },
  deliverFiltered: { ...peer.DeliverService.deliverFiltered, responseSerialize: rawBytes },
  deliverWithPrivateData: { ...peer.DeliverService.deliverWithPrivateData, responseSerialize: rawBytes },
};

/** The orderer's Deliver method, its responses written as built. */
export const ORDERER_DELIVER_METHOD = { ...orderer.AtomicBroadcastService.deliver, responseSerialize: rawBytes };

/** Writes to a stream, waiting for it to drain; false when the call ended first. */
export async function writeInTurn<T>(call: { write(value: T): boolean; once(e: 'drain', f: () => void): unknown; off(e: 'drain', f: () => void): unknown; readonly cancelled: boolean }, value: T, signal: AbortSignal): Promise<boolean> {
  if (call.cancelled || signal.aborted) return false;
  if (call.write(value)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
  return !call.cancelled && !signal.aborted;
}

export function createDeliverer(options: Readonly<DelivererOptions>): Deliverer {
  const { ledger, verifier } = options;
  const clock = options.clock ?? (() => new Date());
  const timeWindowMs = options.timeWindowMs ?? DELIVER_TIME_WINDOW_MS;
  const shutdown = new AbortController();
  const streams = new Set<AbortController>();

  async function deliverBlocks(envelope: common.Envelope, form: DeliverForm, send: (bytes: Uint8Array) => Promise<boolean>, signal: AbortSignal): Promise<Refusal> {
    const request = parseSeekRequest(envelope);
    if ('status' in request) return request;
    if (request.timestampMs === undefined) return { status: DELIVER_STATUS.BAD_REQUEST, reason: 'the channel header must carry a timestamp' };
    if (Math.abs(clock().getTime() - request.timestampMs) > timeWindowMs) {
      return { status: DELIVER_STATUS.BAD_REQUEST, reason: `the request's timestamp is more than ${timeWindowMs / 60_000} min from the server's time` };
    }
    if (request.channelId !== ledger.channel) return { status: DELIVER_STATUS.NOT_FOUND, reason: `channel '${request.channelId}' not found; this peer serves '${ledger.channel}'` };
    const caller = await verifier.verify(request.creator, request.payloadBytes, request.signature);
    if (!caller.ok) return { status: DELIVER_STATUS.FORBIDDEN, reason: caller.reason };
    const range = seekRange(request.seekInfo, await ledger.height());
    if ('status' in range) return range;
    const blocks = ledger.blocks({ startBlock: range.start, signal })[Symbol.asyncIterator]();
    try {
      for (let number = range.start; number <= range.stop; number++) {
        if (range.failIfNotReady && number >= (await ledger.height())) return { status: DELIVER_STATUS.NOT_FOUND, reason: `block ${number} is not committed yet` };
        const next = await blocks.next();
        if (next.done) return { status: DELIVER_STATUS.SERVICE_UNAVAILABLE, reason: 'the ledger is closing' };
        if (clock().getTime() > caller.expiresAt) return { status: DELIVER_STATUS.FORBIDDEN, reason: 'the client certificate expired' };
        if (!(await send(blockResponse(form, ledger.channel, next.value.bytes)))) return { status: DELIVER_STATUS.SERVICE_UNAVAILABLE, reason: 'the stream ended' };
      }
    } finally {
      await blocks.return?.();
    }
    return { status: DELIVER_STATUS.SUCCESS, reason: '' };
  }

  return {
    handle(call, form) {
      const controller = new AbortController();
      const signal = AbortSignal.any([controller.signal, shutdown.signal]);
      streams.add(controller);
      let queue = Promise.resolve();
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        streams.delete(controller);
        if (!call.cancelled) call.end();
      };
      call.on('cancelled', () => {
        controller.abort();
        finish();
      });
      call.on('error', () => controller.abort());
      const send = (bytes: Uint8Array) => writeInTurn(call, bytes, controller.signal);
      call.on('data', (envelope: common.Envelope) => {
        queue = queue.then(async () => {
          if (ended) return;
          const result = await deliverBlocks(envelope, form, send, signal).catch((err: unknown) => ({ status: DELIVER_STATUS.INTERNAL_SERVER_ERROR, reason: (err as Error).message }));
          if (ended || call.cancelled) return;
          if (result.status !== DELIVER_STATUS.SUCCESS) options.onRefusal?.(`deliver (${form}) ended with status=${statusName(result.status)}: ${result.reason}`);
          await send(statusResponse(result.status));
          if (result.status !== DELIVER_STATUS.SUCCESS) finish();
        });
      });
      call.on('end', () => void queue.then(finish));
    },
    endStreams() {
      shutdown.abort();
    },
  };
}
