/**
 * One organisation's endorsing peer: checks a SignedProposal as a Fabric 2.5 peer does (channel,
 * chaincode, creator identity and signature, transaction id = SHA-256(nonce ‖ creator), not already on
 * the ledger), simulates it against the committed state with chaincode/testing's peer emulation
 * (fabric-shim's own stub and contract dispatcher over `createTxSimulator`), and answers a
 * ProposalResponse whose payload (read-write set, event, response) it signed with its peer identity.
 * A chaincode error (status ≥ 400) answers that status and message, unsigned, as a peer does.
 */
import type { Contract } from 'fabric-contract-api';
import type { peer } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';
import {
  chaincodeEventOf,
  computeTxId,
  createChaincodeStub,
  createTxSimulator,
  runContractTransaction,
  serializeIdentity,
  type WorldState,
} from '../chaincode/testing/index.ts';
import {
  buildErrorResponse,
  buildProposalResponse,
  decodeProposal,
  encodeTxRwSet,
  HEADER_TYPE_ENDORSER_TRANSACTION,
  type DecodedProposal,
} from './fabric-messages.ts';
import type { LedgerIdentity } from './ledger.ts';
import type { Msps } from './msp.ts';
import { signerOf } from './signer.ts';

export interface EndorserOptions {
  readonly world: WorldState;
  readonly contract: Contract;
  readonly contractMetadata?: object;
  readonly channelId: string;
  readonly chaincodeName: string;
  readonly peer: LedgerIdentity;
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
}

export interface Endorser {
  readonly mspId: string;
  endorse(signed: peer.SignedProposal, options?: EndorseOptions): Promise<peer.ProposalResponse>;
}

// fabric-shim logs every transaction at debug level through winston, which formats the message even
// when the level is off; silencing the per-transaction loggers saves a good part of a transaction's CPU.
const require = createRequire(import.meta.url);
const shimLogger = require('fabric-shim/lib/logger.js') as { getLogger(name: string): { silent?: boolean } };
const contractLogger = require('fabric-contract-api/lib/logger.js') as { getLogger(name: string): { silent?: boolean } };
for (const name of ['lib/stub.js', 'lib/iterators.js', 'lib/chaincode.js', 'lib/handler.js']) shimLogger.getLogger(name).silent = true;
for (const name of ['./lib/jsontransactionserializer.js', './lib/contract.js']) contractLogger.getLogger(name).silent = true;

export function createEndorser(options: Readonly<EndorserOptions>): Endorser {
  const { world, contract, channelId, chaincodeName, msps } = options;
  const endorserBytes = serializeIdentity(options.peer.mspId, options.peer.certificatePem);
  const sign = signerOf(options.peer);

  async function endorse(signed: peer.SignedProposal, opts: EndorseOptions = {}): Promise<peer.ProposalResponse> {
    let decoded: DecodedProposal;
    try {
      decoded = opts.decoded ?? decodeProposal(signed);
    } catch (err) {
      return buildErrorResponse(400, `malformed proposal: ${(err as Error).message}`);
    }
    if (decoded.type !== HEADER_TYPE_ENDORSER_TRANSACTION) return buildErrorResponse(400, `invalid header type ${decoded.type}`);
    if (decoded.channelId !== channelId) return buildErrorResponse(400, `channel '${decoded.channelId}' not found; this peer joins '${channelId}'`);
    if (decoded.chaincodeName !== chaincodeName) {
      return buildErrorResponse(400, `chaincode '${decoded.chaincodeName}' is not installed; this channel runs '${chaincodeName}'`);
    }
    const creator = msps.check(decoded.creator.bytes);
    if (!creator.ok) return buildErrorResponse(403, `access denied: ${creator.reason}`);
    if (!opts.signedHere && !(await msps.verify(creator.identity, signed.getProposalBytes_asU8(), signed.getSignature_asU8()))) {
      return buildErrorResponse(403, 'access denied: the proposal signature does not verify against the creator certificate');
    }
    if (computeTxId(decoded.nonce, decoded.creator.bytes) !== decoded.txId) {
      return buildErrorResponse(400, `invalid txID: it is not SHA-256(nonce ‖ creator)`);
    }
    if (world.hasTransaction(decoded.txId)) return buildErrorResponse(409, `duplicate transaction found [${decoded.txId}]; use a new transaction id`);

    const simulator = createTxSimulator({ world, txId: decoded.txId, channelId, namespace: chaincodeName });
    const stub = createChaincodeStub({ handler: simulator, channelId, txId: decoded.txId, args: decoded.args, signedProposal: signed, peerMspId: options.peer.mspId });
    const response = await runContractTransaction(contract, stub, options.contractMetadata ? { metadata: options.contractMetadata } : {});
    simulator.done();
    if (response.status >= 400) return buildErrorResponse(response.status, response.message);
    const { readSet, writeSet } = simulator.results();
    const event = chaincodeEventOf(stub);
    return buildProposalResponse({
      proposalHash: decoded.proposalHash,
      chaincodeName,
      txId: decoded.txId,
      response: { status: response.status, message: response.message, payload: response.payload },
      results: encodeTxRwSet(chaincodeName, readSet, writeSet),
      ...(event ? { event } : {}),
      endorser: endorserBytes,
      sign,
    });
  }

  return { mspId: options.peer.mspId, endorse };
}
