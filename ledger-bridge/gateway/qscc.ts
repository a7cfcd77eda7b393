/**
 * The query system chaincode (qscc) of a Fabric peer, answered from the embedded ledger, so that any
 * Fabric client reads blocks and transactions with the calls real peers answer:
 *
 *   GetChainInfo(channel)            → common.BlockchainInfo { height, currentBlockHash, previousBlockHash }
 *   GetBlockByNumber(channel, n)     → common.Block
 *   GetBlockByTxID(channel, txId)    → common.Block holding the transaction
 *   GetTransactionByID(channel, id)  → peer.ProcessedTransaction { transactionEnvelope, validationCode }
 *
 * Blocks are served as stored when the ledger offers their bytes (`blockBytes(n)`, as the embedded
 * ledger does); for a ledger that cannot, they are rebuilt from its `block(n)` view: the header
 * (number, previous hash, data hash) is exact, so the block hash a client computes is the stored one,
 * and each transaction envelope carries its id, timestamp, creator MSP, function, arguments and
 * endorser MSPs, but no certificates, signatures, read-write sets or events.
 */
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';
import { LedgerError } from '../errors.ts';
import { HEADER_TYPE_CONFIG, HEADER_TYPE_ENDORSER_TRANSACTION } from './messages.ts';
import { ValidationCode, type BlockInfo, type Ledger, type TransactionInfo } from '../ledger.ts';

export const QSCC = 'qscc';
export const QSCC_FUNCTIONS = ['GetChainInfo', 'GetBlockByNumber', 'GetBlockByTxID', 'GetTransactionByID'] as const;

const METADATA_TRANSACTIONS_FILTER = 2;
const METADATA_ENTRIES = 5;

const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => { setSeconds(s: number): void; setNanos(n: number): void };
};

/** What qscc needs of a ledger; `blockBytes` when the ledger can hand out its stored blocks. */
export type QsccLedger = Pick<Ledger, 'height' | 'block' | 'transaction'> & {
  readonly blockBytes?: (number: number) => Promise<Uint8Array | undefined>;
};

export interface ChaincodeAnswer {
  readonly status: number;
  readonly message: string;
  readonly payload: Uint8Array;
}

function envelopeOf(channelId: string, chaincodeName: string, tx: TransactionInfo): Uint8Array {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(tx.fn === 'config' ? HEADER_TYPE_CONFIG : HEADER_TYPE_ENDORSER_TRANSACTION);
  channelHeader.setChannelId(channelId);
  channelHeader.setTxId(tx.txId);
  const ms = tx.timestamp ? Date.parse(tx.timestamp) : 0;
  const timestamp = new Timestamp();
  timestamp.setSeconds(Math.floor(ms / 1000));
  timestamp.setNanos((ms % 1000) * 1e6);
  channelHeader.setTimestamp(timestamp as never);
  const creator = new msp.SerializedIdentity();
  creator.setMspid(tx.creatorMspId);
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator.serializeBinary());
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  if (tx.fn !== 'config') {
    const input = new peer.ChaincodeInput();
    input.setArgsList([tx.fn, ...tx.args].map((a) => Buffer.from(a, 'utf8')));
    const id = new peer.ChaincodeID();
    id.setName(chaincodeName);
    const spec = new peer.ChaincodeSpec();
    spec.setChaincodeId(id);
    spec.setInput(input);
    const invocation = new peer.ChaincodeInvocationSpec();
    invocation.setChaincodeSpec(spec);
    const proposalPayload = new peer.ChaincodeProposalPayload();
    proposalPayload.setInput(invocation.serializeBinary());
    const endorsed = new peer.ChaincodeEndorsedAction();
    endorsed.setEndorsementsList(
      tx.endorsers.map((mspId) => {
        const endorser = new msp.SerializedIdentity();
        endorser.setMspid(mspId);
        const e = new peer.Endorsement();
        e.setEndorser(endorser.serializeBinary());
        return e;
      }),
    );
    const actionPayload = new peer.ChaincodeActionPayload();
    actionPayload.setChaincodeProposalPayload(proposalPayload.serializeBinary());
    actionPayload.setAction(endorsed);
    const action = new peer.TransactionAction();
    action.setHeader(signatureHeader.serializeBinary());
    action.setPayload(actionPayload.serializeBinary());
    const transaction = new peer.Transaction();
    transaction.setActionsList([action]);
    payload.setData(transaction.serializeBinary());
  }
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}

/** A `common.Block` rebuilt from the ledger's view of it (exact header, summary envelopes). */
export function blockFromInfo(channelId: string, chaincodeName: string, info: BlockInfo): Uint8Array {
  const header = new common.BlockHeader();
  header.setNumber(info.number);
  header.setPreviousHash(Buffer.from(info.previousHash, 'hex'));
  header.setDataHash(Buffer.from(info.dataHash, 'hex'));
  const data = new common.BlockData();
  data.setDataList(info.transactions.map((tx) => envelopeOf(channelId, chaincodeName, tx)));
  const entries: Uint8Array[] = [];
  for (let i = 0; i < METADATA_ENTRIES; i++) entries.push(new Uint8Array(0));
  entries[METADATA_TRANSACTIONS_FILTER] = Uint8Array.from(info.transactions.map((tx) => ValidationCode[tx.validationCode]));
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList(entries);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return block.serializeBinary();
}

export interface Qscc {
  /** Runs a qscc function; `args` are the function name and its arguments, as in the proposal. */
  invoke(args: readonly string[]): Promise<ChaincodeAnswer>;
}

export function createQscc(ledger: QsccLedger, channelId: string, chaincodeName: string): Qscc {
  async function blockBytes(n: number): Promise<Uint8Array> {
    const stored = ledger.blockBytes ? await ledger.blockBytes(n) : undefined;
    return stored ?? blockFromInfo(channelId, chaincodeName, await ledger.block(n));
  }

  function ok(payload: Uint8Array): ChaincodeAnswer {
    return { status: 200, message: '', payload };
  }
  function fail(message: string): ChaincodeAnswer {
    return { status: 500, message, payload: new Uint8Array(0) };
  }

  async function run(fn: string, rest: readonly string[]): Promise<ChaincodeAnswer> {
    switch (fn) {
      case 'GetChainInfo': {
        const height = await ledger.height();
        const info = new common.BlockchainInfo();
        info.setHeight(height);
        if (height > 0) {
          const last = await ledger.block(height - 1);
          info.setCurrentblockhash(Buffer.from(last.hash, 'hex'));
          info.setPreviousblockhash(Buffer.from(last.previousHash, 'hex'));
        }
        return ok(info.serializeBinary());
      }
      case 'GetBlockByNumber': {
        const text = rest[0] ?? '';
        const n = /^\d+$/.test(text) ? Number(text) : NaN;
        if (!Number.isSafeInteger(n)) return fail(`failed to parse block number '${text}': give a decimal block number`);
        return ok(await blockBytes(n));
      }
      case 'GetBlockByTxID':
      case 'GetTransactionByID': {
        const txId = rest[0] ?? '';
        if (!txId) return fail(`transaction ID must be provided for ${fn}`);
        const tx = await ledger.transaction(txId);
        const bytes = await blockBytes(tx.blockNumber);
        if (fn === 'GetBlockByTxID') return ok(bytes);
        const block = common.Block.deserializeBinary(bytes);
        const data = block.getData()?.getDataList_asU8() ?? [];
        const index = data.findIndex((e) => txIdOf(e) === txId);
        if (index < 0) return fail(`transaction ${txId} not found in block ${tx.blockNumber}`);
        const processed = new peer.ProcessedTransaction();
        processed.setTransactionenvelope(common.Envelope.deserializeBinary(data[index] as Uint8Array));
        processed.setValidationcode(ValidationCode[tx.validationCode]);
        return ok(processed.serializeBinary());
      }
      default:
        return fail(`requested function ${fn} not found in qscc; it answers ${QSCC_FUNCTIONS.join(', ')}`);
    }
  }

  return {
    async invoke(args) {
      const [fn = '', channel = '', ...rest] = args;
      if (channel !== channelId) return fail(`channel '${channel}' not found; this peer joins '${channelId}'`);
      try {
        return await run(fn, rest);
      } catch (err) {
        if (err instanceof LedgerError && err.code === 'NOT_FOUND') return fail(err.message);
        throw err;
      }
    },
  };
}

function txIdOf(envelopeBytes: Uint8Array): string {
  try {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
    return common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0)).getTxId();
  } catch {
    return '';
  }
}
