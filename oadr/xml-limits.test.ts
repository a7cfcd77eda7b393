/**
 * The XML reader against hostile shapes: per-element limits refused with LIMIT_EXCEEDED (HTTP 406)
 * where they are crossed, before the rest of the input is read; and a cost linear in the input
 * whatever the shape, checked by the work the reader counts (`xmlReaderWork()`), not by a clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecErrorCode, OadrCodecError, type CodecErrorCodeValue } from './errors.ts';
import { parseXml, XML_LIMITS, xmlReaderWork } from './xml.ts';
import { attrs, decls, HOSTILE_XML_SHAPES } from './testing/hostile-xml.ts';

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
 * The most work per input character the reader may do on each hostile shape (about twice what it
 * does): a pairwise check over 64 attributes, or a search past the end of a name, would exceed it.
 */
const MOST_WORK_PER_CHAR: Readonly<Record<string, number>> = {
  'many attributes': 1.2,
  'many namespace declarations': 0.6,
  'many declarations in scope': 9,
  'distinct names': 2.5,
  'distinct prefixed names': 1.6,
  'long names': 2,
  'processing instructions and comments': 0.5,
  'deep and wide': 0.1,
  'long text with references': 0.1,
  'OpenADR events': 0.1,
};

test('security: the reader does work linear in the input on hostile shapes (counted, not timed)', () => {
  const small = 100_000;
  for (const [name, make] of Object.entries(HOSTILE_XML_SHAPES)) {
    const most = MOST_WORK_PER_CHAR[name] as number;
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
