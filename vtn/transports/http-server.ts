/**
 * The folder transports/ carries payloads between VENs and the services: the HTTP server, push, the
 * per-VEN queue and the transport seam (`VenTransport`) new transports plug into. It may depend on
 * oadr/, services/dispatch.ts, store/, tls/ and operations/logger.ts.
 *
 * The OpenADR HTTP services: `POST [prefix]/OpenADR2/Simple/2.0b/{EiRegisterParty, EiEvent,
 * EiReport, EiOpt, OadrPoll}` with the rules of §9.1: 501 for other methods, 404 for an unknown
 * service or a payload posted to the wrong one, 406 for another media type or a body that is not
 * a schema-valid OpenADR payload, 413 beyond the body limit, gzip/deflate when Accept-Encoding
 * lists them, Content-Length on every response, never chunked. Application errors travel as 200
 * with the code in the answer payload. Every rejection is logged once, with the venID.
 *
 * 2.0a VENs (R506, §7.1) post to `POST [prefix]/OpenADR2/Simple/EiEvent` (no `2.0b/` segment,
 * EiEvent only): the body must be a 2.0a document and the answer is one. 2.0a has no XML signature,
 * so that URL neither verifies nor signs one; the certificate binding applies as for 2.0b.
 */
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeDocument, encodeOadr, OadrCodecError, signOadr, verifyOadr, type NonceCache, type OadrProfile, type Payload } from '../../oadr/index.ts';
import { ADMIN_SCHEMA_OPTIONS } from '../admin/schema-options.ts';
import { VtnError } from '../errors.ts';
import { peerCertificate } from '../tls/tls.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import { ACCEPTED, isService, payloadVenId, type ServiceName } from '../services/dispatch.ts';
import { chooseEncoding, compress, isOadrContentType, OADR_CONTENT_TYPE, sniffVenId } from './http-rules.ts';
import type { Logger } from '../operations/logger.ts';
import type { DispatchResult } from '../services/dispatch.ts';

export interface OadrHttpOptions {
  readonly pathPrefix: string;
  readonly bodyLimitBytes: number;
  readonly log: Logger;
  /** Handle a decoded payload posted to a service that accepts it (`peerFingerprint`: the TLS client's certificate, §10.5.1). */
  readonly handle: (payload: Payload, meta?: HandleMeta) => DispatchResult;
  /** `node:https` options (mutual TLS, see tls.ts); absent: plain HTTP. */
  readonly https?: HttpsServerOptions;
  /** Slow-client limits (slow-loris): the whole request, and its headers, must arrive within these. */
  readonly timeouts?: ServerTimeouts;
  /** High security (R514): verify every inbound payload's XML signature and sign every answer. */
  readonly xmlSignature?: XmlSignatureOptions;
  /** Clock for signature timestamps (ms since the epoch). */
  readonly now?: () => number;
}

export interface HandleMeta {
  readonly peerFingerprint?: string | undefined;
  /** The TLS client's certificate (PEM), for checks beyond the fingerprint (the push host, push.requireCertificateHost). */
  readonly peerCertificatePem?: string | undefined;
  /** Over XMPP: the sender's full JID as the server stamped it (the venID ↔ JID binding, tls/jid-binding.ts). */
  readonly senderJid?: string | undefined;
  /** The profile the payload came in; absent means 2.0b. */
  readonly profile?: OadrProfile | undefined;
}

export interface ServerTimeouts {
  /** Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Default 10 s. */
  readonly headersTimeoutMs?: number;
}

export interface XmlSignatureOptions {
  /** The VTN's signing certificate and key (PEM). */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Replay cache shared by all requests (createNonceCache). */
  readonly nonces: NonceCache;
  /** Timestamp window, default 5 minutes. */
  readonly windowMs?: number;
}

export const DEFAULT_SERVER_TIMEOUTS = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 } as const;

export const OADR_PATH = 'OpenADR2/Simple/2.0b';
/** The 2.0a services' path (§7.1): no `2.0b/` segment; 2.0a has EiEvent only. */
export const OADR_20A_PATH = 'OpenADR2/Simple';
const SERVICES_20A: readonly ServiceName[] = ['EiEvent'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const EMPTY = Buffer.alloc(0);

function sendStatus(reply: FastifyReply, status: number): FastifyReply {
  return reply.code(status).header('content-type', OADR_CONTENT_TYPE).send(EMPTY);
}

/** A fastify instance serving the OpenADR services; operations.ts adds the admin API, the docs and the dashboard to it unless they have their own port. */
export function createOadrHttpServer(options: Readonly<OadrHttpOptions>): FastifyInstance {
  const log = options.log;
  const requestTimeout = options.timeouts?.requestTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs;
  const headersTimeout = Math.min(requestTimeout, options.timeouts?.headersTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs);
  // Node checks both limits every connectionsCheckingInterval; keep it a fraction of the smaller one.
  const serverOptions = { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, Math.min(headersTimeout, requestTimeout) / 4) };
  const https = options.https;
  const serverFactory = (handler: RequestListener): Server =>
    https === undefined ? createHttpServer(serverOptions, handler) : (createHttpsServer({ ...https, ...serverOptions }, handler) as unknown as Server);
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes, forceCloseConnections: true, return503OnClosing: true, serverFactory, ajv: ADMIN_SCHEMA_OPTIONS });
  const now = options.now ?? Date.now;
  const sig = options.xmlSignature;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => {
    done(null, body);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof VtnError && err.code === 'CLOSED') {
      // A request that arrives while the VTN stops: try again (another process, or this one restarted).
      void reply.header('retry-after', '10').header('connection', 'close');
      return sendStatus(reply, 503);
    }
    const status = err.statusCode === 413 ? 413 : err.statusCode === 415 ? 406 : err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err, url: req.url }, 'unexpected error while handling an OpenADR request');
    else log.warn({ status, code: err.code, url: req.url }, `request refused: ${err.message}`);
    void sendStatus(reply, status);
  });
  app.setNotFoundHandler((req, reply) => {
    log.warn({ method: req.method, url: req.url }, 'no such endpoint (404)');
    void sendStatus(reply, 404);
  });

  const route = (profile: OadrProfile): unknown => app.route({
    method: [...METHODS],
    url: `${options.pathPrefix}/${profile === '2.0a' ? OADR_20A_PATH : OADR_PATH}/:service`,
    exposeHeadRoute: false,
    // A callback hook, not an async one: it runs on every poll, and the promise machinery of an
    // async hook costs about a fifth of a poll's CPU (bench/vtn-poll.bench.ts).
    onRequest: (req: FastifyRequest<{ Params: { service: string } }>, reply, done) => {
      // §9.1.3, §9.1.5: these are answered before the body is read.
      if (req.method !== 'POST') {
        log.warn({ method: req.method, url: req.url }, 'only POST is supported (501)');
        void sendStatus(reply, 501);
        return;
      }
      if (!isService(req.params.service) || (profile === '2.0a' && !SERVICES_20A.includes(req.params.service))) {
        log.warn({ url: req.url }, `unknown OpenADR ${profile} service '${req.params.service}' (404)`);
        void sendStatus(reply, 404);
        return;
      }
      if (!isOadrContentType(req.headers['content-type'])) {
        log.warn({ url: req.url, contentType: req.headers['content-type'] }, 'Content-Type must be application/xml (406, §9.1.9.5)');
        void sendStatus(reply, 406);
        return;
      }
      done();
    },
    handler: async (req: FastifyRequest<{ Params: { service: string } }>, reply) => {
      const service = req.params.service as ServiceName;
      const body = req.body instanceof Buffer ? req.body : undefined;
      const peer = peerCertificate(req.raw.socket);
      if (sig !== undefined && profile === '2.0b') {
        // R514: a payload without a valid signature is ignored — no OpenADR answer (403, rules digest 9.7).
        const t = now();
        const v = verifyOadr(body ?? EMPTY, {
          now: t,
          seenNonce: (n, exp, at) => sig.nonces.seenNonce(n, exp, at),
          maxBytes: options.bodyLimitBytes,
          ...(sig.windowMs === undefined ? {} : { windowMs: sig.windowMs }),
          ...(peer === undefined ? {} : { expectedCertificate: peer.pem }),
        });
        if (!v.ok) {
          log.warn({ securityEvent: SECURITY_EVENT.badSignature, venId: sniffVenId(body), service, reason: v.reason, fingerprint: peer?.fingerprint }, `payload ignored, XML signature refused: ${v.message}`);
          return sendStatus(reply, 403);
        }
        if (!v.replayProtectSigned) log.warn({ venId: sniffVenId(body), service }, 'ReplayProtect is not covered by the signature (weak, rules digest 10)');
      }
      let payload: Payload;
      try {
        const doc = decodeDocument(body ?? EMPTY, { maxBytes: options.bodyLimitBytes });
        if (doc.profile !== profile) {
          // R506: the URL says the profile; a document of the other one is not valid here.
          log.warn({ venId: sniffVenId(body), service, profile: doc.profile }, `an OpenADR ${doc.profile} payload posted to the ${profile} URL (406); post it to …/${doc.profile === '2.0a' ? OADR_20A_PATH : OADR_PATH}/${service}`);
          return sendStatus(reply, 406);
        }
        payload = doc.message.payload;
      } catch (err) {
        if (!(err instanceof OadrCodecError) || !err.transport) throw err;
        log.warn({ venId: sniffVenId(body), service, code: err.code, path: err.path, status: err.httpStatus }, `not a valid OpenADR ${profile} payload: ${err.message}`);
        return sendStatus(reply, err.httpStatus ?? 406);
      }
      if (!ACCEPTED[service].includes(payload.type)) {
        log.warn({ venId: payloadVenId(payload), service, payload: payload.type }, `${payload.type} is not an operation of ${service} (404)`);
        return sendStatus(reply, 404);
      }
      const { answer, error } = options.handle(payload, { peerFingerprint: peer?.fingerprint, peerCertificatePem: peer?.pem, ...(profile === '2.0a' ? { profile } : {}) });
      if (error !== undefined) {
        log.info({ venId: payloadVenId(payload), service, payload: payload.type, responseCode: error.responseCode }, error.message);
      }
      const xml = profile === '2.0a' ? encodeOadr(answer20a(answer), { profile }) : encodeAnswer(answer);
      let out: Buffer = Buffer.from(sig === undefined || profile === '2.0a' ? xml : signOadr(xml, { certificatePem: sig.certificatePem, privateKey: sig.privateKeyPem, now: now() }), 'utf8');
      const encoding = chooseEncoding(req.headers['accept-encoding']);
      reply.code(200).header('content-type', OADR_CONTENT_TYPE);
      if (encoding !== undefined) {
        out = compress(out, encoding);
        reply.header('content-encoding', encoding).header('vary', 'Accept-Encoding');
      }
      return reply.send(out);
    },
  });
  route('2.0b');
  route('2.0a');
  return app;
}

/** An answer in the shape 2.0a has: its oadrResponse carries no venID (§7.1). */
function answer20a(answer: Payload): Payload {
  if (answer.type !== 'Response' || answer.venId === undefined) return answer;
  const { venId: _, ...rest } = answer;
  return rest;
}

/**
 * The answer to an empty poll (oadrResponse 200, empty requestID, the VEN's venID) is the same
 * document every time for a given VEN: written once and kept (bounded), everything else encoded.
 */
const emptyPollAnswers = new Map<string, string>();
const MAX_CACHED_ANSWERS = 100_000;
function encodeAnswer(answer: Payload): string {
  if (
    answer.type !== 'Response' || answer.venId === undefined || answer.schemaVersion !== '2.0b' ||
    answer.response.code !== 200 || answer.response.requestId !== '' || answer.response.description !== undefined
  ) {
    return encodeOadr(answer);
  }
  let xml = emptyPollAnswers.get(answer.venId);
  if (xml === undefined) {
    xml = encodeOadr(answer);
    if (emptyPollAnswers.size >= MAX_CACHED_ANSWERS) emptyPollAnswers.clear();
    emptyPollAnswers.set(answer.venId, xml);
  }
  return xml;
}
