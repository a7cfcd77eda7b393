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
import { common, msp, peer } from '@hyperledger/fabric-protos';

export const HEADER_TYPE_CONFIG = 1;
export const HEADER_TYPE_ENDORSER_TRANSACTION = 3;

export interface Creator {
  readonly mspId: string;
  readonly certificatePem: string;
  /** The `msp.SerializedIdentity` bytes. */
  readonly bytes: Uint8Array;
}

export interface ProposalFields {
  readonly channelId: string;
  readonly txId: string;
  readonly type: number;
  readonly chaincodeName: string;
  /** Function name first, then the arguments. */
  readonly args: readonly string[];
  readonly creator: Creator;
  readonly headerBytes: Uint8Array;
  readonly signatureHeaderBytes: Uint8Array;
  /** ChaincodeProposalPayload without its transient map: what the transaction carries. */
  readonly payloadWithoutTransient: Uint8Array;
}

export function decodeCreator(bytes: Uint8Array): Creator {
  const id = msp.SerializedIdentity.deserializeBinary(bytes);
  return { mspId: id.getMspid(), certificatePem: Buffer.from(id.getIdBytes_asU8()).toString('utf8'), bytes };
}

export function encodeCreator(mspId: string, certificatePem: string): Uint8Array {
  const id = new msp.SerializedIdentity();
  id.setMspid(mspId);
  id.setIdBytes(Buffer.from(certificatePem, 'utf8'));
  return id.serializeBinary();
}

/** Reads what the gateway routes on. Throws on bytes that are not a chaincode proposal. */
export function decodeProposalFields(signed: peer.SignedProposal): ProposalFields {
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const headerBytes = proposal.getHeader_asU8();
  const header = common.Header.deserializeBinary(headerBytes);
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const signatureHeaderBytes = header.getSignatureHeader_asU8();
  const signatureHeader = common.SignatureHeader.deserializeBinary(signatureHeaderBytes);
  const extension = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
  const args = (invocation.getChaincodeSpec()?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
  payload.getTransientmapMap().clear();
  return {
    channelId: channelHeader.getChannelId(),
    txId: channelHeader.getTxId(),
    type: channelHeader.getType(),
    chaincodeName: extension.getChaincodeId()?.getName() ?? '',
    args,
    creator: decodeCreator(signatureHeader.getCreator_asU8()),
    headerBytes,
    signatureHeaderBytes,
    payloadWithoutTransient: payload.serializeBinary(),
  };
}

/**
 * The transaction Endorse hands back for the client to sign (`protoutil.CreateTx` without the
 * signature). Every response must be endorsed and carry the same ProposalResponsePayload.
 */
export function preparedTransaction(fields: ProposalFields, responses: readonly peer.ProposalResponse[]): common.Envelope {
  const first = responses[0];
  if (!first) throw new Error('no proposal responses to assemble a transaction from');
  const prpBytes = Buffer.from(first.getPayload_asU8());
  for (const r of responses) {
    if (!r.hasEndorsement()) throw new Error('a proposal response carries no endorsement');
    if (!prpBytes.equals(Buffer.from(r.getPayload_asU8()))) throw new Error('the endorsing peers returned different results (ProposalResponsePayloads differ)');
  }
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prpBytes);
  endorsed.setEndorsementsList(responses.map((r) => r.getEndorsement() as peer.Endorsement));
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(fields.payloadWithoutTransient);
  actionPayload.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setHeader(fields.signatureHeaderBytes);
  action.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([action]);
  const payload = new common.Payload();
  payload.setHeader(common.Header.deserializeBinary(fields.headerBytes));
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope;
}

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
