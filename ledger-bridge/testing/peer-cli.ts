/**
 * For tests: the messages the stock `peer` CLI of Fabric 2.5 sends, built as its code builds them
 * (no Fabric binary can be installed here), and raw gRPC clients of the peer's and orderer's services
 * from `@hyperledger/fabric-protos`:
 *
 *   `peer chaincode query|invoke`  internal/peer/chaincode/common.go: CreateChaincodeProposalWithTxID…
 *                                  → ProcessProposal; invoke: CreateSignedTx → Broadcast, and with
 *                                  --waitForEvent a DeliverFiltered stream opened first (newest → 2^64 − 1)
 *   `peer channel getinfo`         internal/peer/channel/getinfo.go: qscc GetChainInfo, proposal channel ''
 *   `peer channel fetch …`         internal/peer/common/deliverclient.go: seekHelper (start = stop,
 *                                  BLOCK_UNTIL_READY), one block, then the SUCCESS status read and dropped
 *   envelopes                      protoutil.CreateSignedEnvelopeWithTLSBinding: channel header (type,
 *                                  channel, wall-clock timestamp, epoch 0), signature header (creator,
 *                                  24-byte nonce), signature over the payload
 */
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { hash, signers } from '@hyperledger/fabric-gateway';
import { common, orderer, peer } from '@hyperledger/fabric-protos';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { keyObjectOf } from '../embedded/signer.ts';
import { buildTransactionEnvelope, decodeProposal } from '../fabric/fabric-messages.ts';
import { computeTxId, createSignedProposal, serializeIdentity } from '../fabric/fabric-proposal.ts';
import { timestampOf } from '../fabric/rwset.ts';
import type { LedgerIdentity } from '../ledger.ts';

const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: { fromDate(d: Date): unknown };
};

/** Fabric's CLI's "never stop": math.MaxUint64 (the server reads it rounded to a JavaScript number). */
export const MAX_BLOCK = 2n ** 64n - 1n;

export type Position = 'oldest' | 'newest' | 'next-commit' | number | bigint;

function varint(n: bigint): number[] {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

function lengthDelimited(field: number, body: readonly number[]): number[] {
  return [field * 8 + 2, ...varint(BigInt(body.length)), ...body];
}

/** SeekPosition bytes: newest = 1, oldest = 2, specified = 3 (SeekSpecified { number = 1 }), next_commit = 4. */
function positionBytes(p: Position): number[] {
  if (p === 'newest') return lengthDelimited(1, []);
  if (p === 'oldest') return lengthDelimited(2, []);
  if (p === 'next-commit') return lengthDelimited(4, []);
  const n = BigInt(p);
  return lengthDelimited(3, n === 0n ? [] : [0x08, ...varint(n)]);
}

/** SeekInfo bytes (start = 1, stop = 2, behavior = 3), written by hand so a uint64 stop can be 2^64 − 1 as Go sends it. */
function seekInfoBytes(start: Position, stop: Position, failIfNotReady: boolean): Uint8Array {
  return Uint8Array.from([...lengthDelimited(1, positionBytes(start)), ...lengthDelimited(2, positionBytes(stop)), ...(failIfNotReady ? [0x18, 1] : [])]);
}

export function signWith(identity: LedgerIdentity): (data: Uint8Array) => Promise<Uint8Array> {
  const signer = signers.newPrivateKeySigner(keyObjectOf(identity));
  return (data) => signer(hash.sha256(data));
}

export interface SeekOptions {
  readonly channelId?: string;
  readonly start: Position;
  readonly stop: Position;
  readonly failIfNotReady?: boolean;
  readonly timestamp?: Date;
  /** Signs with another identity's key than the creator's (a forged request). */
  readonly signer?: LedgerIdentity;
}

/** A signed DELIVER_SEEK_INFO envelope. */
export async function seekEnvelope(identity: LedgerIdentity, options: Readonly<SeekOptions>): Promise<common.Envelope> {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.DELIVER_SEEK_INFO);
  channelHeader.setChannelId(options.channelId ?? 'mychannel');
  channelHeader.setTimestamp(Timestamp.fromDate(options.timestamp ?? new Date()) as never);
  channelHeader.setEpoch(0);
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(serializeIdentity(identity.mspId, identity.certificatePem));
  signatureHeader.setNonce(randomBytes(24));
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(seekInfoBytes(options.start, options.stop, options.failIfNotReady === true));
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  envelope.setSignature(await signWith(options.signer ?? identity)(envelope.getPayload_asU8()));
  return envelope;
}

/** A chaincode proposal as `peer chaincode query|invoke` (or, with channel '' and qscc, `peer channel getinfo`) signs it. */
export async function cliProposal(identity: LedgerIdentity, channelId: string, chaincodeName: string, args: readonly string[], signer: LedgerIdentity = identity) {
  const creator = serializeIdentity(identity.mspId, identity.certificatePem);
  const nonce = randomBytes(24);
  const txId = computeTxId(nonce, creator);
  const signed = await createSignedProposal({ channelId, chaincodeName, txId, args, creator, nonce, timestamp: timestampOf(new Date()), sign: signWith(signer) });
  return { txId, signed };
}

/** `protoutil.CreateSignedTx`: the transaction from the proposal and its endorsed responses, signed by the creator. */
export async function cliSignedTx(identity: LedgerIdentity, signed: peer.SignedProposal, responses: readonly peer.ProposalResponse[]): Promise<common.Envelope> {
  return buildTransactionEnvelope(decodeProposal(signed), responses, signWith(identity));
}

export interface CliClients {
  readonly endorser: InstanceType<typeof peer.EndorserClient>;
  readonly deliver: InstanceType<typeof peer.DeliverClient>;
  readonly orderer: InstanceType<typeof orderer.AtomicBroadcastClient>;
  close(): void;
}

/** Raw clients of the peer's services at `peerAddress` and the orderer's at `ordererAddress`, over TLS. */
export function cliClients(peerAddress: string, ordererAddress: string, tlsCaPem: string, hostname: string): CliClients {
  const creds = credentials.createSsl(Buffer.from(tlsCaPem));
  const opts = { 'grpc.ssl_target_name_override': hostname };
  const endorser = new peer.EndorserClient(peerAddress, creds, opts);
  const deliver = new peer.DeliverClient(peerAddress, creds, opts);
  const ordererClient = new orderer.AtomicBroadcastClient(ordererAddress, creds, opts);
  return {
    endorser,
    deliver,
    orderer: ordererClient,
    close() {
      endorser.close();
      deliver.close();
      ordererClient.close();
    },
  };
}

export function processProposal(client: CliClients['endorser'], signed: peer.SignedProposal): Promise<peer.ProposalResponse> {
  return new Promise((resolve, reject) => client.processProposal(signed, new Metadata(), (err: ServiceError | null, res?: peer.ProposalResponse) => (err ? reject(err) : resolve(res as peer.ProposalResponse))));
}

/** One message at a time from a bidi stream (the Go clients' Recv()); undefined once the server ended it. */
export function reader<Req, Res>(stream: ClientDuplexStream<Req, Res>): () => Promise<Res | undefined> {
  const iterator = (stream as AsyncIterable<Res>)[Symbol.asyncIterator]();
  return async () => {
    const next = await iterator.next();
    return next.done ? undefined : next.value;
  };
}

/** Cancels a stream the test is done with (its CANCELLED error is expected, not thrown). */
export function hangUp(stream: { on(event: 'error', f: () => void): unknown; cancel(): void }): void {
  stream.on('error', () => {});
  stream.cancel();
}
