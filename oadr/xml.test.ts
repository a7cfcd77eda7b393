import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { CodecErrorCode, OadrCodecError } from './errors.ts';
import type { CodecErrorCodeValue } from './errors.ts';
import { escapeXmlAttr, escapeXmlText, parseXml, XML_NAMESPACE } from './xml.ts';
import { prng } from '../test/support/seeded-random.ts';
import type { ParseXmlOptions, XmlElement } from './xml.ts';

const OADR = 'http://openadr.org/oadr-2.0b/2012/07';
const EI = 'http://docs.oasis-open.org/ns/energyinterop/201110';
const PYLD = 'http://docs.oasis-open.org/ns/energyinterop/201110/payloads';
const EMIX = 'http://docs.oasis-open.org/ns/emix/2011/06';
const XCAL = 'urn:ietf:params:xml:ns:icalendar-2.0';
const STRM = 'urn:ietf:params:xml:ns:icalendar-2.0:stream';

/** Runs `parseXml` and returns the OadrCodecError it throws (fails the test if it returns or throws anything else). */
function parseError(input: string | Uint8Array, options?: ParseXmlOptions): OadrCodecError {
  try {
    parseXml(input, options);
  } catch (err) {
    if (err instanceof OadrCodecError) return err;
    throw err;
  }
  assert.fail(`expected an OadrCodecError for ${typeof input === 'string' ? JSON.stringify(input.slice(0, 80)) : 'bytes'}`);
}

function rejects(input: string | Uint8Array, code: CodecErrorCodeValue, options?: ParseXmlOptions): OadrCodecError {
  const err = parseError(input, options);
  assert.equal(err.code, code, `${err.message}`);
  assert.equal(typeof err.offset, 'number');
  return err;
}

function child(el: XmlElement, i: number): XmlElement {
  const c = el.children[i];
  assert.ok(c, `<${el.qname}> has no child ${i}`);
  return c;
}

const SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="${OADR}" xmlns:ei="${EI}" xmlns:pyld="${PYLD}" xmlns:emix="${EMIX}" xmlns:xcal="${XCAL}" xmlns:strm="${STRM}">
  <oadr:oadrSignedObject Id="signed-1">
    <oadr:oadrDistributeEvent ei:schemaVersion="2.0b">
      <pyld:requestID>req-1</pyld:requestID>
      <ei:vtnID>vtn &amp; co</ei:vtnID>
      <oadr:oadrEvent>
        <ei:eiEvent>
          <ei:eventDescriptor><ei:eventID>e1</ei:eventID><ei:modificationNumber>0</ei:modificationNumber></ei:eventDescriptor>
          <ei:eiActivePeriod><xcal:properties><xcal:dtstart><xcal:date-time>2025-06-14T08:00:00Z</xcal:date-time></xcal:dtstart></xcal:properties><xcal:components/></ei:eiActivePeriod>
          <ei:eiEventSignals><ei:eiEventSignal><strm:intervals>
            <ei:interval><xcal:duration><xcal:duration>PT15M</xcal:duration></xcal:duration><xcal:uid><xcal:text>0</xcal:text></xcal:uid><ei:signalPayload><ei:payloadFloat><ei:value>-1500.0</ei:value></ei:payloadFloat></ei:signalPayload></ei:interval>
            <ei:interval><xcal:duration><xcal:duration>PT15M</xcal:duration></xcal:duration><xcal:uid><xcal:text>1</xcal:text></xcal:uid><ei:signalPayload><ei:payloadFloat><ei:value>-1537.0</ei:value></ei:payloadFloat></ei:signalPayload></ei:interval>
          </strm:intervals><ei:signalName>LOAD_DISPATCH</ei:signalName></ei:eiEventSignal></ei:eiEventSignals>
        </ei:eiEvent>
        <oadr:oadrResponseRequired>always</oadr:oadrResponseRequired>
      </oadr:oadrEvent>
    </oadr:oadrDistributeEvent>
  </oadr:oadrSignedObject>
</oadr:oadrPayload>
`;

test('parses an OpenADR payload: names, namespaces, attributes, text, offsets', (t) => {
  const root = parseXml(SAMPLE);
  t.assert.equal(root.qname, 'oadr:oadrPayload');
  t.assert.equal(root.uri, OADR);
  t.assert.equal(root.local, 'oadrPayload');
  t.assert.deepEqual(root.attrs, []); // xmlns declarations are not attributes
  t.assert.equal(root.offset, SAMPLE.indexOf('<oadr:oadrPayload'));
  const signed = child(root, 0);
  t.assert.deepEqual(signed.attrs, [{ uri: '', local: 'Id', value: 'signed-1' }]);
  const de = child(signed, 0);
  t.assert.deepEqual(de.attrs, [{ uri: EI, local: 'schemaVersion', value: '2.0b' }]);
  t.assert.deepEqual(
    de.children.map((c) => [c.uri, c.local]),
    [
      [PYLD, 'requestID'],
      [EI, 'vtnID'],
      [OADR, 'oadrEvent'],
    ],
  );
  t.assert.equal(child(de, 1).text, 'vtn & co');
  const intervals = child(child(child(child(child(de, 2), 0), 2), 0), 0);
  t.assert.equal(intervals.uri, STRM);
  t.assert.equal(intervals.children.length, 2);
  const value = child(child(child(child(intervals, 1), 2), 0), 0);
  t.assert.equal(value.qname, 'ei:value');
  t.assert.equal(value.text, '-1537.0');
  t.assert.equal(value.offset, SAMPLE.indexOf('<ei:value>-1537.0'));
  // Whitespace between children belongs to the parent's text, untrimmed.
  t.assert.equal(intervals.text, '\n            \n            \n          ');
  const components = child(child(child(child(de, 2), 0), 1), 1);
  t.assert.equal(components.qname, 'xcal:components');
  t.assert.equal(components.children.length, 0);
  t.assert.equal(components.text, '');
});

test('the same document parses the same way twice (memoised scopes and name prediction)', (t) => {
  const a = parseXml(SAMPLE);
  const b = parseXml(new TextEncoder().encode(SAMPLE));
  t.assert.deepEqual(b, a);
});

test('a duplicate declaration is refused also where the same element\'s declarations were memoised before', () => {
  // The memo's fast path skips the duplicate check for declarations it has seen: a list that differs
  // only by a repeated prefix must not reach it.
  const ok = '<r xmlns:a="urn:a" xmlns:b="urn:b"><a:x/></r>';
  const dup = '<r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:a="urn:a"><a:x/></r>';
  for (let i = 0; i < 2; i++) {
    parseXml(ok);
    assert.match(rejects(dup, CodecErrorCode.MALFORMED_XML).message, /duplicate namespace declaration xmlns:a/);
    assert.match(rejects('<r xmlns:a="urn:a" xmlns:a="urn:a"/>', CodecErrorCode.MALFORMED_XML).message, /duplicate namespace declaration/);
  }
});

test('namespaces: prefixes for one URI, default namespace, unprefixed attributes, xml: prefix', (t) => {
  const doc =
    '<root xmlns="urn:d" xmlns:a="urn:x" xmlns:b="urn:x" a:k="1" k="2" xml:lang="it">' +
    '<a:item/><b:item/><item/><c:item xmlns:c="urn:c" c:k="3"/></root>';
  const root = parseXml(doc);
  t.assert.equal(root.uri, 'urn:d');
  t.assert.deepEqual(root.attrs, [
    { uri: 'urn:x', local: 'k', value: '1' },
    { uri: '', local: 'k', value: '2' },
    { uri: XML_NAMESPACE, local: 'lang', value: 'it' },
  ]);
  t.assert.deepEqual(
    root.children.map((c) => [c.qname, c.uri, c.local]),
    [
      ['a:item', 'urn:x', 'item'],
      ['b:item', 'urn:x', 'item'],
      ['item', 'urn:d', 'item'],
      ['c:item', 'urn:c', 'item'],
    ],
  );
  t.assert.deepEqual(child(root, 3).attrs, [{ uri: 'urn:c', local: 'k', value: '3' }]);
});

test('namespaces: nested redeclaration and undeclaring the default namespace', (t) => {
  const doc =
    '<p:a xmlns:p="urn:1" xmlns="urn:d">' +
    '<p:b xmlns:p="urn:2"><p:c/><d/></p:b>' +
    '<p:b><p:c/></p:b>' +
    '<e xmlns=""><f/></e>' +
    '<g xmlns="urn:d"/>' +
    '</p:a>';
  const a = parseXml(doc);
  t.assert.equal(a.uri, 'urn:1');
  t.assert.equal(child(a, 0).uri, 'urn:2');
  t.assert.equal(child(child(a, 0), 0).uri, 'urn:2');
  t.assert.equal(child(child(a, 0), 1).uri, 'urn:d');
  t.assert.equal(child(a, 1).uri, 'urn:1', 'the redeclaration ends with its element');
  t.assert.equal(child(child(a, 1), 0).uri, 'urn:1');
  t.assert.equal(child(a, 2).uri, '');
  t.assert.equal(child(child(a, 2), 0).uri, '');
  t.assert.equal(child(a, 3).uri, 'urn:d');
});

test('namespaces: the same names bound differently in later documents resolve afresh', (t) => {
  for (const uri of ['urn:one', 'urn:two', 'urn:one']) {
    const root = parseXml(`<p:r xmlns:p="${uri}"><p:x/><p:x/></p:r>`);
    t.assert.deepEqual([root.uri, child(root, 0).uri, child(root, 1).uri], [uri, uri, uri]);
  }
  // Same shape, different names at the same places: the name predictor must not be trusted blindly.
  t.assert.deepEqual(
    parseXml('<r><b/><c/></r>').children.map((c) => c.qname),
    ['b', 'c'],
  );
  t.assert.deepEqual(
    parseXml('<r><bb/><c2/><b/></r>').children.map((c) => c.qname),
    ['bb', 'c2', 'b'],
  );
  t.assert.deepEqual(
    parseXml('<r xmlns="urn:q"><b/><c/></r>').children.map((c) => c.uri),
    ['urn:q', 'urn:q'],
  );
});

test('namespaces: many scopes, memo resets and long names stay correct', (t) => {
  // 2,000 elements each declaring its own binding: past the per-parse table bound.
  const items = Array.from({ length: 2000 }, (_, i) => `<p:i xmlns:p="urn:i${i}"><p:j/></p:i>`).join('');
  const root = parseXml(`<r xmlns:p="urn:r">${items}<p:k/></r>`, { maxBytes: 200_000 });
  t.assert.equal(root.children.length, 2001);
  t.assert.equal(child(child(root, 1234), 0).uri, 'urn:i1234');
  t.assert.equal(child(root, 2000).uri, 'urn:r');
  // 200 documents with different root declarations: the scope memo starts over on the way.
  for (let d = 0; d < 200; d++) {
    const doc = parseXml(`<p:r xmlns:p="urn:d${d}" xmlns:q="urn:q"><q:x/><p:y/></p:r>`);
    t.assert.deepEqual([doc.uri, child(doc, 0).uri, child(doc, 1).uri], [`urn:d${d}`, 'urn:q', `urn:d${d}`]);
  }
  // Names longer than the table keeps, and huge declarations.
  const long = 'n'.repeat(200);
  const uri = `urn:${'u'.repeat(5000)}`;
  for (let k = 0; k < 2; k++) {
    const doc = parseXml(`<p:${long} xmlns:p="${uri}"><p:${long}/></p:${long}>`);
    t.assert.deepEqual([doc.local, doc.uri, child(doc, 0).local, child(doc, 0).uri], [long, uri, long, uri]);
  }
});

test('attributes: quotes, whitespace normalisation (§3.3.3), references', (t) => {
  const root = parseXml(`<a x='say "hi"' y="a\tb\nc\r\nd\re" z="&#9;&#10;&#13;&lt;&amp;&gt;&quot;&apos;" w = "1" />`);
  t.assert.deepEqual(root.attrs, [
    { uri: '', local: 'x', value: 'say "hi"' },
    { uri: '', local: 'y', value: 'a b c d e' },
    { uri: '', local: 'z', value: '\t\n\r<&>"\'' },
    { uri: '', local: 'w', value: '1' },
  ]);
});

test('text: entities, character references, CDATA, comments and PIs skipped, line ends normalised', (t) => {
  const root = parseXml(
    '<?xml version="1.0"?>\n<!-- before --><?app data?>\n' +
      '<a>&lt;&gt;&amp;&quot;&apos;|&#65;&#x42;&#x1F600;&#0000067;|<![CDATA[<x> & ]] ]]>|<!-- c -->x<?pi y?>y\r\nz\rw&#13;</a>' +
      '\n<!-- after --><?app more?>\n',
  );
  t.assert.equal(root.text, `<>&"'|AB\u{1F600}C|<x> & ]] |xy\nz\nw\r`);
});

test('XML declaration variants and byte order marks', (t) => {
  for (const decl of [
    '<?xml version="1.0"?>',
    "<?xml version='1.0' encoding='utf-8'?>",
    '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>',
    '<?xml version="1.1" standalone="no"?>',
  ]) {
    t.assert.equal(parseXml(`${decl}<a/>`).qname, 'a', decl);
  }
  t.assert.equal(parseXml('\uFEFF<?xml version="1.0"?><a/>').local, 'a');
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('<?xml version="1.0"?><é>ü</é>')]);
  const root = parseXml(bytes);
  t.assert.equal(root.local, 'é');
  t.assert.equal(root.text, 'ü');
});

test('non-ASCII names and text', (t) => {
  const root = parseXml('<ns:größe xmlns:ns="urn:ü" attr="Δ">日本語</ns:größe>');
  t.assert.deepEqual([root.uri, root.local, root.text, root.attrs[0]?.value], ['urn:ü', 'größe', '日本語', 'Δ']);
});

test('refuses DOCTYPE and ENTITY declarations (FORBIDDEN_DTD): XXE, billion laughs, internal subset', () => {
  rejects('<!DOCTYPE a><a/>', CodecErrorCode.FORBIDDEN_DTD);
  rejects('<?xml version="1.0"?>\n<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]>\n<a/>', CodecErrorCode.FORBIDDEN_DTD);
  rejects(
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    CodecErrorCode.FORBIDDEN_DTD,
  );
  rejects('<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>', CodecErrorCode.FORBIDDEN_DTD);
  rejects('<a><!DOCTYPE a></a>', CodecErrorCode.FORBIDDEN_DTD);
  rejects('<a><!ENTITY x "y"></a>', CodecErrorCode.FORBIDDEN_DTD);
  rejects('<a/><!DOCTYPE a>', CodecErrorCode.FORBIDDEN_DTD);
});

test('refuses entities other than the predefined five and malformed references', () => {
  for (const text of ['&xxe;', '&nbsp;', '& ', 'a&b', '&;', '&#;', '&#x;', '&#12a;', '&#xG;', '&#0;', '&#x1F;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#99999999999;', '&lt']) {
    rejects(`<a>${text}</a>`, CodecErrorCode.MALFORMED_XML);
    rejects(`<a b="${text}"/>`, CodecErrorCode.MALFORMED_XML);
  }
});

test('refuses undeclared prefixes and namespace misuse', () => {
  rejects('<p:a/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a p:x="1"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns:p="urn:p"/><!-- --><p:b/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns:p="urn:p"><b/></a><p:c/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a><b xmlns:p="urn:p"/><p:c/></a>', CodecErrorCode.MALFORMED_XML); // scope ended
  rejects('<a xmlns:p=""/>', CodecErrorCode.MALFORMED_XML); // undeclaring a prefix: not in XML 1.0
  rejects('<a xmlns:xml="urn:other"/>', CodecErrorCode.MALFORMED_XML);
  rejects(`<a xmlns:x="${XML_NAMESPACE}"/>`, CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns:xmlns="urn:x"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<xmlns:a/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a:b:c xmlns:a="urn:a"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<:a/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a: xmlns:a="urn:a"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a:1 xmlns:a="urn:a"/>', CodecErrorCode.MALFORMED_XML);
  parseXml(`<a xmlns:xml="${XML_NAMESPACE}"/>`); // allowed: binding xml to its own URI
});

test('refuses duplicate attributes, also after namespace resolution', () => {
  rejects('<a x="1" x="2"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns:p="urn:u" xmlns:p="urn:v"/>', CodecErrorCode.MALFORMED_XML);
  rejects('<a xmlns="urn:u" xmlns="urn:u"/>', CodecErrorCode.MALFORMED_XML);
  // Same local name in different namespaces is fine.
  parseXml('<a xmlns:p="urn:u" p:x="1" x="2"/>');
});

test('refuses malformed structure', () => {
  const cases = [
    '',
    '   ',
    'text',
    '<a>',
    '<a></b>',
    '<a><b></a></b>',
    '<a></ab>',
    '<ab></a>',
    '<a></a >x',
    '<a/><b/>',
    '<a/>text',
    'text<a/>',
    '<a></a></a>',
    '</a>',
    '<a>]]></a>',
    '<a x=1/>',
    '<a x="1/>',
    '<a x="<"/>',
    '<a x="1"y="2"/>',
    '<a x/>',
    '<a =1/>',
    '<1a/>',
    '<-a/>',
    '<.a/>',
    '< a/>',
    '<a / >',
    '<a><!-- a -- b --></a>',
    '<a><!-- a ---></a>',
    '<a><!-- x</a>',
    '<a><![CDATA[x</a>',
    '<a><![CDATX[x]]></a>',
    '<a><?xml version="1.0"?></a>',
    ' <?xml version="1.0"?><a/>',
    '<?xml version="1.0"?><?xml version="1.0"?><a/>',
    '<?xml encoding="UTF-8"?><a/>',
    '<?xml version="2.0"?><a/>',
    '<?xml version="1.0" standalone="maybe"?><a/>',
    '<?xml version="1.0" encoding="UTF-8" version="1.0"?><a/>',
    '<a><??></a>',
    '<a>\u0001</a>',
    '<a b="\u001F"/>',
    '<a>\uFFFF</a>',
    '<a><!-- \u0000 --></a>',
  ];
  for (const doc of cases) rejects(doc, CodecErrorCode.MALFORMED_XML);
});

test('refuses encodings other than UTF-8', () => {
  const err = rejects('<?xml version="1.0" encoding="ISO-8859-1"?><a/>', CodecErrorCode.MALFORMED_XML);
  assert.match(err.message, /ISO-8859-1/);
  rejects(new TextEncoder().encode('<?xml version="1.0" encoding="UTF-16"?><a/>'), CodecErrorCode.MALFORMED_XML);
});

test('refuses invalid UTF-8 and lone surrogates', () => {
  const err = rejects(new Uint8Array([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), CodecErrorCode.MALFORMED_XML);
  assert.equal(err.offset, 3);
  rejects(new Uint8Array([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e]), CodecErrorCode.MALFORMED_XML); // CESU surrogate
  rejects(new Uint8Array([0x3c, 0x61, 0x2f, 0x3e, 0xff]), CodecErrorCode.MALFORMED_XML);
  rejects('<a>\uD800</a>', CodecErrorCode.MALFORMED_XML);
});

test('TOO_LARGE: checked before any work, in bytes, exactly at the limit', () => {
  rejects('<a>' + 'x'.repeat(2000) + '</a>', CodecErrorCode.TOO_LARGE, { maxBytes: 1000 });
  rejects(new Uint8Array(1001), CodecErrorCode.TOO_LARGE, { maxBytes: 1000 }); // zeros: size first, then UTF-8
  rejects('<a>' + 'x'.repeat(1_048_576) + '</a>', CodecErrorCode.TOO_LARGE); // default 1 MiB
  // 'é' is 2 bytes in UTF-8: 7 + 2 × 100 = 207 bytes of 107 characters.
  const doc = `<a>${'é'.repeat(100)}</a>`;
  assert.equal(parseXml(doc, { maxBytes: 207 }).text.length, 100);
  rejects(doc, CodecErrorCode.TOO_LARGE, { maxBytes: 206 });
  const bytes = new TextEncoder().encode(doc);
  assert.equal(parseXml(bytes, { maxBytes: 207 }).local, 'a');
  rejects(bytes, CodecErrorCode.TOO_LARGE, { maxBytes: 206 });
});

test('TOO_DEEP: the depth limit holds, and deep input cannot overflow the stack', () => {
  const nest = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
  assert.equal(parseXml(nest(64)).local, 'a');
  rejects(nest(65), CodecErrorCode.TOO_DEEP);
  rejects(nest(3), CodecErrorCode.TOO_DEEP, { maxDepth: 2 });
  // 10 MB of '<a>' dies at depth 65, long before the end of the input.
  const err = rejects('<a>'.repeat(3_500_000), CodecErrorCode.TOO_DEEP, { maxBytes: 20_000_000 });
  assert.equal(err.offset, 64 * 3);
  // Parsing is iterative: 200,000 levels parse without recursion when the limit allows it.
  let el: XmlElement | undefined = parseXml(nest(200_000), { maxBytes: 2_000_000, maxDepth: Infinity });
  let depth = 0;
  while (el !== undefined) {
    depth++;
    el = el.children[0];
  }
  assert.equal(depth, 200_000);
});

test('errors carry offset, line and column', () => {
  const err = rejects('<a>\n  <b>\n  </c>\n</a>', CodecErrorCode.MALFORMED_XML);
  assert.equal(err.offset, 12);
  assert.match(err.message, /line 3, column 3/);
  assert.match(err.message, /<\/c>/);
  assert.equal(err.httpStatus, 406);
  assert.equal(rejects('<a b="x&#0;"/>', CodecErrorCode.MALFORMED_XML).offset, 7);
  assert.equal(rejects('<a>\n x &bogus;</a>', CodecErrorCode.MALFORMED_XML).offset, 7);
  const big = rejects('<a/>', CodecErrorCode.TOO_LARGE, { maxBytes: 3 });
  assert.equal(big.httpStatus, 413);
});

test('escapers: what they escape survives a parse unchanged', (t) => {
  t.assert.equal(escapeXmlText('a<b>&c\r\n"\''), 'a&lt;b&gt;&amp;c&#13;\n"\'');
  t.assert.equal(escapeXmlAttr('a<b>&c"\t\n\r\''), 'a&lt;b&gt;&amp;c&quot;&#9;&#10;&#13;\'');
  t.assert.equal(escapeXmlText('plain'), 'plain');
  t.assert.equal(escapeXmlAttr('plain'), 'plain');
  const nasty = ' <x> & "q" \'s\' \t tab \n lf \r cr \r\n crlf ]]> end ';
  const root = parseXml(`<a v="${escapeXmlAttr(nasty)}">${escapeXmlText(nasty)}</a>`);
  t.assert.equal(root.text, nasty);
  t.assert.equal(root.attrs[0]?.value, nasty);
});

test('bad options and bad input types are codec errors too', () => {
  assert.throws(() => parseXml('<a/>', { maxBytes: -1 }), OadrCodecError);
  assert.throws(() => parseXml(42 as unknown as string), OadrCodecError);
});

// ---------------------------------------------------------------------------------------------
// Cross-check against fast-xml-parser (tree shape, qnames, attributes, text), with namespace
// URIs from a small reference resolver over its output.

interface RefElement {
  qname: string;
  uri: string;
  attrs: [string, string, string][];
  text: string;
  children: RefElement[];
}

type FxpNode = Record<string, unknown>;

function fromFxp(nodes: FxpNode[], inherited: ReadonlyMap<string, string>): RefElement[] {
  const out: RefElement[] = [];
  for (const node of nodes) {
    const qname = Object.keys(node).find((k) => k !== ':@');
    if (qname === undefined || qname === '#text' || qname === '#comment') continue;
    const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
    const ns = new Map(inherited);
    for (const [k, v] of Object.entries(rawAttrs)) {
      const name = k.slice(2);
      if (name === 'xmlns') ns.set('', v);
      else if (name.startsWith('xmlns:')) ns.set(name.slice(6), v);
    }
    const resolveName = (q: string, isAttr: boolean): string => {
      const colon = q.indexOf(':');
      if (colon === -1) return isAttr ? '' : (ns.get('') ?? '');
      return ns.get(q.slice(0, colon)) ?? '?';
    };
    const kids = node[qname] as FxpNode[];
    let text = '';
    for (const k of kids) if ('#text' in k) text += String(k['#text']);
    out.push({
      qname,
      uri: resolveName(qname, false),
      attrs: Object.entries(rawAttrs)
        .map(([k, v]) => [k.slice(2), v] as const)
        .filter(([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'))
        .map(([name, v]): [string, string, string] => [resolveName(name, true), name.slice(name.indexOf(':') + 1), v]),
      text,
      children: fromFxp(kids, ns),
    });
  }
  return out;
}

function fromOurs(el: XmlElement): RefElement {
  return {
    qname: el.qname,
    uri: el.uri,
    attrs: el.attrs.map((a) => [a.uri, a.local, a.value]),
    text: el.text,
    children: el.children.map(fromOurs),
  };
}

test('cross-check with fast-xml-parser on valid documents', async (t) => {
  const { buildDistributeEvent } = await import('../bench/xml-parse.bench.ts');
  const fxp = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
  const docs = [
    SAMPLE,
    buildDistributeEvent(48),
    '<r xmlns="urn:d" xmlns:a="urn:a"><a:x a:k="v" k="w">1 &lt; 2<![CDATA[ & 3]]></a:x><y xmlns="urn:e"><z/></y><w/></r>',
  ];
  for (const doc of docs) {
    const ref = fromFxp(fxp.parse(doc) as FxpNode[], new Map([['xml', XML_NAMESPACE]]));
    t.assert.equal(ref.length, 1);
    t.assert.deepEqual(fromOurs(parseXml(doc)), ref[0]);
  }
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: whatever the input, parseXml returns an element or throws OadrCodecError.

const SYNTAX = '<>/="\'&;:!?[]-#x ';
const FRAGMENTS = ['<!DOCTYPE x>', '<![CDATA[', ']]>', '<!--', '-->', '&amp;', '&#x', 'xmlns:p="u"', '</', '/>', '<?pi ?>'].map((f) =>
  Buffer.from(f),
);

/** 1–4 random edits: delete, insert (random or XML-ish bytes), duplicate, swap slices, flip a bit, insert markup. */
function mutate(base: Uint8Array, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(base);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const x = int(b.length + 1);
    const y = Math.min(b.length, x + int(40));
    switch (int(6)) {
      case 0:
        b = Buffer.concat([b.subarray(0, x), b.subarray(y)]);
        break;
      case 1: {
        const ins = Buffer.from(Array.from({ length: 1 + int(8) }, () => (rnd() < 0.5 ? int(256) : SYNTAX.charCodeAt(int(SYNTAX.length)))));
        b = Buffer.concat([b.subarray(0, x), ins, b.subarray(x)]);
        break;
      }
      case 2:
        b = Buffer.concat([b.subarray(0, y), b.subarray(x, y), b.subarray(y)]);
        break;
      case 3: {
        const z = int(b.length + 1);
        const w = Math.min(b.length, z + int(40));
        if (y <= z) b = Buffer.concat([b.subarray(0, x), b.subarray(z, w), b.subarray(y, z), b.subarray(x, y), b.subarray(w)]);
        break;
      }
      case 4:
        if (b.length > 0) {
          const at = int(b.length);
          b[at] = (b[at] ?? 0) ^ (1 << int(8));
        }
        break;
      default:
        b = Buffer.concat([b.subarray(0, x), FRAGMENTS[int(FRAGMENTS.length)] as Buffer, b.subarray(x)]);
    }
  }
  return b;
}

test('fuzz: random bytes and mutated OpenADR documents never throw anything but OadrCodecError', () => {
  const rnd = prng(0x0ad71ed9);
  const base = new TextEncoder().encode(SAMPLE);
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array | string;
    if (i % 4 === 0) {
      input = Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
    } else {
      input = mutate(base, rnd);
      if (i % 3 === 0) input = new TextDecoder().decode(input); // also the string path
    }
    try {
      const root = parseXml(input, { maxDepth: 32 });
      assert.equal(typeof root.qname, 'string');
      parsed++;
    } catch (err) {
      if (!(err instanceof OadrCodecError)) {
        const shown = typeof input === 'string' ? JSON.stringify(input) : Buffer.from(input).toString('base64');
        assert.fail(`input ${i} threw ${String(err)}: ${shown}`);
      }
      assert.equal(typeof err.offset, 'number');
      refused++;
    }
  }
  assert.ok(parsed > 100, `only ${parsed} mutated documents were still well-formed`);
  assert.ok(refused > 10_000);
});
