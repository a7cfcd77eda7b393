/**
 * The DOM that xml-crypto works on (@xmldom/xmldom), kept behind a few small types so that the DOM
 * lib never leaks into the project's global types, and a cross-check of it against our strict
 * parser: what xml-crypto digests must be exactly what `decodeOadr` reads.
 *
 * Two parsers reading one document differently is a classic way to smuggle content past a
 * signature. So the document is first parsed by our strict `parseXml` (no DTD, no entities), then
 * by xmldom; the two trees must agree element by element on names, namespaces, attributes and
 * character data, and xmldom must report no error or warning at all.
 */
import { createRequire } from 'node:module';
import { XMLNS_NAMESPACE, type XmlElement } from './xml.ts';

/** The slice of the W3C DOM this layer touches. */
export interface DomNode {
  readonly nodeType: number;
  readonly childNodes: ArrayLike<DomNode>;
  readonly parentNode: DomNode | null;
  readonly namespaceURI?: string | null;
  readonly localName?: string | null;
  readonly nodeName: string;
  readonly data?: string;
  readonly attributes?: ArrayLike<DomAttr>;
  readonly documentElement?: DomNode | null;
}

export interface DomAttr {
  readonly namespaceURI: string | null;
  readonly localName: string | null;
  readonly name: string;
  readonly value: string;
}

interface DomParserCtor {
  new (options: { errorHandler: (level: string, message: string) => void }): { parseFromString(xml: string, mimeType: string): DomNode };
}

const require = createRequire(import.meta.url);
const { DOMParser } = require('@xmldom/xmldom') as { DOMParser: DomParserCtor };

export const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const ID_NAMES: ReadonlySet<string> = new Set(['Id', 'ID', 'id']);

/** Parses with xmldom; `undefined` when xmldom reports anything (error, warning) or finds no root. */
export function parseDom(xml: string): DomNode | undefined {
  let complaints = 0;
  const doc = new DOMParser({ errorHandler: () => void complaints++ }).parseFromString(xml, 'text/xml');
  if (complaints > 0 || doc.documentElement == null) return undefined;
  return doc;
}

/**
 * True when the xmldom tree under `dom` (an Element) is the tree our parser built: same elements
 * in the same order, same namespace URIs and local names, same attributes (namespace declarations
 * apart), same character data. Also false when a namespace declaration uses `Id`, `ID` or `id` as
 * its prefix: xml-crypto finds referenced elements with `@*[local-name()='Id']`, and a declaration
 * must never be mistaken for an id.
 */
export function sameTree(ours: XmlElement, dom: DomNode): boolean {
  const stack: [XmlElement, DomNode][] = [[ours, dom]];
  while (stack.length > 0) {
    const [a, b] = stack.pop() as [XmlElement, DomNode];
    if (b.nodeType !== ELEMENT_NODE || (b.namespaceURI ?? '') !== a.uri || b.localName !== a.local) return false;
    const attrs = Array.from(b.attributes ?? []);
    // Both parsers keep the attributes in document order: compared in step, one pass.
    let counted = 0;
    for (const x of attrs) {
      if (x.namespaceURI === XMLNS_NAMESPACE || x.name === 'xmlns' || x.name.startsWith('xmlns:')) {
        if (ID_NAMES.has(x.localName ?? '') || ID_NAMES.has(x.name.slice(6))) return false;
        continue;
      }
      const y = a.attrs[counted++];
      if (y === undefined || y.uri !== (x.namespaceURI ?? '') || y.local !== (x.localName ?? x.name) || y.value !== x.value) return false;
    }
    if (counted !== a.attrs.length) return false;
    const kids: DomNode[] = [];
    let text = '';
    for (const n of Array.from(b.childNodes)) {
      if (n.nodeType === ELEMENT_NODE) kids.push(n);
      else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) text += n.data ?? '';
    }
    if (text !== a.text || kids.length !== a.children.length) return false;
    for (let i = kids.length - 1; i >= 0; i--) stack.push([a.children[i] as XmlElement, kids[i] as DomNode]);
  }
  return true;
}

/** The element children of a DOM node. */
export function domChildren(node: DomNode): DomNode[] {
  return Array.from(node.childNodes).filter((n) => n.nodeType === ELEMENT_NODE);
}
