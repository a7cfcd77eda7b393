import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { certificateFingerprint } from '../oadr/index.ts';
import { runCertsCommand } from './cli.ts';

/** Run the command in-process as cli/main.ts will, capturing its output. */
async function certs(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCertsCommand(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certs-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('certs init prints each VEN with its fingerprint; a second init leaves the PKI untouched (exit 0 both)', async () => {
  const pki = join(dir, 'pki');
  const first = await certs('init', pki);
  assert.equal(first.status, 0, first.stderr);
  for (const ven of ['ven-rsa', 'ven-ecc']) {
    const fp = certificateFingerprint(readFileSync(join(pki, 'openadr', 'ven', ven, 'cert.pem')));
    assert.match(first.stdout, new RegExp(`VEN ${ven} .* fingerprint ${fp}`));
  }
  const key = readFileSync(join(pki, 'openadr', 'ven', 'ven-rsa', 'key.pem'), 'utf8');
  const second = await certs('init', pki);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /already exists/);
  assert.equal(readFileSync(join(pki, 'openadr', 'ven', 'ven-rsa', 'key.pem'), 'utf8'), key);

  const issued = await certs('issue', '--dir', pki, '--kind', 'fabric-client', '--name', 'customer_3', '--org', 'Org2', '--attr', 'ID=smartmeter:3', '--attr', 'IDprovider=utility:1234');
  assert.equal(issued.status, 0, issued.stderr);
  assert.match(issued.stdout, /^issued fabric-client customer_3: .*customer_3@org2\.example\.com\/msp \(MSP Org2MSP\)$/m);
  const ven = await certs('issue', '--dir', pki, '--kind', 'ven', '--name', 'ven-9', '--profile', 'rsa');
  assert.equal(ven.status, 0, ven.stderr);
  const fp = certificateFingerprint(readFileSync(join(pki, 'openadr', 'ven', 'ven-9', 'cert.pem')));
  assert.match(ven.stdout, new RegExp(`fingerprint ${fp}`));

  const fingerprint = await certs('fingerprint', join(pki, 'openadr', 'ven', 'ven-9', 'cert.pem'));
  assert.equal(fingerprint.status, 0);
  assert.equal(fingerprint.stdout, `${fp}\n`);

  const again = await certs('issue', '--dir', pki, '--kind', 'ven', '--name', 'ven-9');
  assert.equal(again.status, 1, 'an existing identity is invalid input');
  assert.match(again.stderr, /IDENTITY_EXISTS/);
});

test('usage errors exit 2, invalid input exits 1', async () => {
  assert.equal((await certs()).status, 0, 'a bare `certs` is help');
  assert.equal((await certs('frobnicate')).status, 2);
  assert.equal((await certs('init')).status, 2);
  assert.equal((await certs('issue', '--dir', dir, '--kind', 'ven')).status, 2, 'missing --name');
  assert.equal((await certs('issue', '--dir', dir, '--kind', 'robot', '--name', 'x')).status, 2);
  assert.equal((await certs('issue', '--dir', dir, '--kind', 'ven', '--name', 'x', '--profile', 'dsa')).status, 2);
  assert.equal((await certs('issue', '--dir', dir, '--kind', 'fabric-client', '--name', 'x', '--attr', 'novalue')).status, 2);
  assert.equal((await certs('init', dir, '--days', '-3')).status, 2);
  assert.equal((await certs('fingerprint', join(dir, 'missing.pem'))).status, 2);
  const help = await certs('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: oadr-ledger certs/);
  const notPki = await certs('issue', '--dir', join(dir, 'empty'), '--kind', 'ven', '--name', 'x');
  assert.equal(notPki.status, 1);
  assert.match(notPki.stderr, /PKI_NOT_FOUND/);
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
  const junk = await certs('fingerprint', join(dir, 'junk.pem'));
  assert.equal(junk.status, 1);
  assert.match(junk.stderr, /INVALID_CERTIFICATE/);
});
