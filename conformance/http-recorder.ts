/**
 * The suite's one HTTP client and one HTTP server, both recording every message as an `Exchange`
 * on the tape of the case that runs. Real sockets; TLS with a client certificate (client) or
 * mutual TLS (server) when PEM material is given. Nothing is parsed here: the cases decode.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Exchange } from './case.ts';

/** PEM material: the suite's certificate chain and key, and the CAs it trusts for the peer. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/** Where exchanges go: the runner gives each case a fresh tape. */
export interface Tape {
  readonly exchanges: Exchange[];
  /** Appends one exchange, returns its index. */
  add(exchange: Exchange): number;
}

export function createTape(): Tape {
  const exchanges: Exchange[] = [];
  return { exchanges, add: (e) => exchanges.push(e) - 1 };
}

/** Holds the tape of the current case; the client and server write to whatever it holds. */
export interface TapeSlot {
  current: Tape;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Decompressed text of the body. */
  readonly body: string;
}

/** A transport failure instead of an answer: time-out, connection closed, refused, TLS. */
export class PeerUnreachable extends Error {
  override readonly name = 'PeerUnreachable';
}

export interface HttpRequestInput {
  readonly method?: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface RecordingClient {
  /** Sends one request; rejects with PeerUnreachable when no HTTP answer came (recorded as an exchange with `error`). */
  send(input: HttpRequestInput): Promise<HttpAnswer>;
}

export interface RecordingClientOptions {
  readonly slot: TapeSlot;
  readonly tls?: TlsMaterial | undefined;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

const flatHeaders = (h: IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
};

/** The body as text, decompressed when the peer said it compressed it (§9.1.9.2–3). */
function bodyText(raw: Buffer, encoding: string | undefined): string {
  if (encoding === 'gzip' && raw.length > 0) return gunzipSync(raw).toString('utf8');
  if (encoding === 'deflate' && raw.length > 0) return inflateSync(raw).toString('utf8');
  return raw.toString('utf8');
}

export function createRecordingClient(options: Readonly<RecordingClientOptions>): RecordingClient {
  const now = options.now ?? Date.now;
  return {
    send(input) {
      const url = new URL(input.url);
      const method = input.method ?? 'POST';
      const body = Buffer.from(input.body ?? '', 'utf8');
      const headers: Record<string, string> = { host: url.host, ...lower(input.headers ?? {}) };
      if (method === 'POST' || body.length > 0) {
        headers['content-length'] ??= String(body.length);
        headers['content-type'] ??= 'application/xml';
      }
      const tape = options.slot.current;
      const sent = tape.add({ at: now(), direction: 'sent', channel: 'http', method, url: input.url, headers, body: body.toString('utf8') });
      const fail = (what: string): PeerUnreachable => {
        tape.add({ at: now(), direction: 'received', channel: 'http', headers: {}, body: '', answers: sent, error: what });
        return new PeerUnreachable(`${method} ${input.url}: ${what}`);
      };
      const https = url.protocol === 'https:';
      const request = https ? httpsRequest : httpRequest;
      return new Promise<HttpAnswer>((resolve, reject) => {
        let settled = false;
        const done = (f: () => void): void => {
          if (!settled) {
            settled = true;
            f();
          }
        };
        const req = request(url, {
          method,
          headers,
          agent: false,
          ...(https && options.tls !== undefined ? { cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }) } : {}),
        });
        const timeoutMs = input.timeoutMs ?? options.timeoutMs;
        const timer = setTimeout(() => {
          done(() => reject(fail(`no answer within ${timeoutMs} ms (time-out)`)));
          req.destroy();
        }, timeoutMs);
        timer.unref();
        req.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          const what = err.code === 'ECONNRESET' ? 'the peer closed the connection without an answer' : err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : `${err.code ?? 'error'}: ${err.message}`;
          done(() => reject(fail(what)));
        });
        req.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => {
            clearTimeout(timer);
            done(() => reject(fail(`the answer was cut off: ${err.message}`)));
          });
          res.on('end', () => {
            clearTimeout(timer);
            const h = flatHeaders(res.headers);
            let text: string;
            try {
              text = bodyText(Buffer.concat(chunks), h['content-encoding']);
            } catch (err) {
              done(() => reject(fail(`the body does not decompress as its Content-Encoding ${h['content-encoding'] ?? ''} says: ${(err as Error).message}`)));
              return;
            }
            const status = res.statusCode ?? 0;
            done(() => {
              tape.add({ at: now(), direction: 'received', channel: 'http', status, headers: h, body: text, answers: sent });
              resolve({ status, headers: h, body: text });
            });
          });
        });
        req.end(body);
      });
    },
  };
}

const lower = (h: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** What the suite's server hands to the case-side handler. */
export interface ServerRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ServerAnswer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type ServerHandler = (request: ServerRequest) => ServerAnswer | Promise<ServerAnswer>;

export interface RecordingServer {
  /** Base URL, e.g. `http://127.0.0.1:4711`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface RecordingServerOptions {
  readonly slot: TapeSlot;
  readonly host: string;
  readonly port: number;
  readonly handler: ServerHandler;
  /** Mutual TLS: the peer must present a certificate the CA signed. */
  readonly tls?: TlsMaterial | undefined;
  readonly now?: () => number;
}

/** Listens; records every request and the answer given, on the tape current when the request arrived. */
export async function startRecordingServer(options: Readonly<RecordingServerOptions>): Promise<RecordingServer> {
  const now = options.now ?? Date.now;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const tape = options.slot.current;
      const headers = flatHeaders(req.headers);
      let body: string;
      try {
        body = bodyText(Buffer.concat(chunks), headers['content-encoding']);
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const path = req.url ?? '/';
      const i = tape.add({ at: now(), direction: 'received', channel: 'http', method: req.method ?? '', url: `${url}${path}`, headers, body });
      void Promise.resolve()
        .then(() => options.handler({ method: req.method ?? '', path, headers, body }))
        .catch((err: unknown): ServerAnswer => ({ status: 500, body: `suite error: ${(err as Error).message}` }))
        .then((answer) => {
          const out = Buffer.from(answer.body ?? '', 'utf8');
          const h: Record<string, string> = { 'content-type': 'application/xml', 'content-length': String(out.length), ...lower(answer.headers ?? {}) };
          tape.add({ at: now(), direction: 'sent', channel: 'http', status: answer.status, headers: h, body: out.toString('utf8'), answers: i });
          res.writeHead(answer.status, h);
          res.end(out);
        });
    });
  };
  const server =
    options.tls === undefined
      ? createHttpServer(onRequest)
      : createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }), requestCert: true, rejectUnauthorized: true }, onRequest);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
