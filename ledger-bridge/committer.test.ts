/**
 * The committer's group commit: consecutive blocks in one store transaction, each validated against the
 * state the blocks before it left (MVCC, duplicates across blocks), through both ways a transaction
 * reaches the committer (decoded from its bytes, or with the decoded form this process kept).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DrContract } from '../chaincode/index.ts';
import { decodeBlock } from './block.ts';
import { contractMetadata } from '../chaincode/metadata.ts';
import { runClientJob, type ClientKey, type PreparedTransaction } from './client-transaction.ts';
import { createCommitter } from './committer.ts';
import { createEndorser } from './endorser.ts';
import { ValidationCode } from './ledger.ts';
import { createMsps } from './msp.ts';
import { issueClientIdentity, loadOrCreateOrgs } from './orgs.ts';
import { parsePolicy } from './policy.ts';
import { keyObjectOf } from './signer.ts';
import { openStore } from './store.ts';
import { tempDataDir } from './testing/embedded.ts';

for (const path of ['decoded from the envelope bytes', 'with the decoded form kept beside the bytes'] as const) {
  test(`group commit (${path}): block n+1 sees block n — MVCC_READ_CONFLICT (11) and DUPLICATE_TXID (9) across blocks`, async (t) => {
    const dir = tempDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const orgs = await loadOrCreateOrgs(join(dir, 'certs'));
    const org1 = orgs[0];
    assert.ok(org1);
    const store = openStore(dir);
    t.after(() => store.close());
    const msps = createMsps(orgs);
    const prepared = new WeakMap<Uint8Array, PreparedTransaction>();
    const committer = createCommitter({
      store,
      msps,
      channelId: 'mychannel',
      chaincodeName: 'oadr-dr',
      policyFor: () => parsePolicy(`OR('Org1MSP.peer','Org2MSP.peer')`),
      ...(path === 'with the decoded form kept beside the bytes' ? { preparedOf: (e: Uint8Array) => prepared.get(e) } : {}),
    });
    await committer.commit([new Uint8Array(0)]); // block 0 (a BAD_PAYLOAD placeholder for the genesis block)
    const endorsers = new Map(orgs.map((o) => [o.mspId, createEndorser({ world: store.worldState, contract: new DrContract(), contractMetadata: contractMetadata(), channelId: 'mychannel', chaincodeName: 'oadr-dr', peer: o.peer, msps })]));
    const context = { channelId: 'mychannel', chaincodeName: 'oadr-dr', endorsers };
    const client = async (cn: string, id: string): Promise<ClientKey> => {
      const i = await issueClientIdentity(org1, cn, { ID: id });
      return { mspId: i.mspId, certificatePem: i.certificatePem, key: keyObjectOf(i) };
    };
    const operator = await client('dso', 'operator:dso');
    const retailer = await client('retailer', 'utility:1234');
    const envelope = async (who: ClientKey, fn: string, args: string[]) => {
      const outcome = await runClientJob(context, who, { kind: 'submit', fn, args, timestampMs: Date.now(), orgs: ['Org1MSP'] });
      assert.ok(outcome.ok && outcome.envelope && outcome.prepared, JSON.stringify(outcome));
      prepared.set(outcome.envelope, outcome.prepared);
      return { bytes: outcome.envelope, txId: outcome.txId };
    };

    const enable = await envelope(operator, 'enableRetailer', ['utility:1234']);
    const [b1] = await committer.commitBlocks([[enable.bytes]]);
    assert.deepEqual(b1?.txs.map((x) => x.code), [ValidationCode.VALID]);
    const enrol = await envelope(retailer, 'enrolMeter', ['smartmeter:1']);
    await committer.commit([enrol.bytes]);

    // Two writes of the same day's energy, both simulated against the same committed state.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const values = (v: number) => JSON.stringify(Array.from({ length: 96 }, () => v));
    const first = await envelope(retailer, 'recordEnergy', ['smartmeter:1', yesterday, values(100)]);
    const second = await envelope(retailer, 'recordEnergy', ['smartmeter:1', yesterday, values(200)]);
    const blocks = await committer.commitBlocks([[first.bytes], [second.bytes, first.bytes]]);
    assert.deepEqual(
      blocks.map((b) => [b.number, b.txs.map((x) => x.code)]),
      [
        [3, [ValidationCode.VALID]],
        [4, [ValidationCode.MVCC_READ_CONFLICT, ValidationCode.DUPLICATE_TXID]],
      ],
    );
    assert.equal(committer.height, 5);
    assert.equal(store.height(), 5);
    assert.deepEqual(store.transaction(first.txId), { blockNumber: 3, txIndex: 0, validationCode: ValidationCode.VALID });
    assert.deepEqual(store.transaction(second.txId), { blockNumber: 4, txIndex: 0, validationCode: ValidationCode.MVCC_READ_CONFLICT });
    // The chain runs through the group: block 4's previous hash is block 3's hash.
    assert.deepEqual(decodeBlock(store.block(4)?.bytes ?? new Uint8Array(0)).previousHash, store.block(3)?.hash);
    assert.deepEqual(decodeBlock(store.block(3)?.bytes ?? new Uint8Array(0)).previousHash, store.block(2)?.hash);
  });
}
