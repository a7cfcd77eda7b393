/** VTN side: OadrPoll (R500), the HTTP rules (§9.1, R53, R511), 2.0a (R506) and security (§9.2, R67). */
import { connect, type TLSSocket } from 'node:tls';
import { encodeOadr, type Payload } from '../../oadr/index.ts';
import { build, delivered, drain, expectPayload, issueEvent, pollOnce, register, send, type AsVen, type OadrAnswer } from '../as-ven.ts';
import type { Signer } from '../signature.ts';
import { defineCase, PeerMisbehaved, type CaseSpec } from '../runner.ts';
import { ALL_TRANSPORTS, HTTP_TRANSPORTS, type Family } from '../case.ts';
import type { TlsMaterial } from '../http-recorder.ts';

const c = (family: Family, only?: CaseSpec<AsVen>['transports']) => (id: string, title: string, run: CaseSpec<AsVen>['run'], transports = only): CaseSpec<AsVen> => defineCase(id, title, family, run, transports);
const poll = c('poll');
// HTTP's own rules (methods, headers, status codes, URLs), the TLS of the VTN's HTTPS endpoint and the
// 2.0a endpoint: not over XMPP, where the runner reports them skipped with the reason.
const general = c('general', HTTP_TRANSPORTS);
const security = c('security', HTTP_TRANSPORTS);
const a20 = c('2.0a', HTTP_TRANSPORTS);

/** A valid payload of a registered VEN, to send with odd HTTP. */
async function validPoll(ctx: AsVen, t: Parameters<CaseSpec<AsVen>['run']>[1]): Promise<{ venId: string; xml: string }> {
  const ven = await register(ctx, t, { pull: true, metadata: false });
  return { venId: ven.venId, xml: encodeOadr(build.poll(ven.venId)) };
}

export const vtnPollCases: readonly CaseSpec<AsVen>[] = [
  poll('R500-empty-queue', 'oadrPoll on an empty queue gets oadrResponse 200', async (ctx, t) => {
    const ven = await register(ctx, t, { pull: true });
    await drain(ctx, ven);
    const a = expectPayload(await send(ctx, 'OadrPoll', build.poll(ven.venId)), 'Response', 'oadrPoll on an empty queue');
    t.check(a.response.code === 200, 'the empty-queue answer is not 200', { actual: String(a.response.code) });
  }),
  poll('R500-one-payload-per-poll', 'queued payloads come one per poll, in order, then oadrResponse', async (ctx, t) => {
    const ven = await register(ctx, t, { pull: true, metadata: false });
    const first = await pollOnce(ctx, ven);
    t.check(first?.type === 'RegisterReport', 'the first poll after registration did not deliver the VTN metadata (R309)', { actual: first?.type ?? 'oadrResponse', ruleIds: ['R500', 'R309'] });
    const rest = await drain(ctx, ven);
    t.check(rest.length < 20, 'the queue never empties');
  }, ['http-pull']),
  poll('R500-event-then-empty', 'an issued event comes in one poll, the next poll gets oadrResponse', async (ctx, t) => {
    const ven = await register(ctx, t, { pull: true });
    await drain(ctx, ven);
    await issueEvent(ctx, t, ven);
    const again = await pollOnce(ctx, ven);
    t.check(again === undefined || again.type !== 'DistributeEvent', 'the same oadrDistributeEvent was delivered twice in a row (R502)', { ruleIds: ['R500', 'R502'] });
  }, ['http-pull']),
  poll('§9.1.9.2+§9.1.9.3-gzip', 'oadrPoll with Accept-Encoding: gzip gets a gzip-encoded answer', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'OadrPoll', xml, { headers: { 'accept-encoding': 'gzip' } });
    t.check(a.status === 200, 'the poll with Accept-Encoding gzip failed', { actual: `HTTP ${a.status}` });
    t.check(a.headers['content-encoding'] === 'gzip', 'the answer is not gzip-encoded though the VEN accepts gzip', { expected: 'Content-Encoding: gzip', actual: a.headers['content-encoding'] ?? 'none' });
    t.check(a.payload !== undefined, 'the gzipped body is not an OpenADR payload');
  }, HTTP_TRANSPORTS),
  poll('§9.1.9.3-push-not-compressed', 'payloads pushed to a push VEN carry no Content-Encoding', async (ctx, t) => {
    const ven = await register(ctx, t, { pull: false });
    await delivered(ctx, t, ven, 'RegisterReport');
    const pushed = ctx.inbox.received.filter((r) => r.venName === ven.name);
    t.check(pushed.every((r) => r.headers['content-encoding'] === undefined), 'a push request carries Content-Encoding');
  }, ['http-push']),
  poll('R501-push-ven-polls', 'a push VEN that polls is answered (oadrResponse), not served its pushed payloads twice', async (ctx, t) => {
    const ven = await register(ctx, t, { pull: false });
    const a = await send(ctx, 'OadrPoll', build.poll(ven.venId));
    t.check(a.status === 200 && a.payload !== undefined, 'an oadrPoll from a push VEN got no OpenADR answer', { actual: `HTTP ${a.status}` });
  }, ['http-push']),
];

export const vtnGeneralCases: readonly CaseSpec<AsVen>[] = [
  general('§9.1.3-get-501', 'GET on the EiEvent endpoint gets 501', async (ctx, t) => {
    const a = await send(ctx, 'EiEvent', '', { method: 'GET' });
    t.check(a.status === 501, 'GET is not refused with 501', { expected: '501', actual: String(a.status) });
  }),
  general('R511-unknown-service-404', 'POST to …/2.0b/EiUnknown gets 404', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'EiUnknown', xml);
    t.check(a.status === 404, 'an unknown service is not 404', { expected: '404', actual: String(a.status) });
  }),
  general('R511-wrong-service-404', 'a payload posted to the wrong service (oadrPoll to EiEvent) gets 404', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'EiEvent', xml);
    t.check(a.status === 404, 'a payload at the wrong service is not 404', { expected: '404', actual: String(a.status) });
  }),
  general('§9.1.5-xsd-invalid-406', 'an oadrCreatedEvent that does not validate against the schema gets 406', async (ctx, t) => {
    const ven = await register(ctx, t, { metadata: false });
    const xml = encodeOadr(build.createdEvent(ven.venId, [{ eventId: 'e', modificationNumber: 0, requestId: 'r' }])).replace(/<ei:modificationNumber>0</, '<ei:modificationNumber>abc<');
    const a = await send(ctx, 'EiEvent', xml);
    t.check(a.status === 406 || a.status === 400, 'a schema-invalid payload is not refused with 406', { expected: '406 (400 tolerated)', actual: String(a.status) });
  }),
  general('§9.1.5-text-plain-406', 'a valid payload sent as Content-Type text/plain gets 406', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'OadrPoll', xml, { headers: { 'content-type': 'text/plain' } });
    t.check(a.status === 406, 'Content-Type text/plain is not refused with 406', { expected: '406', actual: String(a.status) });
  }),
  general('§9.1.5-not-xml', 'a body that is not XML gets 406 (or 400), not 500', async (ctx, t) => {
    const a = await send(ctx, 'OadrPoll', 'this is not XML');
    t.check(a.status === 406 || a.status === 400, 'a body that is not XML is not refused with 406', { expected: '406 (400 tolerated)', actual: String(a.status) });
  }),
  general('§9.1.9.5-charset', 'application/xml; charset=utf-8 with Accept: application/xml is served, with Content-Type application/xml', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'OadrPoll', xml, { headers: { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml' } });
    t.check(a.status === 200, 'a request with charset=utf-8 was refused', { actual: String(a.status) });
    const type = (a.headers['content-type'] ?? '').toLowerCase().replace(/\s+/g, '');
    t.check(type === 'application/xml' || type === 'application/xml;charset=utf-8', 'the answer has another Content-Type', { expected: 'application/xml[; charset=utf-8]', actual: a.headers['content-type'] ?? 'none' });
  }),
  general('§9.1.9.4+R53-content-length', 'answers carry Content-Length and no chunked transfer encoding', async (ctx, t) => {
    const { xml } = await validPoll(ctx, t);
    const a = await send(ctx, 'OadrPoll', xml);
    t.check(a.headers['content-length'] !== undefined, 'the answer has no Content-Length');
    t.check(!/chunked/i.test(a.headers['transfer-encoding'] ?? ''), 'the answer is chunked');
  }),
  general('R509-schema-version', 'answers carry ei:schemaVersion="2.0b" on the payload element', async (ctx, t) => {
    const a = await send(ctx, 'EiRegisterParty', build.query());
    t.check(/schemaVersion="2\.0b"/.test(a.body), 'the answer has no schemaVersion 2.0b');
  }, ALL_TRANSPORTS),
  general('R46-empty-optional-elements', 'an oadrCreatePartyRegistration with an empty oadrVenName is accepted (empty equals absent)', async (ctx, t) => {
    const xml = encodeOadr(build.create({ name: 'x', pull: true })).replace(/<oadr:oadrVenName>x<\/oadr:oadrVenName>/, '<oadr:oadrVenName></oadr:oadrVenName>');
    const a = expectPayload(await send(ctx, 'EiRegisterParty', xml), 'CreatedPartyRegistration', 'registration with an empty oadrVenName');
    t.check(a.response.code === 200 || (a.response.code >= 400 && a.response.code < 500), 'no response code');
  }, ALL_TRANSPORTS),
];

export const vtn20aCases: readonly CaseSpec<AsVen>[] = [
  a20('R506-20a-endpoint', 'a 2.0a oadrRequestEvent at …/OpenADR2/Simple/EiEvent is answered in 2.0a (no schemaVersion, 2.0a namespace)', async (ctx, t) => {
    const p: Payload = { type: 'RequestEvent', requestId: 'r20a', venId: `${ctx.venName}-20a-unknown` };
    const a = await send(ctx, 'EiEvent', p, { profile: '2.0a' });
    if (a.status === 404) t.skip('the VTN does not offer 2.0a (404 at …/OpenADR2/Simple/EiEvent)');
    t.check(a.status === 200 && a.profile === '2.0a', 'the answer at the 2.0a endpoint is not a 2.0a document', { actual: a.profile ?? `HTTP ${a.status}` });
    t.check(!/schemaVersion/.test(a.body), 'a 2.0a answer carries schemaVersion (§7.1)');
  }),
  a20('R506-20b-at-20a-endpoint', 'a 2.0b payload at the 2.0a endpoint is refused (4xx)', async (ctx, t) => {
    const ven = await register(ctx, t, { metadata: false });
    const a = await send(ctx, 'EiEvent', build.requestEvent(ven.venId), { url: `${ctx.vtnUrl}/OpenADR2/Simple/EiEvent` });
    if (a.status === 404) t.skip('the VTN does not offer 2.0a (404 at …/OpenADR2/Simple/EiEvent)');
    t.check(a.status >= 400 && a.status < 500, 'a 2.0b payload was served at the 2.0a URL', { actual: String(a.status) });
  }),
];

interface Handshake {
  readonly ok: boolean;
  readonly socket?: TLSSocket;
  readonly error?: string;
  /** The HTTP status of the answer to what was sent after the handshake. */
  readonly status?: number;
  /** The VTN's certificate validity, as it presented it. */
  readonly validFrom?: string;
  readonly validTo?: string;
}

interface HandshakeOptions {
  readonly withCertificate: boolean;
  readonly ciphers?: string;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Another client certificate and key than the suite's (R516: an expired one). */
  readonly client?: { readonly cert: string; readonly key: string };
  /** Send oadrQueryRegistration (instead of GET /healthz) once connected, to see whether the VTN serves OpenADR. */
  readonly openadr?: boolean;
  /** Complete the handshake whatever the VTN's certificate (to read its validity, R516). */
  readonly anyServerCertificate?: boolean;
}

/** The TLS handshake the suite can make, for the security cases; skipped over plain HTTP. */
function handshake(ctx: AsVen, o: HandshakeOptions, tls: TlsMaterial): Promise<Handshake> {
  const url = new URL(ctx.vtnUrl);
  const client = o.client ?? tls;
  return new Promise((resolve) => {
    const s = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$/.test(url.hostname) ? undefined : url.hostname,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(o.withCertificate ? { cert: client.cert, key: client.key } : {}),
      ...(o.ciphers === undefined ? {} : { ciphers: o.ciphers }),
      minVersion: 'TLSv1.2',
      maxVersion: o.maxVersion ?? 'TLSv1.2',
      rejectUnauthorized: tls.ca !== undefined && o.anyServerCertificate !== true,
    });
    let validity: Pick<Handshake, 'validFrom' | 'validTo'> = {};
    const done = (r: Handshake): void => {
      s.destroy();
      resolve({ ...r, ...validity });
    };
    s.setTimeout(5000, () => done({ ok: false, error: 'time-out' }));
    s.once('secureConnect', () => {
      const peer = s.getPeerCertificate();
      validity = { validFrom: peer.valid_from, validTo: peer.valid_to };
      // A server that ends the handshake over a missing certificate (TLS 1.3) closes right after it.
      if (o.openadr === true) {
        const body = encodeOadr(build.query());
        s.write(`POST ${url.pathname.replace(/\/+$/, '')}/OpenADR2/Simple/2.0b/EiRegisterParty HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      s.once('data', (chunk: Buffer) => done({ ok: true, socket: s, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? Number.NaN) }));
      s.once('error', (err) => done({ ok: false, error: err.message }));
      s.once('close', () => done({ ok: false, error: 'closed after the handshake' }));
    });
    s.once('error', (err) => done({ ok: false, error: err.message }));
  });
}

const needSigning = (ctx: AsVen, t: Parameters<CaseSpec<AsVen>['run']>[1]): Signer => {
  if (ctx.signer === undefined) t.skip('the suite signs nothing: give --xml-signature (with --cert and --key) to check a VTN that requires XML signatures (R514)');
  return ctx.signer;
};

/** R514: a payload without a valid signature gets no OpenADR answer (403 is what HTTP says for it). */
function notServed(t: Parameters<CaseSpec<AsVen>['run']>[1], a: OadrAnswer, what: string): void {
  t.check(a.status !== 200 || a.payload === undefined, `the VTN answered ${what} as if it were validly signed`, { expected: 'HTTP 403 and no OpenADR payload', actual: `HTTP ${a.status}${a.payload === undefined ? '' : `, oadr${a.payload.type}`}` });
}

const needTls = (ctx: AsVen, t: Parameters<CaseSpec<AsVen>['run']>[1]): TlsMaterial => {
  if (!ctx.vtnUrl.startsWith('https:') || ctx.tls === undefined) t.skip('the VTN is reached over plain HTTP or without --cert/--key/--ca: TLS cannot be checked');
  return ctx.tls;
};

/** Security cases: they need https and the suite's TLS material. */
export const vtnSecurityCases: readonly CaseSpec<AsVen>[] = [
    security('§9.2.1.1-no-client-certificate', 'a client without a certificate is refused at the handshake (or with 403)', async (ctx, t) => {
      const r = await handshake(ctx, { withCertificate: false }, needTls(ctx, t));
      t.check(!r.ok, 'a client without a certificate was served');
    }),
    security('R67-default-suites', 'TLS 1.2 handshakes succeed offering only one of the default cipher suites', async (ctx, t) => {
      const tls = needTls(ctx, t);
      const ecc = await handshake(ctx, { withCertificate: true, ciphers: 'ECDHE-ECDSA-AES128-SHA256' }, tls);
      const rsa = await handshake(ctx, { withCertificate: true, ciphers: 'AES128-SHA256' }, tls);
      t.check(ecc.ok || rsa.ok, 'neither default suite is accepted', { actual: `${ecc.error ?? 'ok'} / ${rsa.error ?? 'ok'}` });
      t.check(ecc.ok && rsa.ok, 'a VTN server supports both default suites (ECC and RSA certificates, R68)', { actual: `ECDHE-ECDSA-AES128-SHA256: ${ecc.error ?? 'ok'}; AES128-SHA256: ${rsa.error ?? 'ok'}` });
    }),
    security('R516-expired-client-certificate', 'a client certificate whose validity has ended is refused: at the handshake, or with 403, and no OpenADR answer', async (ctx, t) => {
      const tls = needTls(ctx, t);
      if (ctx.expiredClient === undefined) t.skip('give --expired-cert and --expired-key: a client certificate from the CA the VTN trusts, whose validity has ended (for instance issued with openssl ca -enddate in the past)');
      // Whatever the VTN's own certificate (R516-vtn-certificate-valid judges it): only the VTN's refusal counts here.
      const r = await handshake(ctx, { withCertificate: true, client: ctx.expiredClient, openadr: true, anyServerCertificate: true }, tls);
      t.check(!r.ok || r.status === 403, 'the VTN served a client whose certificate has expired', { expected: 'the handshake refused, or HTTP 403', actual: r.ok ? `HTTP ${r.status ?? '?'}` : (r.error ?? 'refused') });
    }),
    security('R516-vtn-certificate-valid', "the VTN's own certificate is within its validity now", async (ctx, t) => {
      const r = await handshake(ctx, { withCertificate: true, anyServerCertificate: true }, needTls(ctx, t));
      if (r.validFrom === undefined || r.validTo === undefined) throw new PeerMisbehaved(`no TLS session with the VTN to read its certificate: ${r.error ?? 'no certificate'}`);
      const now = Date.now();
      t.check(Date.parse(r.validFrom) <= now && now <= Date.parse(r.validTo), "the VTN's certificate is not valid now", { expected: `valid at ${new Date(now).toISOString()}`, actual: `${r.validFrom} – ${r.validTo}` });
    }),
    security('R514-signed-exchange', 'with XML signatures: a signed oadrQueryRegistration is answered, with a signed oadrCreatedPartyRegistration', async (ctx, t) => {
      needSigning(ctx, t);
      const a = expectPayload(await send(ctx, 'EiRegisterParty', build.query()), 'CreatedPartyRegistration', 'a signed oadrQueryRegistration');
      t.check(a.response.code === 200, 'the signed oadrQueryRegistration was not answered 200', { actual: String(a.response.code) });
    }),
    security('R514-unsigned-ignored', 'with XML signatures: an unsigned payload is ignored (403, no OpenADR answer)', async (ctx, t) => {
      needSigning(ctx, t);
      notServed(t, await send(ctx, 'EiRegisterParty', build.query(), { unsigned: true }), 'an unsigned payload');
    }),
    security('R514-tampered-ignored', 'with XML signatures: a signed payload changed after signing is ignored', async (ctx, t) => {
      const signer = needSigning(ctx, t);
      const signed = signer(encodeOadr(build.query()));
      const tampered = signed.replace(/(requestID>)([^<]*)</, '$1x$2<');
      if (tampered === signed) throw new PeerMisbehaved('the suite found no requestID to change in its own signed payload');
      notServed(t, await send(ctx, 'EiRegisterParty', tampered, { unsigned: true }), 'a payload changed after signing');
    }),
    security('R514-replay-ignored', 'with XML signatures: the same signed payload sent again (its nonce seen) is ignored', async (ctx, t) => {
      const signer = needSigning(ctx, t);
      const signed = signer(encodeOadr(build.query()));
      expectPayload(await send(ctx, 'EiRegisterParty', signed, { unsigned: true }), 'CreatedPartyRegistration', 'a signed oadrQueryRegistration');
      notServed(t, await send(ctx, 'EiRegisterParty', signed, { unsigned: true }), 'a replayed payload');
    }),
    security('R67-non-default-suite-refused', 'a client offering only ECDHE-RSA-AES128-GCM-SHA256 is refused (default configuration)', async (ctx, t) => {
      const r = await handshake(ctx, { withCertificate: true, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, needTls(ctx, t));
      t.check(!r.ok, 'a non-default cipher suite was accepted');
    }),
];

