/**
 * A thin HTTP proxy that rewrites OpenADR payloads on the wire, to turn our own VTN or VEN into a
 * deliberately broken peer for the suite's honesty tests (conformance/testing/broken-peers.ts).
 * Requests are forwarded to `target` with the same path; a rewrite may change a request, answer it
 * itself (the target never sees it), send another payload to the same service before it, or change
 * the target's answer.
 */
import { buffer } from 'node:stream/consumers';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOadr, encodeOadr, type Payload } from '../../oadr/index.ts';

export interface Rewrites {
  /**
   * A request on its way to the target: a replacement, `{ answer }` to answer it here, `{ before }`
   * to send that payload to the same service first (then pass the request), or undefined to pass it.
   */
  readonly request?: (p: Payload) => Payload | { readonly answer: Payload } | { readonly before: Payload } | undefined;
  /** The target's answer: a replacement, or undefined to pass it. */
  readonly response?: (p: Payload, request: Payload | undefined) => Payload | undefined;
}

export interface RewritingProxy {
  readonly url: string;
  close(): Promise<void>;
}


const decode = (text: string): Payload | undefined => {
  try {
    return decodeOadr(text).payload;
  } catch {
    return undefined;
  }
};

export async function startRewritingProxy(target: string, rewrites: Rewrites): Promise<RewritingProxy> {
  const base = target.replace(/\/+$/, '');
  const server = createServer((req, res) => {
    void (async () => {
      let body = (await buffer(req)).toString('utf8');
      const payload = decode(body);
      const changed = payload === undefined ? undefined : rewrites.request?.(payload);
      if (changed !== undefined && 'answer' in changed) {
        const out = encodeOadr(changed.answer);
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(out) });
        res.end(out);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection', 'accept-encoding'].includes(k)) headers[k] = v;
      if (changed !== undefined && 'before' in changed) await (await fetch(`${base}${req.url ?? '/'}`, { method: 'POST', headers, body: encodeOadr(changed.before) })).text();
      else if (changed !== undefined) body = encodeOadr(changed);
      const upstream = await fetch(`${base}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }) });
      let text = await upstream.text();
      const answer = decode(text);
      const replaced = answer === undefined ? undefined : rewrites.response?.(answer, changed === undefined || 'before' in changed ? payload : changed);
      if (replaced !== undefined) text = encodeOadr(replaced);
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/xml', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-length': 0 });
      res.end();
      void err;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
