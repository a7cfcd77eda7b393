/**
 * The Fabric messages the Gateway service reads and writes, as a Fabric 2.5 gateway does
 * (`internal/pkg/gateway`, `protoutil`): the fields of a SignedProposal it routes on, the prepared
 * transaction it returns from Endorse (an Envelope the client signs), the header of a submitted
 * Envelope, and the Fabric-shaped messages of the query system chaincode (qscc).
 *
 *   Envelope { payload = Payload { Header (the proposal's), data = Transaction { TransactionAction {
 *     header = SignatureHeader, payload = ChaincodeActionPayload { ChaincodeProposalPayload without the
 *     transient map, ChaincodeEndorsedAction { proposal_response_payload, endorsements } } } } } }
 *
 * Pure functions of bytes: no clock, no keys, no sockets.
 */
import { common } from '@hyperledger/fabric-protos';
import { assembleTransaction, decodeIdentity, decodeProposal, type DecodedIdentity, type DecodedProposal } from '../fabric/fabric-messages.ts';

export { HEADER_TYPE_CONFIG, HEADER_TYPE_ENDORSER_TRANSACTION } from '../fabric/fabric-messages.ts';

/** A creator as the gateway sees it: the ledger's decoded identity. */
export type Creator = DecodedIdentity;
/** What the gateway routes on: the ledger's decoded proposal. */
export type ProposalFields = DecodedProposal;
export const decodeCreator = decodeIdentity;
export const decodeProposalFields = decodeProposal;
/** The transaction Endorse hands back for the client to sign. */
export const preparedTransaction = assembleTransaction;

export interface EnvelopeFields {
  readonly channelId: string;
  readonly txId: string;
  readonly type: number;
  readonly creator: Creator;
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** Reads the header of a submitted transaction. Throws on bytes that are not an Envelope with a header. */
export function decodeEnvelopeFields(envelope: common.Envelope): EnvelopeFields {
  const payloadBytes = envelope.getPayload_asU8();
  const payload = common.Payload.deserializeBinary(payloadBytes);
  const header = payload.getHeader();
  if (!header) throw new Error('the envelope payload has no header');
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  return {
    channelId: channelHeader.getChannelId(),
    txId: channelHeader.getTxId(),
    type: channelHeader.getType(),
    creator: decodeCreator(signatureHeader.getCreator_asU8()),
    payloadBytes,
    signature: envelope.getSignature_asU8(),
  };
}
