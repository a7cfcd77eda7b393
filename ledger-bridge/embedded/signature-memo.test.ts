/**
 * The memo of our own signatures: it answers "known valid" only for the exact (certificate, signed
 * bytes, signature) a signer of this process recorded, once; the committer consults it only for the
 * envelopes this process assembled, and a changed signature or payload is still refused.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createEndorsementPool } from './endorsement-pool.ts';
import { ValidationCode } from '../ledger.ts';
import { issueClientIdentity, loadOrCreateOrgs } from './orgs.ts';
import { createSignatureMemo, keyMatchesCertificate, sameBytes, type SignatureRecord } from './signature-memo.ts';
import { createCommitterRig } from '../testing/committer-rig.ts';
import { keyObjectOf, signLowS } from './signer.ts';
import { openStore } from './store.ts';
import { tempDataDir } from '../testing/embedded.ts';
import { createTestCa } from '../../chaincode/testing/index.ts';

const data = Buffer.from('payload bytes', 'utf8');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signature = signLowS(privateKey, data);
const record: SignatureRecord = { certificatePem: 'CERT-A', parts: [Buffer.from(data)], signature };

test('memo: the exact recorded (certificate, bytes, signature) is known once; anything else is not', (t) => {
  const memo = createSignatureMemo();
  memo.add(record);
  t.assert.equal(memo.consume('CERT-B', [data], signature), false, 'another certificate');
  t.assert.equal(memo.consume('CERT-A', [Buffer.from('payload bytez', 'utf8')], signature), false, 'other bytes');
  const other = Buffer.from(signature);
  other.writeUInt8(other.readUInt8(other.length - 1) ^ 1, other.length - 1);
  t.assert.equal(memo.consume('CERT-A', [data], other), false, 'another signature');
  // The same bytes split differently are the same signed message.
  t.assert.equal(memo.consume('CERT-A', [data.subarray(0, 4), data.subarray(4)], signature), true);
  t.assert.equal(memo.consume('CERT-A', [data], signature), false, 'forgotten once used');
  t.assert.equal(memo.size, 0);
});

test('sameBytes: equal concatenations whatever the split; any differing byte or length is unequal', (t) => {
  const ab = Buffer.from('abcdef', 'utf8');
  t.assert.equal(sameBytes([ab], [ab.subarray(0, 2), ab.subarray(2)]), true);
  t.assert.equal(sameBytes([ab.subarray(0, 3), ab.subarray(3)], [ab.subarray(0, 3), ab.subarray(3)]), true);
  t.assert.equal(sameBytes([ab.subarray(0, 3), ab.subarray(3)], [ab.subarray(0, 3), Buffer.from('deg', 'utf8')]), false);
  t.assert.equal(sameBytes([ab], [ab.subarray(0, 5)]), false);
});

test('memo: bounded, oldest entries dropped first', (t) => {
  const memo = createSignatureMemo({ limit: 2 });
  const records = [0, 1, 2].map((i) => {
    const bytes = Buffer.from(`message ${i}`, 'utf8');
    return { bytes, record: { certificatePem: 'CERT-A', parts: [bytes], signature: signLowS(privateKey, bytes) } };
  });
  for (const r of records) memo.add(r.record);
  t.assert.equal(memo.size, 2);
  t.assert.equal(memo.consume('CERT-A', [records[0]?.bytes ?? data], records[0]?.record.signature ?? signature), false);
  t.assert.equal(memo.consume('CERT-A', [records[2]?.bytes ?? data], records[2]?.record.signature ?? signature), true);
});

test('keyMatchesCertificate: true for the identity key, false for another key', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [org1] = await loadOrCreateOrgs(join(dir, 'certs'), { createCa: createTestCa });
  assert.ok(org1);
  const id = await issueClientIdentity(org1, 'retailer', { ID: 'utility:1234' });
  t.assert.equal(keyMatchesCertificate(keyObjectOf(id), id.certificatePem), true);
  t.assert.equal(keyMatchesCertificate(privateKey, id.certificatePem), false);
});

test('committer: own signatures skip ECDSA only for in-process envelopes; a changed signature or payload is still refused', async (t) => {
  const memo = createSignatureMemo();
  const { committer, prepared, client, submit: submitAs } = await createCommitterRig(t, { prepared: true, memo });
  const operator = await client('dso', 'operator:dso');
  const submit = (retailerId: string) => submitAs(operator, 'enableRetailer', [retailerId]);

  // In-process: the creator's and the endorser's signatures are recorded, then used by the committer.
  const a = await submit('utility:1');
  t.assert.equal(memo.size, 2);
  prepared.set(a.envelope, a.prepared);
  const [blockA] = await committer.commitBlocks([[a.envelope]]);
  t.assert.deepEqual(blockA?.txs.map((x) => x.code), [ValidationCode.VALID]);
  t.assert.equal(memo.size, 0, 'both signatures came from the memo');

  // The same kind of envelope arriving from outside (no decoded form): verified with ECDSA, memo untouched.
  const b = await submit('utility:2');
  const [blockB] = await committer.commitBlocks([[b.envelope]]);
  t.assert.deepEqual(blockB?.txs.map((x) => x.code), [ValidationCode.VALID]);
  t.assert.equal(memo.size, 2);

  // In-process, but the creator's signature replaced: not in the memo, ECDSA refuses it.
  const c = await submit('utility:3');
  const forged = signLowS(privateKey, c.prepared.payloadBytes);
  prepared.set(c.envelope, { ...c.prepared, signature: forged });
  // In-process, but the signed payload changed after signing: the digest differs, ECDSA refuses it.
  const d = await submit('utility:4');
  const changed = Buffer.from(d.prepared.proposalResponsePayload);
  changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
  prepared.set(d.envelope, { ...d.prepared, proposalResponsePayload: changed });
  const [blockCD] = await committer.commitBlocks([[c.envelope, d.envelope]]);
  t.assert.deepEqual(blockCD?.txs.map((x) => x.code), [ValidationCode.BAD_CREATOR_SIGNATURE, ValidationCode.ENDORSEMENT_POLICY_FAILURE]);
});

test('endorsement worker: a submit’s two signatures reach the ledger thread’s memo, their signed bytes as views of the envelope', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const orgs = await loadOrCreateOrgs(join(dir, 'certs'), { createCa: createTestCa });
  const org1 = orgs[0];
  assert.ok(org1);
  const store = openStore(dir); // the schema the worker's reader expects
  t.after(() => store.close());
  const memo = createSignatureMemo();
  const pool = await createEndorsementPool({ size: 1, dataDir: dir, channel: 'mychannel', chaincodeName: 'oadr-dr', orgs, memo });
  t.after(() => pool.close());
  const operator = await issueClientIdentity(org1, 'dso', { ID: 'operator:dso' });
  const outcome = await pool.prepare(operator, { kind: 'submit', fn: 'enableRetailer', args: ['utility:1'], timestampMs: Date.now(), orgs: ['Org1MSP'] });
  assert.ok(outcome?.ok && outcome.envelope && outcome.prepared);
  t.assert.equal(memo.size, 2);
  const p = outcome.prepared;
  const endorsement = p.endorsements[0];
  assert.ok(endorsement);
  t.assert.equal(memo.consume(operator.certificatePem, [p.payloadBytes], p.signature), true);
  t.assert.equal(memo.consume(org1.peer.certificatePem, [p.proposalResponsePayload, endorsement.endorser], endorsement.signature), true);
  t.assert.equal(p.payloadBytes.buffer, outcome.envelope.buffer, 'no copy: a view of the transferred envelope');
  // An evaluation records nothing (its signatures never reach a committer).
  const query = await pool.prepare(operator, { kind: 'evaluate', fn: 'queryProgramParams', args: [], timestampMs: Date.now(), orgs: ['Org1MSP'] });
  t.assert.equal(query?.ok, true);
  t.assert.equal(memo.size, 0);
});
