/**
 * One organisation's endorsing peer: checks a SignedProposal as a Fabric 2.5 peer does (channel,
 * chaincode, creator identity and signature, transaction id = SHA-256(nonce ‖ creator), not already on
 * the ledger), simulates it against the committed state with the peer emulation (peer/)
 * (fabric-shim's own stub and contract dispatcher over `createTxSimulator`), and answers a
 * ProposalResponse whose payload (read-write set, event, response) it signed with its peer identity.
 * A chaincode error (status ≥ 400) answers that status and message, unsigned, as a peer does.
 */
import type { Contract } from 'fabric-contract-api';
import { common, peer } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';
import {
  chaincodeEventOf,
  createChaincodeStub,
  createTxSimulator,
  runContractTransaction,
  type SimulationResults,
  type WorldState,
} from './peer/index.ts';
import { computeTxId, serializeIdentity } from '../fabric/fabric-proposal.ts';
import type { WriteSet } from '../fabric/rwset.ts';
import { cacheShimCertificates } from './certificate-cache.ts';
import { cacheShimParameterValidators } from './shim-parameters.ts';
import {
  buildErrorResponse,
  decodeProposal,
  HEADER_TYPE_ENDORSER_TRANSACTION,
  type DecodedProposal,
} from '../fabric/fabric-messages.ts';
import type { Msps } from './msp.ts';
import { VALIDATION_PARAMETER } from './policy.ts';
import { keyMatchesCertificate, type RecordSignature } from './signature-memo.ts';
import { keyObjectOf, signerOf, type SigningKey } from './signer.ts';
import { encodeProposalResponsePayload, encodeRwSet } from './tx-encoding.ts';

export interface EndorserOptions {
  readonly world: WorldState;
  readonly contract: Contract;
  readonly contractMetadata?: object;
  readonly channelId: string;
  readonly chaincodeName: string;
  /** The peer's identity; its key may also be a `KeyObject` (endorsement workers receive it so). */
  readonly peer: { readonly mspId: string; readonly certificatePem: string; readonly privateKey: SigningKey };
  readonly msps: Msps;
}

export interface EndorseOptions {
  /** Already decoded by the caller. */
  readonly decoded?: DecodedProposal;
  /**
   * The proposal was built and signed in this process a moment ago by the ledger's own `submit`: its
   * signature is not checked again (the creator's envelope signature is still checked at commit).
   */
  readonly signedHere?: boolean;
  /** Told of the endorsement signature (an in-process submit whose envelope the committer will check). */
  readonly record?: RecordSignature;
}

/**
 * What the endorsement must satisfy beyond this peer's signature, as a Fabric peer reports it in the
 * ProposalResponse's `interest` (`ChaincodeInterest`, built from the simulation's write-set metadata).
 */
export interface EndorsementInterest {
  /** The committed key-level policies (VALIDATION_PARAMETER) of the keys the transaction writes, each once. */
  readonly keyPolicies: readonly Uint8Array[];
  /** The chaincode-level policy applies too: a written key has no policy of its own, or nothing is written. */
  readonly chaincodePolicy: boolean;
}

/** An endorsement with the simulation results it signed (set when the chaincode succeeded). */
export interface DetailedEndorsement {
  readonly response: peer.ProposalResponse;
  readonly rw?: SimulationResults;
  readonly interest?: EndorsementInterest;
}

/**
 * The policies a transaction's writes must meet, read from the committed state as a Fabric peer's
 * transaction simulator does on each write (`checkStateMetadata`): every key written, or whose
 * metadata is written, brings its committed VALIDATION_PARAMETER, or else the chaincode's policy.
 */
export function interestOf(world: WorldState, writeSet: WriteSet): EndorsementInterest {
  const keys = new Set<string>();
  for (const w of writeSet.writes) keys.add(w.key);
  for (const m of writeSet.metadataWrites) keys.add(m.key);
  const keyPolicies = new Map<string, Uint8Array>();
  let chaincodePolicy = keys.size === 0;
  for (const key of keys) {
    const parameter = world.keyMetadata ? world.keyMetadata(key, VALIDATION_PARAMETER) : world.get(key)?.metadata.get(VALIDATION_PARAMETER);
    if (parameter === undefined || parameter.length === 0) chaincodePolicy = true;
    else keyPolicies.set(parameter.toString('base64'), parameter);
  }
  return { keyPolicies: [...keyPolicies.values()], chaincodePolicy };
}

/** The interest as the ProposalResponse carries it: one ChaincodeCall for our chaincode. */
function interestMessage(chaincodeName: string, interest: EndorsementInterest): peer.ChaincodeInterest {
  const call = new peer.ChaincodeCall();
  call.setName(chaincodeName);
  if (interest.keyPolicies.length > 0) {
    call.setKeyPoliciesList(interest.keyPolicies.map((p) => common.SignaturePolicyEnvelope.deserializeBinary(p)));
    call.setDisregardNamespacePolicy(!interest.chaincodePolicy);
  }
  const message = new peer.ChaincodeInterest();
  message.setChaincodesList([call]);
  return message;
}

export interface Endorser {
  readonly mspId: string;
  endorse(signed: peer.SignedProposal, options?: EndorseOptions): Promise<peer.ProposalResponse>;
  /** The same, with the read and write set beside the signed response (no need to decode it again). */
  endorseDetailed(signed: peer.SignedProposal, options?: EndorseOptions): Promise<DetailedEndorsement>;
}

// fabric-shim logs every transaction at debug level through winston, which formats the message even
// when the level is off; silencing the per-transaction loggers saves a good part of a transaction's CPU.
const require = createRequire(import.meta.url);
const shimLogger = require('fabric-shim/lib/logger.js') as { getLogger(name: string): { silent?: boolean } };
const contractLogger = require('fabric-contract-api/lib/logger.js') as { getLogger(name: string): { silent?: boolean } };
for (const name of ['lib/stub.js', 'lib/iterators.js', 'lib/chaincode.js', 'lib/handler.js']) shimLogger.getLogger(name).silent = true;
for (const name of ['./lib/jsontransactionserializer.js', './lib/contract.js']) contractLogger.getLogger(name).silent = true;
// `silent` still runs winston's stream machinery: ClientIdentity's two debug lines per transaction
// (lib/chaincode.js, a logger chaincode/shim-logging.ts does not wrap) cost ~10 µs that way (profiled).
// Its debug calls now return at once unless debug is enabled.
const identityLogger = shimLogger.getLogger('lib/chaincode.js') as { debug(...a: unknown[]): unknown; isDebugEnabled(): boolean };
const identityDebug = identityLogger.debug;
identityLogger.debug = function debugIfEnabled(this: typeof identityLogger, ...a: unknown[]) {
  return this.isDebugEnabled() ? identityDebug.apply(this, a) : this;
};

cacheShimCertificates();
cacheShimParameterValidators();

function responseMessage(r: { status: number; message: string; payload: Uint8Array }): peer.Response {
  const response = new peer.Response();
  response.setStatus(r.status);
  response.setMessage(r.message);
  response.setPayload(r.payload);
  return response;
}

export function createEndorser(options: Readonly<EndorserOptions>): Endorser {
  const { world, contract, channelId, chaincodeName, msps } = options;
  const endorserBytes = serializeIdentity(options.peer.mspId, options.peer.certificatePem);
  const sign = signerOf(options.peer);
  let keyMatches: boolean | undefined;

  async function endorse(signed: peer.SignedProposal, opts: EndorseOptions = {}): Promise<peer.ProposalResponse> {
    return (await endorseDetailed(signed, opts)).response;
  }

  async function endorseDetailed(signed: peer.SignedProposal, opts: EndorseOptions = {}): Promise<DetailedEndorsement> {
    const refuse = (status: number, message: string): DetailedEndorsement => ({ response: buildErrorResponse(status, message) });
    let decoded: DecodedProposal;
    try {
      decoded = opts.decoded ?? decodeProposal(signed);
    } catch (err) {
      return refuse(400, `malformed proposal: ${(err as Error).message}`);
    }
    if (decoded.type !== HEADER_TYPE_ENDORSER_TRANSACTION) return refuse(400, `invalid header type ${decoded.type}`);
    if (decoded.channelId !== channelId) return refuse(400, `channel '${decoded.channelId}' not found; this peer joins '${channelId}'`);
    if (decoded.chaincodeName !== chaincodeName) {
      return refuse(400, `chaincode '${decoded.chaincodeName}' is not installed; this channel runs '${chaincodeName}'`);
    }
    const creator = msps.check(decoded.creator.bytes);
    if (!creator.ok) return refuse(403, `access denied: ${creator.reason}`);
    if (!opts.signedHere && !(await msps.verify(creator.identity, signed.getProposalBytes_asU8(), signed.getSignature_asU8()))) {
      return refuse(403, 'access denied: the proposal signature does not verify against the creator certificate');
    }
    if (!opts.signedHere && computeTxId(decoded.nonce, decoded.creator.bytes) !== decoded.txId) {
      return refuse(400, `invalid txID: it is not SHA-256(nonce ‖ creator)`);
    }
    // A proposal built in this process carries a fresh 24-byte nonce from the CSPRNG, so its txId
    // cannot repeat one on the ledger; the committer still checks DUPLICATE_TXID for every transaction.
    if (!opts.signedHere && world.hasTransaction(decoded.txId)) return refuse(409, `duplicate transaction found [${decoded.txId}]; use a new transaction id`);

    const simulator = createTxSimulator({ world, txId: decoded.txId, channelId, namespace: chaincodeName });
    const stub = createChaincodeStub({ handler: simulator, channelId, txId: decoded.txId, args: decoded.args, signedProposal: signed, peerMspId: options.peer.mspId });
    const result = await runContractTransaction(contract, stub, options.contractMetadata ? { metadata: options.contractMetadata } : {});
    simulator.done();
    if (result.status >= 400) return refuse(result.status, result.message);
    const { readSet, writeSet } = simulator.results();
    const event = chaincodeEventOf(stub);
    const chaincodeResult = { status: result.status, message: result.message, payload: result.payload };
    const payload = encodeProposalResponsePayload({
      proposalHash: decoded.proposalHash,
      chaincodeName,
      txId: decoded.txId,
      response: chaincodeResult,
      results: encodeRwSet(chaincodeName, readSet, writeSet),
      ...(event ? { event } : {}),
    });
    const endorsement = new peer.Endorsement();
    endorsement.setEndorser(endorserBytes);
    const signature = await sign(Buffer.concat([payload, endorserBytes]));
    endorsement.setSignature(signature);
    if (opts.record && (keyMatches ??= keyMatchesCertificate(keyObjectOf(options.peer), options.peer.certificatePem))) {
      opts.record({ certificatePem: options.peer.certificatePem, parts: [payload, endorserBytes], signature });
    }
    const interest = interestOf(world, writeSet);
    const response = new peer.ProposalResponse();
    response.setVersion(1);
    response.setResponse(responseMessage(chaincodeResult));
    response.setPayload(payload);
    response.setEndorsement(endorsement);
    response.setInterest(interestMessage(chaincodeName, interest));
    return { response, rw: { readSet, writeSet }, interest };
  }

  return { mspId: options.peer.mspId, endorse, endorseDetailed };
}
