/**
 * The ChaincodeStub a transaction function receives: fabric-shim's OWN `ChaincodeStub` class, built the
 * way the shim builds it for a peer's TRANSACTION message — over a handler (here the peer's
 * `TxSimulator`, see tx-simulator.ts), the invocation arguments as a `ChaincodeInput` and a real
 * `SignedProposal` (channel header with tx id, timestamp and chaincode id; signature header with the
 * serialized creator and nonce; transient map). So `getCreator`, `getTxTimestamp`, `getDateTimestamp`,
 * `getTransient`, `getBinding`, `getSignedProposal`, composite keys and iterators are all fabric-shim's
 * code. Only `getMspID` is replaced: the shim reads the peer's `CORE_PEER_LOCALMSPID` environment
 * variable, which an embedded peer does not have.
 */

import { peer } from '@hyperledger/fabric-protos';
import { ChaincodeStub } from 'fabric-shim';
import type { TxSimulator } from './tx-simulator.ts';

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
