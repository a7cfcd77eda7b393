/**
 * Reading Fabric blocks as a client receives them from a peer's qscc (`GetBlockByNumber`,
 * `GetBlockByTxID`) into the `Ledger` interface's `BlockInfo`:
 *
 * - block hash = SHA-256 of the ASN.1 DER `SEQUENCE { INTEGER number, OCTET STRING previousHash,
 *   OCTET STRING dataHash }` (Fabric's `protoutil.BlockHeaderHash`);
 * - validation codes from the TRANSACTIONS_FILTER metadata entry (index 2), one byte per transaction;
 * - per envelope: transaction id, creator MSP, timestamp, and for endorser transactions the function,
 *   arguments and endorser MSPs; a config transaction shows as function `config`.
 *
 * Pure functions of bytes.
 */
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { createHash } from 'node:crypto';
import { ValidationCode, type BlockInfo, type TransactionInfo, type ValidationCodeName } from '../ledger.ts';

const METADATA_TRANSACTIONS_FILTER = 2;
const HEADER_TYPE_CONFIG = 1;
const HEADER_TYPE_ENDORSER_TRANSACTION = 3;

/** Fabric's `peer.TxValidationCode` names, for codes our `ValidationCodeName` does not list. */
export const FABRIC_VALIDATION_CODES: Readonly<Record<number, string>> = {
  0: 'VALID', 1: 'NIL_ENVELOPE', 2: 'BAD_PAYLOAD', 3: 'BAD_COMMON_HEADER', 4: 'BAD_CREATOR_SIGNATURE',
  5: 'INVALID_ENDORSER_TRANSACTION', 6: 'INVALID_CONFIG_TRANSACTION', 7: 'UNSUPPORTED_TX_PAYLOAD', 8: 'BAD_PROPOSAL_TXID',
  9: 'DUPLICATE_TXID', 10: 'ENDORSEMENT_POLICY_FAILURE', 11: 'MVCC_READ_CONFLICT', 12: 'PHANTOM_READ_CONFLICT',
  13: 'UNKNOWN_TX_TYPE', 14: 'TARGET_CHAIN_NOT_FOUND', 15: 'MARSHAL_TX_ERROR', 16: 'NIL_TXACTION', 17: 'EXPIRED_CHAINCODE',
  18: 'CHAINCODE_VERSION_CONFLICT', 19: 'BAD_HEADER_EXTENSION', 20: 'BAD_CHANNEL_HEADER', 21: 'BAD_RESPONSE_PAYLOAD',
  22: 'BAD_RWSET', 23: 'ILLEGAL_WRITESET', 24: 'INVALID_WRITESET', 25: 'INVALID_CHAINCODE', 254: 'NOT_VALIDATED', 255: 'INVALID_OTHER_REASON',
};

const BY_NUMBER = new Map<number, ValidationCodeName>(
  (Object.entries(ValidationCode) as [ValidationCodeName, number][])
    // Our table's number for BAD_PROPOSAL_TXID is not Fabric's (8); match it by name only.
    .filter(([name, n]) => FABRIC_VALIDATION_CODES[n] === name)
    .map(([name, n]) => [n, name]),
);
BY_NUMBER.set(8, 'BAD_PROPOSAL_TXID');

/** Our name for a Fabric validation code; codes we do not model read as BAD_PAYLOAD (see `fabricCodeName`). */
export function validationCodeOf(code: number): ValidationCodeName {
  return BY_NUMBER.get(code) ?? 'BAD_PAYLOAD';
}

export function fabricCodeName(code: number): string {
  return FABRIC_VALIDATION_CODES[code] ?? `UNKNOWN(${code})`;
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derInteger(n: number): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return der(0x02, body);
}

/** Fabric's block header hash. */
export function blockHeaderHash(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  const bytes = der(0x30, Buffer.concat([derInteger(number), der(0x04, previousHash), der(0x04, dataHash)]));
  return createHash('sha256').update(bytes).digest();
}

export interface ParsedTransaction extends TransactionInfo {
  /** Fabric's validation code number as the block carries it. */
  readonly code: number;
}

function transactionOf(envelopeBytes: Uint8Array, code: number): ParsedTransaction {
  const validationCode = validationCodeOf(code);
  try {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
    const header = payload.getHeader();
    if (!header) throw new Error('no header');
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const ts = channelHeader.getTimestamp();
    const timestamp = ts ? new Date(ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6)).toISOString() : '';
    const base = {
      txId: channelHeader.getTxId(),
      code,
      validationCode,
      creatorMspId: msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8()).getMspid(),
      timestamp,
    };
    if (channelHeader.getType() === HEADER_TYPE_CONFIG) return { ...base, fn: 'config', args: [], endorsers: [] };
    if (channelHeader.getType() !== HEADER_TYPE_ENDORSER_TRANSACTION) return { ...base, fn: '', args: [], endorsers: [] };
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
    if (!action) return { ...base, fn: '', args: [], endorsers: [] };
    const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const proposalPayload = peer.ChaincodeProposalPayload.deserializeBinary(actionPayload.getChaincodeProposalPayload_asU8());
    const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(proposalPayload.getInput_asU8());
    const args = (invocation.getChaincodeSpec()?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
    const endorsers = (actionPayload.getAction()?.getEndorsementsList() ?? []).map((e) => msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid());
    return { ...base, fn: args[0] ?? '', args: args.slice(1), endorsers };
  } catch {
    return { txId: '', code, validationCode, creatorMspId: '', timestamp: '', fn: '', args: [], endorsers: [] };
  }
}

export interface ParsedBlock extends BlockInfo {
  readonly transactions: readonly ParsedTransaction[];
}

/** Reads a serialized `common.Block`. Throws when the bytes are not a block with a header. */
export function parseFabricBlock(bytes: Uint8Array): ParsedBlock {
  const block = common.Block.deserializeBinary(bytes);
  const header = block.getHeader();
  if (!header) throw new Error('the block has no header');
  const previousHash = header.getPreviousHash_asU8();
  const dataHash = header.getDataHash_asU8();
  const filter = block.getMetadata()?.getMetadataList_asU8()[METADATA_TRANSACTIONS_FILTER] ?? new Uint8Array(0);
  const envelopes = block.getData()?.getDataList_asU8() ?? [];
  return {
    number: header.getNumber(),
    hash: blockHeaderHash(header.getNumber(), previousHash, dataHash).toString('hex'),
    previousHash: Buffer.from(previousHash).toString('hex'),
    dataHash: Buffer.from(dataHash).toString('hex'),
    transactions: envelopes.map((e, i) => transactionOf(e, filter[i] ?? 255)),
  };
}
