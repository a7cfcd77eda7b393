/**
 * The part web/ is the operator's dashboard: static files (`static/`: one HTML page, its script,
 * the hand-written SVG charts and the style sheet; no build step, nothing fetched from elsewhere,
 * so it works offline) and this glue that serves them from the admin server. The page reads
 * everything from the admin REST API (`/api/v1`) with the bearer token the operator types in,
 * polls it for live updates, and depends on no other part.
 */
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where the page's assets are served (the page itself is at `/`). */
export const DASHBOARD_ASSETS_PATH = '/web';

const STATIC_DIR = join(import.meta.dirname, 'static');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The files served, read once at start: name → bytes. */
export const DASHBOARD_FILES = ['index.html', 'app.js', 'charts.js', 'style.css', 'icon.svg'] as const;

/**
 * Scripts and styles only from this origin, no inline script, no framing; the admin API is the
 * only thing the page talks to (same origin).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Serves the dashboard: the page at `/`, its assets under `/web/`. */
export function registerDashboard(app: FastifyInstance): void {
  const files = new Map(DASHBOARD_FILES.map((name) => [name as string, readFileSync(join(STATIC_DIR, name))]));
  const send = (name: string) => (_req: unknown, reply: FastifyReply): FastifyReply =>
    reply.headers({ ...SECURITY_HEADERS, 'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream' }).send(files.get(name) as Buffer);
  app.get('/', send('index.html'));
  for (const name of DASHBOARD_FILES) if (name !== 'index.html') app.get(`${DASHBOARD_ASSETS_PATH}/${name}`, send(name));
}
