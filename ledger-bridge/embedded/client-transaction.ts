/**
 * What a Fabric client and the Gateway do for one in-process `submit` or `evaluate`, in one call: the
 * client-signed proposal, endorsement by the peers of the chosen orgs, and (for a submit) the
 * client-signed transaction envelope. The same function runs on the ledger's thread (custom contracts)
 * and in the endorsement workers (the DR contract), so its inputs and outputs are plain cloneable data.
 *
 * Beside the envelope bytes it returns the envelope's decoded form (`PreparedTransaction`), taken from
 * the very messages the bytes were serialized from, so the committer does not decode what this process
 * just encoded. The committer still verifies the creator's and every endorser's signature over the
 * bytes in that form (the envelope's payload, `proposal_response_payload ‖ endorser`).
 */
import { peer } from '@hyperledger/fabric-protos';
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { computeTxId, createSignedProposal, serializeIdentity } from '../fabric/fabric-proposal.ts';
import { timestampOf, type ReadSet, type TimestampObject, type WriteSet } from '../fabric/rwset.ts';
import type { DetailedEndorsement, Endorser } from './endorser.ts';
import { decodePolicy, endorsingOrgs, formatPolicy, VALIDATION_PARAMETER } from './policy.ts';
import { buildTransactionEnvelope, decodeProposal, HEADER_TYPE_ENDORSER_TRANSACTION, type DecodedIdentity, type DecodedProposal } from '../fabric/fabric-messages.ts';
import { keyMatchesCertificate, type RecordSignature } from './signature-memo.ts';
import { signLowS } from './signer.ts';
import { encodeEnvelope, encodeProposal, encodeTransactionPayload, type EncodedProposal } from './tx-encoding.ts';

/** The client identity a transaction is made with, its key already a `KeyObject`. */
export interface ClientKey {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly key: KeyObject;
}

export interface ClientJob {
  readonly kind: 'submit' | 'evaluate';
  readonly fn: string;
  readonly args: readonly string[];
  readonly transient?: Readonly<Record<string, Uint8Array | string>>;
  /** Transaction timestamp, ms since the epoch (the ledger's clock). */
  readonly timestampMs: number;
  /** MSP ids of the peers to ask for endorsement. */
  readonly orgs: readonly string[];
}

/** An envelope's content as the committer needs it; every byte field is a part of the envelope bytes. */
export interface PreparedTransaction {
  readonly txId: string;
  readonly channelId: string;
  readonly timestamp: TimestampObject;
  /** `msp.SerializedIdentity` of the creator. */
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  /** The envelope's payload: what the creator signed. */
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly chaincodeName: string;
  readonly fn: string;
  readonly status: number;
  readonly proposalResponsePayload: Uint8Array;
  readonly endorsements: readonly { readonly endorser: Uint8Array; readonly signature: Uint8Array }[];
  readonly readSet: ReadSet;
  readonly writeSet: WriteSet;
}

export type ClientOutcome =
  | { readonly ok: true; readonly txId: string; readonly result: Uint8Array; readonly envelope?: Uint8Array; readonly prepared?: PreparedTransaction }
  /**
   * `stage` 'contract': an endorser's chaincode refused (status ≥ 400); 'endorsement': the responses do
   * not agree; 'policy': a key-level policy needs an org this ledger has no peer of.
   */
  | { readonly ok: false; readonly txId: string; readonly stage: 'contract' | 'endorsement' | 'policy'; readonly message: string };

export interface ClientContext {
  readonly channelId: string;
  readonly chaincodeName: string;
  readonly endorsers: ReadonlyMap<string, Endorser>;
  /**
   * Told of the signatures a submit makes that the committer will check (the creator's envelope
   * signature, the endorsements), for its `SignatureMemo`. Absent: nothing is recorded.
   */
  readonly record?: RecordSignature;
}

const creators = new WeakMap<ClientKey, DecodedIdentity>();

function creatorOf(client: ClientKey): DecodedIdentity {
  let creator = creators.get(client);
  if (!creator) {
    const bytes = serializeIdentity(client.mspId, client.certificatePem);
    creators.set(client, (creator = { mspId: client.mspId, certificatePem: client.certificatePem, bytes }));
  }
  return creator;
}

interface Proposed {
  readonly signed: peer.SignedProposal;
  readonly decoded: DecodedProposal;
  /** The encoded pieces, when built here (no transient data); absent → assemble with google-protobuf. */
  readonly encoded?: EncodedProposal;
}

async function propose(context: ClientContext, client: ClientKey, job: ClientJob, txId: string, nonce: Uint8Array): Promise<Proposed> {
  const creator = creatorOf(client);
  const args = [job.fn, ...job.args];
  const ms = job.timestampMs;
  if (job.transient && Object.keys(job.transient).length > 0) {
    const signed = await createSignedProposal({
      channelId: context.channelId,
      chaincodeName: context.chaincodeName,
      txId,
      args,
      creator: creator.bytes,
      nonce,
      timestamp: timestampOf(new Date(ms)),
      transient: job.transient,
      sign: (data) => signLowS(client.key, data),
    });
    return { signed, decoded: decodeProposal(signed) };
  }
  const seconds = Math.floor(ms / 1000);
  const timestamp = { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
  const encoded = encodeProposal({ channelId: context.channelId, chaincodeName: context.chaincodeName, txId, args, creator: creator.bytes, nonce, timestamp });
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(encoded.proposalBytes);
  signed.setSignature(signLowS(client.key, encoded.proposalBytes));
  const decoded: DecodedProposal = {
    // Decoded only if someone asks (nothing on the in-process path does: ~3 µs a transaction).
    get proposal() {
      return peer.Proposal.deserializeBinary(encoded.proposalBytes);
    },
    headerBytes: encoded.headerBytes,
    channelHeaderBytes: encoded.channelHeaderBytes,
    signatureHeaderBytes: encoded.signatureHeaderBytes,
    channelId: context.channelId,
    txId,
    type: HEADER_TYPE_ENDORSER_TRANSACTION,
    timestamp,
    chaincodeName: context.chaincodeName,
    creator,
    nonce,
    args,
    payloadWithoutTransient: encoded.payloadBytes,
    proposalHash: encoded.proposalHash,
  };
  return { signed, decoded, encoded };
}

/**
 * Nonces are cut from a block of CSPRNG output fetched 256 at a time: the same randomness, without one
 * `randomBytes(24)` call per transaction (~8 µs each in the endorsement worker's profile). Each nonce
 * owns a copy of its 24 bytes; the block is never reused.
 */
const NONCE_LENGTH = 24;
const NONCES_PER_BLOCK = 256;
let nonceBlock = Buffer.alloc(0);
let nonceAt = 0;

function nextNonce(): Buffer {
  if (nonceAt + NONCE_LENGTH > nonceBlock.length) {
    nonceBlock = randomBytes(NONCE_LENGTH * NONCES_PER_BLOCK);
    nonceAt = 0;
  }
  const nonce = Buffer.from(nonceBlock.subarray(nonceAt, nonceAt + NONCE_LENGTH));
  nonceAt += NONCE_LENGTH;
  return nonce;
}

export type Collected =
  | { readonly ok: true; readonly endorsed: readonly DetailedEndorsement[]; readonly orgs: readonly string[] }
  | { readonly ok: false; readonly message: string };

/**
 * Endorsement as Fabric's gateway plans it when the client names no orgs (`planFromFirstEndorser`):
 * the peers of `orgs` (a set for the chaincode-level policy) endorse; then the interest of the first
 * successful answer says which key-level policies the writes must meet, and the peers those policies
 * need beyond the ones asked endorse too. So does every key-level policy the transaction itself
 * writes: a change of a key's policy carries the endorsements of the orgs that govern the key after it
 * too, and a policy no peer here could ever satisfy is refused before it is ordered. An endorser's
 * refusal stops after the round it happened in; the caller checks the answers.
 */
export async function collectEndorsements(
  endorsers: ReadonlyMap<string, Endorser>,
  orgs: readonly string[],
  endorse: (endorser: Endorser) => Promise<DetailedEndorsement>,
): Promise<Collected> {
  const missing = (mspIds: readonly string[], why: string): Collected | undefined => {
    const absent = mspIds.filter((m) => !endorsers.has(m));
    if (absent.length === 0) return undefined;
    return { ok: false, message: `${why} needs the endorsement of ${absent.join(', ')}, and there is no peer of ${absent.length === 1 ? 'it' : 'them'} on this channel (orgs: ${[...endorsers.keys()].join(', ')})` };
  };
  const first = missing(orgs, 'the chaincode-level policy');
  if (first) return first;
  const endorsed = await Promise.all(orgs.map((m) => endorse(endorsers.get(m) as Endorser)));
  const done = endorsed.find((d) => d.rw !== undefined && d.interest !== undefined);
  if (!done || endorsed.some((d) => d.rw === undefined)) return { ok: true, endorsed, orgs };
  const policies = [...(done.interest?.keyPolicies ?? [])];
  for (const m of done.rw?.writeSet.metadataWrites ?? []) {
    for (const e of m.entries) if (e.name === VALIDATION_PARAMETER && e.value.length > 0) policies.push(e.value);
  }
  const more: string[] = [];
  for (const bytes of policies) {
    let needed: string[];
    let text: string;
    try {
      const policy = decodePolicy(bytes);
      needed = endorsingOrgs(policy, orgs);
      text = formatPolicy(policy);
    } catch (err) {
      return { ok: false, message: `a key this transaction writes has a malformed key-level policy: ${(err as Error).message}` };
    }
    const refused = missing(needed, `the key-level policy ${text}`);
    if (refused) return refused;
    for (const m of needed) if (!orgs.includes(m) && !more.includes(m)) more.push(m);
  }
  if (more.length === 0) return { ok: true, endorsed, orgs };
  const second = await Promise.all(more.map((m) => endorse(endorsers.get(m) as Endorser)));
  return { ok: true, endorsed: [...endorsed, ...second], orgs: [...orgs, ...more] };
}

export async function runClientJob(context: ClientContext, client: ClientKey, job: ClientJob): Promise<ClientOutcome> {
  const creator = creatorOf(client).bytes;
  const nonce = nextNonce();
  const txId = computeTxId(nonce, creator);
  const { signed, decoded, encoded } = await propose(context, client, job, txId, nonce);
  // Only a submit's signatures reach the committer; only a key that matches its certificate is trusted.
  const record = job.kind === 'submit' && context.record && keyMatchesCertificate(client.key, client.certificatePem) ? context.record : undefined;
  const run = (e: Endorser) => e.endorseDetailed(signed, { decoded, signedHere: true, ...(record ? { record } : {}) });
  let endorsed: readonly DetailedEndorsement[];
  if (job.kind === 'submit') {
    const collected = await collectEndorsements(context.endorsers, job.orgs, run);
    if (!collected.ok) return { ok: false, txId, stage: 'policy', message: collected.message };
    endorsed = collected.endorsed;
  } else {
    const chosen = job.orgs.map((mspId) => {
      const e = context.endorsers.get(mspId);
      if (!e) throw new Error(`no peer of ${mspId} on this channel (orgs: ${[...context.endorsers.keys()].join(', ')})`);
      return e;
    });
    endorsed = await Promise.all(chosen.map(run));
  }
  const refused = endorsed.find((d) => (d.response.getResponse()?.getStatus() ?? 500) >= 400 || !d.response.hasEndorsement());
  if (refused) return { ok: false, txId, stage: 'contract', message: refused.response.getResponse()?.getMessage() || 'endorsement failed' };
  const first = endorsed[0];
  if (!first?.rw) return { ok: false, txId, stage: 'contract', message: 'endorsement failed' };
  const result = first.response.getResponse()?.getPayload_asU8() ?? new Uint8Array(0);
  if (job.kind === 'evaluate') return { ok: true, txId, result };
  const proposalResponsePayload = first.response.getPayload_asU8();
  for (const d of endorsed) {
    if (!Buffer.from(d.response.getPayload_asU8()).equals(Buffer.from(proposalResponsePayload))) {
      return { ok: false, txId, stage: 'endorsement', message: 'ProposalResponsePayloads do not match' };
    }
  }
  const endorsements = endorsed.map((d) => {
    const e = d.response.getEndorsement() as peer.Endorsement;
    return { endorser: e.getEndorser_asU8(), signature: e.getSignature_asU8() };
  });
  let payloadBytes: Uint8Array;
  let signature: Uint8Array;
  let envelope: Uint8Array;
  if (encoded) {
    payloadBytes = encodeTransactionPayload({ proposal: encoded, proposalResponsePayload, endorsements });
    signature = signLowS(client.key, payloadBytes);
    envelope = encodeEnvelope(payloadBytes, signature);
  } else {
    const built = await buildTransactionEnvelope(decoded, endorsed.map((d) => d.response), async (data) => signLowS(client.key, data));
    payloadBytes = built.getPayload_asU8();
    signature = built.getSignature_asU8();
    envelope = built.serializeBinary();
  }
  record?.({ certificatePem: client.certificatePem, parts: [payloadBytes], signature });
  const prepared: PreparedTransaction = {
    txId,
    channelId: decoded.channelId,
    timestamp: decoded.timestamp,
    creator,
    nonce,
    payloadBytes,
    signature,
    chaincodeName: context.chaincodeName,
    fn: job.fn,
    status: first.response.getResponse()?.getStatus() ?? 0,
    proposalResponsePayload,
    endorsements,
    readSet: first.rw.readSet,
    writeSet: first.rw.writeSet,
  };
  return { ok: true, txId, result, envelope, prepared };
}
