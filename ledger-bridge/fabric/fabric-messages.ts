/**
 * Fabric's transaction messages, built and read with `@hyperledger/fabric-protos`, as a peer, the
 * gateway and a client build them (Fabric 2.5 `protoutil`):
 *
 *   SignedProposal → Proposal { Header { ChannelHeader, SignatureHeader }, ChaincodeProposalPayload }
 *   ProposalResponse { Response, payload = ProposalResponsePayload { proposal_hash, ChaincodeAction {
 *       results = TxReadWriteSet, events = ChaincodeEvent, response } }, Endorsement { endorser, signature } }
 *   Envelope { payload = Payload { Header, Transaction { TransactionAction { SignatureHeader,
 *       ChaincodeActionPayload { proposal payload without transient, ChaincodeEndorsedAction {
 *       proposal_response_payload, endorsements } } } } }, signature }
 *
 * An endorsement signs `proposal_response_payload ‖ endorser`; the envelope signature signs the payload
 * bytes. Pure functions of bytes: no clock, no keys (signing is a callback).
 */
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { createHash } from 'node:crypto';
import type { KVRead, KVWrite, RangeQueryInfo, ReadSet, TimestampObject, Version, WriteSet } from './rwset.ts';

export const HEADER_TYPE_CONFIG = 1;
export const HEADER_TYPE_ENDORSER_TRANSACTION = 3;

export interface DecodedIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  /** The `msp.SerializedIdentity` bytes. */
  readonly bytes: Uint8Array;
}

export interface DecodedProposal {
  readonly proposal: peer.Proposal;
  readonly headerBytes: Uint8Array;
  readonly channelHeaderBytes: Uint8Array;
  readonly signatureHeaderBytes: Uint8Array;
  readonly channelId: string;
  readonly txId: string;
  readonly type: number;
  readonly timestamp: TimestampObject;
  readonly chaincodeName: string;
  readonly creator: DecodedIdentity;
  readonly nonce: Uint8Array;
  /** Function name first, then the arguments. */
  readonly args: readonly string[];
  /** ChaincodeProposalPayload with the transient map removed: what goes into the transaction. */
  readonly payloadWithoutTransient: Uint8Array;
  readonly proposalHash: Buffer;
}

export function decodeIdentity(bytes: Uint8Array): DecodedIdentity {
  const id = msp.SerializedIdentity.deserializeBinary(bytes);
  return { mspId: id.getMspid(), certificatePem: Buffer.from(id.getIdBytes_asU8()).toString('utf8'), bytes };
}

function timestampOfProto(ts: { getSeconds(): number; getNanos(): number } | undefined): TimestampObject {
  return ts ? { seconds: ts.getSeconds(), nanos: ts.getNanos() } : { seconds: 0, nanos: 0 };
}

/** Reads a signed proposal. Throws (with a message to pass on) when it is not a chaincode proposal. */
export function decodeProposal(signed: peer.SignedProposal): DecodedProposal {
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const headerBytes = proposal.getHeader_asU8();
  const header = common.Header.deserializeBinary(headerBytes);
  const channelHeaderBytes = header.getChannelHeader_asU8();
  const signatureHeaderBytes = header.getSignatureHeader_asU8();
  const channelHeader = common.ChannelHeader.deserializeBinary(channelHeaderBytes);
  const signatureHeader = common.SignatureHeader.deserializeBinary(signatureHeaderBytes);
  const extension = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
  const args = (invocation.getChaincodeSpec()?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
  payload.getTransientmapMap().clear();
  const payloadWithoutTransient = payload.serializeBinary();
  const proposalHash = createHash('sha256').update(channelHeaderBytes).update(signatureHeaderBytes).update(payloadWithoutTransient).digest();
  return {
    proposal,
    headerBytes,
    channelHeaderBytes,
    signatureHeaderBytes,
    channelId: channelHeader.getChannelId(),
    txId: channelHeader.getTxId(),
    type: channelHeader.getType(),
    timestamp: timestampOfProto(channelHeader.getTimestamp()),
    chaincodeName: extension.getChaincodeId()?.getName() ?? '',
    creator: decodeIdentity(signatureHeader.getCreator_asU8()),
    nonce: signatureHeader.getNonce_asU8(),
    args,
    payloadWithoutTransient,
    proposalHash,
  };
}

// --- read-write sets --------------------------------------------------------------------------------

function versionProto(v: Version | null): ledger.rwset.kvrwset.Version | undefined {
  if (v === null) return undefined;
  const version = new ledger.rwset.kvrwset.Version();
  version.setBlockNum(v.blockNum);
  version.setTxNum(v.txNum);
  return version;
}

function readProto(r: KVRead): ledger.rwset.kvrwset.KVRead {
  const read = new ledger.rwset.kvrwset.KVRead();
  read.setKey(r.key);
  const v = versionProto(r.version);
  if (v) read.setVersion(v);
  return read;
}

/** `TxReadWriteSet` bytes of one namespace's simulation results (data model KV). */
export function encodeTxRwSet(namespace: string, readSet: ReadSet, writeSet: WriteSet): Uint8Array {
  const kv = new ledger.rwset.kvrwset.KVRWSet();
  kv.setReadsList(readSet.reads.map(readProto));
  kv.setRangeQueriesInfoList(
    readSet.rangeQueries.map((rq) => {
      const info = new ledger.rwset.kvrwset.RangeQueryInfo();
      info.setStartKey(rq.startKey);
      info.setEndKey(rq.endKey);
      info.setItrExhausted(rq.itrExhausted);
      const raw = new ledger.rwset.kvrwset.QueryReads();
      raw.setKvReadsList(rq.reads.map(readProto));
      info.setRawReads(raw);
      return info;
    }),
  );
  kv.setWritesList(
    writeSet.writes.map((w) => {
      const write = new ledger.rwset.kvrwset.KVWrite();
      write.setKey(w.key);
      write.setIsDelete(w.isDelete);
      if (w.value) write.setValue(w.value);
      return write;
    }),
  );
  kv.setMetadataWritesList(
    writeSet.metadataWrites.map((m) => {
      const mw = new ledger.rwset.kvrwset.KVMetadataWrite();
      mw.setKey(m.key);
      mw.setEntriesList(
        m.entries.map((e) => {
          const entry = new ledger.rwset.kvrwset.KVMetadataEntry();
          entry.setName(e.name);
          entry.setValue(e.value);
          return entry;
        }),
      );
      return mw;
    }),
  );
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(namespace);
  ns.setRwset(kv.serializeBinary());
  const tx = new ledger.rwset.TxReadWriteSet();
  tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
  tx.setNsRwsetList([ns]);
  return tx.serializeBinary();
}

function readOf(r: ledger.rwset.kvrwset.KVRead): KVRead {
  const v = r.getVersion();
  return { key: r.getKey(), version: v ? { blockNum: v.getBlockNum(), txNum: v.getTxNum() } : null };
}

/** The read and write set of `namespace` in a `TxReadWriteSet` (empty sets when it has none). */
export function decodeTxRwSet(bytes: Uint8Array, namespace: string): { readSet: ReadSet; writeSet: WriteSet } {
  const tx = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
  const ns = tx.getNsRwsetList().find((n) => n.getNamespace() === namespace);
  if (!ns) return { readSet: { reads: [], rangeQueries: [] }, writeSet: { writes: [], metadataWrites: [] } };
  const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
  const rangeQueries = kv.getRangeQueriesInfoList().map(
    (rq): RangeQueryInfo => ({
      startKey: rq.getStartKey(),
      endKey: rq.getEndKey(),
      itrExhausted: rq.getItrExhausted(),
      reads: (rq.getRawReads()?.getKvReadsList() ?? []).map(readOf),
    }),
  );
  const writes = kv.getWritesList().map(
    (w): KVWrite => (w.getIsDelete() ? { key: w.getKey(), isDelete: true, value: null } : { key: w.getKey(), isDelete: false, value: Buffer.from(w.getValue_asU8()) }),
  );
  const metadataWrites = kv.getMetadataWritesList().map((m) => ({
    key: m.getKey(),
    entries: m.getEntriesList().map((e) => ({ name: e.getName(), value: Buffer.from(e.getValue_asU8()) })),
  }));
  return { readSet: { reads: kv.getReadsList().map(readOf), rangeQueries }, writeSet: { writes, metadataWrites } };
}

// --- proposal responses -----------------------------------------------------------------------------

export interface ChaincodeResult {
  readonly status: number;
  readonly message: string;
  readonly payload: Uint8Array;
}

export interface ProposalResponseOptions {
  readonly proposalHash: Uint8Array;
  readonly chaincodeName: string;
  readonly txId: string;
  readonly response: ChaincodeResult;
  /** TxReadWriteSet bytes. */
  readonly results: Uint8Array;
  readonly event?: { readonly name: string; readonly payload: Uint8Array };
  /** The endorsing peer's `msp.SerializedIdentity`. */
  readonly endorser: Uint8Array;
  readonly sign: (data: Uint8Array) => Promise<Uint8Array>;
}

function responseProto(r: ChaincodeResult): peer.Response {
  const response = new peer.Response();
  response.setStatus(r.status);
  response.setMessage(r.message);
  response.setPayload(r.payload);
  return response;
}

/** The endorsing peer's answer: a ProposalResponse whose payload it signed. */
export async function buildProposalResponse(options: Readonly<ProposalResponseOptions>): Promise<peer.ProposalResponse> {
  const response = responseProto(options.response);
  const ccId = new peer.ChaincodeID();
  ccId.setName(options.chaincodeName);
  const action = new peer.ChaincodeAction();
  action.setResults(options.results);
  if (options.event) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(options.chaincodeName);
    event.setTxId(options.txId);
    event.setEventName(options.event.name);
    event.setPayload(options.event.payload);
    action.setEvents(event.serializeBinary());
  }
  action.setResponse(response);
  action.setChaincodeId(ccId);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(options.proposalHash);
  prp.setExtension$(action.serializeBinary());
  const prpBytes = prp.serializeBinary();
  const endorsement = new peer.Endorsement();
  endorsement.setEndorser(options.endorser);
  endorsement.setSignature(await options.sign(Buffer.concat([prpBytes, options.endorser])));
  const out = new peer.ProposalResponse();
  out.setVersion(1);
  out.setResponse(response);
  out.setPayload(prpBytes);
  out.setEndorsement(endorsement);
  return out;
}

/** A proposal response for a proposal the chaincode refused (status ≥ 400): no payload, no endorsement. */
export function buildErrorResponse(status: number, message: string): peer.ProposalResponse {
  const out = new peer.ProposalResponse();
  out.setVersion(1);
  out.setResponse(responseProto({ status, message, payload: new Uint8Array(0) }));
  return out;
}

/**
 * The transaction a client assembles from endorsed responses (`protoutil.CreateTx`, unsigned): every
 * response must be endorsed and carry the same ProposalResponsePayload. The Gateway's Endorse hands
 * this back for the client to sign.
 */
export function assembleTransaction(
  proposal: Pick<DecodedProposal, 'headerBytes' | 'signatureHeaderBytes' | 'payloadWithoutTransient'>,
  responses: readonly peer.ProposalResponse[],
): common.Envelope {
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
  const cap = new peer.ChaincodeActionPayload();
  cap.setChaincodeProposalPayload(proposal.payloadWithoutTransient);
  cap.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setHeader(proposal.signatureHeaderBytes);
  action.setPayload(cap.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([action]);
  const payload = new common.Payload();
  payload.setHeader(common.Header.deserializeBinary(proposal.headerBytes));
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope;
}

/** `assembleTransaction` with the creator's signature over the payload (`protoutil.CreateSignedTx`). */
export async function buildTransactionEnvelope(
  decoded: DecodedProposal,
  responses: readonly peer.ProposalResponse[],
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<common.Envelope> {
  const envelope = assembleTransaction(decoded, responses);
  envelope.setSignature(await sign(envelope.getPayload_asU8()));
  return envelope;
}

// --- transactions as committed ----------------------------------------------------------------------

export interface DecodedEndorsement {
  readonly endorser: DecodedIdentity;
  readonly signature: Uint8Array;
}

export interface DecodedTransaction {
  readonly txId: string;
  readonly channelId: string;
  readonly type: number;
  readonly timestamp: TimestampObject;
  readonly creator: DecodedIdentity;
  readonly nonce: Uint8Array;
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** Set for endorser transactions. */
  readonly action?: {
    readonly chaincodeName: string;
    readonly args: readonly string[];
    readonly proposalResponsePayload: Uint8Array;
    readonly endorsements: readonly DecodedEndorsement[];
    readonly rwset: Uint8Array;
    readonly response: ChaincodeResult;
    readonly event?: { readonly name: string; readonly payload: Uint8Array };
  };
  /** Set for config transactions: the payload data. */
  readonly config?: Uint8Array;
}

/** Reads an Envelope. Throws on bytes that are not a well-formed transaction (→ BAD_PAYLOAD). */
export function decodeTransaction(envelopeBytes: Uint8Array): DecodedTransaction {
  const envelope = common.Envelope.deserializeBinary(envelopeBytes);
  const payloadBytes = envelope.getPayload_asU8();
  const payload = common.Payload.deserializeBinary(payloadBytes);
  const header = payload.getHeader();
  if (!header) throw new Error('payload without header');
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const base = {
    txId: channelHeader.getTxId(),
    channelId: channelHeader.getChannelId(),
    type: channelHeader.getType(),
    timestamp: timestampOfProto(channelHeader.getTimestamp()),
    creator: decodeIdentity(signatureHeader.getCreator_asU8()),
    nonce: signatureHeader.getNonce_asU8(),
    payloadBytes,
    signature: envelope.getSignature_asU8(),
  };
  if (base.type === HEADER_TYPE_CONFIG) return { ...base, config: payload.getData_asU8() };
  if (base.type !== HEADER_TYPE_ENDORSER_TRANSACTION) throw new Error(`unsupported header type ${base.type}`);
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const actions = transaction.getActionsList();
  if (actions.length !== 1) throw new Error(`a transaction must have exactly one action, found ${actions.length}`);
  const cap = peer.ChaincodeActionPayload.deserializeBinary((actions[0] as peer.TransactionAction).getPayload_asU8());
  const endorsed = cap.getAction();
  if (!endorsed) throw new Error('transaction action without endorsed action');
  const cpp = peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
  const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(cpp.getInput_asU8());
  const spec = invocation.getChaincodeSpec();
  const args = (spec?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
  const prpBytes = endorsed.getProposalResponsePayload_asU8();
  const prp = peer.ProposalResponsePayload.deserializeBinary(prpBytes);
  const ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  const response = ccAction.getResponse();
  const eventBytes = ccAction.getEvents_asU8();
  const event = eventBytes.length > 0 ? peer.ChaincodeEvent.deserializeBinary(eventBytes) : undefined;
  return {
    ...base,
    action: {
      chaincodeName: ccAction.getChaincodeId()?.getName() ?? spec?.getChaincodeId()?.getName() ?? '',
      args,
      proposalResponsePayload: prpBytes,
      endorsements: endorsed.getEndorsementsList().map((e) => ({ endorser: decodeIdentity(e.getEndorser_asU8()), signature: e.getSignature_asU8() })),
      rwset: ccAction.getResults_asU8(),
      response: { status: response?.getStatus() ?? 0, message: response?.getMessage() ?? '', payload: response?.getPayload_asU8() ?? new Uint8Array(0) },
      ...(event ? { event: { name: event.getEventName(), payload: event.getPayload_asU8() } } : {}),
    },
  };
}
