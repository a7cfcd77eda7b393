/**
 * Hostile XML shapes for the reader's linearity test (oadr/xml-limits.test.ts) and the XML benchmark
 * (bench/xml-parse.bench.ts): each builds a document of about `size` characters that the reader
 * accepts, every part of it within the per-element limits.
 */
import { buildDistributeEvent } from '../../bench/xml-parse.bench.ts';

/** ` a0="" a1="" …`: `n` empty attributes, named by `name`. */
export const attrs = (n: number, name = (i: number) => `a${i}`): string => Array.from({ length: n }, (_, i) => ` ${name(i)}=""`).join('');
/** ` xmlns:p0="urn:0" …`: `n` namespace declarations. */
export const decls = (n: number, prefix = 'p', uri = (i: number) => `urn:${i}`): string =>
  Array.from({ length: n }, (_, i) => ` xmlns:${prefix}${i}="${uri(i)}"`).join('');

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

export const HOSTILE_XML_SHAPES: Readonly<Record<string, (size: number) => string>> = {
  // 64 distinct unprefixed attributes per element, many elements.
  'many attributes': (size) => wrap(size, () => `<e${attrs(64)}/>`),
  // 32 declarations per element, each sibling binding other URIs.
  'many namespace declarations': (size) => wrap(size, (i) => `<e${decls(32, 'p', (k) => `urn:${i}:${k}`)}/>`),
  // Siblings changing namespaces under 63 declarations in scope, with an attribute whose prefix is
  // the oldest binding: the longest search a name can cost (64 entries).
  'many declarations in scope': (size) => `<r${decls(32)}><s${decls(31, 'q')}>${fill(size, (i) => `<e xmlns:z="urn:${i}"><z:x p0:a=""/></e>`)}</s></r>`,
  'distinct names': (size) => wrap(size, (i) => `<n${i}/>`),
  'distinct prefixed names': (size) => wrap(size, (i) => `<p0:n${i} xmlns:p0="urn:p"/>`),
  'long names': (size) => wrap(size, (i) => `<${'n'.repeat(250)}${i % 10} ${'a'.repeat(250)}=""/>`),
  'processing instructions and comments': (size) => wrap(size, () => '<?target data?><!-- c -->'),
  'deep and wide': (size) => wrap(size, () => `${'<d>'.repeat(60)}${'<w/>'.repeat(20)}${'</d>'.repeat(60)}`),
  'long text with references': (size) => `<r>${fill(size, () => 'text &amp; &#x41; more ')}</r>`,
  'OpenADR events': (size) => `<r>${fill(size, () => buildDistributeEvent(48).replace(/<\?xml[^>]*\?>/, ''))}</r>`,
};
