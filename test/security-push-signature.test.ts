/**
 * R514 in push mode: a VTN configured with `xmlSignature` signs every payload it POSTs to a push
 * VEN with the credential it signs its answers with, afresh on every attempt (a retry after
 * back-off carries a new timestamp and nonce), and acts on a push VEN's answer only when it is
 * signed by the certificate bound to that VEN. Over mutual TLS on loopback, a real push VEN with
 * `xmlSignature: true` registers, receives the pushed oadrRegisterReport and an event, and answers
 * them; the same VEN refuses what a VTN without signatures pushes (403, not acted on).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chainPem, issueServerCertificate, loadCredential, pkiLayout } from '../certs/index.ts';
import { certificateFingerprint, createNonceCache, decodeOadr, encodeOadr, signOadr, verifyOadr, type Payload } from '../oadr/index.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { createVen, type Ven } from '../ven/ven.ts';
import { createVtn, type Vtn } from '../vtn/index.ts';
import { LOOPBACK_PUSH, recordingLogger, registerVen, ven as build } from '../vtn/testing/fake-ven.ts';
import { createPushFetch } from '../vtn/tls/tls.ts';
import { ensureVtnPki, type VtnPki } from '../vtn/tls/pki.ts';
import { until } from './support/until.ts';

const HOUR = 3_600_000;
const REFUSED = 'XML_SIGNATURE_REFUSED';

/** One push as the VTN sent it and as the VEN answered it. */
interface Exchange {
  readonly url: string;
  readonly body: string;
  readonly status: number;
  readonly answer: Buffer;
}

/** Wraps the VTN's push fetch to keep every exchange. */
function recordingFetch(inner: typeof fetch, into: Exchange[]): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const res = await inner(input, init);
    const answer = Buffer.from(await res.arrayBuffer());
    into.push({ url: String(input), body: String(init.body), status: res.status, answer });
    return new Response(res.status === 204 ? null : answer, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

const typeOf = (xml: string | Buffer): Payload['type'] => decodeOadr(xml).payload.type;

/** Verifies as a VEN would, with a replay cache shared by the calls. */
function verifier(): (xml: string | Buffer, signer: string) => ReturnType<typeof verifyOadr> {
  const nonces = createNonceCache();
  return (xml, signer) => verifyOadr(xml, { now: Date.now(), seenNonce: (n, e, at) => nonces.seenNonce(n, e, at), expectedCertificate: signer });
}

interface Rig {
  readonly dir: string;
  readonly pki: VtnPki;
  readonly vtn: Vtn;
  readonly vtnLog: ReturnType<typeof recordingLogger>;
  readonly pushes: Exchange[];
  readonly ven: Ven;
  readonly venId: string;
  readonly venCert: string;
  readonly venWarnings: Array<Record<string, unknown>>;
}

/** A signing VTN over mutual TLS and a real push VEN with signatures on, registered. */
async function rig(t: TestContext): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'security-push-sig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  // A push VEN is a TLS server too: a certificate with serverAuth + clientAuth and loopback names.
  const intDir = pkiLayout.openadrIntermediateCa(pki.dir, 'ecc');
  const issuer = await loadCredential({ certificatePem: readFileSync(join(intDir, 'cert.pem'), 'utf8'), privateKeyPem: readFileSync(join(intDir, 'key.pem'), 'utf8') });
  const cred = await issueServerCertificate({ profile: 'ecc', commonName: 'ven-ecc-push', issuer });
  const venTls = { key: cred.privateKeyPem, cert: chainPem(cred), ca: pki.tls.ca as string };
  const pushes: Exchange[] = [];
  const vtnLog = recordingLogger();
  const vtn = createVtn({
    config: { dataDir: ':memory:', registrationPolicy: 'open', push: { ...LOOPBACK_PUSH, initialBackoffMs: 50, maxBackoffMs: 100 } },
    tls: pki.tls,
    fetch: recordingFetch(createPushFetch({ tls: pki.push }), pushes),
    logger: vtnLog,
    xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key },
  });
  t.after(() => vtn.close());
  const url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  const venWarnings: Rig['venWarnings'] = [];
  const ven = await createVen({
    vtnUrl: url,
    venName: 'ven-ecc-push',
    device: createMemoryDevice(),
    dataDir: join(dir, 'ven'),
    tickMs: 3_600_000,
    tls: venTls,
    xmlSignature: true,
    backoff: { initialMs: 20, capMs: 100 },
    log: { info() {}, debug() {}, warn: (obj: object, msg?: string) => void venWarnings.push({ ...(obj as Record<string, unknown>), msg: msg ?? '' }) },
    push: { host: '127.0.0.1' },
  });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  const venId = ven.status().registration?.venId ?? '';
  t.assert.notEqual(venId, '');
  return { dir, pki, vtn, vtnLog, pushes, ven, venId, venCert: cred.certificatePem, venWarnings };
}

const refusedByVen = (r: Rig): unknown[] => r.venWarnings.filter((w) => w['securityEvent'] === REFUSED).map((w) => w['reason']);

test('R514 VTN push: a push VEN with signatures on accepts the signed oadrRegisterReport and event, and opts in', async (t: TestContext) => {
  const r = await rig(t);
  const { vtn, venId, pushes, pki } = r;
  t.assert.equal(vtn.vens.get(venId)?.httpPullModel, false, 'the VEN registered in push mode');
  const verify = verifier();

  await until('the VTN pushed oadrRegisterReport and the VEN answered 200', () => pushes.some((p) => typeOf(p.body) === 'RegisterReport' && p.status === 200));
  const meta = pushes.find((p) => typeOf(p.body) === 'RegisterReport');
  t.assert.ok(meta !== undefined);
  t.assert.match(meta.url, /\/OpenADR2\/Simple\/2\.0b\/EiReport$/);
  t.assert.equal(verify(meta.body, pki.push.cert).ok, true, 'the push is signed by the VTN certificate');
  // The VEN acted on it: its oadrRegisteredReport in the response body, signed with its own certificate.
  t.assert.equal(typeOf(meta.answer), 'RegisteredReport');
  const answerSig = verify(meta.answer, r.venCert);
  t.assert.equal(answerSig.ok, true);
  t.assert.equal(certificateFingerprint(r.venCert), vtn.vens.get(venId)?.fingerprint, 'signed by the certificate bound to the VEN');

  vtn.events.create({ eventId: 'ev-push-signed', start: Date.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 1500 } });
  await until('the VEN answers oadrCreatedEvent (optIn) to the pushed event', () => vtn.events.get('ev-push-signed')?.vens.find((v) => v.venId === venId)?.optType === 'optIn');
  t.assert.equal(r.ven.status().events.events['ev-push-signed']?.event.signals[0]?.intervals[0]?.value, -1500);
  const event = pushes.find((p) => typeOf(p.body) === 'DistributeEvent');
  t.assert.ok(event !== undefined);
  t.assert.equal(event.status, 200);
  t.assert.equal(verify(event.body, pki.push.cert).ok, true);

  t.assert.deepStrictEqual(refusedByVen(r), [], 'the VEN refused nothing');
  t.assert.deepStrictEqual(r.vtnLog.records.filter((x) => x['securityEvent'] !== undefined), [], 'the VTN refused nothing');
  t.assert.equal(vtn.store.queueDepth(venId), 0);
});

test('R514 VTN push: the same VEN refuses what a VTN without signatures pushes (403, not acted on)', async (t: TestContext) => {
  const r = await rig(t);
  const base = r.ven.pushUrl() ?? '';
  t.assert.match(base, /^https:/);
  // A second VTN, same PKI and push certificate, signatures off, pushing to the same VEN push server.
  const log = recordingLogger();
  const plain = createVtn({
    config: { dataDir: ':memory:', registrationPolicy: 'open', push: { ...LOOPBACK_PUSH, initialBackoffMs: 50, maxBackoffMs: 100 } },
    pushTls: r.pki.push,
    logger: log,
  });
  t.after(() => plain.close());
  const url = await plain.listen({ port: 0, host: '127.0.0.1' });
  const before = refusedByVen(r).length;
  const { venId } = await registerVen(url, 'ven-ecc-push', { pull: false, transportAddress: base });
  plain.events.create({ eventId: 'ev-push-unsigned', start: Date.now() + HOUR, slots: 2, perVenReductionW: { [venId]: 1500 } });
  const dropped = (): unknown[] => log.records.filter((x) => x.level === 'error' && x['status'] === 403).map((x) => x['payload']);
  await until('both pushes are refused and dropped', () => dropped().length === 2);
  t.assert.deepStrictEqual(dropped(), ['RegisterReport', 'DistributeEvent']);
  t.assert.deepStrictEqual(refusedByVen(r).slice(before), ['UNSIGNED', 'UNSIGNED']);
  t.assert.equal(r.ven.status().events.events['ev-push-unsigned'], undefined, 'the unsigned event was not acted on');
  t.assert.equal(plain.events.get('ev-push-unsigned')?.vens.find((v) => v.venId === venId)?.optType, undefined, 'no opt came back');
  t.assert.equal(plain.store.queueDepth(venId), 0);
});

test('R514 VTN push: a retry after back-off is re-signed; an answer is acted on only when signed by the VEN bound certificate', async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'security-push-sig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await ensureVtnPki(join(dir, 'pki'));
  const venDir = pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-ecc');
  const venCert = readFileSync(join(venDir, 'cert.pem'), 'utf8');
  const venKey = readFileSync(join(venDir, 'key.pem'), 'utf8');
  const sent: Array<{ url: string; body: string }> = [];
  // The push target: 503 once, then 200; the answer to oadrCancelPartyRegistration comes from `answer`.
  let answer: (p: Payload) => string = () => '';
  const fake = (async (input: string | URL | Request, init: RequestInit = {}) => {
    sent.push({ url: String(input), body: String(init.body) });
    if (sent.length === 1) return new Response(null, { status: 503 });
    return new Response(answer(decodeOadr(String(init.body)).payload), { status: 200 });
  }) as typeof fetch;
  const log = recordingLogger();
  const vtn = createVtn({
    config: { dataDir: ':memory:', registrationPolicy: 'open', push: { ...LOOPBACK_PUSH, initialBackoffMs: 20, maxBackoffMs: 40 } },
    fetch: fake,
    logger: log,
    xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key },
  });
  t.after(() => vtn.close());
  // Registered as if over mutual TLS with the VEN certificate: the fingerprint is bound (R517).
  const created = vtn.handle(build.create({ venName: 'ven-ecc', pull: false, transportAddress: 'https://ven.test/' }), { peerFingerprint: certificateFingerprint(venCert) });
  t.assert.equal(created.answer.type, 'CreatedPartyRegistration');
  const venId = created.answer.type === 'CreatedPartyRegistration' ? (created.answer.venId ?? '') : '';

  await until('the metadata push succeeds on its second attempt', () => sent.length === 2 && vtn.store.queueDepth(venId) === 0);
  const [first, second] = sent;
  t.assert.ok(first !== undefined && second !== undefined);
  t.assert.equal(first.url, second.url);
  t.assert.notEqual(first.body, second.body, 'the retry is not a replay of the same bytes');
  t.assert.deepStrictEqual(decodeOadr(second.body).payload, decodeOadr(first.body).payload, 'the same payload');
  const verify = verifier();
  const v1 = verify(first.body, pki.push.cert);
  const v2 = verify(second.body, pki.push.cert);
  t.assert.ok(v1.ok && v2.ok, 'both attempts verify with one replay cache: a new nonce each time');
  t.assert.notEqual(v1.nonce, v2.nonce);

  const canceled = (p: Payload): string =>
    p.type === 'CancelPartyRegistration'
      ? encodeOadr({ type: 'CanceledPartyRegistration', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, registrationId: p.registrationId, venId: p.venId ?? '' })
      : '';
  const refused = (): unknown[] => log.records.filter((x) => x['securityEvent'] === REFUSED).map((x) => x['reason']);
  const attempt = async (make: (p: Payload) => string): Promise<void> => {
    answer = make;
    const n = sent.length;
    vtn.vens.cancelRegistration(venId);
    await until('the cancel push is answered', () => sent.length === n + 1 && vtn.store.queueDepth(venId) === 0);
  };

  await attempt(canceled);
  await attempt((p) => signOadr(canceled(p), { certificatePem: pki.push.cert, privateKey: pki.push.key, now: Date.now() }));
  t.assert.deepStrictEqual(refused(), ['UNSIGNED', 'CERT_MISMATCH']);
  t.assert.notEqual(vtn.vens.get(venId), undefined, 'unsigned and foreign-signed answers are not acted on');

  await attempt((p) => signOadr(canceled(p), { certificatePem: venCert, privateKey: venKey, now: Date.now() }));
  await until('the VEN is deleted on its signed oadrCanceledPartyRegistration (R407)', () => vtn.vens.get(venId) === undefined);
  t.assert.deepStrictEqual(refused(), ['UNSIGNED', 'CERT_MISMATCH']);
});
