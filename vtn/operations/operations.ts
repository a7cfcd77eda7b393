/**
 * The folder operations/ holds what operators use beside OpenADR: health, metrics, logging and this
 * wiring of the admin API. It may depend on admin/, store/, ledger/port.ts and the configuration.
 *
 * Everything beside the OpenADR services: `/healthz`, `/readyz`, `/metrics`, the admin REST API
 * under `/api/v1`, its OpenAPI document at `/docs` and the dashboard at `/` (web/). They share the OpenADR server unless an
 * admin port is configured; then the admin API, docs and metrics move to their own server (the
 * health endpoints stay on both). Also creates the bootstrap admin token at first start.
 */
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { adminApiPlugin, sendProblem } from '../admin/admin-api.ts';
import { ADMIN_SCHEMA_OPTIONS } from '../admin/schema-options.ts';
import { ADMIN_PREFIX, type AdminVtn } from '../admin/routes.ts';
import { bootstrapAdminToken, createAuthGate } from '../admin/auth.ts';
import { VtnError } from '../errors.ts';
import { SECURITY_EVENT } from '../tls/binding.ts';
import { LOG_COMPONENT } from './logger.ts';
import type { VtnConfig } from '../cli/config.ts';
import { registerHealth } from './health.ts';
import type { LedgerPort } from '../ledger/port.ts';
import type { Logger } from './logger.ts';
import type { LedgerProbeState } from './ledger-probe.ts';
import type { VtnMetrics } from './metrics.ts';
import { registerDocs } from '../admin/openapi.ts';
import type { VtnStore } from '../store/store.ts';
import { registerDashboard } from '../../web/index.ts';

export interface OperationsOptions {
  /** The OpenADR server. */
  readonly app: FastifyInstance;
  readonly config: VtnConfig;
  readonly store: VtnStore;
  readonly ledger: LedgerPort | undefined;
  /** The VTN's probe of the ledger, which `/readyz` reports (absent: the ledger has no ping). */
  readonly ledgerProbe?: LedgerProbeState | undefined;
  readonly metrics: VtnMetrics;
  /** The VTN facade, read when a request comes. */
  readonly vtn: () => AdminVtn;
  readonly now: () => number;
  readonly newId: (prefix: string) => string;
  readonly log: Logger;
  /** False once the VTN is closing. */
  readonly open: () => boolean;
  /** OADR_ADMIN_TOKEN (the CLI reads the environment and passes it in). */
  readonly adminToken?: string | undefined;
  /** Called once with a token generated at first start (the CLI prints it); without it the token is logged once. */
  readonly onAdminTokenGenerated?: ((token: string) => void) | undefined;
  /** TLS of a separate admin port (server certificate only: the admin API authenticates with bearer tokens). */
  readonly https?: HttpsServerOptions | undefined;
}

export interface Operations {
  /** The server of the admin API (the OpenADR one unless `adminPort` is set). */
  readonly adminApp: FastifyInstance;
  /** Start the admin server when it is separate; resolves to its URL. */
  listen(host: string): Promise<string | undefined>;
  /** URL of the separate admin server once listening. */
  url(): string | undefined;
  close(): Promise<void>;
}

function countStatuses(app: FastifyInstance, metrics: VtnMetrics): void {
  app.addHook('onResponse', (_req, reply, done) => {
    metrics.httpStatus(reply.statusCode);
    done();
  });
}

export function attachOperations(o: Readonly<OperationsOptions>): Operations {
  const adminLog = o.log.child({ component: LOG_COMPONENT.admin });
  const generated = bootstrapAdminToken(o.store, {
    token: o.adminToken,
    now: o.now(),
    onRevoked: () => adminLog.warn({ tokenId: 'bootstrap' }, 'OADR_ADMIN_TOKEN was revoked through the admin API; it stays revoked: set a new OADR_ADMIN_TOKEN or use another operator token'),
  });
  if (generated !== undefined) {
    if (o.onAdminTokenGenerated !== undefined) o.onAdminTokenGenerated(generated);
    else o.log.warn({ adminToken: generated }, 'admin API token generated at first start; it is shown only this once — keep it, or set OADR_ADMIN_TOKEN');
  }
  const separate = o.config.adminPort !== undefined;
  const https = o.https;
  const adminApp = separate
    ? Fastify({
        logger: false,
        forceCloseConnections: true,
        return503OnClosing: true,
        bodyLimit: o.config.bodyLimitBytes,
        ajv: ADMIN_SCHEMA_OPTIONS,
        ...(https === undefined ? {} : { serverFactory: (handler: RequestListener) => createHttpsServer(https, handler) as unknown as Server }),
      })
    : o.app;
  const gate = createAuthGate({
    store: o.store,
    now: o.now,
    failuresPerMinute: o.config.adminAuthFailuresPerMinute,
    requestsPerMinute: o.config.adminRequestsPerMinute,
    onRequestsLimited: (who, requests) => adminLog.warn({ securityEvent: SECURITY_EVENT.adminRequestsRateLimited, ...who, requests }, `more than ${o.config.adminRequestsPerMinute} admin requests within a minute from ${who.tokenId === undefined ? `address ${who.address}` : `token '${who.tokenId}'`}; further ones get 429 for the rest of the minute`),
    onLimited: (address, failures) => adminLog.warn({ securityEvent: SECURITY_EVENT.adminAuthRateLimited, address, failures }, `${failures} failed admin authentications from ${address} within a minute; further requests from it get 429 for the rest of the minute`),
  });
  // operationsAccess `token`: /readyz and /metrics need an admin token with the read right.
  const guard =
    o.config.operationsAccess !== 'token'
      ? undefined
      : (req: FastifyRequest, reply: FastifyReply): boolean => {
          try {
            gate(req.ip, req.headers.authorization, 'read');
            return true;
          } catch (err) {
            const e = err instanceof VtnError ? err : new VtnError('UNAUTHORIZED', 'send an admin token');
            if (e.retryAfterS !== undefined) void reply.header('retry-after', String(e.retryAfterS));
            void sendProblem(reply, req, e.code === 'RATE_LIMITED' ? 429 : e.code === 'FORBIDDEN' ? 403 : 401, e.code, e.message);
            return false;
          }
        };
  const health = { store: o.store, ledger: o.ledger, ledgerProbe: o.ledgerProbe, metrics: o.metrics, open: o.open, metricsCacheMs: o.config.metricsCacheMs, ledgerOutboxReadyLimit: o.config.ledgerOutboxReadyLimit, now: o.now, ...(guard === undefined ? {} : { guard }) };
  countStatuses(o.app, o.metrics);
  registerHealth(o.app, o.config.operationsAccess === 'admin-port' ? { ...health, liveOnly: true } : health);
  if (separate) {
    countStatuses(adminApp, o.metrics);
    registerHealth(adminApp, health);
  }
  registerDocs(adminApp);
  // The dashboard (web/) at `/` of the admin server: a page that reads this admin API with a bearer token.
  registerDashboard(adminApp);
  void adminApp.register(
    adminApiPlugin({ vtn: o.vtn, store: o.store, ledger: o.ledger, config: o.config, now: o.now, newId: o.newId, log: adminLog }, gate),
    { prefix: ADMIN_PREFIX },
  );
  let url: string | undefined;
  return {
    adminApp,
    async listen(host) {
      if (!separate) return undefined;
      await adminApp.listen({ host, port: o.config.adminPort ?? 0 });
      const addr = adminApp.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : o.config.adminPort;
      url = `${https === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
      return url;
    },
    url: () => url,
    async close() {
      if (separate) await adminApp.close();
    },
  };
}
