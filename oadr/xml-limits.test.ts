/**
 * The XML reader against hostile shapes: per-element limits refused with LIMIT_EXCEEDED (HTTP 406)
 * where they are crossed, before the rest of the input is read; and a cost linear in the input
 * whatever the shape, checked by the work the reader counts (`xmlReaderWork()`), not by a clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecErrorCode, OadrCodecError, type CodecErrorCodeValue } from './errors.ts';
import { parseXml, XML_LIMITS, xmlReaderWork } from './xml.ts';
import { buildDistributeEvent } from '../bench/xml-parse.bench.ts';

const OADR = 'http://openadr.org/oadr-2.0b/2012/07';
const POLL_OPEN = `<oadr:oadrPayload xmlns:oadr="${OADR}"><oadr:oadrSignedObject><oadr:oadrPoll`;
const POLL_CLOSE = `><ei:venID xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">ven-1</ei:venID></oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>`;

function refused(input: string, code: CodecErrorCodeValue = CodecErrorCode.LIMIT_EXCEEDED): OadrCodecError {
  try {
    parseXml(input, { maxBytes: 4_000_000 });
  } catch (err) {
    assert.ok(err instanceof OadrCodecError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  return assert.fail(`expected ${code} for ${JSON.stringify(input.slice(0, 80))}`);
}

const attrs = (n: number, name = (i: number) => `a${i}`): string => Array.from({ length: n }, (_, i) => ` ${name(i)}=""`).join('');
const decls = (n: number, prefix = 'p', uri = (i: number) => `urn:${i}`): string =>
  Array.from({ length: n }, (_, i) => ` xmlns:${prefix}${i}="${uri(i)}"`).join('');

test('security: 110,000 attributes on an oadrPoll are refused at the 65th (LIMIT_EXCEEDED, 406), before the rest is read', () => {
  const limit = XML_LIMITS.attributes;
  assert.equal(parseXml(`${POLL_OPEN}${attrs(limit)}${POLL_CLOSE}`).children[0]?.children[0]?.attrs.length, limit);
  const head = `${POLL_OPEN}${attrs(limit)}`;
  const err = refused(`${head}${attrs(110_000, (i) => `b${i}`)}${POLL_CLOSE}`);
  assert.equal(err.httpStatus, 406);
  assert.equal(err.offset, head.length + 1, 'refused at the 65th attribute');
  // Nothing after it is read: a control character right behind it would otherwise be MALFORMED_XML.
  refused(`${head} b=""\u0001${attrs(1000)}${POLL_CLOSE}`);
});

test('security: 60,000 xmlns:p declarations on one element are refused at the 33rd (LIMIT_EXCEEDED)', () => {
  const limit = XML_LIMITS.namespaceDeclarations;
  assert.equal(parseXml(`<r${decls(limit)}/>`).local, 'r');
  const head = `<r${decls(limit)}`;
  const err = refused(`${head}${decls(60_000, 'q')}/>`);
  assert.equal(err.offset, head.length + 1);
  // The same prefix declared 60,000 times: refused at the 33rd too (a duplicate among fewer is MALFORMED_XML, below).
  assert.equal(refused(`<r${' xmlns:p="u"'.repeat(60_000)}/>`).offset, 2 + 32 * ' xmlns:p="u"'.length + 1);
});

test('security: duplicates are found by expanded name past the pairwise range (attributes and declarations)', () => {
  // 40 attributes, the last one `q:a0` naming the same {urn:x}a0 as `p:a0`: refused at its own offset.
  const many = `<r xmlns:p="urn:x" xmlns:q="urn:x"${attrs(38, (i) => `p:a${i}`)} b="" q:a0=""/>`;
  const err = refused(many, CodecErrorCode.MALFORMED_XML);
  assert.equal(err.offset, many.indexOf('q:a0=""'));
  assert.match(err.message, /duplicate attribute q:a0 \(\{urn:x\}a0\)/);
  // The same local name in two namespaces is not a duplicate.
  assert.equal(parseXml(`<r xmlns:p="urn:x" xmlns:q="urn:y"${attrs(30, (i) => `p:a${i}`)}${attrs(30, (i) => `q:a${i}`)}/>`).attrs.length, 60);
  const d = `<r${decls(20)} xmlns:p7="urn:again"/>`;
  assert.equal(refused(d, CodecErrorCode.MALFORMED_XML).offset, d.indexOf('xmlns:p7="urn:again"'));
});

test('security: names longer than 256 characters are refused (elements, attributes), shorter ones parse', () => {
  const ok = 'n'.repeat(XML_LIMITS.nameChars);
  const long = `${ok}n`;
  assert.equal(parseXml(`<${ok} ${ok}=""/>`).attrs[0]?.local, ok);
  assert.equal(refused(`<${long}/>`).offset, 1);
  assert.equal(refused(`<r ${long}=""/>`).offset, 3);
  // A name of a megabyte is refused without keeping or comparing it.
  refused(`<p:${'n'.repeat(1_000_000)} xmlns:p="urn:p"/>`);
});

test('security: more than 64 namespace declarations in scope are refused; redeclaring one in scope does not count', () => {
  const limit = XML_LIMITS.inScopeNamespaces;
  const half = limit / 2;
  const inner = `<s${decls(half, 'q')}><e${decls(half, 'p')}/></s>`;
  assert.equal(parseXml(`<r${decls(half)}>${inner}</r>`).children.length, 1);
  const err = refused(`<r${decls(half)}><s${decls(half, 'q')}><e xmlns:z="urn:z"/></s></r>`);
  assert.match(err.message, /more than 64 namespace declarations in scope/);
  // Siblings each declaring a new prefix: each one's declaration goes out of scope when it closes.
  const siblings = Array.from({ length: 5000 }, (_, i) => `<e xmlns:z${i}="urn:${i}"><z${i}:x/></e><f xmlns:y${i}="urn:${i}" y${i}:a=""/>`).join('');
  const root = parseXml(`<r${decls(half)}><s${decls(half - 1, 'q')}>${siblings}</s></r>`);
  assert.equal(root.children[0]?.children[2 * 4321]?.children[0]?.uri, 'urn:4321');
  assert.equal(root.children[0]?.children[2 * 4321 + 1]?.attrs[0]?.uri, 'urn:4321');
});

/**
 * Hostile shapes, each built to about `size` characters, with the most work per input character
 * the reader may do on it (about twice what it does): a pairwise check over 64 attributes, or a
 * search past the end of a name, would exceed it.
 */
const SHAPES: Record<string, readonly [(size: number) => string, number]> = {
  // 64 distinct unprefixed attributes per element, many elements.
  'many attributes': [(size) => wrap(size, () => `<e${attrs(64)}/>`), 1.2],
  // 32 declarations per element, each sibling binding other URIs.
  'many namespace declarations': [(size) => wrap(size, (i) => `<e${decls(32, 'p', (k) => `urn:${i}:${k}`)}/>`), 0.6],
  // Siblings changing namespaces under 63 declarations in scope, with an attribute whose prefix
  // is the oldest binding: the longest search a name can cost (64 entries).
  'many declarations in scope': [(size) => `<r${decls(32)}><s${decls(31, 'q')}>${fill(size, (i) => `<e xmlns:z="urn:${i}"><z:x p0:a=""/></e>`)}</s></r>`, 9],
  'distinct names': [(size) => wrap(size, (i) => `<n${i}/>`), 2.5],
  'distinct prefixed names': [(size) => wrap(size, (i) => `<p0:n${i} xmlns:p0="urn:p"/>`), 1.6],
  'long names': [(size) => wrap(size, (i) => `<${'n'.repeat(250)}${i % 10} ${'a'.repeat(250)}=""/>`), 2],
  'processing instructions and comments': [(size) => wrap(size, () => '<?target data?><!-- c -->'), 0.5],
  'deep and wide': [(size) => wrap(size, () => `${'<d>'.repeat(60)}${'<w/>'.repeat(20)}${'</d>'.repeat(60)}`), 0.1],
  'long text with references': [(size) => `<r>${fill(size, () => 'text &amp; &#x41; more ')}</r>`, 0.1],
  'an OpenADR event': [(size) => `<r>${fill(size, () => buildDistributeEvent(48).replace(/<\?xml[^>]*\?>/, ''))}</r>`, 0.1],
};

function fill(size: number, unit: (i: number) => string): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const u = unit(i);
    parts.push(u);
    n += u.length;
  }
  return parts.join('');
}

const wrap = (size: number, unit: (i: number) => string): string => `<r>${fill(size, unit)}</r>`;

test('security: the reader does work linear in the input on hostile shapes (counted, not timed)', () => {
  const small = 100_000;
  for (const [name, [make, most]] of Object.entries(SHAPES)) {
    const perChar: number[] = [];
    for (const size of [small, 4 * small]) {
      const xml = make(size);
      parseXml(xml, { maxBytes: 4_000_000 });
      perChar.push(xmlReaderWork() / xml.length);
    }
    const [a, b] = perChar as [number, number];
    assert.ok(b <= most, `${name}: ${b.toFixed(2)} units of work per character, more than ${most}`);
    // Beyond the forward pass, a few units of work per input character at most, and no more per
    // character for four times the input (a quadratic check would quadruple it).
    assert.ok(b <= a * 1.1 + 0.01, `${name}: work per character grew from ${a.toFixed(3)} to ${b.toFixed(3)} for 4× the input`);
  }
});
