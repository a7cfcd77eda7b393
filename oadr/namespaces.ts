import { internXmlNames } from './xml.ts';

/** XML namespaces of OpenADR 2.0b and the prefixes our encoder writes (a reader matches URIs, never prefixes). */
export const NS = {
  oadr: 'http://openadr.org/oadr-2.0b/2012/07',
  pyld: 'http://docs.oasis-open.org/ns/energyinterop/201110/payloads',
  ei: 'http://docs.oasis-open.org/ns/energyinterop/201110',
  emix: 'http://docs.oasis-open.org/ns/emix/2011/06',
  xcal: 'urn:ietf:params:xml:ns:icalendar-2.0',
  strm: 'urn:ietf:params:xml:ns:icalendar-2.0:stream',
  power: 'http://docs.oasis-open.org/ns/emix/2011/06/power',
  scale: 'http://docs.oasis-open.org/ns/emix/2011/06/siscale',
  gml: 'http://www.opengis.net/gml/3.2',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  dsp: 'http://openadr.org/oadr-2.0b/2012/07/xmldsig-properties',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export type Prefix = keyof typeof NS;

/** The `oadr` namespace of OpenADR 2.0a; every other namespace of 2.0a is the 2.0b one. */
export const NS_OADR_20A = 'http://openadr.org/oadr-2.0a/2012/07';

/** The two OpenADR profiles a message may be written in. */
export type OadrProfile = '2.0a' | '2.0b';

/** A qualified name: namespace URI, local name, and the prefix our encoder uses for that URI. */
export interface QName {
  readonly uri: string;
  readonly local: string;
  readonly prefix: Prefix;
  /** `prefix:local`, precomputed for the encoder. */
  readonly qname: string;
  /** `uri local`, precomputed lookup key for the decoder. */
  readonly key: string;
}

internXmlNames([...Object.values(NS), NS_OADR_20A]);

export function qn(prefix: Prefix, local: string): QName {
  const uri = NS[prefix];
  internXmlNames([local]);
  return { uri, local, prefix, qname: `${prefix}:${local}`, key: `${uri} ${local}` };
}

export const nameKey = (uri: string, local: string): string => `${uri} ${local}`;

/** Builders per namespace: `ei('eventID')`. */
export const oadr = (local: string): QName => qn('oadr', local);
/** An element of the 2.0a `oadr` namespace, written with the same `oadr` prefix. */
export function oadr20a(local: string): QName {
  internXmlNames([local]);
  return { uri: NS_OADR_20A, local, prefix: 'oadr', qname: `oadr:${local}`, key: `${NS_OADR_20A} ${local}` };
}
export const pyld = (local: string): QName => qn('pyld', local);
export const ei = (local: string): QName => qn('ei', local);
export const emix = (local: string): QName => qn('emix', local);
export const xcal = (local: string): QName => qn('xcal', local);
export const strm = (local: string): QName => qn('strm', local);
export const power = (local: string): QName => qn('power', local);
export const scale = (local: string): QName => qn('scale', local);
export const gml = (local: string): QName => qn('gml', local);
