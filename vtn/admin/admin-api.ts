/**
 * The folder admin/ is the admin REST API: routes, the fastify plugin, OpenAPI and tokens. It may
 * depend on the VTN's API type (vtn-api.ts), services/, store/, ledger/port.ts and the configuration.
 *
 * The admin REST API as a fastify plugin (registered under `/api/v1`): JSON bodies checked by
 * fastify's JSON-schema validation, bearer-token authentication and role checks before anything
 * else, and every error as an RFC 7807 `application/problem+json` document with the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Permission } from './auth.ts';
import { ADMIN_ROUTES, type AdminDeps, type AdminRoute } from './routes.ts';
import { VtnError, type VtnErrorCode } from '../errors.ts';
import type { AdminTokenRecord } from '../store/store.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** RFC 7807 problem document, plus the request id to quote when reporting it. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly requestId: string;
  readonly errors?: readonly unknown[];
}

const STATUS_OF: Readonly<Record<VtnErrorCode, number>> = {
  INVALID_CONFIG: 422,
  INVALID_ARGUMENT: 422,
  NOT_FOUND: 404,
  NOT_ALLOWED: 409,
  STORE: 500,
  LEDGER: 502,
  LEDGER_UNAVAILABLE: 503,
  CLOSED: 503,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_IMPLEMENTED: 501,
  RATE_LIMITED: 429,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const problemType = (code: string): string => `urn:oadr-ledger:problem:${code.toLowerCase().replace(/_/g, '-')}`;

export function sendProblem(reply: FastifyReply, req: FastifyRequest, status: number, code: string, detail: string, errors?: readonly unknown[]): FastifyReply {
  const p: Problem = { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, instance: req.url, requestId: String(req.id), ...(errors === undefined ? {} : { errors }) };
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="oadr-ledger"');
  return reply.code(status).header('content-type', PROBLEM_CONTENT_TYPE).header('x-request-id', String(req.id)).send(JSON.stringify(p));
}

/** Maps, bigints and undefined as JSON can carry them. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

const tokens = new WeakMap<FastifyRequest, AdminTokenRecord>();

/** The media type of a request body (`application/json` for `application/json; charset=utf-8`), '' when none. */
const mediaType = (req: FastifyRequest): string => (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** 415: a body that is not sent as JSON. The OpenADR server beside the admin API reads any content type, so the admin routes check it themselves. */
function unsupportedMediaType(reply: FastifyReply, req: FastifyRequest): FastifyReply {
  const type = mediaType(req);
  const said = type === '' ? 'it has no content-type header' : `its content-type is '${type}'`;
  return sendProblem(reply, req, 415, 'UNSUPPORTED_MEDIA_TYPE', `the body must be JSON sent with content-type: application/json, but ${said} (with curl: -H 'content-type: application/json')`);
}

/** Authenticates and authorizes a request (createAuthGate: failures are rate-limited per address). */
export type AdminGate = (address: string, authorization: string | undefined, needed: Permission) => AdminTokenRecord;

function register(app: FastifyInstance, deps: AdminDeps, route: AdminRoute, gate: AdminGate): void {
  const schema: Record<string, unknown> = {};
  if (route.params !== undefined) schema.params = route.params;
  if (route.querystring !== undefined) schema.querystring = route.querystring;
  if (route.body !== undefined) schema.body = route.body;
  app.route({
    method: route.method,
    url: route.url,
    schema,
    ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
    preValidation: (req, reply, done) => {
      if (req.body !== undefined && mediaType(req) !== 'application/json') {
        void unsupportedMediaType(reply, req);
        return;
      }
      done();
    },
    onRequest: (req, _reply, done) => {
      try {
        tokens.set(req, gate(req.ip, req.headers.authorization, route.permission));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    handler: async (req, reply) => {
      const token = tokens.get(req) as AdminTokenRecord;
      const result = await route.handler(deps, {
        params: (req.params ?? {}) as Record<string, string>,
        query: (req.query ?? {}) as Record<string, unknown>,
        body: req.body,
        token,
      });
      const status = route.statusOf?.(result) ?? route.status ?? 200;
      void reply.code(status).header('x-request-id', String(req.id));
      if (status === 204) return reply.send();
      return reply.header('content-type', JSON_CONTENT_TYPE).send(toJson(result));
    },
  });
}

/** The unknown fields of a failed validation, as `body.x` paths; empty when none is the cause. */
function unknownFields(context: string | undefined, errors: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const e of errors as { keyword?: string; instancePath?: string; params?: { additionalProperty?: string } }[]) {
    if (e.keyword !== 'additionalProperties' || e.params?.additionalProperty === undefined) continue;
    const at = (e.instancePath ?? '').split('/').filter((x) => x !== '').join('.');
    names.push([context ?? 'body', at, e.params.additionalProperty].filter((x) => x !== '').join('.'));
  }
  return names;
}

/** The admin API plugin; register it with `{ prefix: ADMIN_PREFIX }`. */
export function adminApiPlugin(deps: AdminDeps, gate: AdminGate) {
  return async function adminApi(app: FastifyInstance): Promise<void> {
    if (!app.hasContentTypeParser('application/json')) {
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        if (text.trim() === '') return done(null, undefined);
        try {
          done(null, JSON.parse(text) as unknown);
        } catch {
          const err = new Error('the body is not valid JSON') as Error & { statusCode: number; code: string };
          err.statusCode = 400;
          err.code = 'INVALID_JSON';
          done(err, undefined);
        }
      });
    }
    app.setErrorHandler((err: FastifyError & { validation?: unknown[] }, req, reply) => {
      if (err instanceof VtnError) {
        const status = STATUS_OF[err.code];
        if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
        if (status >= 500 && status !== 501 && status !== 503) deps.log.error({ err, url: req.url, requestId: req.id }, 'admin request failed');
        return sendProblem(reply, req, status, err.code, err.message);
      }
      if (err.validation !== undefined) {
        const unknown = unknownFields((err as { validationContext?: string }).validationContext, err.validation);
        const detail = unknown.length > 0 ? `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: the request is refused, not trimmed; see /docs for the fields this endpoint takes` : `the request does not match its schema: ${err.message}`;
        return sendProblem(reply, req, 400, 'INVALID_REQUEST', detail, err.validation);
      }
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 415) return unsupportedMediaType(reply, req);
      if (status === 500) {
        deps.log.error({ err, url: req.url, requestId: req.id }, 'admin request failed unexpectedly');
        return sendProblem(reply, req, 500, 'INTERNAL', `unexpected error; quote request id ${String(req.id)} when reporting it`);
      }
      return sendProblem(reply, req, status, err.code ?? 'BAD_REQUEST', err.message);
    });
    app.setNotFoundHandler((req, reply) => sendProblem(reply, req, 404, 'NOT_FOUND', `no admin endpoint ${req.method} ${req.url}; see /docs for the API`));
    for (const route of ADMIN_ROUTES) register(app, deps, route, gate);
  };
}
