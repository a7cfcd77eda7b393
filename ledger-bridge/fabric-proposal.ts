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
import { gateway } from '@hyperledger/fabric-protos';
import { randomBytes } from 'node:crypto';
import { buildUnsignedProposal, computeTxId, serializeIdentity } from '../chaincode/testing/index.ts';

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
    timestamp: request.timestamp,
    ...(request.transient ? { transient: request.transient } : {}),
  });
  const proposed = new gateway.ProposedTransaction();
  proposed.setTransactionId(txId);
  proposed.setProposal(signed);
  if (request.endorsingOrganizations) proposed.setEndorsingOrganizationsList([...request.endorsingOrganizations]);
  return { txId, bytes: proposed.serializeBinary() };
}
