/**
 * The Fabric messages of the in-process transaction path, encoded directly with `proto-writer.ts`: the
 * same bytes as `createSignedProposal` (fabric-proposal.ts) (no transient data), `encodeTxRwSet` and
 * `buildTransactionEnvelope` produce with google-protobuf (tx-encoding.test.ts compares them), and the
 * pieces of each message kept beside the bytes, so nothing this process encodes has to be decoded again.
 *
 *   Proposal { header = Header { ChannelHeader { type 3, timestamp, channel_id, tx_id, extension =
 *     ChaincodeHeaderExtension { chaincode_id } }, SignatureHeader { creator, nonce } },
 *     payload = ChaincodeProposalPayload { input = ChaincodeInvocationSpec { ChaincodeSpec { NODE,
 *     chaincode_id, ChaincodeInput { args } } } } }
 *   Envelope payload = Payload { header, data = Transaction { TransactionAction { header = SignatureHeader,
 *     payload = ChaincodeActionPayload { chaincode_proposal_payload, ChaincodeEndorsedAction {
 *     proposal_response_payload, endorsements } } } } }
 */
import { createHash } from 'node:crypto';
import type { KVRead, ReadSet, TimestampObject, WriteSet } from '../fabric/rwset.ts';
import { HEADER_TYPE_ENDORSER_TRANSACTION } from '../fabric/fabric-messages.ts';
import type { ProposalFields } from '../fabric/fabric-proposal.ts';
import { boolField, bytesField, message, messageField, repeatedBytes, stringField, uintField } from '../fabric/proto-writer.ts';

/** `peer.ChaincodeSpec.Type.NODE`. */
const CHAINCODE_TYPE_NODE = 2;

export interface EncodedProposal {
  readonly proposalBytes: Uint8Array;
  readonly headerBytes: Uint8Array;
  readonly channelHeaderBytes: Uint8Array;
  readonly signatureHeaderBytes: Uint8Array;
  /** ChaincodeProposalPayload (no transient data): what goes into the transaction as it is. */
  readonly payloadBytes: Uint8Array;
  /** SHA-256(channel header ‖ signature header ‖ payload without transient): the endorsers' proposal_hash. */
  readonly proposalHash: Buffer;
}

function timestampMessage(t: TimestampObject): Uint8Array {
  return message(uintField(1, t.seconds), uintField(2, t.nanos));
}

function chaincodeId(name: string): Uint8Array {
  return message(undefined, stringField(2, name));
}

export function encodeProposal(p: Readonly<ProposalFields>): EncodedProposal {
  const extension = message(messageField(2, chaincodeId(p.chaincodeName)));
  const channelHeaderBytes = message(
    uintField(1, HEADER_TYPE_ENDORSER_TRANSACTION),
    messageField(3, timestampMessage(p.timestamp)),
    stringField(4, p.channelId),
    stringField(5, p.txId),
    bytesField(7, extension),
  );
  const signatureHeaderBytes = message(bytesField(1, p.creator), bytesField(2, p.nonce));
  const headerBytes = message(bytesField(1, channelHeaderBytes), bytesField(2, signatureHeaderBytes));
  const input = message(...p.args.map((a) => repeatedBytes(1, Buffer.from(a, 'utf8'))));
  const spec = message(uintField(1, CHAINCODE_TYPE_NODE), messageField(2, chaincodeId(p.chaincodeName)), messageField(3, input));
  const invocation = message(messageField(1, spec));
  const payloadBytes = message(bytesField(1, invocation));
  const proposalBytes = message(bytesField(1, headerBytes), bytesField(2, payloadBytes));
  const proposalHash = createHash('sha256').update(channelHeaderBytes).update(signatureHeaderBytes).update(payloadBytes).digest();
  return { proposalBytes, headerBytes, channelHeaderBytes, signatureHeaderBytes, payloadBytes, proposalHash };
}

function versionMessage(read: KVRead): Uint8Array | undefined {
  return read.version === null ? undefined : messageField(2, message(uintField(1, read.version.blockNum), uintField(2, read.version.txNum)));
}

function readMessage(read: KVRead): Uint8Array {
  return message(stringField(1, read.key), versionMessage(read));
}

/** `TxReadWriteSet` bytes of one namespace (data model KV), as fabric-messages' `encodeTxRwSet`. */
export function encodeRwSet(namespace: string, readSet: ReadSet, writeSet: WriteSet): Uint8Array {
  const kv = message(
    ...readSet.reads.map((r) => repeatedBytes(1, readMessage(r))),
    ...readSet.rangeQueries.map((rq) =>
      repeatedBytes(
        2,
        message(
          stringField(1, rq.startKey),
          stringField(2, rq.endKey),
          boolField(3, rq.itrExhausted),
          messageField(4, message(...rq.reads.map((r) => repeatedBytes(1, readMessage(r))))),
        ),
      ),
    ),
    ...writeSet.writes.map((w) => repeatedBytes(3, message(stringField(1, w.key), boolField(2, w.isDelete), w.value ? bytesField(3, w.value) : undefined))),
    ...writeSet.metadataWrites.map((m) =>
      repeatedBytes(4, message(stringField(1, m.key), ...m.entries.map((e) => repeatedBytes(2, message(stringField(1, e.name), bytesField(2, e.value)))))),
    ),
  );
  const ns = message(stringField(1, namespace), bytesField(2, kv));
  return message(undefined, repeatedBytes(2, ns));
}

export interface ProposalResponseFields {
  readonly proposalHash: Uint8Array;
  readonly chaincodeName: string;
  readonly txId: string;
  readonly response: { readonly status: number; readonly message: string; readonly payload: Uint8Array };
  /** TxReadWriteSet bytes. */
  readonly results: Uint8Array;
  readonly event?: { readonly name: string; readonly payload: Uint8Array };
}

/** `peer.Response` bytes. */
export function encodeResponse(r: ProposalResponseFields['response']): Uint8Array {
  return message(uintField(1, r.status), stringField(2, r.message), bytesField(3, r.payload));
}

/**
 * `ProposalResponsePayload { proposal_hash, extension = ChaincodeAction { results, events, response,
 * chaincode_id } }` bytes, as fabric-messages' `buildProposalResponse` serializes them.
 */
export function encodeProposalResponsePayload(f: Readonly<ProposalResponseFields>): Uint8Array {
  const events = f.event
    ? bytesField(2, message(stringField(1, f.chaincodeName), stringField(2, f.txId), stringField(3, f.event.name), bytesField(4, f.event.payload)))
    : undefined;
  const action = message(bytesField(1, f.results), events, messageField(3, encodeResponse(f.response)), messageField(4, chaincodeId(f.chaincodeName)));
  return message(bytesField(1, f.proposalHash), bytesField(2, action));
}

export interface EnvelopeFields {
  readonly proposal: EncodedProposal;
  readonly proposalResponsePayload: Uint8Array;
  readonly endorsements: readonly { readonly endorser: Uint8Array; readonly signature: Uint8Array }[];
}

/** The Envelope's payload (what the creator signs), as `buildTransactionEnvelope` builds it. */
export function encodeTransactionPayload(f: Readonly<EnvelopeFields>): Uint8Array {
  const endorsed = message(
    bytesField(1, f.proposalResponsePayload),
    ...f.endorsements.map((e) => repeatedBytes(2, message(bytesField(1, e.endorser), bytesField(2, e.signature)))),
  );
  const actionPayload = message(bytesField(1, f.proposal.payloadBytes), messageField(2, endorsed));
  const action = message(bytesField(1, f.proposal.signatureHeaderBytes), bytesField(2, actionPayload));
  const transaction = message(repeatedBytes(1, action));
  return message(messageField(1, f.proposal.headerBytes), bytesField(2, transaction));
}

/** `common.Envelope { payload, signature }`. */
export function encodeEnvelope(payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return message(bytesField(1, payload), bytesField(2, signature));
}
