/**
 * The messages of Fabric's block delivery (`protos.Deliver` at a peer, `orderer.AtomicBroadcast/Deliver`
 * at an orderer), read and written as Fabric 2.5's `common/deliver` handler and the peer's
 * `core/peer/deliverevents.go` do:
 *
 *   request  Envelope { Payload { Header { ChannelHeader (type DELIVER_SEEK_INFO, channel, timestamp),
 *            SignatureHeader { creator } }, data = SeekInfo { start, stop, behavior } }, signature }
 *   answers  DeliverResponse { block | filtered_block | block_and_private_data }…, then { status }
 *
 * The range a SeekInfo names (`seekRange`): start oldest → 0, newest → height − 1, specified n
 * (beyond the height: NOT_FOUND), next commit → height; stop oldest → the start, newest → height − 1
 * (the start when both are newest), specified n (below the start: BAD_REQUEST; Fabric clients ask for
 * 2^64 − 1 to mean "never stop").
 *
 * Blocks go out as their stored bytes, wrapped by hand (the wrapper's tag and length are all that is
 * added), so a client receives exactly the bytes qscc's GetBlockByNumber returns. Pure functions of bytes.
 */
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import { message, messageField, uintField } from '../fabric/proto-writer.ts';
import { HEADER_TYPE_ENDORSER_TRANSACTION } from './messages.ts';

/** `common.Status` values the deliver and broadcast services answer with. */
export const DELIVER_STATUS = {
  SUCCESS: 200,
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;
export type DeliverStatus = (typeof DELIVER_STATUS)[keyof typeof DELIVER_STATUS];

/** The name of a `common.Status`, as Fabric prints it (`status=FORBIDDEN`). */
export function statusName(status: number): string {
  return Object.entries(DELIVER_STATUS).find(([, v]) => v === status)?.[0] ?? `UNKNOWN(${status})`;
}

/** The four answers the deliver services give: full blocks (peer or orderer), filtered blocks, blocks with private data. */
export type DeliverForm = 'block' | 'filtered' | 'private-data';

const BEHAVIOR_FAIL_IF_NOT_READY = 1;
/** Stops at or above this never come (Fabric clients send 2^64 − 1, which JavaScript reads rounded). */
const NEVER = Number.MAX_SAFE_INTEGER;

export interface SeekRequest {
  readonly channelId: string;
  /** Milliseconds since the epoch of the channel header's timestamp; undefined when it has none. */
  readonly timestampMs: number | undefined;
  readonly creator: Uint8Array;
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly seekInfo: orderer.SeekInfo;
}

export type Refusal = { readonly status: DeliverStatus; readonly reason: string };

/** Reads a deliver request; a malformed one is BAD_REQUEST (Fabric answers it with that status, not a gRPC error). */
export function parseSeekRequest(envelope: common.Envelope): SeekRequest | Refusal {
  try {
    const payloadBytes = envelope.getPayload_asU8();
    const payload = common.Payload.deserializeBinary(payloadBytes);
    const header = payload.getHeader();
    if (!header) return { status: DELIVER_STATUS.BAD_REQUEST, reason: 'the envelope payload has no header' };
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const ts = channelHeader.getTimestamp();
    return {
      channelId: channelHeader.getChannelId(),
      timestampMs: ts ? ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6) : undefined,
      creator: signatureHeader.getCreator_asU8(),
      payloadBytes,
      signature: envelope.getSignature_asU8(),
      seekInfo: orderer.SeekInfo.deserializeBinary(payload.getData_asU8()),
    };
  } catch (err) {
    return { status: DELIVER_STATUS.BAD_REQUEST, reason: `malformed deliver request: ${(err as Error).message}` };
  }
}

export interface SeekRange {
  readonly start: number;
  /** Last block to send (inclusive); `Infinity` for "until the client hangs up". */
  readonly stop: number;
  readonly failIfNotReady: boolean;
}

/** The blocks a SeekInfo asks for on a ledger of `height` blocks, or the status refusing it. */
export function seekRange(seekInfo: orderer.SeekInfo, height: number): SeekRange | Refusal {
  const start = seekInfo.getStart();
  const stop = seekInfo.getStop();
  if (!start || !stop) return { status: DELIVER_STATUS.BAD_REQUEST, reason: 'the SeekInfo needs both a start and a stop position' };
  let first: number;
  if (start.hasOldest()) first = 0;
  else if (start.hasNewest()) first = Math.max(0, height - 1);
  else if (start.hasSpecified()) {
    first = start.getSpecified()?.getNumber() ?? 0;
    if (first > height) return { status: DELIVER_STATUS.NOT_FOUND, reason: `start block ${first} is beyond the next block to commit (${height})` };
  } else if (start.hasNextCommit()) first = height;
  else return { status: DELIVER_STATUS.BAD_REQUEST, reason: 'unknown start position' };
  let last: number;
  if (stop.hasOldest()) last = first;
  else if (stop.hasNewest()) last = start.hasNewest() ? first : height - 1;
  else if (stop.hasSpecified()) {
    const n = stop.getSpecified()?.getNumber() ?? 0;
    last = n >= NEVER ? Infinity : n;
    if (last < first) return { status: DELIVER_STATUS.BAD_REQUEST, reason: `start block ${first} is after stop block ${n}` };
  } else return { status: DELIVER_STATUS.BAD_REQUEST, reason: 'the stop position must be oldest, newest or a block number' };
  return { start: first, stop: last, failIfNotReady: seekInfo.getBehavior() === BEHAVIOR_FAIL_IF_NOT_READY };
}

// DeliverResponse (peer and orderer): status = 1, block = 2; the peer's also filtered_block = 3,
// block_and_private_data = 4 (BlockAndPrivateData: block = 1, private_data_map = 2).
const RESPONSE_STATUS = 1;
const RESPONSE_BLOCK = 2;
const RESPONSE_FILTERED_BLOCK = 3;
const RESPONSE_BLOCK_AND_PRIVATE_DATA = 4;
const PRIVATE_DATA_BLOCK = 1;

/** A DeliverResponse carrying `status` (the last message of a delivery). */
export function statusResponse(status: DeliverStatus): Uint8Array {
  return message(uintField(RESPONSE_STATUS, status));
}

/** A DeliverResponse carrying the block in the form asked for. */
export function blockResponse(form: DeliverForm, channelId: string, blockBytes: Uint8Array): Uint8Array {
  if (form === 'block') return messageField(RESPONSE_BLOCK, blockBytes);
  if (form === 'private-data') return messageField(RESPONSE_BLOCK_AND_PRIVATE_DATA, messageField(PRIVATE_DATA_BLOCK, blockBytes));
  return messageField(RESPONSE_FILTERED_BLOCK, filteredBlock(channelId, blockBytes).serializeBinary());
}

const METADATA_TRANSACTIONS_FILTER = 2;

/**
 * The filtered block of a block (`deliverevents.go`): per transaction its id, header type and
 * validation code, and for endorser transactions each action's chaincode event without its payload
 * (actions without an event are left out).
 */
export function filteredBlock(channelId: string, blockBytes: Uint8Array): peer.FilteredBlock {
  const block = common.Block.deserializeBinary(blockBytes);
  const filter = block.getMetadata()?.getMetadataList_asU8()[METADATA_TRANSACTIONS_FILTER] ?? new Uint8Array(0);
  const out = new peer.FilteredBlock();
  out.setChannelId(channelId);
  out.setNumber(block.getHeader()?.getNumber() ?? 0);
  out.setFilteredTransactionsList(
    (block.getData()?.getDataList_asU8() ?? []).map((envelopeBytes, i) => {
      const code = filter[i] ?? 255;
      try {
        return filteredTransaction(envelopeBytes, code);
      } catch {
        // A transaction committed as malformed (BAD_PAYLOAD…) shows with its code alone.
        const tx = new peer.FilteredTransaction();
        tx.setTxValidationCode(code as never);
        return tx;
      }
    }),
  );
  return out;
}

function filteredTransaction(envelopeBytes: Uint8Array, code: number): peer.FilteredTransaction {
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
  const tx = new peer.FilteredTransaction();
  tx.setTxid(channelHeader.getTxId());
  tx.setType(channelHeader.getType() as never);
  tx.setTxValidationCode(code as never);
  if (channelHeader.getType() !== HEADER_TYPE_ENDORSER_TRANSACTION) return tx;
  const actions = new peer.FilteredTransactionActions();
  for (const action of peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()) {
    const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
    if (!endorsed) continue;
    const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
    const event = peer.ChaincodeEvent.deserializeBinary(peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getEvents_asU8());
    if (event.getChaincodeId() === '') continue;
    const stripped = new peer.ChaincodeEvent();
    stripped.setChaincodeId(event.getChaincodeId());
    stripped.setTxId(event.getTxId());
    stripped.setEventName(event.getEventName());
    const filtered = new peer.FilteredChaincodeAction();
    filtered.setChaincodeEvent(stripped);
    actions.addChaincodeActions(filtered);
  }
  tx.setTransactionActions(actions);
  return tx;
}
