/**
 * The OpenADR HTTP services: `POST [prefix]/OpenADR2/Simple/2.0b/{EiRegisterParty, EiEvent,
 * EiReport, EiOpt, OadrPoll}` with the rules of §9.1: 501 for other methods, 404 for an unknown
 * service or a payload posted to the wrong one, 406 for another media type or a body that is not
 * a schema-valid OpenADR payload, 413 beyond the body limit, gzip/deflate when Accept-Encoding
 * lists them, Content-Length on every response, never chunked. Application errors travel as 200
 * with the code in the answer payload. Every rejection is logged once, with the venID.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeOadr, encodeOadr, OadrCodecError, type Payload } from '../oadr/index.ts';
import { ACCEPTED, isService, payloadVenId, type ServiceName } from './dispatch.ts';
import { chooseEncoding, compress, isOadrContentType, OADR_CONTENT_TYPE, sniffVenId } from './http-rules.ts';
import type { Logger } from './logger.ts';
import type { DispatchResult } from './dispatch.ts';

export interface OadrHttpOptions {
  readonly pathPrefix: string;
  readonly bodyLimitBytes: number;
  readonly log: Logger;
  /** Handle a decoded payload posted to a service that accepts it. */
  readonly handle: (payload: Payload) => DispatchResult;
}

export const OADR_PATH = 'OpenADR2/Simple/2.0b';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const EMPTY = Buffer.alloc(0);

function sendStatus(reply: FastifyReply, status: number): FastifyReply {
  return reply.code(status).header('content-type', OADR_CONTENT_TYPE).send(EMPTY);
}

/** A fastify instance serving the OpenADR services (the admin API is added to it by a later increment). */
export function createOadrHttpServer(options: Readonly<OadrHttpOptions>): FastifyInstance {
  const log = options.log;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes, forceCloseConnections: true, return503OnClosing: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => {
    done(null, body);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode === 413 ? 413 : err.statusCode === 415 ? 406 : err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err, url: req.url }, 'unexpected error while handling an OpenADR request');
    else log.warn({ status, code: err.code, url: req.url }, `request refused: ${err.message}`);
    void sendStatus(reply, status);
  });
  app.setNotFoundHandler((req, reply) => {
    log.warn({ method: req.method, url: req.url }, 'no such endpoint (404)');
    void sendStatus(reply, 404);
  });

  app.route({
    method: [...METHODS],
    url: `${options.pathPrefix}/${OADR_PATH}/:service`,
    exposeHeadRoute: false,
    onRequest: async (req: FastifyRequest<{ Params: { service: string } }>, reply) => {
      // §9.1.3, §9.1.5: these are answered before the body is read.
      if (req.method !== 'POST') {
        log.warn({ method: req.method, url: req.url }, 'only POST is supported (501)');
        return sendStatus(reply, 501);
      }
      if (!isService(req.params.service)) {
        log.warn({ url: req.url }, `unknown OpenADR service '${req.params.service}' (404)`);
        return sendStatus(reply, 404);
      }
      if (!isOadrContentType(req.headers['content-type'])) {
        log.warn({ url: req.url, contentType: req.headers['content-type'] }, 'Content-Type must be application/xml (406, §9.1.9.5)');
        return sendStatus(reply, 406);
      }
      return undefined;
    },
    handler: async (req: FastifyRequest<{ Params: { service: string } }>, reply) => {
      const service = req.params.service as ServiceName;
      const body = req.body instanceof Buffer ? req.body : undefined;
      let payload: Payload;
      try {
        payload = decodeOadr(body ?? EMPTY, { maxBytes: options.bodyLimitBytes }).payload;
      } catch (err) {
        if (!(err instanceof OadrCodecError) || !err.transport) throw err;
        log.warn({ venId: sniffVenId(body), service, code: err.code, path: err.path, status: err.httpStatus }, `not a valid OpenADR 2.0b payload: ${err.message}`);
        return sendStatus(reply, err.httpStatus ?? 406);
      }
      if (!ACCEPTED[service].includes(payload.type)) {
        log.warn({ venId: payloadVenId(payload), service, payload: payload.type }, `${payload.type} is not an operation of ${service} (404)`);
        return sendStatus(reply, 404);
      }
      const { answer, error } = options.handle(payload);
      if (error !== undefined) {
        log.info({ venId: payloadVenId(payload), service, payload: payload.type, responseCode: error.responseCode }, error.message);
      }
      let out: Buffer = Buffer.from(encodeOadr(answer), 'utf8');
      const encoding = chooseEncoding(req.headers['accept-encoding']);
      reply.code(200).header('content-type', OADR_CONTENT_TYPE);
      if (encoding !== undefined) {
        out = compress(out, encoding);
        reply.header('content-encoding', encoding).header('vary', 'Accept-Encoding');
      }
      return reply.send(out);
    },
  });
  return app;
}
