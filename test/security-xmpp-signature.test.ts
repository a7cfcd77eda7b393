/**
 * XML signatures (R514) over XMPP, against a real Prosody: a VTN and a real VEN with signatures on
 * sign everything they send in the unprefixed form Prosody forwards unchanged and verify everything
 * they receive. A signed exchange works end to end (register, the pushed event, oadrCreatedEvent),
 * xmlsec1 verifies an answer as it came out of Prosody, and unsigned, tampered, stale, replayed or
 * wrongly-signed payloads get IQ error `forbidden` (HTTP's 403) and change nothing, on either side; an oversized one
 * gets `policy-violation` before its signature is looked at.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { certificateFingerprint, decodeOadr, encodeOadr, NS, signOadr, verifyOadr, type Payload } from '../oadr/index.ts';
import { createVen, type Ven } from '../ven/index.ts';
import { buildEvent, distribute } from '../ven/testing/event-builders.ts';
import { createMemoryDevice } from '../ven/testing/memory-device.ts';
import { createTestClock, recordingLogger, startTestVtn, ven as build } from '../vtn/testing/fake-ven.ts';
import { startXmppRig, type XmppRig } from '../vtn/testing/xmpp-ven.ts';
import { elementXml, NS_OADR_PAYLOAD, OADR_PAYLOAD, payloadElement, XmppStanzaError, type XmppClient } from '../xmpp/index.ts';

type IqHandler = Parameters<XmppClient['onIq']>[3];
import { until } from './support/until.ts';

const HOUR = 3_600_000;
const REFUSED = 'XML_SIGNATURE_REFUSED';
type Credential = Awaited<ReturnType<XmppRig['pki']['client']>>;

/** A Prosody, and a VTN on it that signs with its own certificate and requires signatures (R514). */
async function signingVtn(t: TestContext) {
  const rig = await startXmppRig(t);
  const vtnCred = await rig.pki.client('vtn');
  const vtnClient = await rig.connection('vtn', 'vtn');
  const log = recordingLogger();
  // The clock is today's: the certificates are checked for validity at the signature's time.
  const started = await startTestVtn(t, { bodyLimitBytes: 32 * 1024, push: { initialBackoffMs: 20 } }, { clock: createTestClock(Date.now()), xmpp: vtnClient, logger: log, xmlSignature: { certificatePem: vtnCred.certificatePem, privateKeyPem: vtnCred.privateKeyPem } });
  const refusedByVtn = (): unknown[] => log.records.filter((r) => r['securityEvent'] === REFUSED).map((r) => r['reason']);
  return { ...started, rig, vtnCred, vtnJid: vtnClient.jid() ?? '', log, refusedByVtn };
}

/** A real VEN over XMPP that signs with its own certificate and checks the VTN's signatures, registered. */
async function signingVen(t: TestContext, rig: XmppRig, venName: string, vtnJid: string, clock: () => number) {
  const dir = mkdtempSync(join(tmpdir(), 'xmpp-sig-ven-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venCred = await rig.pki.client(venName);
  const warnings: Array<Record<string, unknown>> = [];
  const ven: Ven = await createVen({
    vtnUrl: 'unused:',
    venName,
    device: createMemoryDevice(undefined, 2000),
    dataDir: dir,
    xmpp: { client: await rig.connection(venName, 'ven'), vtnJid },
    tls: { cert: venCred.certificatePem, key: venCred.privateKeyPem },
    xmlSignature: true,
    clock,
    tickMs: HOUR,
    random: () => 0.5,
    backoff: { initialMs: 50, capMs: 500 },
    log: { info() {}, debug() {}, warn: (obj: object, msg?: string) => void warnings.push({ ...(obj as Record<string, unknown>), msg }) },
  });
  t.after(() => ven.stop());
  await ven.start();
  await ven.session.whenOperational();
  return { ven, venCred, warnings };
}

/** A connected XMPP account that sends raw IQ sets; `onPayload` answers the oadrPayload IQ sets it gets. */
async function account(t: TestContext, rig: XmppRig, local: string, resource = 'x', onPayload?: IqHandler): Promise<XmppClient> {
  const client = await rig.connection(local, resource);
  if (onPayload !== undefined) client.onIq('set', NS_OADR_PAYLOAD, OADR_PAYLOAD, onPayload);
  t.after(() => client.stop());
  await client.start();
  return client;
}

const rejectsWith = (condition: string) => (err: unknown): boolean => err instanceof XmppStanzaError && err.condition === condition;

/** Sends `xml` as the IQ's oadrPayload and returns the answer's text as the receiver reads it. */
async function send(client: XmppClient, to: string, xml: string): Promise<string> {
  const answer = await client.request(to, payloadElement(xml));
  if (answer === undefined) throw new Error('empty IQ result');
  return elementXml(answer);
}

const signed = (xml: string, cred: Credential, now: number): string => signOadr(xml, { certificatePem: cred.certificatePem, privateKey: cred.privateKeyPem, now, form: 'unprefixed' });

test('R514 over XMPP: a signing VEN and a signing VTN register, push and answer an event; the VEN certificate is bound to its venID', async (t) => {
  const { vtn, clock, rig, vtnJid, log, refusedByVtn } = await signingVtn(t);
  const { ven, venCred, warnings } = await signingVen(t, rig, 'house-s', vtnJid, clock.now);
  const venId = ven.status().registration?.venId ?? '';
  t.assert.notEqual(venId, '');
  // R517 over XMPP: the signing certificate is bound as the TLS certificate is over HTTPS.
  t.assert.equal(vtn.vens.get(venId)?.fingerprint, certificateFingerprint(venCred.certificatePem));
  await until('the signed oadrRegisterReport push answered', () => vtn.store.queueDepth(venId) === 0);

  vtn.events.create({ eventId: 'ev-xs', start: clock.now() + HOUR, slots: 1, perVenReductionW: { [venId]: 700 } });
  await until('the signed oadrCreatedEvent reaches the VTN', () => vtn.events.get('ev-xs')?.vens[0]?.optType === 'optIn');
  t.assert.equal(ven.status().events.events['ev-xs']?.event.signals[0]?.intervals[0]?.value, -700);
  t.assert.deepEqual(refusedByVtn(), [], 'the VTN refused nothing');
  t.assert.deepEqual(warnings.filter((w) => w['securityEvent'] !== undefined), [], 'the VEN refused nothing');
  t.assert.deepEqual(log.records.filter((r) => r['securityEvent'] !== undefined), []);

  // Control: the same kind of VEN without signatures is refused by this VTN and nothing is stored.
  const plain = await account(t, rig, 'house-u', 'ven');
  const before = vtn.vens.list().length;
  await t.assert.rejects(send(plain, vtnJid, encodeOadr({ ...build.create({ venName: 'house-u', pull: false, transportAddress: plain.jid() ?? '' }), transportName: 'xmpp' } as Payload)), rejectsWith('forbidden'));
  t.assert.equal(vtn.vens.list().length, before);
  t.assert.deepEqual(refusedByVtn(), ['UNSIGNED']);
});

test('R514 over XMPP, VTN: unsigned, tampered, stale and replayed payloads get forbidden, a foreign signer 463, and nothing changes; push answers count only when signed by the bound certificate; xmlsec1 verifies the answer Prosody delivered', async (t) => {
  const { vtn, clock, rig, vtnJid, vtnCred, refusedByVtn } = await signingVtn(t);
  const cred = await rig.pki.client('house-r');
  // Answers pushes: oadrCanceledPartyRegistration through `answerWith` (which signs it or not), an empty result otherwise.
  let answerWith = (xml: string): string => xml;
  let pushedCancels = 0;
  const house = await account(t, rig, 'house-r', 'ven', ({ child }) => {
    const p = decodeOadr(elementXml(child)).payload;
    if (p.type !== 'CancelPartyRegistration') return undefined;
    pushedCancels++;
    return payloadElement(answerWith(encodeOadr({ type: 'CanceledPartyRegistration', schemaVersion: '2.0b', response: { code: 200, requestId: p.requestId }, registrationId: p.registrationId, venId: p.venId ?? '' })));
  });
  const mallory = await rig.pki.client('mallory');
  const create = encodeOadr({ ...build.create({ venName: 'house-r', pull: false, transportAddress: house.jid() ?? '' }), transportName: 'xmpp' } as Payload);
  const answerText = await send(house, vtnJid, signed(create, cred, clock.now()));
  const v = verifyOadr(answerText, { now: clock.now(), seenNonce: () => false, expectedCertificate: vtnCred.certificatePem });
  t.assert.equal(v.ok, true, 'the VTN signs its answer over XMPP');
  const answer = decodeOadr(answerText).payload;
  assert.ok(answer.type === 'CreatedPartyRegistration' && answer.response.code === 200);
  const venId = answer.venId ?? '';
  const registrationId = answer.registrationId ?? '';

  // xmlsec1 (libxmlsec1) verifies the answer as it came out of Prosody, against the CA.
  const dir = mkdtempSync(join(tmpdir(), 'xmpp-xmlsec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), rig.pki.caPem);
  writeFileSync(join(dir, 'answer.xml'), answerText);
  const xmlsec = spawnSync('xmlsec1', ['--verify', '--trusted-pem', join(dir, 'ca.pem'), '--id-attr:Id', `${NS.oadr}:oadrSignedObject`, join(dir, 'answer.xml')], { encoding: 'utf8' });
  t.assert.equal(xmlsec.status, 0, `xmlsec1 (apt-get install xmlsec1): ${xmlsec.stderr}`);
  t.assert.match(xmlsec.stderr + xmlsec.stdout, /^OK$/m);

  // What must not change: the registration (a cancel that got through would delete it).
  const cancel = encodeOadr(build.cancel(venId, registrationId));
  await t.assert.rejects(send(house, vtnJid, cancel), rejectsWith('forbidden'));
  const tampered = signed(cancel, cred, clock.now()).replace(`>${registrationId}<`, `>${registrationId}x<`);
  t.assert.match(tampered, new RegExp(`${registrationId}x`), 'the tampering hit the signed registrationID');
  await t.assert.rejects(send(house, vtnJid, tampered), rejectsWith('forbidden'));
  await t.assert.rejects(send(house, vtnJid, signed(cancel, cred, clock.now() - 10 * 60_000)), rejectsWith('forbidden'));
  const query = signed(encodeOadr(build.query('rq-once')), cred, clock.now());
  t.assert.equal(decodeOadr(await send(house, vtnJid, query)).payload.type, 'CreatedPartyRegistration');
  await t.assert.rejects(send(house, vtnJid, query), rejectsWith('forbidden'), 'a replayed payload');
  // Validly signed by a certificate bound to no VEN: the binding's refusal (R517), 463 as over HTTPS (tls/binding.ts).
  const foreign = decodeOadr(await send(house, vtnJid, signed(cancel, mallory, clock.now()))).payload;
  assert.ok(foreign.type === 'CanceledPartyRegistration' && foreign.response.code === 463, JSON.stringify(foreign));
  t.assert.notEqual(vtn.vens.get(venId), undefined, 'nothing refused changed the registration');
  // Beyond the body limit: policy-violation before any signature work, as HTTP's 413 comes before its 403.
  const huge = signed(cancel, cred, clock.now()).replace(`>${registrationId}<`, `>${'z'.repeat(32 * 1024)}<`);
  await t.assert.rejects(send(house, vtnJid, huge), rejectsWith('policy-violation'));
  t.assert.deepEqual(refusedByVtn(), ['UNSIGNED', 'BAD_DIGEST', 'STALE_TIMESTAMP', 'REPLAYED_NONCE']);


  // The VEN's answer to a push (oadrCanceledPartyRegistration in the IQ result) counts only when signed by the bound certificate.
  const attempt = async (sign: (xml: string) => string): Promise<void> => {
    answerWith = sign;
    const before = pushedCancels;
    vtn.vens.cancelRegistration(venId);
    await until('the cancel push is answered', () => pushedCancels === before + 1 && vtn.store.queueDepth(venId) === 0);
  };
  await attempt((xml) => xml);
  await attempt((xml) => signed(xml, mallory, clock.now()));
  t.assert.notEqual(vtn.vens.get(venId), undefined, 'unsigned and foreign-signed answers are not acted on');
  t.assert.deepEqual(refusedByVtn().slice(4), ['UNSIGNED', 'CERT_MISMATCH']);
  await attempt((xml) => signed(xml, cred, clock.now()));
  await until('the VEN is deleted on its signed oadrCanceledPartyRegistration (R407)', () => vtn.vens.get(venId) === undefined);
});

test('R514 over XMPP, VEN: pushes from the VTN account that are unsigned, tampered or signed by another certificate get forbidden and are not acted on', async (t) => {
  const { clock, rig, vtnJid, vtnCred } = await signingVtn(t);
  const { ven, warnings } = await signingVen(t, rig, 'house-v', vtnJid, clock.now);
  const vtnId = ven.status().registration?.vtnId ?? '';
  const venJid = 'house-v@localhost/ven';
  // Another session of the VTN's own account passes the VEN's JID check (R515): only the signature stands between it and the VEN.
  const forger = await account(t, rig, 'vtn', 'forger');
  const mallory = await rig.pki.client('mallory');
  const event = (id: string): string => encodeOadr(distribute([buildEvent({ id, dtstart: new Date(clock.now() + HOUR).toISOString() })], `rq-${id}`, vtnId));
  const held = (id: string): boolean => ven.status().events.events[id] !== undefined;
  const push = (xml: string): Promise<unknown> => forger.request(venJid, payloadElement(xml));

  await t.assert.rejects(push(event('unsigned')), rejectsWith('forbidden'));
  await t.assert.rejects(push(signed(event('foreign'), mallory, clock.now())), rejectsWith('forbidden'), 'the VTN certificate of the first accepted signature is the one the VEN expects');
  const tampered = signed(event('tampered'), vtnCred, clock.now()).replace('<value>-1000</value>', '<value>-9000</value>');
  t.assert.match(tampered, /-9000/, 'the tampering hit the signed value');
  await t.assert.rejects(push(tampered), rejectsWith('forbidden'));
  t.assert.deepEqual(['unsigned', 'foreign', 'tampered'].filter(held), []);
  t.assert.deepEqual(warnings.filter((w) => w['securityEvent'] === REFUSED).map((w) => w['reason']), ['UNSIGNED', 'CERT_MISMATCH', 'BAD_DIGEST']);

  await push(signed(event('good'), vtnCred, clock.now()));
  await until('the validly signed event is held', () => held('good'));
});
