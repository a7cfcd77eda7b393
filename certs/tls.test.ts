/**
 * A real TLS 1.2 handshake on loopback with the development PKI, in the 2.0b profile (§9.2, R67):
 * the VTN server loads its RSA and ECC pairs, requires a client certificate and checks it against
 * the OpenADR roots; VENs check the VTN the same way. A self-signed, expired, wrong-CA or revoked
 * VEN certificate is refused during the handshake (§9.2.1.1, R516).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { initPki } from './dev-pki.ts';
import { pkiLayout } from './layout.ts';
import { chainPem, createRootCa, issueClientCertificate, loadCredential, revoke, DAY_MS, type Credential } from './pki.ts';

// R67 default suites, OpenSSL names; TLS 1.2 only.
/** Refused by the VTN as configured, and for the reason `code` (OpenSSL's verify result). */
async function assertRefused(client: { key: string; cert: string }, ciphers: string, code: string, crl?: string[] | undefined): Promise<void> {
  const r = await handshake(client, ciphers, { crl });
  assert.equal(r.ok, false, 'the handshake must fail');
  assert.equal(r.peerCn, undefined, 'the server must not accept the connection');
  const why = await handshake(client, ciphers, { crl, diagnose: true });
  assert.equal(why.ok, false);
  assert.equal(why.authorizationError, code);
}

const ECC_SUITE = 'ECDHE-ECDSA-AES128-SHA256';
const RSA_SUITE = 'AES128-SHA256';

let dir: string;
let caBundle: string;
let vtn: { key: string[]; cert: string[] };
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certs-tls-'));
  await initPki({ dir });
  caBundle = read(pkiLayout.caBundle(dir));
  const rsa = pkiLayout.openadrIdentity(dir, 'vtn', 'vtn-rsa');
  const ecc = pkiLayout.openadrIdentity(dir, 'vtn', 'vtn-ecc');
  vtn = { key: [read(rsa, 'key.pem'), read(ecc, 'key.pem')], cert: [read(rsa, 'chain.pem'), read(ecc, 'chain.pem')] };
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  /** The client read the server's 'ok' after a completed handshake. */
  readonly ok: boolean;
  readonly cipher?: string;
  /** The server's verdict on the client certificate (OpenSSL verify code), when `diagnose` is set. */
  readonly authorizationError?: string;
  readonly peerCn?: string;
}

/**
 * One handshake: the VTN server vs. a VEN client with `client` key/chain, offering `ciphers`.
 * The server is configured as the VTN runs (`rejectUnauthorized: true`): Node then drops a refused
 * client without saying why, so `diagnose` runs it with `rejectUnauthorized: false` instead and
 * refuses by hand, to read OpenSSL's verify code.
 */
async function handshake(client: { key: string; cert: string }, ciphers: string, options: { crl?: string[] | undefined; diagnose?: boolean } = {}): Promise<Outcome> {
  const diagnose = options.diagnose === true;
  const server = tls.createServer({
    ...vtn,
    ca: caBundle,
    ...(options.crl === undefined ? {} : { crl: options.crl }),
    requestCert: true,
    rejectUnauthorized: !diagnose,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: `${ECC_SUITE}:${RSA_SUITE}`,
    honorCipherOrder: true,
  });
  let authorizationError: string | undefined;
  let peerCn: string | undefined;
  server.on('secureConnection', (socket) => {
    if (!socket.authorized) {
      authorizationError = String(socket.authorizationError);
      socket.destroy();
      return;
    }
    const cn = socket.getPeerCertificate().subject?.CN;
    peerCn = Array.isArray(cn) ? cn.join() : cn;
    socket.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const result = await new Promise<{ ok: boolean; cipher?: string }>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: caBundle, key: client.key, cert: client.cert, ciphers, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => resolve({ ok: data === 'ok', cipher: socket.getCipher()?.name }));
      socket.on('error', () => resolve({ ok: false }));
    });
    return { ...result, authorizationError, peerCn };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

function venFiles(name: string): { key: string; cert: string } {
  const d = pkiLayout.openadrIdentity(dir, 'ven', name);
  return { key: read(d, 'key.pem'), cert: read(d, 'chain.pem') };
}

test('R67 RSA VEN: mutual TLS 1.2 with TLS_RSA_WITH_AES_128_CBC_SHA256 against the VTN RSA certificate', async () => {
  const r = await handshake(venFiles('ven-rsa'), RSA_SUITE);
  assert.equal(r.ok, true);
  assert.equal(r.cipher, RSA_SUITE);
  assert.equal(r.peerCn, 'ven-rsa');
});

test('R67 ECC VEN: mutual TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 against the VTN ECC certificate', async () => {
  const r = await handshake(venFiles('ven-ecc'), ECC_SUITE);
  assert.equal(r.ok, true);
  assert.equal(r.cipher, ECC_SUITE);
  assert.equal(r.peerCn, 'ven-ecc');
});

test('§9.2.1.1 a self-signed VEN certificate is refused in the handshake', async () => {
  const self = await issueClientCertificate({ commonName: 'ven-self', profile: 'ecc' });
  await assertRefused({ key: self.privateKeyPem, cert: self.certificatePem }, ECC_SUITE, 'DEPTH_ZERO_SELF_SIGNED_CERT');
});

test('R516 an expired VEN certificate (from the right CA) is refused in the handshake', async () => {
  const issuer = await loadIntermediate('ecc');
  const now = Date.now();
  const expired = await issueClientCertificate({ commonName: 'ven-old', issuer, notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - DAY_MS) });
  await assertRefused({ key: expired.privateKeyPem, cert: chainPem(expired) }, ECC_SUITE, 'CERT_HAS_EXPIRED');
});

test('§9.2.1.1 a VEN certificate from another CA is refused in the handshake', async () => {
  const otherRoot = await createRootCa({ commonName: 'Some other root', profile: 'ecc' });
  const stranger = await issueClientCertificate({ commonName: 'ven-stranger', issuer: otherRoot });
  await assertRefused({ key: stranger.privateKeyPem, cert: chainPem(stranger) }, ECC_SUITE, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

test('a VEN certificate listed in the intermediate CA’s CRL is refused; a VEN not listed still connects', async () => {
  const issuer = await loadIntermediate('rsa');
  const revoked = await issueClientCertificate({ commonName: 'ven-revoked', issuer });
  // Node checks CRLs for the whole chain (X509_V_FLAG_CRL_CHECK_ALL): the root needs one too, empty here.
  const d = pkiLayout.openadrRootCa(dir, 'rsa');
  const root = await loadCredential({ certificatePem: read(d, 'cert.pem'), privateKeyPem: read(d, 'key.pem') });
  const crl = [await revoke({ issuer, certificates: [revoked.certificatePem] }), await revoke({ issuer: root, certificates: [] })];
  await assertRefused({ key: revoked.privateKeyPem, cert: chainPem(revoked) }, RSA_SUITE, 'CERT_REVOKED', crl);
  const accepted = await handshake(venFiles('ven-rsa'), RSA_SUITE, { crl });
  assert.equal(accepted.ok, true);
  assert.equal(accepted.peerCn, 'ven-rsa');
});

async function loadIntermediate(profile: 'rsa' | 'ecc'): Promise<Credential> {
  const d = pkiLayout.openadrIntermediateCa(dir, profile);
  return loadCredential({ certificatePem: read(d, 'cert.pem'), privateKeyPem: read(d, 'key.pem') });
}
