/**
 * The OpenADR 2.0b XMPP binding's stanzas (§9.3.4): the oadrPayload that is an IQ's only child
 * (turned to and from the XML text the codec in oadr/ reads and writes), service discovery
 * (XEP-0030: the feature `http://openadr.org/openadr2` and the items of the services node) and
 * presence. Pure: no connection.
 */
// ltx's CommonJS build: the one whose Element class @xmpp/xml uses (its ESM build has another).
import parse from 'ltx/lib/parse.js';
import { xml, type Element } from '@xmpp/xml';

export type { Element };
/** The oadrPayload element's namespace (the OpenADR 2.0b schema's). */
export const NS_OADR_PAYLOAD = 'http://openadr.org/oadr-2.0b/2012/07';
export const OADR_PAYLOAD = 'oadrPayload';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
/** §9.3.4.9.1: what an OpenADR entity advertises in disco#info. */
export const OPENADR_FEATURE = 'http://openadr.org/openadr2';
/** §9.3.4.9.2: the disco#items node listing the VTN's services. */
export const OPENADR_SERVICES_NODE = 'http://openadr.org/openadr2#services';
const SERVICE_NODE_PREFIX = 'http://openadr.org/OpenADR2/';

/** The services node, also in the `OpenADR2` spelling some implementations use. */
export const isServicesNode = (node: string | undefined): boolean => node !== undefined && node.toLowerCase() === OPENADR_SERVICES_NODE;

/** `http://openadr.org/OpenADR2/EiEvent` for `EiEvent`. */
export const serviceNode = (service: string): string => `${SERVICE_NODE_PREFIX}${service}`;

/** The service a disco item's node names (case-insensitive suffix), or undefined for another node. */
export function serviceOfNode<S extends string>(node: string | undefined, services: readonly S[]): S | undefined {
  if (node === undefined || !node.toLowerCase().startsWith(SERVICE_NODE_PREFIX.toLowerCase())) return undefined;
  const name = node.slice(SERVICE_NODE_PREFIX.length).toLowerCase();
  return services.find((s) => s.toLowerCase() === name);
}

/** The oadrPayload document the codec wrote, as an element to put in an IQ. */
export function payloadElement(document: string): Element {
  return parse(document.replace(/^\s*<\?xml[^?]*\?>/, ''));
}

/** Prefixes the names of `el` and its descendants use (elements and attributes; `xml` is predeclared). */
function usedPrefixes(el: Element, into = new Set<string>()): Set<string> {
  for (const name of [el.name, ...Object.keys(el.attrs)]) {
    const colon = name.indexOf(':');
    if (colon > 0 && !name.startsWith('xmlns')) into.add(name.slice(0, colon));
  }
  for (const c of el.children) if (typeof c !== 'string') usedPrefixes(c, into);
  return into;
}

/**
 * The XML text of an IQ's child, for the codec: prefixes the child uses but the sender declared on
 * the stanza or the stream (in scope, not on the child) are declared on it. Only those: an XML
 * signature's canonical form includes every namespace in scope, so the stream's own (`stream:`,
 * `jabber:client`) must not be added to what was signed.
 */
export function elementXml(child: Element): string {
  const used = usedPrefixes(child);
  const inherited: Record<string, string> = {};
  for (let p = child.parent; p !== null && p !== undefined && used.size > 0; p = p.parent) {
    for (const [name, value] of Object.entries(p.attrs)) {
      const prefix = name.startsWith('xmlns:') ? name.slice(6) : undefined;
      if (prefix !== undefined && used.has(prefix) && value !== undefined && !(name in inherited) && !(name in child.attrs)) inherited[name] = value;
    }
  }
  if (Object.keys(inherited).length === 0) return child.toString();
  const copy = xml(child.name, { ...child.attrs, ...inherited }, ...child.children);
  return copy.toString();
}

export interface DiscoItem {
  readonly jid: string;
  readonly node?: string | undefined;
  readonly name?: string | undefined;
}

/** The `<query>` of a disco#info result. */
export function discoInfo(features: readonly string[], identity: { readonly category: string; readonly type: string; readonly name: string }): Element {
  return xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { ...identity }), ...features.map((f) => xml('feature', { var: f })));
}

/** The `<query>` of a disco#items result. */
export function discoItems(node: string | undefined, items: readonly DiscoItem[]): Element {
  return xml('query', { xmlns: NS_DISCO_ITEMS, ...(node === undefined ? {} : { node }) }, ...items.map((i) => xml('item', { jid: i.jid, ...(i.node === undefined ? {} : { node: i.node }), ...(i.name === undefined ? {} : { name: i.name }) })));
}

export const discoInfoQuery = (): Element => xml('query', { xmlns: NS_DISCO_INFO });
export const discoItemsQuery = (node?: string): Element => xml('query', { xmlns: NS_DISCO_ITEMS, ...(node === undefined ? {} : { node }) });

/** Features of a disco#info answer. */
export const featuresOf = (query: Element | undefined): string[] => (query?.getChildren('feature') ?? []).map((f) => f.attrs['var'] ?? '');

/** Items of a disco#items answer. */
export const itemsOf = (query: Element | undefined): DiscoItem[] =>
  (query?.getChildren('item') ?? []).map((i) => ({ jid: i.attrs['jid'] ?? '', node: i.attrs['node'], name: i.attrs['name'] }));

/** Presence: available (to the server, or directed `to` an entity) or unavailable. */
export const presence = (o: { readonly to?: string; readonly unavailable?: boolean } = {}): Element =>
  xml('presence', { ...(o.to === undefined ? {} : { to: o.to }), ...(o.unavailable === true ? { type: 'unavailable' } : {}) });
