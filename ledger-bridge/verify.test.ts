import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { EVENT_DAY, METER_1, RETAILER_ID } from '../chaincode/reference-scenario.ts';
import { buildBlock, decodeBlock } from './block.ts';
import { STORE_FILE } from './store.ts';
import { createTestEmbeddedLedger, type TestEmbeddedLedger } from './testing/embedded.ts';
import { verifyLedger } from './verify.ts';

/** A closed ledger of 5 blocks on disk: genesis, two set-up transactions, two meters enrolled. */
async function ledgerOnDisk(): Promise<TestEmbeddedLedger> {
  const l = await createTestEmbeddedLedger();
  l.setTime(new Date(`${EVENT_DAY}T01:00:00Z`));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', ['smartmeter:555']);
  await l.ledger.close();
  return l;
}

/**
 * Rewrites block `n` as a forger would: a different previous hash, and its own block hash and commit
 * hash recomputed so that the block is consistent in itself (the data hash, block hash and commit
 * hash checks all pass for block `n`).
 */
function forgePreviousHash(dataDir: string, n: number): void {
  const db = new DatabaseSync(join(dataDir, STORE_FILE));
  try {
    const row = (num: number) => db.prepare('SELECT bytes, commit_hash FROM blocks WHERE num = ?').get(num) as { bytes: Uint8Array; commit_hash: Uint8Array };
    const block = decodeBlock(row(n).bytes);
    const forgedPrevious = Buffer.alloc(32, 0xab);
    const forged = buildBlock(n, forgedPrevious, row(n - 1).commit_hash, block.envelopes, block.validationCodes);
    db.prepare('UPDATE blocks SET bytes = ?, hash = ?, commit_hash = ? WHERE num = ?').run(forged.bytes, forged.hash, forged.commitHash, n);
  } finally {
    db.close();
  }
}

test('verify: a block whose previous hash was rewritten (own hashes recomputed) is reported by number', async (t) => {
  const l = await ledgerOnDisk();
  t.after(() => l.close());
  t.assert.deepEqual((await verifyLedger(l.dataDir)).problems, []);
  // The last block: no later block chains to it, so only the previous-hash check can see the change.
  const last = (await verifyLedger(l.dataDir)).blocks - 1;
  forgePreviousHash(l.dataDir, last);
  const report = await verifyLedger(l.dataDir);
  t.assert.equal(report.ok, false);
  t.assert.deepEqual(report.problems.map((p) => p.blockNumber), [last]);
  t.assert.match(report.problems[0]?.message ?? '', new RegExp(`^block ${last}: previous hash .* is not the hash of block ${last - 1}`));
});

test('verify: a rewritten previous hash in the middle of the chain is reported first at that block', async (t) => {
  const l = await ledgerOnDisk();
  t.after(() => l.close());
  forgePreviousHash(l.dataDir, 2);
  const report = await verifyLedger(l.dataDir);
  t.assert.equal(report.ok, false);
  // Block 3 no longer chains to block 2 either (its previous hash and commit hash); block 2 comes first.
  t.assert.equal(report.problems[0]?.blockNumber, 2, JSON.stringify(report.problems));
  t.assert.match(report.problems[0]?.message ?? '', /^block 2: previous hash .* is not the hash of block 1/);
});
