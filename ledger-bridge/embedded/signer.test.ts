import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { isLowS } from './msp.ts';
import { signLowS } from './signer.ts';

test('signLowS: DER ECDSA P-256 signatures that verify and always have a low S (Fabric rejects high S)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (let i = 0; i < 200; i++) {
    const data = Buffer.from(`message ${i}`);
    const sig = signLowS(privateKey, data);
    assert.equal(sig[0], 0x30, 'a DER SEQUENCE');
    assert.equal(sig[1], sig.length - 2, 'its length covers the rest');
    assert.ok(isLowS(sig), `signature ${i} has a low S`);
    assert.ok(verify('sha256', data, publicKey, sig), `signature ${i} verifies`);
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, sig));
  }
  // About half of raw ECDSA signatures have a high S: 200 low ones that verify mean S was rewritten right.
});
