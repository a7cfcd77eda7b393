/**
 * XML signatures on the VEN side (R514, rules digest 9.6–9.7) against our VTN with `xmlSignature`,
 * over mutual TLS on loopback: the VEN signs everything it sends and verifies everything it
 * receives with the VTN's TLS certificate as the expected signer. A signed exchange works end to
 * end (register, poll, event, oadrCreatedEvent); unsigned, tampered, stale, replayed or
 * wrongly-signed payloads delivered to the VEN's push server are ignored (403, logged, not acted on).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chainPem, issueServerCertificate, loadCredential, pkiLayout } from '../certs/index.ts';
import { encodeOadr, signOadr } from '../oadr/index.ts';
import { buildEvent, distribute } from '../ven/testing/event-builders.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { createHttpTransport } from '../ven/http-transport.ts';
import { VEN_TLS_CIPHERS } from '../ven/tls.ts';
import { createVen, type Ven } from '../ven/ven.ts';
import { createVtn, type Vtn } from '../vtn/index.ts';
import { LOOPBACK_PUSH, ven as build } from '../vtn/testing/fake-ven.ts';
import { ensureVtnPki, type VtnPki } from '../vtn/tls/pki.ts';
import { until } from './support/until.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Rig {
  readonly pki: VtnPki;
  readonly vtn: Vtn;
  readonly url: string;
  readonly ven: Ven;
  readonly venTls: { key: string; cert: string; ca: string };
  readonly warnings: Array<Record<string, unknown> & { msg: string }>;
}

async function rig(t: TestContext, push: boolean): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'security-ven-sig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const ca = pki.tls.ca as string;
  let venTls: Rig['venTls'];
  if (push) {
    // A push VEN is a TLS server too: a certificate with serverAuth + clientAuth and loopback names.
    const intDir = pkiLayout.openadrIntermediateCa(pki.dir, 'ecc');
    const issuer = await loadCredential({ certificatePem: readFileSync(join(intDir, 'cert.pem'), 'utf8'), privateKeyPem: readFileSync(join(intDir, 'key.pem'), 'utf8') });
    const cred = await issueServerCertificate({ profile: 'ecc', commonName: 'ven-ecc-push', issuer });
    venTls = { key: cred.privateKeyPem, cert: chainPem(cred), ca };
  } else {
    const venDir = pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-ecc');
    venTls = { key: readFileSync(join(venDir, 'key.pem'), 'utf8'), cert: readFileSync(join(venDir, 'chain.pem'), 'utf8'), ca };
  }
  const vtn = createVtn({
    config: { dataDir: ':memory:', registrationPolicy: 'open', pollFrequencyMs: 1000, push: { ...LOOPBACK_PUSH, initialBackoffMs: 50, maxBackoffMs: 100 } },
    tls: pki.tls,
    pushTls: pki.push,
    xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key },
  });
  t.after(() => vtn.close());
  const url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  const warnings: Rig['warnings'] = [];
  const log = { info() {}, debug() {}, warn: (obj: object, msg?: string) => void warnings.push({ ...(obj as Record<string, unknown>), msg: msg ?? '' }) };
  const ven = await createVen({
    vtnUrl: url,
    venName: 'ven-ecc',
    device: createMemoryDevice(),
    dataDir: join(dir, 'ven'),
    tickMs: 3_600_000,
    tls: venTls,
    xmlSignature: true,
    backoff: { initialMs: 20, capMs: 100 },
    log,
    ...(push ? { push: { host: '127.0.0.1' } } : {}),
  });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  return { pki, vtn, url, ven, venTls, warnings };
}

test('R514 VEN: signed register, poll, event and oadrCreatedEvent against a VTN that requires signatures', async (t: TestContext) => {
  const { vtn, url, ven, venTls } = await rig(t, false);
  const venId = ven.status().registration?.venId ?? '';
  t.assert.notEqual(venId, '');
  vtn.events.create({ eventId: 'ev-signed', start: Date.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 1200 } });
  ven.session.pollNow();
  await until('the signed oadrCreatedEvent reaches the VTN', () => vtn.events.get('ev-signed')?.vens.find((v) => v.venId === venId)?.optType === 'optIn');
  t.assert.equal(ven.status().events.events['ev-signed']?.event.signals[0]?.intervals[0]?.value, -1200);
  // Control: the same VEN certificate without signatures is refused by this VTN (403).
  const unsigned = createHttpTransport({ vtnUrl: url, tls: venTls });
  t.after(() => unsigned.close());
  await t.assert.rejects(unsigned.request(build.poll(venId)), (err: unknown) => (err as { httpStatus?: number }).httpStatus === 403);
});

/** POSTs a body to the VEN's push server as the VTN's TLS client. */
function pushAsVtn(pki: VtnPki, base: string, service: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${base}OpenADR2/Simple/2.0b/${service}`,
      { method: 'POST', headers: { 'content-type': 'application/xml' }, key: pki.push.key, cert: pki.push.cert, ca: pki.push.ca as string, ciphers: VEN_TLS_CIPHERS, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('R514 VEN push server: unsigned, tampered, stale, replayed and foreign-signed payloads are ignored; a valid one is acted on', async (t: TestContext) => {
  const { pki, vtn, ven, venTls, warnings } = await rig(t, true);
  const base = ven.pushUrl() ?? '';
  t.assert.match(base, /^https:/);
  const vtnId = ven.status().registration?.vtnId ?? '';
  // The VTN signs its own pushes (vtn/http-push.ts, test/security-push-signature.test.ts): its oadrRegisterReport is delivered.
  await until('the VTN push of oadrRegisterReport is delivered', () => vtn.store.queueDepth(ven.status().registration?.venId ?? '') === 0);

  const xml = (id: string, reqId: string): string => encodeOadr(distribute([buildEvent({ id, dtstart: new Date(Date.now() + HOUR).toISOString() })], reqId, vtnId));
  const sign = (body: string, now = Date.now()): string => signOadr(body, { certificatePem: pki.push.cert, privateKey: pki.push.key, now });
  const held = (id: string): boolean => ven.status().events.events[id] !== undefined;
  const refusals = (): unknown[] => warnings.filter((w) => w['securityEvent'] === 'XML_SIGNATURE_REFUSED').map((w) => w['reason']);
  const before = refusals().length;

  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', xml('unsigned', 'rq-u')), 403);
  t.assert.equal(held('unsigned'), false);

  const tampered = sign(xml('tampered', 'rq-t')).replace('<ei:value>-1000</ei:value>', '<ei:value>-9000</ei:value>');
  t.assert.match(tampered, /-9000/, 'the tampering hit the signed value');
  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', tampered), 403);
  t.assert.equal(held('tampered'), false);

  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', sign(xml('stale', 'rq-s'), Date.now() - 10 * MIN)), 403);
  t.assert.equal(held('stale'), false);

  const foreign = signOadr(xml('foreign', 'rq-f'), { certificatePem: venTls.cert, privateKey: venTls.key, now: Date.now() });
  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', foreign), 403, 'the signer must be the TLS peer');
  t.assert.equal(held('foreign'), false);

  const good = sign(xml('good', 'rq-g'));
  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', good), 200);
  t.assert.equal(held('good'), true);

  // Replay: the VEN forgets the event (an empty, signed distribute), then the old payload comes again.
  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', sign(encodeOadr(distribute([], 'rq-empty', vtnId)))), 200);
  await until('the event is cancelled implicitly (R61) and dropped', () => !held('good'));
  t.assert.equal(await pushAsVtn(pki, base, 'EiEvent', good), 403);
  t.assert.equal(held('good'), false, 'the replayed payload did not bring the event back');

  t.assert.deepStrictEqual(refusals().slice(before), ['UNSIGNED', 'BAD_DIGEST', 'STALE_TIMESTAMP', 'CERT_MISMATCH', 'REPLAYED_NONCE']);
});
