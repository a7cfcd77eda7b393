/**
 * The folder tls/ is the VTN's TLS: server and push options, the venID↔certificate binding and the
 * PKI files. It may depend on certs/, oadr/ (fingerprints), store/ and the part's errors.
 *
 * Mutual TLS for the VTN in the 2.0b profile (R67, §9.2, §10.4, R516; rules digest 9.2–9.4): the
 * server options (TLS 1.2 only, the two default suites with the server's order, an RSA and an
 * ECC certificate, client certificates required and checked against the OpenADR roots and their
 * CRLs), the peer's certificate fingerprint for the venID binding (§10.5.1, R517), and a `fetch`
 * that presents the VTN's certificate when it pushes to a VEN (§9.2.1.1).
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { LookupFunction, Socket } from 'node:net';
import type { TLSSocket, SecureVersion } from 'node:tls';
import { certificateFingerprint } from '../../oadr/index.ts';
import { VtnError } from '../errors.ts';

/** R67 default suites (OpenSSL names): ECC first, then RSA; the server's order wins. */
export const OADR_TLS_CIPHERS = 'ECDHE-ECDSA-AES128-SHA256:AES128-SHA256';
export const OADR_TLS_VERSION: SecureVersion = 'TLSv1.2';

/** The R67 defaults as Node TLS options (both ends). */
export const OADR_TLS_PROFILE = Object.freeze({
  minVersion: OADR_TLS_VERSION,
  maxVersion: OADR_TLS_VERSION,
  ciphers: OADR_TLS_CIPHERS,
  honorCipherOrder: true,
});

/**
 * A deployment's explicit departure from the R67 defaults (§10.4: "deployments MAY configure other
 * TLS versions and suites"). Absent: exactly TLS 1.2 with the two default suites.
 */
export interface TlsDeploymentOverride {
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2; keep the two default suites in it. */
  readonly ciphers?: string;
}

export interface VtnTlsOptions {
  /** Private keys (PEM), one per certificate: the RSA one and the ECC one (R68: a VTN supports both). */
  readonly key: readonly string[];
  /** Certificate chains (PEM, leaf then intermediates), in the order of `key`. */
  readonly cert: readonly string[];
  /** Trusted roots for client certificates (the OpenADR CA bundle). */
  readonly ca: string | readonly string[];
  /** CRLs (PEM), one per CA of every chain (root and intermediate), or none. */
  readonly crl?: readonly string[];
  readonly override?: TlsDeploymentOverride;
}

/** The `node:https` server options of the VTN: mutual TLS, nothing else accepted (§9.2.1.1). */
export function vtnHttpsOptions(tls: Readonly<VtnTlsOptions>): HttpsServerOptions {
  if (tls.key.length === 0 || tls.key.length !== tls.cert.length) {
    throw new VtnError('INVALID_CONFIG', 'VTN TLS needs one key per certificate (an RSA and an ECC pair, R68); check the PKI directory');
  }
  const o = tls.override ?? {};
  return {
    key: [...tls.key],
    cert: [...tls.cert],
    ca: typeof tls.ca === 'string' ? tls.ca : [...tls.ca],
    ...(tls.crl === undefined || tls.crl.length === 0 ? {} : { crl: [...tls.crl] }),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: o.minVersion ?? OADR_TLS_PROFILE.minVersion,
    maxVersion: o.maxVersion ?? OADR_TLS_PROFILE.maxVersion,
    ciphers: o.ciphers ?? OADR_TLS_PROFILE.ciphers,
    honorCipherOrder: true,
  };
}

const fingerprints = new WeakMap<object, { readonly fingerprint: string; readonly pem: string } | null>();

/** The peer's leaf certificate on a TLS socket (fingerprint §10.5.1 and PEM), cached per connection; undefined on plain HTTP. */
export function peerCertificate(socket: Socket | TLSSocket): { readonly fingerprint: string; readonly pem: string } | undefined {
  if (!('getPeerCertificate' in socket) || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cached = fingerprints.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const raw = socket.getPeerCertificate(false)?.raw;
  let found: { fingerprint: string; pem: string } | null = null;
  if (raw !== undefined && raw.length > 0) {
    const b64 = raw.toString('base64').replace(/.{64}/g, '$&\n');
    found = { fingerprint: certificateFingerprint(raw), pem: `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n` };
  }
  fingerprints.set(socket, found);
  return found ?? undefined;
}

/** The VTN's client side when it pushes: its own certificate (one pair), the roots, the same profile. */
export interface PushTlsOptions {
  readonly key: string;
  readonly cert: string;
  readonly ca: string | readonly string[];
  readonly override?: TlsDeploymentOverride;
}

/** The largest answer to a push the VTN reads (the HTTP server's default body limit). */
export const MAX_PUSH_ANSWER_BYTES = 1024 * 1024;

/**
 * A `fetch` for the push transport over `node:http(s)`: with `tls`, the VTN's client certificate
 * (global fetch cannot present one without undici's Agent); with `lookup`, the host is resolved by
 * it for the very connection it opens (the push transport's address check, so a name cannot resolve
 * to one address when checked and another when connected). It implements what the push transport
 * uses: POST with headers, a string or byte body, an abort signal; the answer as a `Response`.
 */
export function createPushFetch(options: { readonly tls?: Readonly<PushTlsOptions> | undefined; readonly lookup?: LookupFunction | undefined } = {}): typeof fetch {
  const tls = options.tls;
  const o = tls?.override ?? {};
  const tlsOptions =
    tls === undefined
      ? {}
      : {
          key: tls.key,
          cert: tls.cert,
          ca: typeof tls.ca === 'string' ? tls.ca : [...tls.ca],
          minVersion: o.minVersion ?? OADR_TLS_PROFILE.minVersion,
          maxVersion: o.maxVersion ?? OADR_TLS_PROFILE.maxVersion,
          ciphers: o.ciphers ?? OADR_TLS_PROFILE.ciphers,
          rejectUnauthorized: true,
        };
  const lookup = options.lookup === undefined ? {} : { lookup: options.lookup };
  const pushFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const body = init.body === undefined || init.body === null ? Buffer.alloc(0) : typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : Buffer.from(init.body as Uint8Array);
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    new Headers(init.headers).forEach((v, k) => void (headers[k] = v));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, { method: init.method ?? 'GET', headers, ...lookup, ...(url.protocol === 'https:' ? tlsOptions : {}), ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A VEN's answer is one small oadrPayload; a peer streaming more is cut off, not buffered.
          if (size > MAX_PUSH_ANSWER_BYTES) res.destroy(new Error(`the push answer is larger than ${MAX_PUSH_ANSWER_BYTES} bytes; not read`));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  return pushFetch as typeof fetch;
}
