/**
 * The OpenAPI 3.1 document of the admin API, written from the route table (the same JSON schemas
 * fastify validates with), plus the operational endpoints; served as JSON at `/docs/openapi.json`
 * with a minimal HTML page at `/docs`.
 */
import type { FastifyInstance } from 'fastify';
import { ROLE_PERMISSIONS } from './auth.ts';
import { ADMIN_PREFIX, ADMIN_ROUTES, type AdminRoute } from './routes.ts';

export const DOCS_PATH = '/docs';
export const OPENAPI_PATH = '/docs/openapi.json';

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 7807 problem document (application/problem+json)',
  required: ['type', 'title', 'status', 'detail', 'requestId'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: {} },
  },
} as const;

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/** `/events/:eventId` → `/events/{eventId}`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operationId(r: AdminRoute): string {
  const words = r.url.split('/').filter((s) => s !== '' && !s.startsWith(':'));
  return [r.method.toLowerCase(), ...words.map((w) => w.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())).map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))].join('');
}

function parameters(r: AdminRoute): unknown[] {
  const out: unknown[] = [];
  const add = (where: 'path' | 'query', schema: Readonly<Record<string, unknown>> | undefined): void => {
    const props = (schema?.properties ?? {}) as Record<string, unknown>;
    const required = (schema?.required ?? []) as string[];
    for (const [name, s] of Object.entries(props)) out.push({ name, in: where, required: where === 'path' || required.includes(name), schema: s });
  };
  add('path', r.params);
  add('query', r.querystring);
  return out;
}

function roles(r: AdminRoute): string {
  return Object.entries(ROLE_PERMISSIONS)
    .filter(([, perms]) => perms.includes(r.permission))
    .map(([role]) => role)
    .join(', ');
}

/** The document (a plain object, built once). */
export function openApiDocument(info: { readonly version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ADMIN_ROUTES) {
    const path = `${ADMIN_PREFIX}${openApiPath(r.url)}`;
    const status = String(r.status ?? 200);
    const op: Record<string, unknown> = {
      operationId: operationId(r),
      summary: r.summary,
      description: `Roles: ${roles(r)}.`,
      tags: [r.tag],
      security: [{ bearer: [] }],
      parameters: parameters(r),
      responses: {
        [status]: status === '204' ? { description: 'Done' } : { description: 'OK', content: { 'application/json': { schema: {} } } },
        ...(r.statusOf === undefined ? {} : { 202: { description: 'Accepted: kept until the ledger can be reached', content: { 'application/json': { schema: {} } } } }),
        400: problem('The request does not match its schema'),
        401: problem('No valid bearer token'),
        403: problem("The token's role may not do this"),
        404: problem('No such resource'),
        409: problem('Not allowed in the current state'),
        422: problem('Invalid argument'),
        501: problem('The connected ledger lacks this feature'),
        503: problem('The ledger cannot be reached now (Retry-After says when to try again), or the VTN is closing'),
      },
    };
    if (r.body !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: r.body } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  const plain = (summary: string, type: string) => ({ get: { summary, tags: ['operations'], security: [], responses: { 200: { description: 'OK', content: { [type]: { schema: {} } } }, 503: { description: 'Not ready' } } } });
  paths['/healthz'] = plain('Liveness: the process serves HTTP', 'application/json');
  paths['/readyz'] = plain('Readiness: store and ledger reachable', 'application/json');
  paths['/metrics'] = plain('Prometheus metrics (text format 0.0.4)', 'text/plain');
  return {
    openapi: '3.1.0',
    info: {
      title: 'oadr-ledger VTN admin API',
      version: info.version ?? '1',
      description:
        'Programs, customers, VENs, events, reports and telemetry, opt schedules and ledger views of an OpenADR 2.0b VTN. Authenticate with `Authorization: Bearer <token>`; roles: operator (everything), retailer (read, customers and meter data), read-only. Errors are RFC 7807 problem documents carrying a requestId.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
    paths,
  };
}

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oadr-ledger VTN admin API</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}
td,th{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}</style></head>
<body><h1>oadr-ledger VTN admin API</h1>
<p>The OpenAPI 3.1 document: <a href="${OPENAPI_PATH}"><code>${OPENAPI_PATH}</code></a> (load it into any OpenAPI viewer).
Send <code>Authorization: Bearer &lt;token&gt;</code>; errors are <code>application/problem+json</code>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody id="ops"></tbody></table>
<script>
fetch(${JSON.stringify(OPENAPI_PATH)}).then(r => r.json()).then(doc => {
  const tbody = document.getElementById('ops');
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const tr = document.createElement('tr');
    for (const text of [method.toUpperCase(), path, op.summary + (op.description ? ' — ' + op.description : '')]) {
      const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
});
</script></body></html>
`;

/** `/docs` and `/docs/openapi.json` (no authentication: the document holds no data). */
export function registerDocs(app: FastifyInstance): void {
  const body = JSON.stringify(openApiDocument());
  app.get(OPENAPI_PATH, (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(body));
  app.get(DOCS_PATH, (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(HTML));
}
