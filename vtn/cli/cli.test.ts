import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeOadr } from '../../oadr/index.ts';
import { runVtnCommand, VTN_USAGE } from './cli.ts';
import { startVtnCommand } from '../testing/vtn-command.ts';
import { postXml, ven } from '../testing/fake-ven.ts';

test('vtn command: a missing --pki, a bad TLS version, unknown flags and a bad port are usage errors (exit 2)', async () => {
  let err = '';
  assert.equal(await runVtnCommand(['--pki', join(tmpdir(), 'no-such-pki-dir'), '--data-dir', ':memory:'], { stderr: (s) => void (err += s) }), 2);
  assert.match(err, /certs init/);
  assert.equal(await runVtnCommand(['--tls-min-version', 'SSLv3'], { stderr: () => {} }), 2);
  assert.equal(await runVtnCommand(['--bogus'], { stderr: () => {} }), 2);
  assert.equal(await runVtnCommand(['--insecure-http', '--port', 'eighty'], { stderr: () => {} }), 2);
  assert.match(VTN_USAGE, /--data-dir/);
  assert.match(VTN_USAGE, /--pki/);
});

test('R67 vtn command: with no TLS flags it creates DIR/pki, prints the VEN fingerprints and serves HTTPS with mutual TLS only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-cli-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const vtn = await startVtnCommand(['--data-dir', dir, '--port', '0', '--no-ledger'], { config: { registrationPolicy: 'open' } });
  const { url } = vtn;
  const err = vtn.stderr();
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(err, /created the development PKI/);
  const venDir = join(dir, 'pki', 'openadr', 'ven', 'ven-ecc');
  assert.ok(err.includes(readFileSync(join(venDir, 'fingerprint.txt'), 'utf8').trim()));
  const ca = readFileSync(join(dir, 'pki', 'openadr', 'ca-bundle.pem'), 'utf8');
  const body = encodeOadr(ven.query());
  const post = (tls: object): Promise<number> =>
    new Promise((resolve) => {
      const req = httpsRequest(`${url}/OpenADR2/Simple/2.0b/EiRegisterParty`, { method: 'POST', headers: { 'content-type': 'application/xml' }, ca, ...tls }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      req.end(body);
    });
  assert.equal(await post({ cert: readFileSync(join(venDir, 'chain.pem')), key: readFileSync(join(venDir, 'key.pem')) }), 200);
  assert.equal(await post({}), -1, 'without a client certificate the handshake ends');
  assert.equal(await vtn.stop(), 0);
});

test('vtn command: --insecure-http serves OpenADR on loopback, warns loudly, and stops on the stop signal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const vtn = await startVtnCommand(['--insecure-http', '--data-dir', dir, '--port', '0'], { config: { host: '0.0.0.0', registrationPolicy: 'open' } });
  const { url, log } = vtn;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await postXml(url, 'EiRegisterParty', encodeOadr(ven.query()));
  assert.equal(r.status, 200);
  assert.ok(log.records.some((x) => x.level === 'warn' && (x.msg ?? '').includes('INSECURE')));
  assert.ok(log.records.some((x) => x.level === 'warn' && (x.msg ?? '').includes('loopback')));
  assert.equal(await vtn.stop(), 0);
});
