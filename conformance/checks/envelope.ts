/**
 * The envelope of every payload: no `schemaLocation` anywhere (R45), `ei:schemaVersion="2.0b"` on
 * 2.0b payload elements and none on 2.0a ones (R509, §7.1). Read from the XML tree, so they hold
 * for documents our decoder refuses; a body that is not XML is searched as text for R45.
 */
import { NS } from '../../oadr/index.ts';
import type { ExchangeCheck, Finding } from '../case.ts';
import { author, finding, payloadName, readMessage, walk } from './message.ts';

const SCHEMA_LOCATION = /\b(?:noNamespaceSchemaLocation|schemaLocation)\s*=\s*("[^"]*"|'[^']*')/;

/** R45: no `xsi:schemaLocation` (nor `noNamespaceSchemaLocation`) on any element. */
export const schemaLocationCheck: ExchangeCheck = (exchange, index) => {
  const read = readMessage(exchange);
  if (read === undefined) return [];
  const out: Finding[] = [];
  if (read.root === undefined) {
    const m = SCHEMA_LOCATION.exec(exchange.body);
    if (m !== null) out.push(finding(index, ['R45'], `${author(exchange)} sent a schemaLocation attribute`, 'no schemaLocation attribute', m[0]));
    return out;
  }
  for (const { element } of walk(read.root)) {
    for (const a of element.attrs) {
      if (a.local === 'schemaLocation' || a.local === 'noNamespaceSchemaLocation') {
        out.push(finding(index, ['R45'], `${author(exchange)} sent a ${a.local} attribute on ${element.qname}`, 'no schemaLocation attribute', `${a.local}="${a.value}"`));
      }
    }
  }
  return out;
};

/** R509: `ei:schemaVersion="2.0b"` on a 2.0b payload element; none on a 2.0a one (§7.1). */
export const schemaVersionCheck: ExchangeCheck = (exchange, index) => {
  const read = readMessage(exchange);
  if (read?.payload === undefined || read.profile === undefined) return [];
  const attr = read.payload.attrs.find((a) => a.uri === NS.ei && a.local === 'schemaVersion');
  const name = payloadName(read);
  if (read.profile === '2.0a') {
    return attr === undefined ? [] : [finding(index, ['R509'], `${author(exchange)} sent ${name} in the 2.0a namespace with a schemaVersion attribute`, 'no schemaVersion on a 2.0a payload', `schemaVersion="${attr.value}"`)];
  }
  if (attr?.value === '2.0b') return [];
  return [finding(index, ['R509'], `${author(exchange)} sent ${name} without ei:schemaVersion="2.0b"`, 'ei:schemaVersion="2.0b" on the payload element', attr === undefined ? 'no ei:schemaVersion attribute' : `ei:schemaVersion="${attr.value}"`)];
};
