/**
 * `verifyLedger` against a data directory tampered with in every way it checks: each test changes
 * one thing in a copy of the same small ledger, directly in its SQLite store, and expects the
 * problem reported with the number of the block it concerns.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test, type TestContext } from 'node:test';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { EVENT_DAY, METER_1, profile, RETAILER_ID } from '../../chaincode/testing/reference-scenario.ts';
import { buildBlock, decodeBlock } from './block.ts';
import { encodeMetadata, STORE_FILE } from './store.ts';
import { createTestEmbeddedLedger, tempDataDir, type TestEmbeddedLedger } from '../testing/embedded.ts';
import { OPEN_FILES_SKIP, openFiles } from '../../test/support/open-files.ts';
import { LedgerError } from '../errors.ts';
import { ValidationCode } from '../ledger.ts';
import { listBlocks, verifyLedger, verifyLedgerInWorker, type VerifyReport } from './verify.ts';

// Blocks: 0 genesis, 1 enableRetailer, 2 enrolMeter, 3 recordEnergy, 4 enrolMeter.
const LAST = 4;
const ENERGY_BLOCK = 3;
let original: TestEmbeddedLedger;

before(async () => {
  original = await createTestEmbeddedLedger();
  original.setTime(new Date(`${EVENT_DAY}T01:00:00Z`));
  await original.ledger.submit(original.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await original.ledger.submit(original.identities.retailer, 'enrolMeter', [METER_1]);
  await original.ledger.submit(original.identities.retailer, 'recordEnergy', [METER_1, '2025-06-10', JSON.stringify(profile(1, 1))]);
  await original.ledger.submit(original.identities.retailer, 'enrolMeter', ['smartmeter:555']);
  await original.ledger.close();
});
after(() => original.close());

/** A copy of the ledger's data directory, removed after the test, with `tamper` applied to its store. */
function tampered(t: TestContext, tamper: (db: DatabaseSync) => void): string {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  cpSync(original.dataDir, dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, STORE_FILE));
  try {
    tamper(db);
  } finally {
    db.close();
  }
  return dataDir;
}

const blockRow = (db: DatabaseSync, n: number) =>
  db.prepare('SELECT bytes, hash, commit_hash FROM blocks WHERE num = ?').get(n) as { bytes: Uint8Array; hash: Uint8Array; commit_hash: Uint8Array };

/**
 * Rewrites block `n` as a forger would: `change` alters its parts, and its own block hash and commit
 * hash are recomputed so that the block is consistent in itself.
 */
function forge(db: DatabaseSync, n: number, change: (parts: { number: number; previousHash: Uint8Array; envelopes: Uint8Array[]; codes: number[] }) => void): void {
  const block = decodeBlock(blockRow(db, n).bytes);
  const parts = { number: block.number, previousHash: block.previousHash, envelopes: [...block.envelopes], codes: [...block.validationCodes] };
  change(parts);
  const previousCommitHash = n === 0 ? new Uint8Array(0) : blockRow(db, n - 1).commit_hash;
  const forged = buildBlock(parts.number, parts.previousHash, previousCommitHash, parts.envelopes, parts.codes);
  db.prepare('UPDATE blocks SET bytes = ?, hash = ?, commit_hash = ? WHERE num = ?').run(forged.bytes, forged.hash, forged.commitHash, n);
}

/**
 * An envelope with its transaction rewritten: `change` alters the decoded chaincode action payload
 * (endorsements) and the chaincode action (read-write set); the envelope's signature is left as it was.
 */
function rewriteTransaction(envelopeBytes: Uint8Array, change: (cap: peer.ChaincodeActionPayload, action: peer.ChaincodeAction) => void): Uint8Array {
  const envelope = common.Envelope.deserializeBinary(envelopeBytes);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const txAction = transaction.getActionsList()[0] as peer.TransactionAction;
  const cap = peer.ChaincodeActionPayload.deserializeBinary(txAction.getPayload_asU8());
  const endorsed = cap.getAction() as peer.ChaincodeEndorsedAction;
  const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
  const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  change(cap, action);
  prp.setExtension$(action.serializeBinary());
  endorsed.setProposalResponsePayload(prp.serializeBinary());
  txAction.setPayload(cap.serializeBinary());
  payload.setData(transaction.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}

/** The block numbers of the problems, and the first problem's message. */
function summary(report: VerifyReport): { ok: boolean; blocks: number[]; first: string } {
  return { ok: report.ok, blocks: report.problems.map((p) => p.blockNumber), first: report.problems[0]?.message ?? '' };
}

test('verify: the untouched ledger is ok, with its counts', async (t: TestContext) => {
  const report = await verifyLedger(tampered(t, () => {}));
  t.assert.deepEqual(report, { ok: true, blocks: LAST + 1, transactions: LAST + 1, validTransactions: LAST + 1, stateKeys: report.stateKeys, problems: [] });
  t.assert.ok(report.stateKeys >= 3, `${report.stateKeys} state keys`);
});

test('verify: a block whose previous hash was rewritten (own hashes recomputed) is reported by number', async (t) => {
  // The last block: no later block chains to it, so only the previous-hash check can see the change.
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => { b.previousHash = Buffer.alloc(32, 0xab); }));
  const s = summary(await verifyLedger(dataDir));
  t.assert.deepEqual([s.ok, s.blocks], [false, [LAST]]);
  t.assert.match(s.first, new RegExp(`^block ${LAST}: previous hash .* is not the hash of block ${LAST - 1}`));
});

test('verify in a worker thread: the same report, a tampered ledger too; a directory without a ledger is UNAVAILABLE', async (t) => {
  t.assert.deepEqual(await verifyLedgerInWorker(tampered(t, () => {})), await verifyLedger(tampered(t, () => {})));
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => { b.previousHash = Buffer.alloc(32, 0xab); }));
  t.assert.deepEqual(await verifyLedgerInWorker(dataDir), await verifyLedger(dataDir));
  const empty = tempDataDir();
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  await t.assert.rejects(verifyLedgerInWorker(join(empty, 'nothing-here')), (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE' && /could not be verified/.test(err.message));
});

test('verify: a rewritten previous hash in the middle of the chain is reported first at that block', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, 2, (b) => { b.previousHash = Buffer.alloc(32, 0xab); }));
  // Block 3 no longer chains to block 2 either (its previous hash and commit hash); block 2 comes first.
  const s = summary(await verifyLedger(dataDir));
  t.assert.equal(s.blocks[0], 2);
  t.assert.match(s.first, /^block 2: previous hash .* is not the hash of block 1/);
});

test('verify: a stored block hash that is not the hash of the header', async (t) => {
  const dataDir = tampered(t, (db) => db.prepare('UPDATE blocks SET hash = ? WHERE num = ?').run(Buffer.alloc(32, 1), LAST));
  const s = summary(await verifyLedger(dataDir));
  t.assert.deepEqual(s.blocks, [LAST]);
  t.assert.match(s.first, new RegExp(`^block ${LAST}: stored hash`));
});

test('verify: a block that says it has another number', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => { b.number = LAST + 1; }));
  const s = summary(await verifyLedger(dataDir));
  t.assert.deepEqual(s.blocks, [LAST]);
  t.assert.match(s.first, new RegExp(`^block ${LAST} says it is block ${LAST + 1}`));
});

test('verify: a block with one validation code fewer than transactions', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => { b.codes = []; }));
  const report = await verifyLedger(dataDir);
  t.assert.equal(report.problems[0]?.blockNumber, LAST);
  t.assert.match(report.problems[0]?.message ?? '', new RegExp(`^block ${LAST}: 0 validation codes for 1 transactions`));
  t.assert.equal(report.validTransactions, LAST, 'a transaction without a code is not counted valid');
});

test('verify: a block missing from the log, and one that does not decode', async (t) => {
  const missing = summary(await verifyLedger(tampered(t, (db) => db.prepare('DELETE FROM blocks WHERE num = ?').run(2))));
  t.assert.equal(missing.blocks[0], 2);
  t.assert.equal(missing.first, 'block 2 is missing from the block log');
  const garbage = summary(await verifyLedger(tampered(t, (db) => db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(Buffer.from([0xff, 0xff, 0xff]), 2))));
  t.assert.equal(garbage.blocks[0], 2);
  t.assert.match(garbage.first, /^block 2 does not decode: /);
});

test('verify: a consistently rewritten transaction is caught by its creator signature, unless signatures are not checked', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => {
    const envelope = common.Envelope.deserializeBinary(b.envelopes[0] as Uint8Array);
    const signature = Buffer.from(envelope.getSignature_asU8());
    signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 1;
    envelope.setSignature(signature);
    b.envelopes[0] = envelope.serializeBinary();
  }));
  const s = summary(await verifyLedger(dataDir));
  t.assert.deepEqual(s.blocks, [LAST]);
  t.assert.match(s.first, new RegExp(`^block ${LAST} transaction [0-9a-f]+: the creator signature does not verify`));
  t.assert.deepEqual((await verifyLedger(dataDir, { signatures: false })).problems, []);
});

test('verify: state rows missing, added, of another version or with other metadata', async (t) => {
  const energyKey = (db: DatabaseSync) => (db.prepare('SELECT key FROM state WHERE block = ?').get(ENERGY_BLOCK) as { key: Uint8Array }).key;
  const cases: [string, (db: DatabaseSync) => void, number, RegExp][] = [
    ['deleted', (db) => db.prepare('DELETE FROM state WHERE key = ?').run(energyKey(db)), ENERGY_BLOCK, /is missing from the state store/],
    ['added', (db) => db.prepare('INSERT INTO state(key, value, block, tx, metadata) VALUES(?, ?, ?, ?, NULL)').run(Buffer.from('\u0000zz\u0000'), Buffer.from('{}'), 2, 0), 2, /is in the state store but no valid transaction wrote it \(claims block 2\)/],
    ['added last', (db) => db.prepare('INSERT INTO state(key, value, block, tx, metadata) VALUES(?, ?, ?, ?, NULL)').run(Buffer.from('\u00ff'), Buffer.from('{}'), 1, 0), 1, /no valid transaction wrote it/],
    ['version', (db) => db.prepare('UPDATE state SET tx = 7 WHERE key = ?').run(energyKey(db)), ENERGY_BLOCK, new RegExp(`state version of .* is block ${ENERGY_BLOCK} tx 7, the chain says block ${ENERGY_BLOCK} tx 0`)],
    ['metadata', (db) => db.prepare('UPDATE state SET metadata = ? WHERE key = ?').run(Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0x56, 0x57]), energyKey(db)), ENERGY_BLOCK, /key metadata of .* differs/],
  ];
  for (const [name, tamper, block, message] of cases) {
    const s = summary(await verifyLedger(tampered(t, tamper)));
    t.assert.deepEqual(s.blocks, [block], name);
    t.assert.match(s.first, message, name);
  }
});

test('verify: the last state key of the chain missing from the store', async (t) => {
  const s = summary(await verifyLedger(tampered(t, (db) => {
    const last = db.prepare('SELECT key, block FROM state ORDER BY key DESC LIMIT 1').get() as { key: Uint8Array; block: number };
    db.prepare('DELETE FROM state WHERE key = ?').run(last.key);
  })));
  t.assert.equal(s.blocks.length, 1);
  t.assert.match(s.first, /is missing from the state store/);
});

test('verify: key history and transaction index rows that differ from the chain', async (t) => {
  const cases: [string, (db: DatabaseSync) => void, RegExp][] = [
    ['history value', (db) => db.prepare('UPDATE history SET value = ? WHERE block = ?').run(Buffer.from('{}'), ENERGY_BLOCK), /^history of .* entry 0 \(block 3\) differs from the chain/],
    ['history txid', (db) => db.prepare('UPDATE history SET txid = ? WHERE block = ?').run('f'.repeat(64), ENERGY_BLOCK), /^history of .* differs from the chain/],
    ['history delete flag', (db) => db.prepare('UPDATE history SET is_delete = 1 WHERE block = ?').run(ENERGY_BLOCK), /^history of .* differs from the chain/],
    ['history tx', (db) => db.prepare('UPDATE history SET tx = 5 WHERE block = ?').run(ENERGY_BLOCK), /^history of .* differs from the chain/],
    ['index code', (db) => db.prepare('UPDATE txs SET code = 11 WHERE num = ?').run(ENERGY_BLOCK), /^transaction index entry [0-9a-f]+ \(block 3\) differs from the chain/],
    ['index position', (db) => db.prepare('UPDATE txs SET idx = 1 WHERE num = ?').run(ENERGY_BLOCK), /^transaction index entry .* differs from the chain/],
    ['index missing', (db) => db.prepare('DELETE FROM txs WHERE num = ?').run(ENERGY_BLOCK), /^transaction [0-9a-f]+ of block 3 is missing from the transaction index/],
  ];
  for (const [name, tamper, message] of cases) {
    const s = summary(await verifyLedger(tampered(t, tamper)));
    t.assert.deepEqual(s.blocks, [ENERGY_BLOCK], name);
    t.assert.match(s.first, message, name);
  }
  const moved = summary(await verifyLedger(tampered(t, (db) => db.prepare('UPDATE txs SET num = 2 WHERE num = ?').run(ENERGY_BLOCK))));
  t.assert.deepEqual(moved.blocks, [2], 'reported at the block the index entry names');
});

test('verify: problems come sorted by block, at most maxProblems of them', async (t: TestContext) => {
  // A chain problem in the last block is found before a state problem of an earlier one.
  const dataDir = tampered(t, (db) => {
    db.prepare('UPDATE blocks SET hash = ? WHERE num = ?').run(Buffer.alloc(32, 1), LAST);
    db.prepare('UPDATE state SET value = ? WHERE block = ?').run(Buffer.from('{}'), ENERGY_BLOCK);
  });
  t.assert.deepEqual(summary(await verifyLedger(dataDir)).blocks, [ENERGY_BLOCK, LAST]);
  const many = tampered(t, (db) => db.prepare('UPDATE state SET value = ?').run(Buffer.from('{}')));
  t.assert.ok((await verifyLedger(many)).problems.length >= 3);
  t.assert.equal((await verifyLedger(many, { maxProblems: 2 })).problems.length, 2);
});

test('verify: envelopes changed under an unchanged header (data hash), and a changed validation code (commit hash)', async (t) => {
  const envelopes = summary(await verifyLedger(tampered(t, (db) => {
    const block = common.Block.deserializeBinary(blockRow(db, LAST).bytes);
    block.getData()?.setDataList([Buffer.from('not the transaction')]);
    db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(block.serializeBinary(), LAST);
  })));
  t.assert.equal(envelopes.blocks[0], LAST);
  t.assert.match(envelopes.first, new RegExp(`^block ${LAST}: data hash .* does not match its transactions`));
  for (const where of ['block', 'store'] as const) {
    const codes = summary(await verifyLedger(tampered(t, (db) => {
      if (where === 'store') {
        db.prepare('UPDATE blocks SET commit_hash = ? WHERE num = ?').run(Buffer.alloc(32, 7), LAST);
        return;
      }
      const block = common.Block.deserializeBinary(blockRow(db, LAST).bytes);
      const metadata = block.getMetadata()?.getMetadataList_asU8() ?? [];
      metadata[2] = Uint8Array.from([11]); // MVCC_READ_CONFLICT instead of VALID
      block.getMetadata()?.setMetadataList(metadata);
      db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(block.serializeBinary(), LAST);
    })));
    t.assert.equal(codes.blocks[0], LAST, where);
    t.assert.match(codes.first, /commit hash does not match its validation codes/, where);
  }
});

test('verify: a consistently rewritten endorsement signature is reported with the endorsing MSP', async (t: TestContext) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => {
    b.envelopes[0] = rewriteTransaction(b.envelopes[0] as Uint8Array, (cap) => {
      const endorsement = cap.getAction()?.getEndorsementsList()[0];
      const signature = Buffer.from(endorsement?.getSignature_asU8() ?? []);
      signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 1;
      endorsement?.setSignature(signature);
    });
  }));
  const messages = (await verifyLedger(dataDir)).problems.map((p) => p.message);
  t.assert.ok(messages.some((m) => /transaction [0-9a-f]+: the endorsement of Org[12]MSP does not verify/.test(m)), messages.join('\n'));
});

test('verify: a key written twice has two history entries, each checked', async (t) => {
  // The meter key is written by enrolMeter (block 2) and read-modified by nothing else; the retailer
  // key by enableRetailer only. Give one key a second, forged entry: it is reported as entry 1.
  const s = summary(await verifyLedger(tampered(t, (db) => {
    const row = db.prepare('SELECT * FROM history WHERE block = ?').get(2) as Record<string, unknown>;
    db.prepare('INSERT INTO history(key, block, tx, txid, seconds, nanos, is_delete, value) VALUES(?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row['key'] as Uint8Array, 3, 0, row['txid'] as string, row['seconds'] as number, row['nanos'] as number, 0, row['value'] as Uint8Array);
  })));
  t.assert.deepEqual(s.blocks, [3]);
  t.assert.match(s.first, /^history of .* entry 1 \(block 3\) differs from the chain/);
});

test('listBlocks: a window of the chain; a directory without a ledger is UNAVAILABLE and stays without one', async (t) => {
  const blocks = listBlocks(original.dataDir, { from: 1, limit: 2 });
  t.assert.deepEqual(blocks.map((b) => [b.number, b.transactions.length]), [[1, 1], [2, 1]]);
  t.assert.equal(blocks[1]?.previousHash, blocks[0]?.hash);
  t.assert.equal(listBlocks(original.dataDir).length, LAST + 1);
  const empty = tempDataDir();
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  t.assert.throws(() => listBlocks(empty), (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE');
  await t.assert.rejects(verifyLedger(empty));
  t.assert.throws(() => listBlocks(empty), (err: unknown) => err instanceof LedgerError, 'verify created no store');
});

test('verify: a configuration transaction after the genesis block is reported at its block', async (t) => {
  const dataDir = tampered(t, (db) => {
    const genesis = decodeBlock(blockRow(db, 0).bytes).envelopes[0] as Uint8Array;
    forge(db, LAST, (b) => { b.envelopes = [genesis]; });
  });
  // The genesis transaction again: a replay of its id, and a configuration after the genesis block.
  const report = await verifyLedger(dataDir);
  const messages = report.problems.filter((p) => p.blockNumber === LAST).map((p) => p.message);
  t.assert.match(messages[0] ?? '', new RegExp(`^block ${LAST} transaction 0: transaction [0-9a-f]+ of block 0 committed again as VALID`));
  t.assert.match(messages[1] ?? '', new RegExp(`^block ${LAST} transaction 0: a configuration transaction after the genesis block`));
});

test('verify: a genesis configuration that does not parse is reported at block 0, and no later signature can be checked', async (t: TestContext) => {
  const dataDir = tampered(t, (db) => forge(db, 0, (b) => {
    const envelope = common.Envelope.deserializeBinary(b.envelopes[0] as Uint8Array);
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    payload.setData(Buffer.from('{"orgs": not json'));
    envelope.setPayload(payload.serializeBinary());
    b.envelopes[0] = envelope.serializeBinary();
  }));
  const report = await verifyLedger(dataDir);
  t.assert.equal(report.problems[0]?.blockNumber, 0);
  t.assert.match(report.problems[0]?.message ?? '', /^block 0: the genesis configuration does not parse: /);
  t.assert.ok(report.problems.some((p) => p.blockNumber === 1 && /^block 1: transaction [0-9a-f]+ before any channel configuration/.test(p.message)), report.problems.map((p) => p.message).join('\n'));
});

test('verify: a transaction marked VALID that does not decode is reported; one marked invalid is only counted', async (t: TestContext) => {
  const empty = new common.Envelope().serializeBinary(); // a payload without header
  const valid = summary(await verifyLedger(tampered(t, (db) => forge(db, LAST, (b) => { b.envelopes = [empty]; }))));
  t.assert.equal(valid.blocks[0], LAST);
  t.assert.match(valid.first, new RegExp(`^block ${LAST} transaction 0 is marked VALID but does not decode: `));
  const invalidDir = tampered(t, (db) => forge(db, LAST, (b) => { b.envelopes = [empty]; b.codes = [ValidationCode.MVCC_READ_CONFLICT]; }));
  const invalid = await verifyLedger(invalidDir);
  t.assert.deepEqual([invalid.transactions, invalid.validTransactions], [LAST + 1, LAST]);
  t.assert.ok(!invalid.problems.some((p) => /does not decode/.test(p.message)), 'an invalid transaction need not decode');
});

test('verify: a VALID transaction whose read-write set does not decode is reported at its block', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => {
    b.envelopes[0] = rewriteTransaction(b.envelopes[0] as Uint8Array, (_cap, action) => action.setResults(Uint8Array.from([0xff, 0xff, 0xff])));
  }));
  // The signatures no longer verify either; without their check, the read-write set is what is left.
  const s = summary(await verifyLedger(dataDir, { signatures: false }));
  t.assert.equal(s.blocks[0], LAST);
  t.assert.match(s.first, new RegExp(`^block ${LAST} transaction [0-9a-f]+: read-write set does not decode: `));
});

test('verify: a transaction committed again and marked DUPLICATE_TXID is counted, not replayed nor indexed again', async (t) => {
  const dataDir = tampered(t, (db) => {
    const energyTx = decodeBlock(blockRow(db, ENERGY_BLOCK).bytes).envelopes[0] as Uint8Array;
    forge(db, LAST, (b) => { b.envelopes.push(energyTx); b.codes.push(ValidationCode.DUPLICATE_TXID); });
  });
  const report = await verifyLedger(dataDir);
  t.assert.deepEqual([report.ok, report.problems], [true, []]);
  t.assert.deepEqual([report.transactions, report.validTransactions], [LAST + 2, LAST + 1]);
});

test('verify: a history entry moved to another block is reported at the block it names', async (t) => {
  const s = summary(await verifyLedger(tampered(t, (db) => db.prepare('UPDATE history SET block = ? WHERE block = ?').run(2, ENERGY_BLOCK))));
  t.assert.deepEqual(s.blocks, [2]);
  t.assert.match(s.first, /^history of .* entry 0 \(block 2\) differs from the chain/);
});

test('verify: messages name the hashes they compare (their first 16 hex digits)', async (t) => {
  const dataDir = tampered(t, (db) => forge(db, LAST, (b) => { b.previousHash = Buffer.alloc(32, 0xab); }));
  const real = Buffer.from(listBlocks(original.dataDir, { from: LAST - 1, limit: 1 })[0]?.hash ?? '', 'hex');
  t.assert.equal(real.length, 32);
  const s = summary(await verifyLedger(dataDir));
  t.assert.equal(s.first, `block ${LAST}: previous hash ${'ab'.repeat(8)}… is not the hash of block ${LAST - 1} (${real.subarray(0, 8).toString('hex')}…)`);
});

/** A copy of the ledger whose block 2 does not decode. */
const garbageBlock = (t: TestContext): string => tampered(t, (db) => db.prepare('UPDATE blocks SET bytes = ? WHERE num = ?').run(Buffer.from([0xff, 0xff, 0xff]), 2));

test('listBlocks: a block that does not decode is UNAVAILABLE, with the decoding error as its cause', (t) => {
  const dataDir = garbageBlock(t);
  t.assert.throws(() => listBlocks(dataDir), (err: unknown) => err instanceof LedgerError && err.code === 'UNAVAILABLE' && err.cause instanceof Error);
  t.assert.equal(listBlocks(dataDir, { limit: 2 }).length, 2, 'the blocks before it are listed');
});

test('verify and listBlocks: the store is closed after each call, whatever the outcome', { skip: OPEN_FILES_SKIP }, async (t) => {
  const broken = garbageBlock(t);
  const stores = [join(original.dataDir, STORE_FILE), join(broken, STORE_FILE)];
  const before = openFiles(...stores);
  for (let i = 0; i < 3; i++) {
    await verifyLedger(original.dataDir);
    await verifyLedger(broken);
    listBlocks(original.dataDir);
    t.assert.throws(() => listBlocks(broken), LedgerError);
  }
  t.assert.equal(openFiles(...stores), before);
});

test('verify: a transaction committed again as VALID (a replay) is reported at its block; one marked invalid is not a replay', async (t) => {
  const replay = (code: number) => tampered(t, (db) => {
    const energyTx = decodeBlock(blockRow(db, ENERGY_BLOCK).bytes).envelopes[0] as Uint8Array;
    forge(db, LAST, (b) => { b.envelopes.push(energyTx); b.codes.push(code); });
  });
  const valid = summary(await verifyLedger(replay(ValidationCode.VALID)));
  t.assert.equal(valid.blocks[0], LAST);
  t.assert.match(valid.first, new RegExp(`^block ${LAST} transaction 1: transaction [0-9a-f]+ of block ${ENERGY_BLOCK} committed again as VALID`));
  const invalid = await verifyLedger(replay(ValidationCode.MVCC_READ_CONFLICT));
  t.assert.deepEqual(invalid.problems, [], 'the committer keeps the first index entry and applies nothing');
});

test('verify: a transaction marked DUPLICATE_TXID whose id was never committed before is reported at its block', async (t) => {
  const s = summary(await verifyLedger(tampered(t, (db) => forge(db, LAST, (b) => { b.codes = [ValidationCode.DUPLICATE_TXID]; }))));
  t.assert.equal(s.blocks[0], LAST);
  t.assert.match(s.first, new RegExp(`^block ${LAST} transaction 0: marked DUPLICATE_TXID, but no earlier transaction has the id [0-9a-f]+`));
});

test('verify: a transaction without a validation code matches no transaction index entry, whatever code the entry says', async (t: TestContext) => {
  for (const code of [ValidationCode.VALID, 1, ValidationCode.MVCC_READ_CONFLICT]) {
    const report = await verifyLedger(tampered(t, (db) => {
      forge(db, LAST, (b) => { b.codes = []; });
      db.prepare('UPDATE txs SET code = ? WHERE num = ?').run(code, LAST);
    }));
    t.assert.ok(report.problems.some((p) => p.blockNumber === LAST && /^transaction index entry [0-9a-f]+ \(block 4\) differs from the chain/.test(p.message)), `entry code ${code}`);
  }
});

test('verify: key metadata written by a transaction (a key-level endorsement policy) must be in the state store as written', async (t: TestContext) => {
  const policy = Buffer.from('a key-level endorsement policy');
  /** Block LAST's transaction also writes VALIDATION_PARAMETER metadata on the key it writes; the store row gets `stored`. */
  const withMetadata = (stored: Buffer | null) => tampered(t, (db) => {
    const key = (db.prepare('SELECT key FROM state WHERE block = ?').get(LAST) as { key: Uint8Array }).key;
    forge(db, LAST, (b) => {
      b.envelopes[0] = rewriteTransaction(b.envelopes[0] as Uint8Array, (_cap, action) => {
        const rwset = ledger.rwset.TxReadWriteSet.deserializeBinary(action.getResults_asU8());
        for (const ns of rwset.getNsRwsetList()) {
          const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
          if (kv.getWritesList().length === 0) continue;
          const entry = new ledger.rwset.kvrwset.KVMetadataEntry();
          entry.setName('VALIDATION_PARAMETER');
          entry.setValue(policy);
          const write = new ledger.rwset.kvrwset.KVMetadataWrite();
          write.setKey(Buffer.from(key).toString('utf8'));
          write.setEntriesList([entry]);
          kv.addMetadataWrites(write);
          ns.setRwset(kv.serializeBinary());
        }
        action.setResults(rwset.serializeBinary());
      });
    });
    db.prepare('UPDATE state SET metadata = ? WHERE key = ?').run(stored, key);
  });
  const written = encodeMetadata(new Map([['VALIDATION_PARAMETER', policy]]));
  // The forged transaction no longer matches its signatures: only the state is compared here.
  t.assert.deepEqual((await verifyLedger(withMetadata(written), { signatures: false })).problems, [], 'the metadata as written');
  for (const [name, stored] of [['missing', null], ['other', encodeMetadata(new Map([['VALIDATION_PARAMETER', Buffer.from('another policy')]]))]] as const) {
    const s = summary(await verifyLedger(withMetadata(stored), { signatures: false }));
    t.assert.deepEqual(s.blocks, [LAST], name);
    t.assert.match(s.first, /^key metadata of .* differs from what block 4 tx 0 wrote/, name);
  }
});
