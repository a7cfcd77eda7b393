import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createCcaasPackage } from './ccaas-package.ts';
import { main } from './package.ts';
import { createTar, readTar, readTarGz } from './tar.ts';

test('ccaas package: outer tar.gz holds metadata.json and code.tar.gz with connection.json', () => {
  const pkg = createCcaasPackage({ address: 'oadr-dr.example:9999', label: 'oadr-dr_1.0' });
  const outer = readTarGz(pkg.bytes);
  assert.deepEqual(outer.map((e) => e.name), ['metadata.json', 'code.tar.gz']);
  assert.deepEqual(JSON.parse(Buffer.from(outer[0]!.content).toString()), { label: 'oadr-dr_1.0', type: 'ccaas' });
  const inner = readTarGz(outer[1]!.content);
  assert.deepEqual(inner.map((e) => e.name), ['connection.json']);
  assert.deepEqual(JSON.parse(Buffer.from(inner[0]!.content).toString()), {
    address: 'oadr-dr.example:9999',
    dial_timeout: '10s',
    tls_required: false,
  });
});

test('ccaas package bytes are deterministic', () => {
  const a = createCcaasPackage({ address: 'h:1', label: 'x' }).bytes;
  const b = createCcaasPackage({ address: 'h:1', label: 'x' }).bytes;
  assert.deepEqual(a, b);
});

test('ccaas package with TLS carries root_cert; bad label/address refused', () => {
  const pkg = createCcaasPackage({ address: 'h:7052', label: 'l', tlsRequired: true, rootCertPem: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n', clientAuthRequired: true });
  const conn = JSON.parse(Buffer.from(readTarGz(readTarGz(pkg.bytes)[1]!.content)[0]!.content).toString());
  assert.equal(conn.tls_required, true);
  assert.equal(conn.client_auth_required, true);
  assert.match(conn.root_cert, /BEGIN CERTIFICATE/);
  assert.throws(() => createCcaasPackage({ address: 'h:1', label: 'bad label' }), { message: /^INVALID_ARGUMENT: / });
  assert.throws(() => createCcaasPackage({ address: 'nohost', label: 'l' }), { message: /^INVALID_ARGUMENT: / });
  assert.throws(() => createCcaasPackage({ address: 'h:1', label: 'l', tlsRequired: true }), { message: /^INVALID_ARGUMENT: / });
});

test('GNU tar reads our archives (both levels)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccaas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = main(['--out', dir, '--address', 'peer0.org1:9999', '--label', 'oadr-dr_1.0']);
  assert.equal(file, join(dir, 'oadr-dr_1.0.tar.gz'));
  const list = execFileSync('tar', ['-tzvf', file], { encoding: 'utf8' });
  assert.match(list, /metadata\.json/);
  assert.match(list, /code\.tar\.gz/);
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')), { label: 'oadr-dr_1.0', type: 'ccaas' });
  const inner = execFileSync('tar', ['-xzOf', join(dir, 'code.tar.gz'), 'connection.json'], { encoding: 'utf8' });
  assert.equal(JSON.parse(inner).address, 'peer0.org1:9999');
});

test('package CLI runs as a script and fails with usage on missing flags', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccaas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = new URL('./package.ts', import.meta.url).pathname;
  const out = execFileSync(process.execPath, [script, '--out', dir, '--address', 'cc:9999', '--label', 'dr'], { encoding: 'utf8' });
  assert.equal(out.trim(), join(dir, 'dr.tar.gz'));
  assert.throws(() => execFileSync(process.execPath, [script, '--out', dir], { stdio: 'pipe' }), /usage/);
});

test('tar: larger file padded to blocks, checksum verified, corruption detected', () => {
  const big = Buffer.alloc(1300, 7);
  const tar = createTar([{ name: 'a/b.bin', content: big }, { name: 'e', content: Buffer.alloc(0) }]);
  assert.equal(tar.length % 512, 0);
  const back = readTar(tar);
  assert.equal(back.length, 2);
  assert.deepEqual(Buffer.from(back[0]!.content), big);
  assert.equal(back[1]!.content.length, 0);
  const bad = Buffer.from(tar);
  bad[0] = 0x41;
  assert.throws(() => readTar(bad), /checksum/);
  assert.ok(gunzipSync(createCcaasPackage({ address: 'h:1', label: 'x' }).bytes).length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'tar-'));
  try {
    writeFileSync(join(dir, 'x.tar'), tar);
    assert.match(execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' }), /a\/b\.bin\ne\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
