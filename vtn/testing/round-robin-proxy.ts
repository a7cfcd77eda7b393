/**
 * A small HTTP load balancer for the cluster tests: each request goes to the next backend in turn
 * (round robin), its body and answer streamed through. A backend that cannot be reached, or that
 * dies mid-request, costs that request a 502 (the client retries, and the next request goes to the
 * next backend), as a load balancer without health checks behaves. `requests()` lists which backend
 * answered what, for the tests' checks; `bodies` keeps the request bodies when asked to.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ProxiedRequest {
  readonly backend: number;
  readonly path: string;
  readonly status: number;
  /** The request body (when `keepBodies`). */
  readonly body: string | undefined;
}

export interface RoundRobinProxy {
  readonly url: string;
  requests(): readonly ProxiedRequest[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: readonly string[], options: { readonly keepBodies?: boolean } = {}): Promise<RoundRobinProxy> {
  let next = 0;
  const log: ProxiedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const backend = next++ % backends.length;
    const target = new URL(req.url ?? '/', backends[backend]);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
      const out = request(target, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => log.push({ backend, path: target.pathname, status: answer.statusCode ?? 502, body: options.keepBodies === true ? body.toString() : undefined }));
      });
      out.on('error', () => {
        log.push({ backend, path: target.pathname, status: 502, body: options.keepBodies === true ? body.toString() : undefined });
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('backend unreachable');
      });
      out.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
