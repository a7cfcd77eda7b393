/**
 * Blocks as Fabric writes them: `common.Block { BlockHeader { number, previous_hash, data_hash },
 * BlockData { envelopes }, BlockMetadata [SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER, ORDERER,
 * COMMIT_HASH] }`.
 *
 * - data hash = SHA-256 over the concatenated envelope bytes (Fabric 2.x `protoutil.ComputeBlockDataHash`);
 * - block hash = SHA-256 over the ASN.1 DER `SEQUENCE { INTEGER number, OCTET STRING previousHash,
 *   OCTET STRING dataHash }` (`protoutil.BlockHeaderBytes`);
 * - TRANSACTIONS_FILTER = one byte per transaction, its `peer.TxValidationCode`;
 * - COMMIT_HASH = SHA-256(previous commit hash ‖ block hash ‖ transactions filter), in a `common.Metadata`:
 *   the metadata is outside the block hash in Fabric, so this chains the validation results too and a
 *   changed validation code is caught by `verifyLedger`.
 */
import { common } from '@hyperledger/fabric-protos';
import { createHash } from 'node:crypto';

export const METADATA_SIGNATURES = 0;
export const METADATA_LAST_CONFIG = 1;
export const METADATA_TRANSACTIONS_FILTER = 2;
export const METADATA_ORDERER = 3;
export const METADATA_COMMIT_HASH = 4;

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derUnsigned(n: number): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return derTlv(0x02, body);
}

/** The bytes Fabric hashes for a block header (Go `asn1.Marshal` of the header struct). */
export function blockHeaderBytes(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return derTlv(0x30, Buffer.concat([derUnsigned(number), derTlv(0x04, previousHash), derTlv(0x04, dataHash)]));
}

export function blockHash(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return createHash('sha256').update(blockHeaderBytes(number, previousHash, dataHash)).digest();
}

export function dataHash(envelopes: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const e of envelopes) hash.update(e);
  return hash.digest();
}

export function commitHash(previousCommitHash: Uint8Array, hash: Uint8Array, filter: Uint8Array): Buffer {
  return createHash('sha256').update(previousCommitHash).update(hash).update(filter).digest();
}

export interface BuiltBlock {
  readonly number: number;
  readonly bytes: Uint8Array;
  readonly hash: Buffer;
  readonly dataHash: Buffer;
  readonly commitHash: Buffer;
}

function metadataEntry(value: Uint8Array): Uint8Array {
  const m = new common.Metadata();
  m.setValue(value);
  return m.serializeBinary();
}

export function buildBlock(
  number: number,
  previousHash: Uint8Array,
  previousCommitHash: Uint8Array,
  envelopes: readonly Uint8Array[],
  validationCodes: readonly number[],
): BuiltBlock {
  const dHash = dataHash(envelopes);
  const hash = blockHash(number, previousHash, dHash);
  const filter = Uint8Array.from(validationCodes);
  const cHash = commitHash(previousCommitHash, hash, filter);
  const header = new common.BlockHeader();
  header.setNumber(number);
  header.setPreviousHash(previousHash);
  header.setDataHash(dHash);
  const data = new common.BlockData();
  data.setDataList([...envelopes]);
  const metadata = new common.BlockMetadata();
  const entries: Uint8Array[] = [];
  entries[METADATA_SIGNATURES] = metadataEntry(new Uint8Array(0));
  entries[METADATA_LAST_CONFIG] = metadataEntry(new Uint8Array(0));
  entries[METADATA_TRANSACTIONS_FILTER] = filter;
  entries[METADATA_ORDERER] = new Uint8Array(0);
  entries[METADATA_COMMIT_HASH] = metadataEntry(cHash);
  metadata.setMetadataList(entries);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return { number, bytes: block.serializeBinary(), hash, dataHash: dHash, commitHash: cHash };
}

export interface DecodedBlock {
  readonly number: number;
  readonly previousHash: Buffer;
  readonly dataHash: Buffer;
  readonly envelopes: readonly Uint8Array[];
  readonly validationCodes: readonly number[];
  readonly commitHash: Buffer;
}

/** Reads a stored block. Throws when the bytes are not a block. */
export function decodeBlock(bytes: Uint8Array): DecodedBlock {
  const block = common.Block.deserializeBinary(bytes);
  const header = block.getHeader();
  if (!header) throw new Error('block without header');
  const entries = block.getMetadata()?.getMetadataList_asU8() ?? [];
  const commitEntry = entries[METADATA_COMMIT_HASH];
  return {
    number: header.getNumber(),
    previousHash: Buffer.from(header.getPreviousHash_asU8()),
    dataHash: Buffer.from(header.getDataHash_asU8()),
    envelopes: block.getData()?.getDataList_asU8() ?? [],
    validationCodes: [...(entries[METADATA_TRANSACTIONS_FILTER] ?? [])],
    commitHash: commitEntry ? Buffer.from(common.Metadata.deserializeBinary(commitEntry).getValue_asU8()) : Buffer.alloc(0),
  };
}
