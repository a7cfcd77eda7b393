import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { test } from 'node:test';
import { hasLowS } from '../gateway/identity.ts';
import { newNodeCryptoSigner, toLowS } from './fabric-signer.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derSignature(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    const b = Buffer.from(hex, 'hex');
    const body = (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function parse(der: Uint8Array): { r: bigint; s: bigint } {
  const rLen = der[3] as number;
  const r = BigInt(`0x${Buffer.from(der.subarray(4, 4 + rLen)).toString('hex')}`);
  const s = BigInt(`0x${Buffer.from(der.subarray(6 + rLen)).toString('hex')}`);
  return { r, s };
}

test('node:crypto signer: DER ECDSA P-256 / SHA-256 signatures that verify and always have a low S', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = newNodeCryptoSigner(privateKey);
  for (let i = 0; i < 200; i++) {
    const message = randomBytes(1 + (i % 64));
    const signature = await signer(message);
    assert.ok(hasLowS(signature), `signature ${i} has a low S`);
    assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature));
  }
});

test('toLowS: a high-S signature becomes its low-S twin (still valid); a low-S one is unchanged', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.from('proposal bytes');
  const low = await newNodeCryptoSigner(privateKey)(message);
  const { r, s } = parse(low);
  const high = derSignature(r, N - s);
  assert.equal(hasLowS(high), false);
  assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, high), 'ECDSA accepts both twins');
  assert.deepEqual(Buffer.from(toLowS(high)), Buffer.from(low));
  assert.equal(toLowS(low), low);
  assert.throws(() => newNodeCryptoSigner(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey), /P-256/);
});
