/**
 * The unprefixed form of an XML document: the form an XMPP server forwards unchanged. Prosody
 * parses every stanza with namespace processing and writes it again with no element prefixes (a
 * default `xmlns` wherever the namespace changes) and each namespaced attribute under a prefix
 * `ns1`, `ns2`, … declared on its own element; a server that keeps the text as it came (ejabberd)
 * forwards this form as it is too. An XML signature covers the canonical form (c14n), which keeps
 * prefixes, so a payload signed with prefixes arrives with its digests broken; one signed in this
 * form arrives as it was signed (R514 over XMPP, docs/xmpp.md).
 *
 * Element content is elements or text, not both (OpenADR has no mixed content): whitespace between
 * child elements is dropped, other text beside child elements is refused. Pure.
 */
import { CodecErrorCode, OadrCodecError } from './errors.ts';
import { escapeXmlAttr, escapeXmlText, parseXml, type XmlElement } from './xml.ts';

/** `xml` (an XML document, e.g. what `encodeOadr` writes) in the unprefixed form; the XML declaration is dropped. */
export function unprefixedXml(xml: string): string {
  const root = parseXml(xml);
  let out = '';
  // Iterative, as the parser: [element, the parent's namespace] to open, or the name to close.
  const stack: Array<{ el: XmlElement; parentUri: string | undefined } | string> = [{ el: root, parentUri: undefined }];
  while (stack.length > 0) {
    const next = stack.pop() as (typeof stack)[number];
    if (typeof next === 'string') {
      out += `</${next}>`;
      continue;
    }
    const { el, parentUri } = next;
    out += `<${el.local}`;
    if (el.uri !== parentUri && !(parentUri === undefined && el.uri === '')) out += ` xmlns="${escapeXmlAttr(el.uri)}"`;
    let n = 0;
    for (const a of el.attrs) {
      if (a.uri === '') out += ` ${a.local}="${escapeXmlAttr(a.value)}"`;
      else out += ` xmlns:ns${++n}="${escapeXmlAttr(a.uri)}" ns${n}:${a.local}="${escapeXmlAttr(a.value)}"`;
    }
    if (el.children.length === 0) {
      out += el.text === '' ? '/>' : `>${escapeXmlText(el.text)}</${el.local}>`;
      continue;
    }
    if (el.text.trim() !== '') {
      throw new OadrCodecError(CodecErrorCode.MALFORMED_XML, `${el.qname} holds both text and elements; the unprefixed form is for documents without mixed content`, { offset: el.offset });
    }
    out += '>';
    stack.push(el.local);
    for (let i = el.children.length - 1; i >= 0; i--) stack.push({ el: el.children[i] as XmlElement, parentUri: el.uri });
  }
  return out;
}
