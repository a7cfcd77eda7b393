/**
 * The ordering service's `orderer.AtomicBroadcast` over the embedded ledger, as a Fabric 2.5 orderer
 * answers it (`orderer/common/broadcast`, `msgprocessor`):
 *
 *   Broadcast  each Envelope on the stream, in turn → BroadcastResponse { status, info }:
 *                not an Envelope with a header                          → BAD_REQUEST
 *                channel not served                                      → NOT_FOUND
 *                not an endorser transaction (this channel's configuration is fixed) → BAD_REQUEST
 *                creator not a member of a channel org, or a bad signature (the channel's Writers) → FORBIDDEN
 *                ledger closing or its store failing                     → SERVICE_UNAVAILABLE
 *                else the transaction goes to the batch cutter           → SUCCESS
 *              any status but SUCCESS ends the stream, as at an orderer.
 *   Deliver    blocks, as the peer's Deliver (deliver.ts).
 *
 * The Gateway service's Submit hands its transaction to the same `broadcast`. The ordering service
 * reports the MSP id of the channel's first org (`ORDERER_MSP`): the embedded ledger orders for all.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { orderer, type common } from '@hyperledger/fabric-protos';
import type { EmbeddedLedger } from '../embedded/embedded-ledger.ts';
import { LedgerError } from '../errors.ts';
import { DELIVER_STATUS, statusName, type DeliverStatus } from './deliver-messages.ts';
import { ORDERER_DELIVER_METHOD, writeInTurn, type DeliverCall, type Deliverer } from './deliver.ts';
import type { CallerVerifier } from './identity.ts';
import { decodeEnvelopeFields, HEADER_TYPE_ENDORSER_TRANSACTION } from './messages.ts';

export interface BroadcastResult {
  readonly status: DeliverStatus;
  readonly info: string;
  /** The transaction's id, once read. */
  readonly txId?: string;
}

export interface Orderer {
  /** Orders one signed transaction Envelope into the embedded ledger. */
  broadcast(envelope: common.Envelope): Promise<BroadcastResult>;
  /** The MSP id the ordering service reports in error details. */
  readonly mspId: string;
  readonly implementation: {
    broadcast(call: ServerDuplexStream<common.Envelope, orderer.BroadcastResponse>): void;
    deliver(call: DeliverCall): void;
  };
}

/** `orderer.AtomicBroadcast` with Deliver's responses written as built. */
export const ATOMIC_BROADCAST_SERVICE = { broadcast: orderer.AtomicBroadcastService.broadcast, deliver: ORDERER_DELIVER_METHOD };

export interface OrdererOptions {
  readonly ledger: Pick<EmbeddedLedger, 'channel' | 'orgs' | 'submitEnvelope'>;
  readonly verifier: CallerVerifier;
  readonly deliverer: Deliverer;
  /** Told why Broadcast refused a transaction (also said in the response's `info`). */
  readonly onRefusal?: (line: string) => void;
}

export function createOrderer(options: Readonly<OrdererOptions>): Orderer {
  const { ledger, verifier, deliverer } = options;

  async function broadcast(envelope: common.Envelope): Promise<BroadcastResult> {
    let fields;
    try {
      fields = decodeEnvelopeFields(envelope);
    } catch (err) {
      return { status: DELIVER_STATUS.BAD_REQUEST, info: `malformed transaction envelope: ${(err as Error).message}` };
    }
    const txId = fields.txId;
    if (fields.channelId !== ledger.channel) return { status: DELIVER_STATUS.NOT_FOUND, info: `channel '${fields.channelId}' not found; this orderer serves '${ledger.channel}'`, txId };
    if (fields.type !== HEADER_TYPE_ENDORSER_TRANSACTION) {
      return { status: DELIVER_STATUS.BAD_REQUEST, info: `header type ${fields.type} is not accepted: this orderer takes endorser transactions only (the channel's configuration is fixed)`, txId };
    }
    const caller = await verifier.verify(fields.creator.bytes, fields.payloadBytes, fields.signature);
    if (!caller.ok) return { status: DELIVER_STATUS.FORBIDDEN, info: caller.reason, txId };
    try {
      await ledger.submitEnvelope(envelope.serializeBinary());
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'VALIDATION') return { status: DELIVER_STATUS.BAD_REQUEST, info: err.message, txId };
      return { status: DELIVER_STATUS.SERVICE_UNAVAILABLE, info: (err as Error).message, txId };
    }
    return { status: DELIVER_STATUS.SUCCESS, info: '', txId };
  }

  return {
    broadcast,
    mspId: ledger.orgs[0]?.mspId ?? '',
    implementation: {
      broadcast(call) {
        const ended = new AbortController();
        let queue = Promise.resolve();
        const finish = () => {
          if (ended.signal.aborted) return;
          ended.abort();
          if (!call.cancelled) call.end();
        };
        call.on('cancelled', finish);
        call.on('error', () => ended.abort());
        call.on('data', (envelope: common.Envelope) => {
          queue = queue.then(async () => {
            if (ended.signal.aborted) return;
            const result = await broadcast(envelope);
            if (result.status !== DELIVER_STATUS.SUCCESS) options.onRefusal?.(`broadcast of ${result.txId ?? 'a malformed envelope'} refused with status=${statusName(result.status)}: ${result.info}`);
            const response = new orderer.BroadcastResponse();
            response.setStatus(result.status);
            response.setInfo(result.info);
            await writeInTurn(call, response, ended.signal);
            if (result.status !== DELIVER_STATUS.SUCCESS) finish();
          });
        });
        call.on('end', () => void queue.then(finish));
      },
      deliver(call) {
        deliverer.handle(call, 'block');
      },
    },
  };
}
