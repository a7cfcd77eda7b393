/**
 * The committer's group commit: consecutive blocks in one store transaction, each validated against the
 * state the blocks before it left (MVCC, duplicates across blocks), through both ways a transaction
 * reaches the committer (decoded from its bytes, or with the decoded form this process kept).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBlock } from './block.ts';
import { ValidationCode } from '../ledger.ts';
import { createCommitterRig } from '../testing/committer-rig.ts';

for (const path of ['decoded from the envelope bytes', 'with the decoded form kept beside the bytes'] as const) {
  test(`group commit (${path}): block n+1 sees block n — MVCC_READ_CONFLICT (11) and DUPLICATE_TXID (9) across blocks`, async (t) => {
    const keepDecoded = path === 'with the decoded form kept beside the bytes';
    const { store, committer, prepared, client, submit } = await createCommitterRig(t, { prepared: keepDecoded });
    const operator = await client('dso', 'operator:dso');
    const retailer = await client('retailer', 'utility:1234');
    const envelope = async (who: Parameters<typeof submit>[0], fn: string, args: string[]) => {
      const outcome = await submit(who, fn, args);
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
