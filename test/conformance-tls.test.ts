/** The conformance suite over mutual TLS against our VTN (the suite's client certificate, its handshake cases). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pkiLayout } from '../certs/index.ts';
import { createVtn } from '../vtn/index.ts';
import { LOOPBACK_PUSH } from '../vtn/testing/fake-ven.ts';
import { ensureVtnPki } from '../vtn/tls/pki.ts';
import { runVtnSuite, tally } from '../conformance/index.ts';
import { PATIENT } from '../conformance/testing/our-peers.ts';

test('§9.2.1.1+R67 over mutual TLS: the suite presents its client certificate; the TLS cases pass, and the rest pass or are skipped for want of an adapter or a second certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const venDir = pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-rsa');
  const tls = { key: readFileSync(join(venDir, 'key.pem'), 'utf8'), cert: readFileSync(join(venDir, 'chain.pem'), 'utf8'), ca: pki.tls.ca as string };
  const vtn = createVtn({ config: { dataDir: ':memory:', registrationPolicy: 'open', push: LOOPBACK_PUSH }, tls: pki.tls, pushTls: pki.push });
  t.after(() => vtn.close());
  const url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  const run = await runVtnSuite({ url, transport: 'http-pull', tls, deliveryTimeoutMs: PATIENT.deliveryTimeoutMs, caseTimeoutMs: PATIENT.caseTimeoutMs });
  t.assert.deepEqual(run.cases.filter((c) => c.outcome !== 'passed' && c.outcome !== 'skipped').map((c) => `${c.id}: ${c.findings.map((f) => f.message).join('; ')}`), []);
  const tlsCases = run.cases.filter((c) => c.family === 'security');
  t.assert.deepEqual(tlsCases.map((c) => [c.id, c.outcome]), [['§9.2.1.1-no-client-certificate', 'passed'], ['R67-default-suites', 'passed'], ['R67-non-default-suite-refused', 'passed']]);
  for (const c of run.cases.filter((x) => x.outcome === 'skipped')) t.assert.match(c.reason ?? '', /give an adapter|two VENs registered at once|offers no report|no SIMPLE/, `${c.id}: ${c.reason ?? ''}`);
  t.assert.equal(tally(run).passed >= 50, true, `${tally(run).passed} passed`);
  t.assert.match(run.cases.find((c) => c.id === 'R511-query-registration')?.exchanges[0]?.url ?? '', /^https:/);
});
