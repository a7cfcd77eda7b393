/**
 * A chaincode proposal built by the connector itself, with a given transaction timestamp, as the bytes
 * of a `gateway.ProposedTransaction` that fabric-gateway's `Gateway.newProposal(bytes)` signs and sends
 * (its offline-signing path). The connector uses it only when configured with a clock (tests and
 * replays of recorded days); otherwise the client library builds proposals stamped with the wall clock.
 *
 * Same shape as fabric-gateway's ProposalBuilder: ChannelHeader { ENDORSER_TRANSACTION, tx id,
 * timestamp, channel, ChaincodeHeaderExtension { chaincode id } }, SignatureHeader { creator, 24-byte
 * nonce }, tx id = hex SHA-256(nonce ‖ creator), ChaincodeProposalPayload { ChaincodeInvocationSpec
 * { NODE spec, args }, transient map }.
 */
import { common, gateway, peer } from '@hyperledger/fabric-protos';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { encodeCreator, HEADER_TYPE_ENDORSER_TRANSACTION } from './gateway-messages.ts';

const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: { fromDate(date: Date): unknown };
};

const CHAINCODE_TYPE_NODE = 2;

export interface ProposalRequest {
  readonly channel: string;
  readonly chaincodeName: string;
  readonly mspId: string;
  readonly certificatePem: string;
  /** Function name, then its arguments. */
  readonly args: readonly string[];
  readonly transient?: Readonly<Record<string, Uint8Array | string>>;
  readonly endorsingOrganizations?: readonly string[];
  readonly timestamp: Date;
  /** 24 random bytes by default. */
  readonly nonce?: Uint8Array;
}

export interface BuiltProposal {
  readonly txId: string;
  /** `gateway.ProposedTransaction` bytes for `Gateway.newProposal`. */
  readonly bytes: Uint8Array;
}

export function buildProposedTransaction(request: Readonly<ProposalRequest>): BuiltProposal {
  const nonce = request.nonce ?? randomBytes(24);
  const creator = encodeCreator(request.mspId, request.certificatePem);
  const txId = createHash('sha256').update(nonce).update(creator).digest('hex');
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(request.chaincodeName);
  const extension = new peer.ChaincodeHeaderExtension();
  extension.setChaincodeId(chaincodeId);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(HEADER_TYPE_ENDORSER_TRANSACTION);
  channelHeader.setTxId(txId);
  channelHeader.setTimestamp(Timestamp.fromDate(request.timestamp) as never);
  channelHeader.setChannelId(request.channel);
  channelHeader.setExtension$(extension.serializeBinary());
  channelHeader.setEpoch(0);
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator);
  signatureHeader.setNonce(nonce);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const input = new peer.ChaincodeInput();
  input.setArgsList(request.args.map((a) => Buffer.from(a, 'utf8')));
  const spec = new peer.ChaincodeSpec();
  spec.setType(CHAINCODE_TYPE_NODE as never);
  spec.setChaincodeId(chaincodeId);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  for (const [key, value] of Object.entries(request.transient ?? {})) {
    payload.getTransientmapMap().set(key, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  }
  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(proposal.serializeBinary());
  const proposed = new gateway.ProposedTransaction();
  proposed.setTransactionId(txId);
  proposed.setProposal(signed);
  if (request.endorsingOrganizations) proposed.setEndorsingOrganizationsList([...request.endorsingOrganizations]);
  return { txId, bytes: proposed.serializeBinary() };
}
