/**
 * The pieces of the embedded ledger's pipeline wired by hand, for tests of the committer: a store in
 * a temporary directory, the dev orgs, a committer (policy: either org) with block 0 committed, one
 * endorser per org running the DR contract, and client identities. `envelope` runs a client job and
 * keeps its decoded form for the committer (`preparedOf`) when the rig was made with `prepared`.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DrContract } from '../../chaincode/index.ts';
import { contractMetadata } from '../../chaincode/index.ts';
import { runClientJob, type ClientKey, type ClientOutcome, type PreparedTransaction } from '../embedded/client-transaction.ts';
import { createCommitter, type Committer } from '../embedded/committer.ts';
import { createEndorser } from '../embedded/endorser.ts';
import { createMsps } from '../embedded/msp.ts';
import { issueClientIdentity, loadOrCreateOrgs, type DevOrg } from '../embedded/orgs.ts';
import { parsePolicy } from '../embedded/policy.ts';
import type { SignatureMemo } from '../embedded/signature-memo.ts';
import { keyObjectOf } from '../embedded/signer.ts';
import { openStore, type LedgerStore } from '../embedded/store.ts';
import { tempDataDir } from './embedded.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

const CHANNEL = 'mychannel';
const CHAINCODE = 'oadr-dr';

export interface CommitterRig {
  readonly orgs: readonly DevOrg[];
  readonly store: LedgerStore;
  readonly committer: Committer;
  /** The decoded forms the committer is given (`preparedOf`), when the rig keeps them. */
  readonly prepared: WeakMap<Uint8Array, PreparedTransaction>;
  /** A client of Org1 with the attribute `ID`. */
  client(commonName: string, id: string): Promise<ClientKey>;
  /** Proposal, endorsement by Org1 and envelope for `fn(args)`; fails the test if refused. */
  submit(who: ClientKey, fn: string, args: string[]): Promise<ClientOutcome & { envelope: Uint8Array; prepared: PreparedTransaction }>;
}

export async function createCommitterRig(
  t: { after(fn: () => unknown): void },
  options: { readonly prepared?: boolean; readonly memo?: SignatureMemo } = {},
): Promise<CommitterRig> {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const orgs = await loadOrCreateOrgs(join(dir, 'certs'), { createCa: createTestCa });
  const org1 = orgs[0];
  assert.ok(org1);
  const store = openStore(dir);
  t.after(() => store.close());
  const msps = createMsps(orgs);
  const prepared = new WeakMap<Uint8Array, PreparedTransaction>();
  const committer = createCommitter({
    store,
    msps,
    channelId: CHANNEL,
    chaincodeName: CHAINCODE,
    policyFor: () => parsePolicy(`OR('Org1MSP.peer','Org2MSP.peer')`),
    ...(options.prepared ? { preparedOf: (e: Uint8Array) => prepared.get(e) } : {}),
    ...(options.memo ? { memo: options.memo } : {}),
  });
  await committer.commit([new Uint8Array(0)]); // block 0 (a BAD_PAYLOAD placeholder for the genesis block)
  const endorsers = new Map(orgs.map((o) => [o.mspId, createEndorser({ world: store.worldState, contract: new DrContract(), contractMetadata: contractMetadata(), channelId: CHANNEL, chaincodeName: CHAINCODE, peer: o.peer, msps })]));
  const context = { channelId: CHANNEL, chaincodeName: CHAINCODE, endorsers, ...(options.memo ? { record: options.memo.add } : {}) };
  return {
    orgs,
    store,
    committer,
    prepared,
    async client(commonName, id) {
      const i = await issueClientIdentity(org1, commonName, { ID: id });
      return { mspId: i.mspId, certificatePem: i.certificatePem, key: keyObjectOf(i) };
    },
    async submit(who, fn, args) {
      const outcome = await runClientJob(context, who, { kind: 'submit', fn, args, timestampMs: Date.now(), orgs: ['Org1MSP'] });
      assert.ok(outcome.ok && outcome.envelope && outcome.prepared, JSON.stringify(outcome));
      return outcome as ClientOutcome & { envelope: Uint8Array; prepared: PreparedTransaction };
    },
  };
}
