/**
 * Chaincode proposals as a Fabric client builds them: the identity a client puts in its signature
 * header, the transaction id and the `SignedProposal` (built here for the embedded ledger's clients and
 * the chaincode's test ledger), and a proposal with a given transaction timestamp as the bytes of a
 * `gateway.ProposedTransaction`, which fabric-gateway's `Gateway.newProposal(bytes)` signs and sends
 * (its offline-signing path). The connector uses it only when configured with a clock (tests and
 * replays of recorded days); otherwise the client library builds proposals stamped with the wall clock.
 *
 * Same shape as fabric-gateway's ProposalBuilder: ChannelHeader { ENDORSER_TRANSACTION, tx id,
 * timestamp, channel, ChaincodeHeaderExtension { chaincode id } }, SignatureHeader { creator, 24-byte
 * nonce }, tx id = hex SHA-256(nonce ‖ creator), ChaincodeProposalPayload { ChaincodeInvocationSpec
 * { NODE spec, args }, transient map }.
 */
import { common, gateway, msp, peer } from '@hyperledger/fabric-protos';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { timestampOf, type TimestampObject } from './rwset.ts';

const require = createRequire(import.meta.url);
interface TimestampMessage {
  setSeconds(seconds: number): void;
  setNanos(nanos: number): void;
}
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => TimestampMessage;
};


/** What a chaincode proposal says: the fields of its headers and payload. */
export interface ProposalFields {
  readonly channelId: string;
  readonly chaincodeName: string;
  readonly txId: string;
  /** Function name first, then its arguments, as a client sends them. */
  readonly args: readonly string[];
  /** `msp.SerializedIdentity` bytes of the creator (see `serializeIdentity`). */
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  readonly timestamp: TimestampObject;
}

export interface ProposalOptions extends ProposalFields {
  readonly transient?: Readonly<Record<string, Uint8Array | string>>;
  /** Signs the proposal bytes (ECDSA/SHA-256, DER) as the client would; empty signature when absent. */
  readonly sign?: (proposalBytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

/** `msp.SerializedIdentity { mspid, id_bytes = PEM }`, as a Fabric client puts it in the signature header. */
export function serializeIdentity(mspId: string, certificatePem: string): Uint8Array {
  const identity = new msp.SerializedIdentity();
  identity.setMspid(mspId);
  identity.setIdBytes(Buffer.from(certificatePem, 'utf8'));
  return identity.serializeBinary();
}

/** Fabric's transaction id: hex SHA-256 of nonce ‖ serialized creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/** A `SignedProposal` with the proposal and its signature from `options.sign` (empty when absent). */
export async function createSignedProposal(options: Readonly<ProposalOptions>): Promise<peer.SignedProposal> {
  const signed = buildUnsignedProposal(options);
  if (options.sign) signed.setSignature(await options.sign(signed.getProposalBytes_asU8()));
  return signed;
}

/**
 * The proposal as a Fabric client builds it, in a `SignedProposal` whose signature is still empty
 * (for a signer that signs the proposal bytes later, such as fabric-gateway's offline-signing path).
 */
export function buildUnsignedProposal(options: Readonly<Omit<ProposalOptions, 'sign'>>): peer.SignedProposal {
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(options.chaincodeName);
  const extension = new peer.ChaincodeHeaderExtension();
  extension.setChaincodeId(chaincodeId);

  const timestamp = new Timestamp();
  timestamp.setSeconds(options.timestamp.seconds);
  timestamp.setNanos(options.timestamp.nanos);

  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(options.channelId);
  channelHeader.setTxId(options.txId);
  channelHeader.setTimestamp(timestamp as never);
  channelHeader.setEpoch(0);
  channelHeader.setExtension$(extension.serializeBinary());

  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(options.creator);
  signatureHeader.setNonce(options.nonce);

  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());

  const input = new peer.ChaincodeInput();
  input.setArgsList(options.args.map((a) => Buffer.from(a, 'utf8')));
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(chaincodeId);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);

  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  const transientMap = payload.getTransientmapMap();
  for (const [key, value] of Object.entries(options.transient ?? {})) {
    transientMap.set(key, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  }

  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(proposal.serializeBinary());
  return signed;
}


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

/** The proposal as the embedded ledger's clients build it (`buildUnsignedProposal`), wrapped for fabric-gateway. */
export function buildProposedTransaction(request: Readonly<ProposalRequest>): BuiltProposal {
  const nonce = request.nonce ?? randomBytes(24);
  const creator = serializeIdentity(request.mspId, request.certificatePem);
  const txId = computeTxId(nonce, creator);
  const signed = buildUnsignedProposal({
    channelId: request.channel,
    chaincodeName: request.chaincodeName,
    txId,
    args: request.args,
    creator,
    nonce,
    timestamp: timestampOf(request.timestamp),
    ...(request.transient ? { transient: request.transient } : {}),
  });
  const proposed = new gateway.ProposedTransaction();
  proposed.setTransactionId(txId);
  proposed.setProposal(signed);
  if (request.endorsingOrganizations) proposed.setEndorsingOrganizationsList([...request.endorsingOrganizations]);
  return { txId, bytes: proposed.serializeBinary() };
}
