/**
 * Where the VTN may push (blind-SSRF defence): a VEN chooses its `oadrTransportAddress`, and the VTN
 * then POSTs to it, so the address is checked at registration, before each push, and every address
 * its host resolves to when the push connects (the addresses checked are the ones connected to). Allowed: `https` (and `http` only with `push.allowHttp`, for development);
 * refused: loopback, link-local, private, unique-local, CGNAT, multicast and unspecified addresses,
 * unless the host is in `push.allowedHosts`. A VEN's literal `None` or an empty address means "no
 * address" (pull), as a widely used VEN sends it.
 */
import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { X509Certificate } from 'node:crypto';

export interface PushTargetPolicy {
  /** Allow `http:` push addresses (development only). */
  readonly allowHttp: boolean;
  /** Hosts (names or IP literals, matched exactly, case-insensitive) allowed even when they are loopback or private. */
  readonly allowedHosts: readonly string[];
  /** The push URL's host must be a DNS or IP subject alternative name of the VEN's certificate. */
  readonly requireCertificateHost: boolean;
}

/** Addresses a VEN may never make the VTN call, unless allow-listed. */
const FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(net, bits, 'ipv4');
// IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry (isInternalAddress).
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) FORBIDDEN.addSubnet(net, bits, 'ipv6');

/** True for a loopback, link-local, private or otherwise internal address. */
export function isInternalAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped !== null) return FORBIDDEN.check(mapped[1] as string, 'ipv4');
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip); // the URL parser's form of ::ffff:a.b.c.d
    if (hex !== null) {
      const [hi, lo] = [parseInt(hex[1] as string, 16), parseInt(hex[2] as string, 16)];
      return FORBIDDEN.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
  }
  return FORBIDDEN.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** `None`, empty or blank: no address (the VEN pulls). */
export function normalizeTransportAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const t = address.trim();
  return t === '' || t.toLowerCase() === 'none' ? undefined : t;
}

const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

function allowed(policy: Pick<PushTargetPolicy, 'allowedHosts'>, host: string): boolean {
  return policy.allowedHosts.some((h) => h.toLowerCase() === host);
}

export type PushTargetRefusal = { readonly kind: 'invalid' | 'forbidden'; readonly message: string };

/** Checks a push address without network access (registration); undefined when it may be used. */
export function checkPushAddress(address: string, policy: PushTargetPolicy, certificatePem?: string): PushTargetRefusal | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return { kind: 'invalid', message: `oadrTransportAddress '${address}' is not an absolute URL; register with https://host[:port][/path] or pull` };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return { kind: 'invalid', message: `oadrTransportAddress scheme '${url.protocol}' is not accepted; use https${policy.allowHttp ? ' or http' : ''} (http only where the VTN is configured for development)` };
  }
  if (url.username !== '' || url.password !== '') return { kind: 'invalid', message: 'oadrTransportAddress must not carry credentials' };
  const host = hostOf(url);
  if (!allowed(policy, host) && (host === 'localhost' || host.endsWith('.localhost') || isInternalAddress(host))) {
    return { kind: 'forbidden', message: `push address host '${host}' is loopback, link-local or private; the VTN does not push there unless an operator allow-lists it (push.allowedHosts)` };
  }
  if (policy.requireCertificateHost && certificatePem !== undefined) {
    const cert = new X509Certificate(certificatePem);
    const matches = isIP(host) === 0 ? cert.checkHost(host) !== undefined : cert.checkIP(host) !== undefined;
    if (!matches) return { kind: 'forbidden', message: `push address host '${host}' is not a subject alternative name of the VEN's certificate; push to a host the certificate names` };
  }
  return undefined;
}

/** A push refused because its host resolved to an internal address (at connect time: see guardedLookup). */
export class PushTargetRefusedError extends Error {
  readonly code = 'PUSH_TARGET_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'PushTargetRefusedError';
  }
}

type Resolve = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

/**
 * The `lookup` of the push connections (`createPushFetch`): resolves the host and refuses the
 * connection (PushTargetRefusedError) when any of its addresses is internal, unless the host is
 * allow-listed. The connection then uses exactly the addresses checked: a name that resolves to a
 * public address for a check and to 127.0.0.1 a moment later (DNS rebinding) never gets a request.
 * `resolve` is `dns.lookup`; tests give a resolver that answers what they need.
 */
export function guardedLookup(policy: Pick<PushTargetPolicy, 'allowedHosts'>, resolve: Resolve = lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }).then(
      (addresses) => {
        const host = hostname.toLowerCase();
        const bad = allowed(policy, host) ? undefined : addresses.find((a) => isInternalAddress(a.address));
        if (bad !== undefined) {
          const err = new PushTargetRefusedError(`push host '${host}' resolves to ${bad.address}, a loopback, link-local or private address; not pushed (push.allowedHosts allows it)`);
          callback(err as NodeJS.ErrnoException, '', 0);
        } else if (addresses.length === 0) {
          callback(Object.assign(new Error(`push host '${host}' has no address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all === true) {
          (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
        } else {
          const first = addresses[0] as LookupAddress;
          callback(null, first.address, first.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
