/** The conformance suite over mutual TLS against our VTN (the suite's client certificate, its handshake cases). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { issueIdentity, pkiLayout } from '../certs/index.ts';
import { createVtn } from '../vtn/index.ts';
import { LOOPBACK_PUSH } from '../vtn/testing/fake-ven.ts';
import { ensureVtnPki } from '../vtn/tls/pki.ts';
import { createAdminAdapter, runVtnSuite, tally } from '../conformance/index.ts';
import { PATIENT } from '../conformance/testing/our-peers.ts';
import { startCarelessTlsVtn } from '../conformance/testing/careless-tls-vtn.ts';

const DAY = 86_400_000;

/** A fresh test PKI and the suite's TLS material from it (VEN ven-rsa, the VTN's CA). */
async function testPki(t: TestContext): Promise<{ pki: Awaited<ReturnType<typeof ensureVtnPki>>; tls: { key: string; cert: string; ca: string } }> {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const venDir = pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-rsa');
  return { pki, tls: { key: readFileSync(join(venDir, 'key.pem'), 'utf8'), cert: readFileSync(join(venDir, 'chain.pem'), 'utf8'), ca: pki.tls.ca as string } };
}

/** A VEN identity of the test PKI whose validity ended yesterday (R516). */
async function expiredVen(pkiDir: string, name: string): Promise<{ cert: string; key: string }> {
  await issueIdentity({ dir: pkiDir, kind: 'ven', name, notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY), force: true });
  const d = pkiLayout.openadrIdentity(pkiDir, 'ven', name);
  return { cert: readFileSync(join(d, 'chain.pem'), 'utf8'), key: readFileSync(join(d, 'key.pem'), 'utf8') };
}

test('§9.2.1.1+R67+R516 over mutual TLS: the suite presents its client certificate and drives the VTN through its admin API with the admin client certificate; the TLS cases pass, and the rest pass or are skipped for want of a second certificate', async (t) => {
  const { pki, tls } = await testPki(t);
  const adminToken = 'conformance-tls-admin-token-0123456789';
  const vtn = createVtn({ config: { dataDir: ':memory:', registrationPolicy: 'open', push: LOOPBACK_PUSH }, tls: pki.tls, pushTls: pki.push, adminToken });
  t.after(() => vtn.close());
  const url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  const expiredClient = await expiredVen(pki.dir, 'ven-expired');
  // The admin API on the OpenADR port takes the admin client certificate (mutual TLS).
  const adminDir = pki.adminClientDir as string;
  const adapter = createAdminAdapter({ url: `${url}/api/v1`, token: adminToken, tls: { cert: readFileSync(join(adminDir, 'chain.pem'), 'utf8'), key: readFileSync(join(adminDir, 'key.pem'), 'utf8'), ca: tls.ca } });
  const run = await runVtnSuite({ url, transport: 'http-pull', tls, expiredClient, adapter, deliveryTimeoutMs: PATIENT.deliveryTimeoutMs, caseTimeoutMs: PATIENT.caseTimeoutMs });
  t.assert.deepEqual(run.cases.filter((c) => c.outcome !== 'passed' && c.outcome !== 'skipped').map((c) => `${c.id}: ${c.findings.map((f) => f.message).join('; ')}`), []);
  const tlsCases = run.cases.filter((c) => c.family === 'security');
  t.assert.deepEqual(tlsCases.map((c) => [c.id, c.outcome]), [['§9.2.1.1-no-client-certificate', 'passed'], ['R67-default-suites', 'passed'], ['R516-expired-client-certificate', 'passed'], ['R516-vtn-certificate-valid', 'passed'], ['R514-signed-exchange', 'skipped'], ['R514-unsigned-ignored', 'skipped'], ['R514-tampered-ignored', 'skipped'], ['R514-replay-ignored', 'skipped'], ['R67-non-default-suite-refused', 'passed']]);
  for (const c of run.cases.filter((x) => x.outcome === 'skipped')) t.assert.match(c.reason ?? '', /two VENs registered at once|--xml-signature|offers no report|no SIMPLE/, `${c.id}: ${c.reason ?? ''}`);
  t.assert.equal(tally(run).passed >= 50, true, `${tally(run).passed} passed`);
  t.assert.match(run.cases.find((c) => c.id === 'R511-query-registration')?.exchanges[0]?.url ?? '', /^https:/);
});

test('R516 a VTN that takes an expired client certificate, and presents an expired one of its own, fails both R516 cases', async (t) => {
  const { pki, tls } = await testPki(t);
  await issueIdentity({ dir: pki.dir, kind: 'vtn', name: 'vtn-expired', notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY), ipAddresses: ['127.0.0.1'], force: true });
  const vtnDir = pkiLayout.openadrIdentity(pki.dir, 'vtn', 'vtn-expired');
  const careless = await startCarelessTlsVtn({ cert: readFileSync(join(vtnDir, 'chain.pem'), 'utf8'), key: readFileSync(join(vtnDir, 'key.pem'), 'utf8'), ca: pki.tls.ca as string });
  t.after(() => careless.close());
  const run = await runVtnSuite({ url: careless.url, transport: 'http-pull', tls, expiredClient: await expiredVen(pki.dir, 'ven-expired'), only: ['R516'], caseTimeoutMs: PATIENT.caseTimeoutMs });
  t.assert.deepEqual(run.cases.map((c) => [c.id, c.outcome, c.findings.some((f) => f.ruleIds.includes('R516'))]), [['R516-expired-client-certificate', 'failed', true], ['R516-vtn-certificate-valid', 'failed', true]]);
});

test('R514 with XML signatures: the suite signs what it sends and checks what our VTN (--xml-signature) signs; a VTN that takes unsigned payloads fails R514', async (t: TestContext) => {
  const { pki, tls } = await testPki(t);
  const start = async (xmlSignature: boolean): Promise<string> => {
    const vtn = createVtn({ config: { dataDir: ':memory:', registrationPolicy: 'open', push: LOOPBACK_PUSH }, tls: pki.tls, pushTls: pki.push, ...(xmlSignature ? { xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key } } : {}) });
    t.after(() => vtn.close());
    return vtn.listen({ port: 0, host: '127.0.0.1' });
  };
  const only = ['R514', 'R402+R403-pull-registration', 'R500-poll-empty-queue'];
  const signed = await runVtnSuite({ url: await start(true), transport: 'http-pull', tls, xmlSignature: true, only, caseTimeoutMs: PATIENT.caseTimeoutMs, deliveryTimeoutMs: PATIENT.deliveryTimeoutMs });
  t.assert.deepEqual(signed.cases.map((c) => [c.id, c.outcome, c.findings.map((f) => f.message)]), signed.cases.map((c) => [c.id, 'passed', []]));
  t.assert.equal(signed.cases.filter((c) => c.ruleIds.includes('R514')).length, 4);
  const sent = signed.cases.find((c) => c.id === 'R402+R403-pull-registration')?.exchanges.filter((e) => e.direction === 'sent' && e.body.includes('oadrSignedObject')) ?? [];
  t.assert.ok(sent.length > 0 && sent.every((e) => /<(\w+:)?Signature[\s>]/.test(e.body)), 'the suite signs what it sends');
  const careless = await runVtnSuite({ url: await start(false), transport: 'http-pull', tls, xmlSignature: true, only: ['R514'], caseTimeoutMs: PATIENT.caseTimeoutMs });
  const outcome = Object.fromEntries(careless.cases.map((c) => [c.id, c.outcome]));
  t.assert.deepEqual(outcome, { 'R514-signed-exchange': 'failed', 'R514-unsigned-ignored': 'failed', 'R514-tampered-ignored': 'failed', 'R514-replay-ignored': 'failed' });
  t.assert.ok(careless.cases.every((c) => c.findings.some((f) => f.ruleIds.includes('R514'))));
});
