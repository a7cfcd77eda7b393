/**
 * What the checks read from one exchange's body, read once: the XML tree (our reader, any XML),
 * the OpenADR profile by the root's namespace, the payload element, and the decoded message (our
 * decoder) or why the decoder refused it. A body that is not XML, or XML the decoder refuses, is
 * still read as far as it goes, so that every check can say what is wrong instead of crashing.
 */
import { decodeDocument, NS, NS_OADR_20A, parseXml, type OadrMessage, type OadrProfile, type XmlElement } from '../../oadr/index.ts';
import type { Exchange, Finding } from '../case.ts';

export interface ReadMessage {
  /** The body as an XML tree; absent when it is not well-formed XML. */
  readonly root?: XmlElement;
  /** Why the body is not XML. */
  readonly parseError?: string;
  /** By the root's namespace; absent when the root is not an OpenADR element. */
  readonly profile?: OadrProfile;
  /** The payload element (inside oadrSignedObject, or the root for 2.0a and bare payloads). */
  readonly payload?: XmlElement;
  readonly decoded?: OadrMessage;
  /** Why our decoder refused the document. */
  readonly decodeError?: string;
}

const cache = new WeakMap<Exchange, ReadMessage>();

/** A peer may send more than our VTN accepts (1 MiB): the checker still reads it, to say what else is wrong. */
const LIMITS = { maxBytes: 64 * 1024 * 1024 } as const;

/** The exchange's body read; `undefined` when it has none. */
export function readMessage(exchange: Exchange): ReadMessage | undefined {
  if (exchange.body.trim() === '') return undefined;
  let read = cache.get(exchange);
  if (read === undefined) {
    read = readBody(exchange.body);
    cache.set(exchange, read);
  }
  return read;
}

function readBody(body: string): ReadMessage {
  let root: XmlElement;
  try {
    root = parseXml(body, LIMITS);
  } catch (err) {
    return { parseError: errorText(err) };
  }
  const profile = root.uri === NS_OADR_20A ? '2.0a' : root.uri === NS.oadr ? '2.0b' : undefined;
  const payload = payloadElement(root);
  try {
    const decoded = decodeDocument(body, LIMITS);
    return { root, ...(profile === undefined ? {} : { profile }), ...(payload === undefined ? {} : { payload }), decoded: decoded.message };
  } catch (err) {
    return { root, ...(profile === undefined ? {} : { profile }), ...(payload === undefined ? {} : { payload }), decodeError: errorText(err) };
  }
}

function payloadElement(root: XmlElement): XmlElement | undefined {
  if (root.uri !== NS.oadr && root.uri !== NS_OADR_20A) return undefined;
  if (root.local !== 'oadrPayload') return root;
  const signed = root.children.find((c) => c.uri === NS.oadr && c.local === 'oadrSignedObject');
  return signed?.children[0];
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Every element of a tree, depth first, with its parent. */
export function* walk(element: XmlElement, parent?: XmlElement): Generator<{ element: XmlElement; parent: XmlElement | undefined }> {
  yield { element, parent };
  for (const child of element.children) yield* walk(child, element);
}

/** Who wrote an exchange, for findings: the peer under test or the suite itself. */
export const author = (exchange: Exchange): string => (exchange.direction === 'received' ? 'the peer' : 'the suite');

/** The payload element's name, e.g. `oadrDistributeEvent`, for findings. */
export const payloadName = (read: ReadMessage): string => read.payload?.local ?? read.root?.local ?? 'message';

/** A finding about exchange `index`. */
export function finding(index: number, ruleIds: readonly string[], message: string, expected: string, actual: string): Finding {
  return { ruleIds, message, expected, actual, exchange: index };
}
