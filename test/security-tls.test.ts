/**
 * Mutual TLS end to end (R67, §9.2.1.1, R517): the VEN's HTTPS client registers with a VTN that
 * serves the 2.0b profile, the registration binds the VEN's certificate, and the VTN pushes to the
 * VEN's HTTPS push server with its own client certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { issueServerCertificate, loadCredential, pkiLayout, chainPem } from '../certs/index.ts';
import type { Payload } from '../oadr/index.ts';
import { createHttpTransport, createPushServer } from '../ven/http-transport.ts';
import { createVtn } from '../vtn/index.ts';
import { LOOPBACK_PUSH, ven as build } from '../vtn/testing/fake-ven.ts';
import { ensureVtnPki } from '../vtn/tls/pki.ts';

test('R67, R517: a VEN registers over mutual TLS, its fingerprint is bound, and the VTN pushes to its HTTPS push server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'security-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const ca = pki.tls.ca as string;
  const venDir = pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-rsa');
  const ven = { key: readFileSync(join(venDir, 'key.pem'), 'utf8'), cert: readFileSync(join(venDir, 'chain.pem'), 'utf8'), ca };
  const intDir = pkiLayout.openadrIntermediateCa(pki.dir, 'ecc');
  const issuer = await loadCredential({ certificatePem: readFileSync(join(intDir, 'cert.pem'), 'utf8'), privateKeyPem: readFileSync(join(intDir, 'key.pem'), 'utf8') });
  const pushCert = await issueServerCertificate({ profile: 'ecc', commonName: 'ven-rsa-push', issuer });

  const vtn = createVtn({ config: { dataDir: ':memory:', registrationPolicy: 'open', push: { ...LOOPBACK_PUSH, initialBackoffMs: 50, maxBackoffMs: 100 } }, tls: pki.tls, pushTls: pki.push });
  t.after(() => vtn.close());
  const url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  assert.match(url, /^https:/);

  const pushed: Payload[] = [];
  let got!: () => void;
  const arrived = new Promise<void>((r) => (got = r));
  const server = await createPushServer({ tls: { key: pushCert.privateKeyPem, cert: chainPem(pushCert), ca }, handle: async (p) => (pushed.push(p), got(), undefined) });
  t.after(() => server.close());
  assert.match(server.url, /^https:/);

  const transport = createHttpTransport({ vtnUrl: url, tls: ven });
  t.after(() => transport.close());
  const created = await transport.request(build.create({ venName: 'ven-rsa', pull: false, transportAddress: server.url }));
  assert.equal(created.type, 'CreatedPartyRegistration');
  const venId = (created as { venId: string }).venId;
  assert.equal(vtn.store.getRegistration(venId)?.fingerprint, readFileSync(join(venDir, 'fingerprint.txt'), 'utf8').trim());
  await arrived; // the VTN's metadata (oadrRegisterReport) is pushed right after registration (R301)
  assert.equal(pushed[0]?.type, 'RegisterReport');

  const plain = createHttpTransport({ vtnUrl: url, tls: { ca } });
  t.after(() => plain.close());
  await assert.rejects(plain.request(build.poll(venId)), /cannot reach the VTN/);
});
