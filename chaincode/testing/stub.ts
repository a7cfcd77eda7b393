/**
 * The ChaincodeStub a transaction function receives: fabric-shim's OWN `ChaincodeStub` class, built the
 * way the shim builds it for a peer's TRANSACTION message — over a handler (here the test ledger's
 * `TxSimulator`, see tx-simulator.ts), the invocation arguments as a `ChaincodeInput` and a real
 * `SignedProposal` (channel header with tx id, timestamp and chaincode id; signature header with the
 * serialized creator and nonce; transient map). So `getCreator`, `getTxTimestamp`, `getDateTimestamp`,
 * `getTransient`, `getBinding`, `getSignedProposal`, composite keys and iterators are all fabric-shim's
 * code. Only `getMspID` is replaced: the shim reads the peer's `CORE_PEER_LOCALMSPID` environment
 * variable, which a test process should not have to set.
 */

import { common, msp, peer } from '@hyperledger/fabric-protos';
import { ChaincodeStub } from 'fabric-shim';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TxSimulator } from './tx-simulator.ts';

const require = createRequire(import.meta.url);
interface TimestampMessage {
  setSeconds(seconds: number): void;
  setNanos(nanos: number): void;
}
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => TimestampMessage;
};

/** `common.HeaderType.ENDORSER_TRANSACTION`. */
const ENDORSER_TRANSACTION = 3;

export interface ProposalOptions {
  readonly channelId: string;
  readonly chaincodeName: string;
  readonly txId: string;
  /** Function name first, then its arguments, as a client sends them. */
  readonly args: readonly string[];
  /** `msp.SerializedIdentity` bytes of the creator (see `serializeIdentity`). */
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  readonly timestamp: Date;
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

  const ms = options.timestamp.getTime();
  const timestamp = new Timestamp();
  timestamp.setSeconds(Math.floor(ms / 1000));
  timestamp.setNanos((ms - Math.floor(ms / 1000) * 1000) * 1_000_000);

  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(ENDORSER_TRANSACTION);
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

export interface StubOptions {
  readonly handler: TxSimulator;
  readonly channelId: string;
  readonly txId: string;
  readonly args: readonly string[];
  readonly signedProposal: peer.SignedProposal;
  /** What `getMspID()` answers: the MSP of the (simulated) endorsing peer. */
  readonly peerMspId: string;
}

type ShimStubConstructor = new (
  handler: unknown,
  channelId: string,
  txId: string,
  input: peer.ChaincodeInput,
  signedProposal: peer.SignedProposal,
) => ChaincodeStub;

/** A real fabric-shim ChaincodeStub over the simulator. `chaincodeEvent` holds the last setEvent. */
export function createChaincodeStub(options: Readonly<StubOptions>): ChaincodeStub {
  const input = new peer.ChaincodeInput();
  input.setArgsList(options.args.map((a) => Buffer.from(a, 'utf8')));
  const Stub = ChaincodeStub as unknown as ShimStubConstructor;
  const stub = new Stub(options.handler, options.channelId, options.txId, input, options.signedProposal);
  stub.getMspID = () => options.peerMspId;
  return stub;
}

/** The event the chaincode set last (fabric-shim keeps only the last `setEvent` of a transaction). */
export function chaincodeEventOf(stub: ChaincodeStub): { name: string; payload: Buffer } | undefined {
  const event = (stub as unknown as { chaincodeEvent?: peer.ChaincodeEvent }).chaincodeEvent;
  if (!event) return undefined;
  return { name: event.getEventName(), payload: Buffer.from(event.getPayload_asU8()) };
}
