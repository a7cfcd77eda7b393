/**
 * The HTTP rules of §9.1 as pure functions: the media type a request must carry (§9.1.9.5),
 * the compression a response must use (§9.1.9.2–3), and the venID of an unreadable body (logs only).
 */
import { gzipSync, deflateSync } from 'node:zlib';

/** What the VTN writes (one of the two strings §9.1.9.5 allows). */
export const OADR_CONTENT_TYPE = 'application/xml';

/**
 * `application/xml`, optionally with `charset=utf-8` (case and whitespace ignored, quotes allowed);
 * anything else (another media type, another charset, other parameters, no header) is refused with 406.
 */
export function isOadrContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';');
  if ((type ?? '').trim().toLowerCase() !== 'application/xml') return false;
  for (const raw of params) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) return false;
    const name = p.slice(0, eq).trim().toLowerCase();
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (name !== 'charset' || value !== 'utf-8') return false;
  }
  return true;
}

export type ContentEncoding = 'gzip' | 'deflate';

/** The encoding to answer with: gzip or deflate when Accept-Encoding lists one with q > 0 (gzip preferred). */
export function chooseEncoding(header: string | undefined): ContentEncoding | undefined {
  if (header === undefined || header === '') return undefined;
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = (name ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    if (q > 0) accepted.add(coding);
  }
  if (accepted.has('gzip') || accepted.has('x-gzip')) return 'gzip';
  if (accepted.has('deflate')) return 'deflate';
  return undefined;
}

export function compress(body: Buffer, encoding: ContentEncoding): Buffer {
  return encoding === 'gzip' ? gzipSync(body) : deflateSync(body);
}

const VEN_ID = /<(?:[A-Za-z_][\w.-]*:)?venID>\s*([^<\s]{1,128})\s*<\//;

/** Best-effort venID of a body that could not be decoded, so its rejection is logged with it. */
export function sniffVenId(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  return VEN_ID.exec(body.subarray(0, 65_536).toString('latin1'))?.[1];
}
