/**
 * The VEN's HTTP binding (rules digest 2.2, 2.3): `VtnTransport`, the seam a session talks
 * through (XMPP plugs in later), its HTTP implementation (POST, `Content-Length`, no chunking,
 * response timeout ≥ 5 s), and the push server the VTN POSTs to at `oadrTransportAddress`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodePayload, encodeOadr, OadrCodecError, type Payload, type PayloadType } from '../oadr/index.ts';
import { VenError, VenErrorCode } from './errors.ts';
import { venTlsProfile, type VenTlsOverride } from './tls.ts';
import { peerCertificatePem, type VenSignature } from './xml-signature.ts';

export type ServiceName = 'EiEvent' | 'EiOpt' | 'EiReport' | 'EiRegisterParty' | 'OadrPoll';

/** The service a VEN→VTN payload is POSTed to (Table 2, §9.1.2). */
export const SERVICE_OF: Readonly<Record<PayloadType, ServiceName>> = {
  QueryRegistration: 'EiRegisterParty',
  CreatePartyRegistration: 'EiRegisterParty',
  CreatedPartyRegistration: 'EiRegisterParty',
  CancelPartyRegistration: 'EiRegisterParty',
  CanceledPartyRegistration: 'EiRegisterParty',
  RequestReregistration: 'EiRegisterParty',
  RequestEvent: 'EiEvent',
  DistributeEvent: 'EiEvent',
  CreatedEvent: 'EiEvent',
  Response: 'EiEvent',
  RegisterReport: 'EiReport',
  RegisteredReport: 'EiReport',
  CreateReport: 'EiReport',
  CreatedReport: 'EiReport',
  UpdateReport: 'EiReport',
  UpdatedReport: 'EiReport',
  CancelReport: 'EiReport',
  CanceledReport: 'EiReport',
  CreateOpt: 'EiOpt',
  CreatedOpt: 'EiOpt',
  CancelOpt: 'EiOpt',
  CanceledOpt: 'EiOpt',
  Poll: 'OadrPoll',
};

export const SERVICE_PATH = 'OpenADR2/Simple/2.0b/';
export const XML_CONTENT_TYPE = 'application/xml';
/** §9.1.6: clients wait at least 5 s for an answer. */
export const MIN_REQUEST_TIMEOUT_MS = 5000;

/**
 * Request/response to one VTN; a request fails with a VenError: VTN_UNREACHABLE (no HTTP answer),
 * VTN_REJECTED (an HTTP error status) or VTN_BAD_ANSWER (a 200 that is not an OpenADR payload).
 */
export interface VtnTransport {
  request(payload: Payload): Promise<Payload>;
  close(): Promise<void>;
}

export interface TlsClientOptions {
  readonly key?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly ca?: string | Buffer | (string | Buffer)[];
  /** CRLs (one per CA of the chain) the push server checks the VTN's certificate against. */
  readonly crl?: string | Buffer | (string | Buffer)[];
  /** An explicit deployment change of the R67 profile (TLS 1.2, the two default suites). */
  readonly override?: VenTlsOverride;
}

export interface HttpTransportOptions {
  /** VTN base URL, e.g. `https://vtn.example:8443/` or `…/prefix/` (the service path is appended, §9.1.2). */
  readonly vtnUrl: string;
  /** Response timeout, ms (default 10,000; never below 5,000, §9.1.6). */
  readonly timeoutMs?: number;
  readonly tls?: TlsClientOptions;
  /** Largest answer accepted, bytes (default 4 MiB). */
  readonly maxBodyBytes?: number;
  /** R514: sign every request and verify every answer (the VTN's TLS certificate must be the signer). */
  readonly xmlSignature?: VenSignature | undefined;
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts plain HTTP is allowed to. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** `base` + `OpenADR2/Simple/2.0b/<service>`, joined with exactly one `/` (CHOICE in 2.1). */
export function serviceUrl(base: string, service: ServiceName): URL {
  const u = new URL(base);
  let path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  if (path.endsWith(`/${SERVICE_PATH}`)) path = path.slice(0, -SERVICE_PATH.length);
  u.pathname = `${path}${SERVICE_PATH}${service}`;
  return u;
}

function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy(new Error(`body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** The first non-empty line of a refusal body, trimmed and cut at 200 characters (for the log). */
export function firstLine(body: Buffer): string {
  const text = body.subarray(0, 4096).toString('utf8');
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function clientTls(tls: TlsClientOptions | undefined): object {
  if (tls === undefined) return venTlsProfile();
  const { override, crl: _crl, ...material } = tls;
  return { ...material, ...venTlsProfile(override) };
}

export function createHttpTransport(options: Readonly<HttpTransportOptions>): VtnTransport {
  const timeoutMs = Math.max(MIN_REQUEST_TIMEOUT_MS, options.timeoutMs ?? 10_000);
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const base = new URL(options.vtnUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new VenError(VenErrorCode.INVALID_CONFIG, `VTN URL ${options.vtnUrl} is not http(s)`);
  if (base.protocol === 'http:' && !isLoopbackHost(base.hostname)) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, `plain HTTP to ${base.hostname} is refused (TLS is mandatory, §9.2); use https:// or a loopback address for tests`);
  }
  const inflight = new Set<{ destroy(): void }>();
  return {
    request(payload: Payload): Promise<Payload> {
      const url = serviceUrl(options.vtnUrl, SERVICE_OF[payload.type]);
      const xml = encodeOadr(payload);
      const sig = options.xmlSignature;
      let body: Buffer;
      try {
        body = Buffer.from(sig === undefined ? xml : sig.sign(xml), 'utf8');
      } catch (err) {
        return Promise.reject(new VenError(VenErrorCode.INVALID_CONFIG, `cannot sign ${payload.type}: ${(err as Error).message}`, {}, { cause: err }));
      }
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<Payload>((resolve, reject) => {
        const req = send(
          url,
          {
            method: 'POST',
            headers: { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': String(body.length), Accept: XML_CONTENT_TYPE },
            timeout: timeoutMs,
            ...(url.protocol === 'https:' ? { ...clientTls(options.tls), rejectUnauthorized: true } : {}),
          },
          (res) => {
            const peer = sig === undefined ? undefined : peerCertificatePem(res.socket);
            readBody(res, limit).then((buf) => {
              const status = res.statusCode ?? 0;
              if (status !== 200) {
                // Refused: any HTTP error status (5xx included: the VTN answered, it is not unreachable).
                const bodyLine = firstLine(buf);
                const said = bodyLine === '' ? '' : ` ("${bodyLine}")`;
                reject(new VenError(VenErrorCode.VTN_REJECTED, `VTN answered HTTP ${status}${said} to ${payload.type} at ${url.pathname}; ${status >= 500 || status === 429 ? 'retried after a back-off' : 'check the VTN URL, the certificate and the payload'}`, { httpStatus: status, bodyLine }));
                return;
              }
              if (sig !== undefined) {
                // R514: an unsigned or badly signed answer is ignored, never acted on.
                const v = sig.verify(buf, peer);
                if (!v.ok) {
                  reject(new VenError(VenErrorCode.SIGNATURE_REFUSED, `VTN answer to ${payload.type} ignored: XML signature refused (${v.reason}): ${v.message}`, { httpStatus: status }));
                  return;
                }
              }
              try {
                resolve(decodePayload(buf));
              } catch (err) {
                reject(new VenError(VenErrorCode.VTN_BAD_ANSWER, `VTN answer to ${payload.type} is not an OpenADR 2.0b payload: ${(err as Error).message}`, {}, { cause: err }));
              }
            }, reject);
          },
        );
        inflight.add(req);
        req.on('close', () => inflight.delete(req));
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => {
          reject(new VenError(VenErrorCode.VTN_UNREACHABLE, `cannot reach the VTN at ${url.origin} (${err.message}); will retry after a back-off`, {}, { cause: err }));
        });
        req.end(body);
      });
    },
    async close() {
      for (const r of inflight) r.destroy();
      inflight.clear();
    },
  };
}

// ---- push server ----------------------------------------------------------------------------------

export interface PushServerOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Path prefix before `OpenADR2/Simple/2.0b/` (default `/`). */
  readonly prefix?: string;
  /** The answer to put in the HTTP response; undefined = an empty 200 (pushed oadrDistributeEvent, §8.1). */
  readonly handle: (payload: Payload) => Promise<Payload | undefined>;
  readonly maxBodyBytes?: number;
  /** HTTPS with the VEN's certificate, requiring the VTN's client certificate (§9.2.1.1); absent: plain HTTP. */
  readonly tls?: TlsClientOptions;
  /** Slow-client limits; defaults 30 s for a request, 10 s for its headers. */
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** R514: verify every pushed payload (the VTN's TLS client certificate must be the signer), sign every answer. */
  readonly xmlSignature?: VenSignature | undefined;
  /** Told about each pushed payload that was ignored because its signature was refused (for the log). */
  readonly onRefused?: ((info: { readonly service: string; readonly reason: string; readonly message: string }) => void) | undefined;
}

export interface PushServer {
  /** The base address to register as `oadrTransportAddress`. */
  readonly url: string;
  close(): Promise<void>;
}

const SERVICES = new Set<string>(['EiEvent', 'EiOpt', 'EiReport', 'EiRegisterParty']);

function isXmlContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  if (type !== XML_CONTENT_TYPE) return false;
  return params.every((p) => p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** The small server a push VEN runs (§9.1.1): HTTPS with mutual TLS when `tls` is given, else plain HTTP (loopback tests). */
export async function createPushServer(options: Readonly<PushServerOptions>): Promise<PushServer> {
  const prefix = `/${(options.prefix ?? '/').replace(/^\/+|\/+$/g, '')}`.replace(/\/$/, '');
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const finish = (res: ServerResponse, status: number, body = ''): void => {
    const buf = Buffer.from(body, 'utf8');
    res.writeHead(status, body === '' ? { 'Content-Length': '0' } : { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': String(buf.length) });
    res.end(buf);
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      if (req.method !== 'POST') return finish(res, 501); // §9.1.5
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const service = path.startsWith(`${prefix}/${SERVICE_PATH}`) ? path.slice(prefix.length + 1 + SERVICE_PATH.length) : '';
      if (!SERVICES.has(service)) return finish(res, 404);
      if (!isXmlContentType(req.headers['content-type'])) return finish(res, 406);
      let payload: Payload;
      const sig = options.xmlSignature;
      try {
        const body = await readBody(req, limit);
        if (sig !== undefined) {
          // R514, rules digest 9.7: ignored — no OpenADR answer, HTTP 403 (as the VTN does).
          const v = sig.verify(body, peerCertificatePem(req.socket));
          if (!v.ok) {
            options.onRefused?.({ service, reason: v.reason, message: v.message });
            return finish(res, 403);
          }
        }
        payload = decodePayload(body);
      } catch (err) {
        return finish(res, err instanceof OadrCodecError && err.httpStatus !== undefined ? err.httpStatus : 406);
      }
      if (SERVICE_OF[payload.type] !== service) return finish(res, 404);
      const answer = await options.handle(payload);
      if (answer === undefined) return finish(res, 200);
      const xml = encodeOadr(answer);
      return finish(res, 200, sig === undefined ? xml : sig.sign(xml));
    })().catch(() => {
      if (!res.headersSent) finish(res, 500);
    });
  };
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = Math.min(requestTimeout, options.headersTimeoutMs ?? 10_000);
  const timeouts = { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, headersTimeout / 4) };
  const tls = options.tls;
  if (tls !== undefined && (tls.key === undefined || tls.cert === undefined || tls.ca === undefined)) {
    throw new VenError(VenErrorCode.INVALID_CONFIG, 'the HTTPS push server needs the VEN certificate, its key and the CA bundle (--cert, --key, --ca)');
  }
  const server: Server =
    tls === undefined
      ? createServer(timeouts, listener)
      : (createHttpsServer(
          {
            ...timeouts,
            key: tls.key,
            cert: tls.cert,
            ca: tls.ca,
            ...(tls.crl === undefined ? {} : { crl: tls.crl }),
            requestCert: true,
            rejectUnauthorized: true,
            honorCipherOrder: true,
            ...venTlsProfile(tls.override),
          },
          listener,
        ) as unknown as Server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${addr.port}${prefix}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
