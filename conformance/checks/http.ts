/**
 * HTTP rules on every exchange over HTTP (R53, §9.1.3, §9.1.5, §9.1.9): Host on requests,
 * Content-Length on every request and response and no chunked encoding, Content-Type
 * `application/xml` (optionally `; charset=utf-8`), POST only, and status codes OpenADR knows.
 */
import type { ExchangeCheck, Finding } from '../case.ts';
import { author, finding } from './message.ts';

const CONTENT_TYPES = new Set(['application/xml', 'application/xml;charset=utf-8']);
/** §9.1.5's codes, and 400, which the rules digest (§10) accepts from third parties for a schema failure. */
const STATUS_CODES = new Set([200, 400, 403, 404, 406, 500, 501, 503]);

export const httpCheck: ExchangeCheck = (exchange, index) => {
  if (exchange.channel !== 'http' || exchange.error !== undefined) return [];
  const out: Finding[] = [];
  const who = author(exchange);
  const h = exchange.headers;
  const isRequest = exchange.method !== undefined;
  const what = isRequest ? `an HTTP ${exchange.method ?? ''} request` : `an HTTP ${String(exchange.status)} response`;
  if (isRequest && (h.host ?? '') === '') out.push(finding(index, ['R53', '§9.1.9.6'], `${who} sent ${what} without a Host header`, 'a Host header', 'none'));
  if (isRequest && exchange.method !== 'POST') out.push(finding(index, ['§9.1.3'], `${who} sent ${what}`, 'POST', exchange.method ?? ''));
  const chunked = /\bchunked\b/i.test(h['transfer-encoding'] ?? '');
  if (chunked) out.push(finding(index, ['§9.1.9.4'], `${who} sent ${what} with chunked transfer encoding`, 'Content-Length, no Transfer-Encoding: chunked', `Transfer-Encoding: ${h['transfer-encoding'] ?? ''}`));
  const length = h['content-length'];
  if (length === undefined) {
    if (!chunked) out.push(finding(index, ['R53', '§9.1.9.4'], `${who} sent ${what} without Content-Length`, 'a Content-Length header', 'none'));
  } else if (h['content-encoding'] === undefined && String(Buffer.byteLength(exchange.body)) !== length.trim()) {
    out.push(finding(index, ['R53', '§9.1.9.4'], `${who} sent ${what} whose Content-Length is not the body's length`, `Content-Length: ${Buffer.byteLength(exchange.body)}`, `Content-Length: ${length}`));
  }
  const type = h['content-type'];
  const judged = isRequest || exchange.status === 200;
  if (judged && (type !== undefined || exchange.body !== '')) {
    const normal = (type ?? '').toLowerCase().replace(/\s+/g, '');
    if (!CONTENT_TYPES.has(normal)) out.push(finding(index, ['R53', '§9.1.9.5'], `${who} sent ${what} with the wrong Content-Type`, 'application/xml or application/xml; charset=utf-8', type === undefined ? 'no Content-Type' : type));
  }
  if (!isRequest && exchange.status !== undefined && !STATUS_CODES.has(exchange.status)) {
    out.push(finding(index, ['§9.1.5'], `${who} answered with HTTP ${exchange.status}, a status OpenADR does not use`, '200 (application errors in the payload), or 403, 404, 406, 500, 501, 503', String(exchange.status)));
  }
  return out;
};
