/**
 * Test helpers for the embedded ledger: a ledger in a fresh temporary data directory with a clock the
 * test moves, the reference-scenario identities (issued by the same CAs as the org peers), and the
 * low-level steps a Fabric client performs (proposal, endorsement, envelope) for tests that tamper with
 * one of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { peer } from '@hyperledger/fabric-protos';
import { createScenarioIdentities } from '../../chaincode/testing/reference-scenario.ts';
import { computeTxId, createSignedProposal, serializeIdentity } from '../fabric/fabric-proposal.ts';
import { timestampOf } from '../fabric/rwset.ts';
import { createEmbeddedLedger, type EmbeddedLedger, type EmbeddedLedgerOptions } from '../embedded/embedded-ledger.ts';
import { buildTransactionEnvelope, decodeProposal, type DecodedProposal } from '../fabric/fabric-messages.ts';
import type { LedgerIdentity } from '../ledger.ts';
import { loadOrCreateOrgs } from '../embedded/orgs.ts';
import { signerOf } from '../embedded/signer.ts';
import type { SuiteLedger } from './contract-suite.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

export interface TestEmbeddedLedger extends SuiteLedger {
  readonly ledger: EmbeddedLedger;
  readonly dataDir: string;
  setTime(time: Date): void;
  /** Closes the ledger and removes the data directory. */
  close(): Promise<void>;
}

export function tempDataDir(prefix = 'oadr-ledger-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function createTestEmbeddedLedger(options: Partial<EmbeddedLedgerOptions> = {}): Promise<TestEmbeddedLedger> {
  const dataDir = options.dataDir ?? tempDataDir();
  const orgs = options.orgs ?? (await loadOrCreateOrgs(join(dataDir, 'certs'), { createCa: createTestCa }));
  let now = new Date();
  const ledger = await createEmbeddedLedger({ clock: () => now, ...options, dataDir, orgs });
  const identities = await createScenarioIdentities();
  return {
    ledger,
    dataDir,
    identities,
    setTime: (time) => {
      now = time;
    },
    close: async () => {
      await ledger.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ClientProposal {
  readonly signed: peer.SignedProposal;
  readonly decoded: DecodedProposal;
  readonly txId: string;
  readonly sign: (data: Uint8Array) => Promise<Uint8Array>;
}

/** What a Fabric client does first: a signed proposal for `fn(args)`. */
export async function clientProposal(ledger: EmbeddedLedger, identity: LedgerIdentity, fn: string, args: readonly string[], timestamp = new Date()): Promise<ClientProposal> {
  const creator = serializeIdentity(identity.mspId, identity.certificatePem);
  const nonce = Buffer.from(Array.from({ length: 24 }, () => Math.floor(Math.random() * 256)));
  const txId = computeTxId(nonce, creator);
  const sign = signerOf(identity);
  const signed = await createSignedProposal({ channelId: ledger.channel, chaincodeName: ledger.chaincodeName, txId, args: [fn, ...args], creator, nonce, timestamp: timestampOf(timestamp), sign });
  return { signed, decoded: decodeProposal(signed), txId, sign };
}

/** The client's last step: the envelope from the endorsements, signed by the client. */
export async function clientEnvelope(proposal: ClientProposal, responses: readonly peer.ProposalResponse[]): Promise<Uint8Array> {
  return (await buildTransactionEnvelope(proposal.decoded, responses, proposal.sign)).serializeBinary();
}
