/**
 * The bad-input suite (issue 7; rules digest 9 and the security rows of 10): attacks on a running
 * VTN and on a VEN's push server over real TLS on loopback. Each attempt asserts its outcome and
 * that nothing was stored or lost (VTN registrations, customers and queues compared before and
 * after; the push handler not called; the ledger height unchanged). `ROWS` is the table of
 * docs/security.md; the last test checks that every row ran.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import { createRootCa, issueClientCertificate, issueServerCertificate, loadCredential, pkiLayout, revoke, chainPem, type Credential } from '../certs/index.ts';
import { decodeOadr, encodeOadr, signOadr, verifyOadr, type Payload } from '../oadr/index.ts';
import { createAdminToken } from '../vtn/admin/auth.ts';
import { createVtn, type Vtn } from '../vtn/index.ts';
import { ven as build, recordingLogger } from '../vtn/testing/fake-ven.ts';
import { SECURITY_EVENT } from '../vtn/tls/binding.ts';
import { ensureVtnPki, type VtnPki } from '../vtn/tls/pki.ts';
import { createPushServer, type PushServer } from '../ven/http-transport.ts';
import { createTestEmbeddedLedger } from '../ledger-bridge/testing/embedded.ts';
import { addDaysUtc, EVENT_DAY, METER_1, RETAILER_ID } from '../chaincode/testing/reference-scenario.ts';

/** The table in docs/security.md: attempt → expected outcome. */
const ROWS = {
  'wrong-ca': 'handshake refused',
  'self-signed': 'handshake refused',
  expired: 'handshake refused',
  revoked: 'handshake refused',
  'no-client-cert': 'handshake refused',
  'tls-1.0': 'handshake refused',
  'tls-1.1': 'handshake refused',
  'tls-1.3-only': 'handshake refused',
  'other-ciphers-only': 'handshake refused',
  'other-ciphers-first': 'default suite chosen',
  'other-ven-venid': 'oadrResponse 452',
  'unregistered-cert-venid': 'oadrDistributeEvent 463',
  'takeover-by-venname': 'oadrCreatedPartyRegistration 452',
  'preconfigured-venid-other-cert': 'oadrCreatedPartyRegistration 452',
  'second-registration-same-cert': 'oadrCreatedPartyRegistration 452',
  'signed-altered': 'HTTP 403',
  'signed-stripped': 'HTTP 403',
  'signed-replayed-nonce': 'HTTP 403',
  'signed-old-timestamp': 'HTTP 403',
  'signed-by-other-cert': 'HTTP 403',
  xxe: 'HTTP 406',
  'entity-expansion': 'HTTP 406',
  'huge-body': 'HTTP 413',
  'deep-nesting': 'HTTP 406',
  'slow-headers': 'connection closed (408)',
  'slow-body': 'connection closed (408)',
  'admin-no-token': 'HTTP 401',
  'admin-wrong-token': 'HTTP 401',
  'admin-low-role': 'HTTP 403',
  'customer-reads-other-customer': 'ACCESS_DENIED',
  'push-no-client-cert': 'handshake refused',
  'push-wrong-ca': 'handshake refused',
} as const;
type RowId = keyof typeof ROWS;
const seen = new Map<RowId, string>();

/** Assert the outcome of one row and remember it. */
function outcome(id: RowId, got: string): void {
  seen.set(id, got);
  assert.equal(got, ROWS[id], `${id}: expected ${ROWS[id]}, got ${got}`);
}

// ---- fixtures ------------------------------------------------------------------------------------

interface Client {
  readonly key?: string;
  readonly cert?: string;
}
let dir: string;
let pki: VtnPki;
let ca: string;
let venA: Client & { fingerprint: string };
let venB: Client;
let venC: Client; // trusted, never registered
let wrongCa: Client;
let selfSigned: Client;
let expired: Client;
let revoked: Client;
let vtnClient: Client;
let venPushServer: Client; // a server certificate for VEN A's push server (the VEN profile's certificates are clientAuth only)
let vtn: Vtn;
let url: string;
let signedVtn: Vtn;
let signedUrl: string;
let venAId: string;
let venBId: string;
const log = recordingLogger();
const ADMIN_TOKEN = 'operator-token-for-the-security-suite';

const read = (...p: string[]): string => readFileSync(join(...p), 'utf8');
const pair = (c: Credential): Client => ({ key: c.privateKeyPem, cert: chainPem(c) });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'security-suite-'));
  pki = await ensureVtnPki(join(dir, 'pki'));
  ca = pki.tls.ca as string;
  const id = (role: 'ven' | 'vtn', name: string): Client => ({ key: read(pkiLayout.openadrIdentity(pki.dir, role, name), 'key.pem'), cert: read(pkiLayout.openadrIdentity(pki.dir, role, name), 'chain.pem') });
  venA = { ...id('ven', 'ven-ecc'), fingerprint: read(pkiLayout.openadrIdentity(pki.dir, 'ven', 'ven-ecc'), 'fingerprint.txt').trim() };
  venB = id('ven', 'ven-rsa');
  vtnClient = id('vtn', 'vtn-ecc');
  const caDir = (kind: 'root' | 'intermediate', profile: 'rsa' | 'ecc'): string => (kind === 'root' ? pkiLayout.openadrRootCa(pki.dir, profile) : pkiLayout.openadrIntermediateCa(pki.dir, profile));
  const cred = async (d: string): Promise<Credential> => loadCredential({ certificatePem: read(d, 'cert.pem'), privateKeyPem: read(d, 'key.pem') });
  const eccInt = await cred(caDir('intermediate', 'ecc'));
  const eccIntermediate: Credential = { ...eccInt, intermediatesPem: [] };
  const leaf = async (o: Parameters<typeof issueClientCertificate>[0]): Promise<Credential> => issueClientCertificate(o);
  venPushServer = pair(await issueServerCertificate({ profile: 'ecc', commonName: 'ven-a-push', issuer: eccIntermediate }));
  venC = pair(await leaf({ profile: 'ecc', commonName: 'ven-c', issuer: eccIntermediate }));
  const otherRoot = await createRootCa({ profile: 'ecc', commonName: 'Some other root' });
  wrongCa = pair(await leaf({ profile: 'ecc', commonName: 'ven-wrong-ca', issuer: otherRoot }));
  selfSigned = pair(await leaf({ profile: 'ecc', commonName: 'ven-self-signed' }));
  expired = pair(
    await leaf({ profile: 'ecc', commonName: 'ven-expired', issuer: eccIntermediate, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }),
  );
  const revokedCred = await leaf({ profile: 'ecc', commonName: 'ven-revoked', issuer: eccIntermediate });
  revoked = pair(revokedCred);
  // One CRL per CA of every chain (docs/certs.md); the ECC intermediate's lists the revoked VEN.
  const crls = [
    await revoke({ issuer: await cred(caDir('root', 'rsa')), certificates: [] }),
    await revoke({ issuer: await cred(caDir('intermediate', 'rsa')), certificates: [] }),
    await revoke({ issuer: await cred(caDir('root', 'ecc')), certificates: [] }),
    await revoke({ issuer: eccIntermediate, certificates: [revokedCred.certificatePem] }),
  ];
  const ledgerless = { dataDir: ':memory:', registrationPolicy: 'open' as const, bodyLimitBytes: 65_536 };
  vtn = createVtn({ config: ledgerless, tls: { ...pki.tls, crl: crls }, pushTls: pki.push, adminToken: ADMIN_TOKEN, logger: log, timeouts: { requestTimeoutMs: 1500, headersTimeoutMs: 1000 } });
  url = await vtn.listen({ port: 0, host: '127.0.0.1' });
  signedVtn = createVtn({ config: ledgerless, tls: pki.tls, xmlSignature: { certificatePem: pki.push.cert, privateKeyPem: pki.push.key } });
  signedUrl = await signedVtn.listen({ port: 0, host: '127.0.0.1' });
  venAId = await register(url, venA, 'ven-a');
  venBId = await register(url, venB, 'ven-b');
});

after(async () => {
  await vtn?.close();
  await signedVtn?.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---- helpers -------------------------------------------------------------------------------------

interface Answer {
  readonly status?: number;
  readonly body?: Buffer;
  readonly refused?: string;
  readonly cipher?: string;
}

function send(base: string, path: string, body: string | Buffer, client: Client, extra: tls.ConnectionOptions & { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const { method, headers, ...tlsExtra } = extra;
  return new Promise((resolve) => {
    const req = httpsRequest(
      `${base}${path}`,
      { method: method ?? 'POST', headers: { 'content-type': 'application/xml', ...headers }, ca, agent: false, ...client, ...tlsExtra },
      (res) => {
        const chunks: Buffer[] = [];
        const cipher = (res.socket as tls.TLSSocket).getCipher?.()?.name;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ...(cipher === undefined ? {} : { cipher }) }));
        res.on('error', (e) => resolve({ refused: e.message }));
      },
    );
    req.on('error', (e: Error & { code?: string }) => resolve({ refused: e.code ?? e.message }));
    req.end(body);
  });
}

const oadr = (base: string, service: string, payload: Payload | string, client: Client, extra: Parameters<typeof send>[4] = {}): Promise<Answer> =>
  send(base, `/OpenADR2/Simple/2.0b/${service}`, typeof payload === 'string' ? payload : encodeOadr(payload), client, extra);

function decoded(a: Answer): Payload {
  assert.equal(a.status, 200, `HTTP ${String(a.status)} ${a.refused ?? ''}`);
  return decodeOadr(a.body ?? Buffer.alloc(0)).payload;
}

function codeOf(p: Payload): number {
  if (p.type === 'DistributeEvent' && p.response !== undefined) return p.response.code;
  if ('response' in p && p.response !== undefined) return (p.response as { code: number }).code;
  throw new Error(`${p.type} has no response`);
}

const oadrOutcome = (a: Answer): string => {
  if (a.refused !== undefined) return 'handshake refused';
  if (a.status !== 200) return `HTTP ${String(a.status)}`;
  const p = decoded(a);
  return `oadr${p.type} ${codeOf(p)}`;
};

async function register(base: string, client: Client, venName: string): Promise<string> {
  const p = decoded(await oadr(base, 'EiRegisterParty', build.create({ venName }), client));
  assert.equal(p.type, 'CreatedPartyRegistration');
  assert.equal(codeOf(p), 200);
  return (p as { venId: string }).venId;
}

/** What an attack must not change. */
function snapshot(v: Vtn): string {
  const regs = v.store.listRegistrations();
  return JSON.stringify({ regs, customers: v.store.listCustomers(), queues: regs.map((r) => v.store.queueDepth(r.venId)) });
}

async function unchanged(v: Vtn, attack: () => Promise<void>): Promise<void> {
  const before = snapshot(v);
  await attack();
  assert.equal(snapshot(v), before, 'the attempt changed the VTN state');
}

// ---- TLS: certificates, versions, suites (R67, R516, §9.2.1.1) ------------------------------------

test('R67 control: VEN A with its certificate polls over TLS 1.2 with a default suite', async () => {
  const a = await oadr(url, 'OadrPoll', build.poll(venAId), venA);
  assert.equal(a.status, 200);
  assert.ok(['ECDHE-ECDSA-AES128-SHA256', 'AES128-SHA256'].includes(a.cipher ?? ''), a.cipher);
});

test('§9.2.1.1, R516: wrong CA, self-signed, expired, revoked and no client certificate end the handshake', async () => {
  const cases: Array<[RowId, Client]> = [
    ['wrong-ca', wrongCa],
    ['self-signed', selfSigned],
    ['expired', expired],
    ['revoked', revoked],
    ['no-client-cert', {}],
  ];
  for (const [id, client] of cases) {
    await unchanged(vtn, async () => outcome(id, oadrOutcome(await oadr(url, 'EiRegisterParty', build.create({ venName: `attacker-${id}` }), client))));
  }
});

test('R67: TLS 1.0, 1.1, 1.3-only and clients without a default suite are refused; with other suites first the server picks a default one', async () => {
  const poll = build.poll(venAId);
  const old = { ciphers: 'DEFAULT@SECLEVEL=0' };
  await unchanged(vtn, async () => {
    outcome('tls-1.0', oadrOutcome(await oadr(url, 'OadrPoll', poll, venA, { ...old, minVersion: 'TLSv1', maxVersion: 'TLSv1' })));
    outcome('tls-1.1', oadrOutcome(await oadr(url, 'OadrPoll', poll, venA, { ...old, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' })));
    outcome('tls-1.3-only', oadrOutcome(await oadr(url, 'OadrPoll', poll, venA, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })));
    outcome('other-ciphers-only', oadrOutcome(await oadr(url, 'OadrPoll', poll, venA, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305' })));
  });
  const mixed = await oadr(url, 'OadrPoll', build.requestEvent(venAId), venA, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:AES128-SHA256:ECDHE-ECDSA-AES128-SHA256' });
  outcome('other-ciphers-first', mixed.status !== undefined && ['ECDHE-ECDSA-AES128-SHA256', 'AES128-SHA256'].includes(mixed.cipher ?? '') ? 'default suite chosen' : `${mixed.cipher ?? mixed.refused}`);
});

// ---- venID ↔ certificate binding (R517, R400, §10.5.1) -------------------------------------------

test('R517: the certificate of VEN B with VEN A\'s venID gets 452; a trusted unregistered certificate gets 463; both logged, nothing changed', async () => {
  await unchanged(vtn, async () => {
    outcome('other-ven-venid', oadrOutcome(await oadr(url, 'OadrPoll', build.poll(venAId), venB)));
    outcome('unregistered-cert-venid', oadrOutcome(await oadr(url, 'EiEvent', build.requestEvent(venAId), venC)));
  });
  const reg = vtn.store.getRegistration(venAId);
  assert.equal(reg?.fingerprint, venA.fingerprint, 'the registration is bound to the certificate it came with');
  const events = log.records.filter((r) => r.securityEvent === SECURITY_EVENT.venIdMismatch && r.venId === venAId);
  assert.deepEqual(events.map((r) => r.responseCode), [452, 463]);
});

test('R400, §10.5.1: venID spoofing at registration — a venName, a venID or a second VEN for a bound certificate — gets 452', async () => {
  await unchanged(vtn, async () => {
    outcome('takeover-by-venname', oadrOutcome(await oadr(url, 'EiRegisterParty', build.create({ venName: 'ven-a' }), venC)));
    outcome('preconfigured-venid-other-cert', oadrOutcome(await oadr(url, 'EiRegisterParty', build.create({ venId: venBId, venName: 'ven-b' }), venA)));
    outcome('second-registration-same-cert', oadrOutcome(await oadr(url, 'EiRegisterParty', build.create({ venName: 'ven-a2' }), venA)));
  });
  // The owner still re-registers with its IDs.
  const reg = vtn.store.getRegistration(venAId);
  const again = decoded(await oadr(url, 'EiRegisterParty', build.create({ venName: 'ven-a', venId: venAId, registrationId: reg?.registrationId ?? '' }), venA));
  assert.equal(codeOf(again), 200);
});

// ---- XML signatures (R514) ------------------------------------------------------------------------

test('R514: with signatures configured, altered, stripped, replayed, stale and foreign-signed payloads are ignored (403)', async () => {
  const venAId2 = await (async () => {
    const signed = signOadr(encodeOadr(build.create({ venName: 'ven-a' })), { certificatePem: venA.cert ?? '', privateKey: venA.key ?? '', now: Date.now() });
    const p = decoded(await oadr(signedUrl, 'EiRegisterParty', signed, venA));
    assert.equal(codeOf(p), 200);
    return (p as { venId: string }).venId;
  })();
  const sign = (p: Payload, o: { now?: number; nonce?: string; by?: Client } = {}): string =>
    signOadr(encodeOadr(p), { certificatePem: (o.by ?? venA).cert ?? '', privateKey: (o.by ?? venA).key ?? '', now: o.now ?? Date.now(), ...(o.nonce === undefined ? {} : { nonce: o.nonce }) });
  // Control: a signed poll is answered, and the answer is signed by the VTN.
  const ok = await oadr(signedUrl, 'OadrPoll', sign(build.poll(venAId2)), venA);
  assert.equal(ok.status, 200);
  const v = verifyOadr(ok.body ?? Buffer.alloc(0), { now: Date.now(), seenNonce: () => false });
  assert.equal(v.ok, true, v.ok ? '' : v.message);
  await unchanged(signedVtn, async () => {
    const altered = sign(build.requestEvent(venAId2, 5)).replace('replyLimit>5</', 'replyLimit>6</');
    assert.match(altered, /replyLimit>6</);
    outcome('signed-altered', oadrOutcome(await oadr(signedUrl, 'EiEvent', altered, venA)));
    outcome('signed-stripped', oadrOutcome(await oadr(signedUrl, 'OadrPoll', build.poll(venAId2), venA)));
    const once = sign(build.requestEvent(venAId2), { nonce: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' });
    assert.equal((await oadr(signedUrl, 'EiEvent', once, venA)).status, 200);
    outcome('signed-replayed-nonce', oadrOutcome(await oadr(signedUrl, 'EiEvent', once, venA)));
    outcome('signed-old-timestamp', oadrOutcome(await oadr(signedUrl, 'EiEvent', sign(build.requestEvent(venAId2), { now: Date.now() - 3_600_000 }), venA)));
    outcome('signed-by-other-cert', oadrOutcome(await oadr(signedUrl, 'EiEvent', sign(build.requestEvent(venAId2), { by: venB }), venA)));
  });
});

// ---- the parser: XXE, entity expansion, size, depth ----------------------------------------------

test('§9.1.5: XXE, entity expansion and deep nesting get 406, a huge body 413; nothing is read or stored', async () => {
  const poll = encodeOadr(build.poll(venAId));
  const decl = '<?xml version="1.0" encoding="UTF-8"?>';
  const body = poll.startsWith(decl) ? poll.slice(decl.length) : poll;
  const xxe = `${decl}<!DOCTYPE oadr:oadrPayload [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${body.replace(`>${venAId}<`, '>&xxe;<')}`;
  const lol = `${decl}<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>${body.replace(`>${venAId}<`, '>&d;<')}`;
  const deep = poll.replace('</oadr:oadrPayload>', `${'<x>'.repeat(5000)}${'</x>'.repeat(5000)}</oadr:oadrPayload>`);
  const huge = poll.replace('</oadr:oadrPayload>', `<!--${'x'.repeat(200_000)}--></oadr:oadrPayload>`);
  await unchanged(vtn, async () => {
    outcome('xxe', oadrOutcome(await oadr(url, 'OadrPoll', xxe, venA)));
    outcome('entity-expansion', oadrOutcome(await oadr(url, 'OadrPoll', lol, venA)));
    outcome('deep-nesting', oadrOutcome(await oadr(url, 'OadrPoll', deep, venA)));
    outcome('huge-body', oadrOutcome(await oadr(url, 'OadrPoll', huge, venA)));
  });
});

// ---- slow clients (server timeouts) ---------------------------------------------------------------

/** Open a TLS connection as VEN A, write `first`, then stall; resolves with what the server sent before closing. */
function stall(first: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: Number(port), ca, key: venA.key, cert: venA.cert, servername: 'localhost' }, () => s.write(first));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('slow-loris: headers or a body that never finish are cut by the server (408, connection closed)', async () => {
  await unchanged(vtn, async () => {
    const headers = await stall('POST /OpenADR2/Simple/2.0b/OadrPoll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n');
    outcome('slow-headers', /^HTTP\/1\.1 408/.test(headers) || headers === '' ? 'connection closed (408)' : headers.slice(0, 40));
    const body = await stall('POST /OpenADR2/Simple/2.0b/OadrPoll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n<oadr:oadrPayload');
    outcome('slow-body', /^HTTP\/1\.1 408/.test(body) ? 'connection closed (408)' : body.slice(0, 40));
  });
});

// ---- the admin API over TLS ------------------------------------------------------------------------

test('admin API over TLS (shared port, a trusted client certificate): no token and a wrong token get 401, a read-only token 403 for an operator action', async () => {
  const { token } = createAdminToken(vtn.store, { role: 'read-only', name: 'viewer', tokenId: 'viewer', now: Date.now() });
  const before = snapshot(vtn);
  const tokens = vtn.store.listAdminTokens().length;
  const admin = (auth?: string): Promise<Answer> =>
    send(url, '/api/v1/tokens', JSON.stringify({ role: 'operator', name: 'mine' }), venA, { headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }) } });
  const status = (a: Answer): string => (a.status === undefined ? `refused ${a.refused ?? ''}` : `HTTP ${a.status}`);
  outcome('admin-no-token', status(await admin()));
  outcome('admin-wrong-token', status(await admin('oadr_not-a-token')));
  outcome('admin-low-role', status(await admin(token)));
  assert.equal(vtn.store.listAdminTokens().length, tokens);
  assert.equal(snapshot(vtn), before);
  // Control: the operator token works. On the shared port every client, admin ones too, presents a certificate of the PKI.
  const ok = await send(url, '/api/v1/vens', '', venA, { method: 'GET', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(ok.status, 200);
});

// ---- the ledger: a customer's Fabric identity ------------------------------------------------------

test('ledger: customer 2 reading customer 1\'s meter is refused by the contract (ACCESS_DENIED); no block is written', async (t) => {
  const l = await createTestEmbeddedLedger();
  t.after(() => l.close());
  l.setTime(new Date(`${addDaysUtc(EVENT_DAY, -40)}T00:00:00Z`));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', [RETAILER_ID]);
  await l.ledger.submit(l.identities.retailer, 'enrolMeter', [METER_1]);
  const height = await l.ledger.height();
  // Control: the owner reads it.
  assert.ok((await l.ledger.evaluate(l.identities.customer1, 'queryMeter', [METER_1])).length > 0);
  let code = 'read';
  try {
    await l.ledger.evaluate(l.identities.customer2, 'queryMeter', [METER_1]);
  } catch (err) {
    code = String((err as { contractCode?: string }).contractCode);
  }
  outcome('customer-reads-other-customer', code);
  assert.equal(await l.ledger.height(), height);
});

// ---- the VEN's push server -------------------------------------------------------------------------

test('VEN push server (HTTPS): without a client certificate or with a wrong-CA one the handshake ends; the VTN\'s certificate is accepted', async (t) => {
  let handled = 0;
  const server: PushServer = await createPushServer({ tls: { key: venPushServer.key, cert: venPushServer.cert, ca }, handle: async () => ((handled += 1), undefined) });
  t.after(() => server.close());
  const base = server.url.replace(/\/$/, '');
  const push = encodeOadr({ type: 'RequestReregistration', schemaVersion: '2.0b', venId: venAId });
  outcome('push-no-client-cert', oadrOutcome(await oadr(base, 'EiRegisterParty', push, {})));
  outcome('push-wrong-ca', oadrOutcome(await oadr(base, 'EiRegisterParty', push, wrongCa)));
  assert.equal(handled, 0);
  const ok = await oadr(base, 'EiRegisterParty', push, vtnClient);
  assert.equal(ok.status, 200, ok.refused);
  assert.equal(handled, 1);
});

test('every attempt of the table ran', () => {
  assert.deepEqual([...seen.keys()].sort(), (Object.keys(ROWS) as RowId[]).sort());
  assert.equal(seen.size, 32);
});
