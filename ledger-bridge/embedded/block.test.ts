import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { blockHash, blockHeaderBytes, buildBlock, dataHash, decodeBlock } from './block.ts';

test('block header bytes are the DER SEQUENCE { INTEGER, OCTET STRING, OCTET STRING } Fabric hashes', () => {
  assert.equal(blockHeaderBytes(0, new Uint8Array(0), Uint8Array.from([0xaa])).toString('hex'), '3008020100040004' + '01aa');
  // 128 needs a leading zero byte (positive INTEGER); 32-byte hashes use short lengths.
  const h = Buffer.alloc(32, 1);
  const der = blockHeaderBytes(128, h, h);
  assert.equal(der.subarray(0, 2).toString('hex'), '3048');
  assert.equal(der.length, 2 + 4 + 34 + 34);
  assert.equal(der.subarray(2, 6).toString('hex'), '02020080');
  assert.deepEqual(blockHash(128, h, h), createHash('sha256').update(der).digest());
});

test('data hash is SHA-256 over the concatenated envelopes; a built block decodes to what went in', () => {
  const envelopes = [Buffer.from('one'), Buffer.from('two')];
  assert.deepEqual(dataHash(envelopes), createHash('sha256').update('onetwo').digest());
  const prev = Buffer.alloc(32, 7);
  const built = buildBlock(5, prev, Buffer.alloc(32, 9), envelopes, [0, 11]);
  const decoded = decodeBlock(built.bytes);
  assert.equal(decoded.number, 5);
  assert.deepEqual(decoded.previousHash, prev);
  assert.deepEqual(decoded.envelopes.map((e) => Buffer.from(e).toString()), ['one', 'two']);
  assert.deepEqual(decoded.validationCodes, [0, 11]);
  assert.deepEqual(decoded.commitHash, built.commitHash);
  assert.deepEqual(built.hash, blockHash(5, prev, dataHash(envelopes)));
  assert.throws(() => decodeBlock(Uint8Array.from([0xff, 0xff, 0xff])));
});
