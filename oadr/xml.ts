/**
 * A strict, namespace-aware XML parser for the subset of XML 1.0 (+ Namespaces in XML 1.0) that
 * OpenADR 2.0b messages use, and the two escapers the encoder writes with.
 *
 * Refused outright: DOCTYPE and ENTITY declarations (no XXE, no entity expansion), entities other
 * than the five predefined ones, undeclared prefixes, any encoding but UTF-8 (or UTF-16 with a byte
 * order mark, in either byte order, as XML 1.0 allows and some Java implementations send). Checked: one root,
 * matching end tags, unique attributes after namespace resolution, XML names, comments without
 * `--`, no `]]>` in text, no control characters, size and depth limits, and per-element limits on
 * attributes, namespace declarations, in-scope prefixes and name length. The parser is iterative (no
 * recursion, so no stack overflow on deep input) and every failure is an `OadrCodecError` with the
 * character offset into the (decoded) input.
 *
 * Its cost is linear in the input with a small constant, whatever the input's shape: one forward
 * pass over the text, and apart from it only work bounded per token (duplicate checks by hash past a
 * few entries, searches that stop at the token's end, scope copies bounded by the in-scope limit).
 * That extra work is counted (`xmlReaderWork()`), so tests can check the bound on hostile shapes
 * without timing anything.
 *
 * Offsets are UTF-16 character offsets into the input string; for a `Uint8Array` they are offsets
 * into its decoded text (after the byte order mark is removed).
 *
 * How it is fast (measured with bench/xml-parse.bench.ts, not guessed): the hot loops read the
 * input's code units from a reused Uint16Array with a '<' sentinel (about twice as fast as
 * charCodeAt); qnames are resolved once per namespace scope into a small hash table whose entries
 * are verified char by char (a fresh substring plus a Map lookup cost ~45 ns per tag); scopes are
 * memoised across parses, so a peer's usual root declarations resolve from the second message on;
 * each start tag first tries the name that followed the previous tag last time (one compare
 * pass instead of scan + hash + compare); entity decoding, CR normalisation and `]]>` checks run
 * only on segments that need them. Everything that outlives a parse is bounded.
 */
import { CodecErrorCode, OadrCodecError } from './errors.ts';
import type { CodecErrorCodeValue } from './errors.ts';

export interface XmlAttribute {
  readonly uri: string;
  readonly local: string;
  readonly value: string;
}

export interface XmlElement {
  /** Namespace URI resolved from the in-scope xmlns declarations ('' = no namespace). */
  readonly uri: string;
  /** Local name. */
  readonly local: string;
  /** The name as written, e.g. 'ei:eventID' (for messages). */
  readonly qname: string;
  /** Attributes without the xmlns / xmlns:* declarations; unprefixed attributes have uri ''. */
  readonly attrs: readonly XmlAttribute[];
  /** Child elements in document order. */
  readonly children: readonly XmlElement[];
  /** All character data directly inside this element, concatenated, entities decoded, CDATA included, not trimmed. */
  readonly text: string;
  /** Character offset of the '<' of the start tag in the input string. */
  readonly offset: number;
}

export interface ParseXmlOptions {
  /** Largest accepted input in UTF-8 bytes; default 1 MiB. */
  readonly maxBytes?: number;
  /** Deepest accepted element nesting (the root is depth 1); default 64. */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_XML_BYTES = 1_048_576;
export const DEFAULT_MAX_XML_DEPTH = 64;

/**
 * Per-element limits (an OpenADR element carries a handful of attributes and its root about ten
 * namespace declarations). Past one, the document is refused with LIMIT_EXCEEDED at that point,
 * before the rest of the input is read.
 */
export const XML_LIMITS = Object.freeze({
  /** Attributes of one element, namespace declarations not counted. */
  attributes: 64,
  /** Namespace declarations (`xmlns`, `xmlns:p`) on one element. */
  namespaceDeclarations: 32,
  /** Namespace declarations in scope at one element (on it and its ancestors; redeclaring what is in scope does not count). */
  inScopeNamespaces: 64,
  /** Characters of an element or attribute name (prefix included). */
  nameChars: 256,
});

// The hot loop's copies of two limits.
const MAX_NAME_CHARS = XML_LIMITS.nameChars;
const MAX_ATTRIBUTES = XML_LIMITS.attributes;

/** Namespaces in XML 1.0 §3: the `xml` prefix is bound to this URI, `xmlns` to the next one. */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

// ---------------------------------------------------------------------------------------------
// Internals

/** The mutable shape elements are built with (one object literal shape for every element). */
interface MutableElement {
  uri: string;
  local: string;
  qname: string;
  attrs: readonly XmlAttribute[];
  children: MutableElement[];
  text: string;
  offset: number;
}

/** A resolved qname, interned per namespace scope and shared by every element that uses it. */
interface NameEntry {
  readonly qname: string;
  /** The qname's UTF-16 code units: compared against the input without string indirections. */
  readonly codes: Uint16Array;
  readonly hash: number;
  readonly uri: string;
  readonly local: string;
  /** The scope whose table holds this entry. */
  readonly owner: Scope;
  /** Prediction: the name of the first child seen last time after this start tag. */
  child: NameEntry | undefined;
  /** Prediction: the name of the next sibling seen last time after this element. */
  sibling: NameEntry | undefined;
}

/**
 * The in-scope namespace bindings of an element, as an identity: the bindings themselves are in
 * `bound` while the element is open, and a scope always stands for the same bindings (its parent's
 * plus its declarations). Scopes are memoised by their declarations under their parent and live
 * across parses, so the qname table of a VTN's usual root declarations is warm from the second
 * message on. `names` is a small open-addressed table (by name hash, verified char by char against
 * the input, never trusted on the hash alone).
 */
interface Scope {
  readonly names: (NameEntry | undefined)[];
  /** Scopes derived from this one, by their declarations joined; each with a detached, interned copy of them. */
  readonly derived: Map<string, { readonly scope: Scope; readonly decls: readonly string[] }>;
  /** The declarations last derived from this scope (that copy) and their scope: a fast path for the usual root. */
  lastDecls: readonly string[] | undefined;
  lastDerived: Scope | undefined;
}

const NAME_TABLE_SIZE = 512; // power of two
const NAME_PROBES = 4;
/**
 * Bounds on what outlives a parse (a hostile peer must not be able to grow it): memoised scopes
 * (all documents together; past the bound the memo starts over), the declarations a memoised
 * scope may have (in characters), and the names kept in the tables.
 */
const MAX_MEMO_SCOPES = 64;
const MAX_MEMO_DECLS_CHARS = 4096;
const MAX_TABLE_NAME_CHARS = 128;
let memoScopes = 0;

/**
 * Work the running parse did beyond its forward pass over the input: comparisons in duplicate
 * checks, characters searched past a token's start, probes and compares in name tables, map entries
 * copied into scopes. Reset by each parse.
 */
let work = 0;

/** The work (see above) the last `parseXml` did; for tests that check it grows linearly with the input. */
export function xmlReaderWork(): number {
  return work;
}

/** Scopes created by the running parse; past MAX_TABLES_PER_PARSE new scopes get no name table. */
let scopesThisParse = 0;
const MAX_TABLES_PER_PARSE = 64;
const NO_TABLE: (NameEntry | undefined)[] = [];

function makeScope(withTable: boolean): Scope {
  const names = withTable ? new Array<NameEntry | undefined>(NAME_TABLE_SIZE).fill(undefined) : NO_TABLE;
  return { names, derived: new Map(), lastDecls: undefined, lastDerived: undefined };
}

let ROOT_SCOPE = makeScope(true);

/**
 * The namespace declarations in scope at the current element of the running parse, innermost last
 * (prefix, '' for the default namespace; URI, '' where the default namespace is undeclared): an
 * element's declarations are pushed when it opens and dropped when it closes, so they cost what they
 * are long, never a copy of what is already in scope, and a lookup searches at most
 * `XML_LIMITS.inScopeNamespaces` entries (only for names the scope's table does not hold).
 * `markDepth` / `markUndo` hold the depth of each open element that declared something and the
 * number of bindings before its declarations. The lists are used up to `boundN` / `markN` (entries
 * past them are stale), which a parse resets.
 */
const boundPrefix: string[] = [];
const boundUri: string[] = [];
const markDepth: number[] = [];
const markUndo: number[] = [];
let boundN = 0;
let markN = 0;

/** The URI bound to `prefix` in scope ('' = unbound or undeclared default), the latest binding first. */
function boundUriOf(prefix: string): string | undefined {
  for (let i = boundN - 1; i >= 0; i--) {
    if (boundPrefix[i] === prefix) {
      work += boundN - i;
      return boundUri[i];
    }
  }
  work += boundN;
  return prefix === 'xml' ? XML_NAMESPACE : undefined;
}

/**
 * Puts the declarations of the element at `lt` (depth `depth`) in scope. `resolved`: the URIs in
 * `decls` are already interned (the memoised copy `deriveScope` hands back in `derivedDecls`).
 */
function bindDeclarations(s: string, lt: number, depth: number, decls: readonly string[], resolved: boolean): void {
  markDepth[markN] = depth;
  markUndo[markN++] = boundN;
  work += decls.length;
  for (let i = 0; i < decls.length; i += 2) {
    boundPrefix[boundN] = decls[i] as string;
    const uri = decls[i + 1] as string;
    boundUri[boundN++] = resolved ? uri : interned(uri);
  }
  if (boundN > XML_LIMITS.inScopeNamespaces) {
    fail(CodecErrorCode.LIMIT_EXCEEDED, s, lt, `more than ${XML_LIMITS.inScopeNamespaces} namespace declarations in scope`);
  }
}

/** Takes the declarations of the innermost declaring element out of scope (it is at `depth` and closes). */
function unbindDeclarations(): void {
  boundN = markUndo[--markN] as number;
}

const EMPTY_ATTRS: readonly XmlAttribute[] = Object.freeze([]);
/** Shared children array of leaf elements; replaced by a fresh array on the first child. */
const NO_CHILDREN = Object.freeze([]) as unknown as MutableElement[];

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF16LE = new TextDecoder('utf-16le', { fatal: true });
const UTF16BE = new TextDecoder('utf-16be', { fatal: true });

/** The encodings the XML declaration of the document being parsed may name (lower case). */
const ENCODINGS_UTF8: readonly string[] = ['utf-8'];
let declarableEncodings: readonly string[] = ENCODINGS_UTF8;

/** 1 = may start a name, 2 = may continue a name (ASCII only; every non-ASCII char is accepted). */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58) NAME_CHAR[c] = 1;
  else if ((c >= 48 && c <= 57) || c === 45 || c === 46) NAME_CHAR[c] = 2;
}

/** XML 1.0 §2.2 Char: everything but these may appear literally (lone surrogates checked apart). */
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const CDATA_OPEN = '<![CDATA[';

/**
 * A copy of `x` that does not keep the input document alive. Names and URIs are kept in the
 * memoised scopes across parses; a plain slice of a long string would be a view into (and retain)
 * the whole message. Concatenation then slicing makes V8 flatten into a fresh string.
 */
function detach(x: string): string {
  return x.length < 13 ? x : (' ' + x).slice(1);
}

/**
 * Names and namespace URIs the caller compares against: a parsed name equal to one of them is
 * returned as that very string, so that `el.uri === NS.ei` is an identity check, not a
 * character-by-character compare of a 50-character URI on every element.
 */
const INTERNED = new Map<string, string>();
export function internXmlNames(names: Iterable<string>): void {
  for (const n of names) if (!INTERNED.has(n)) INTERNED.set(n, n);
}
const interned = (x: string): string => INTERNED.get(x) ?? detach(x);

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

function skipWs(s: string, pos: number): number {
  let c = s.charCodeAt(pos);
  while (c === 32 || c === 10 || c === 9 || c === 13) c = s.charCodeAt(++pos);
  return pos;
}

/** Position after the name starting at `pos`, or `pos` itself when no name starts there. */
function scanName(s: string, pos: number): number {
  let c = s.charCodeAt(pos);
  if (!(c >= 128 ? c !== 0xfffe && c !== 0xffff : NAME_CHAR[c] === 1)) return pos;
  const len = s.length;
  while (++pos < len) {
    c = s.charCodeAt(pos);
    if (c < 128 && NAME_CHAR[c] === 0) break;
  }
  return pos;
}

function lineColumn(s: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, s.length);
  for (let i = s.indexOf('\n'); i !== -1 && i < end; i = s.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${end - lineStart + 1}`;
}

function fail(code: CodecErrorCodeValue, s: string, offset: number, what: string): never {
  const where = lineColumn(s, offset);
  const advice =
    code === CodecErrorCode.FORBIDDEN_DTD
      ? 'OpenADR messages must not carry a DOCTYPE or entity declarations; remove it'
      : code === CodecErrorCode.TOO_DEEP
        ? 'flatten the document or raise maxDepth'
        : code === CodecErrorCode.LIMIT_EXCEEDED
          ? 'OpenADR elements carry a handful of attributes and namespace declarations and short names; the sender must not exceed these limits'
          : 'the sender must send well-formed, namespace-well-formed UTF-8 XML';
  throw new OadrCodecError(code, `XML ${what} at ${where} (offset ${offset}); ${advice}`, { offset });
}

function malformed(s: string, offset: number, what: string): never {
  return fail(CodecErrorCode.MALFORMED_XML, s, offset, what);
}

function describeEnd(s: string, pos: number): string {
  return pos >= s.length ? 'unexpected end of document' : `unexpected character ${JSON.stringify(s[pos])}`;
}

/** Index of the first ':' in `s[start, end)`, or -1. */
function colonWithin(s: string, start: number, end: number): number {
  work += end - start;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) === 58) return i;
  return -1;
}

/** Checks that a name (from `start` to `end`) is a QName: no colon at either end, at most one colon. Returns the colon's index in the name, or -1. */
function qnameColon(s: string, start: number, end: number): number {
  // Searched only within the name (a search to the next ':' in the document made every
  // unprefixed name cost the rest of the document).
  const colon = colonWithin(s, start, end);
  if (colon === -1) return -1;
  if (colon === start || colon === end - 1 || colonWithin(s, colon + 1, end) !== -1) {
    malformed(s, start, `name ${JSON.stringify(s.slice(start, end))} is not a valid qualified name`);
  }
  // The local part must be able to start a name (NCName): no digit, '-' or '.' after the colon.
  const c = s.charCodeAt(colon + 1);
  if (c < 128 && NAME_CHAR[c] !== 1) malformed(s, start, `name ${JSON.stringify(s.slice(start, end))} has an invalid local part`);
  return colon - start;
}

/** The character of the reference `&#…;` at `raw[amp, semi]`; `doc`/`base` place errors in the document. */
function parseCharRef(raw: string, amp: number, semi: number, doc: string, base: number): string {
  const s = raw;
  const bad = (what: string): never => malformed(doc, base + amp, what);
  let code = 0;
  let i = amp + 2;
  if (s.charCodeAt(i) === 120 /* x */) {
    i++;
    if (i === semi) return bad('empty character reference');
    for (; i < semi; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return bad('invalid hexadecimal character reference');
      code = code * 16 + d;
      if (code > 0x10ffff) return bad('character reference out of range');
    }
  } else {
    if (i === semi) return bad('empty character reference');
    for (; i < semi; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return bad('invalid decimal character reference');
      code = code * 10 + (c - 48);
      if (code > 0x10ffff) return bad('character reference out of range');
    }
  }
  // XML 1.0 §2.2: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
  const ok =
    code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
  if (!ok) return bad(`character reference to U+${code.toString(16).toUpperCase().padStart(4, '0')}, which is not an XML character`);
  return String.fromCodePoint(code);
}

/**
 * Decodes the references in `s` between `start` and `end` (which contains at least one '&'):
 * the five predefined entities and character references; anything else is an error.
 * `raw` is the (already normalised) segment text; `base` its offset in the document, for errors.
 */
function decodeEntities(raw: string, doc: string, base: number): string {
  let out = '';
  let from = 0;
  let amp = raw.indexOf('&');
  while (amp !== -1) {
    const semi = raw.indexOf(';', amp + 1);
    if (semi === -1 || semi - amp > 40) return malformed(doc, base + amp, "'&' that does not start a reference (write &amp;)");
    let rep: string;
    if (raw.charCodeAt(amp + 1) === 35 /* # */) {
      rep = parseCharRef(raw, amp, semi, doc, base);
    } else {
      switch (raw.slice(amp + 1, semi)) {
        case 'lt': rep = '<'; break;
        case 'gt': rep = '>'; break;
        case 'amp': rep = '&'; break;
        case 'quot': rep = '"'; break;
        case 'apos': rep = "'"; break;
        default:
          return malformed(doc, base + amp, `unknown entity ${JSON.stringify(raw.slice(amp, semi + 1))} (only &lt; &gt; &amp; &quot; &apos; and character references are allowed)`);
      }
    }
    out += raw.slice(from, amp) + rep;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/** Normalises \r\n and lone \r to \n (XML 1.0 §2.11). */
function normaliseNewlines(s: string): string {
  return s.indexOf('\r') === -1 ? s : s.replace(/\r\n?/g, '\n');
}

/** Attribute-value normalisation (§3.3.3) of literal whitespace: \r\n, \r, \n, \t each become one space. */
function normaliseAttrWs(s: string): string {
  if (s.indexOf('\n') === -1 && s.indexOf('\t') === -1 && s.indexOf('\r') === -1) return s;
  return s.replace(/\r\n|[\r\n\t]/g, ' ');
}

function declareNamespace(
  s: string,
  at: number,
  prefix: string,
  uri: string,
  decls: string[],
): void {
  if (prefix === 'xmlns') malformed(s, at, "the prefix 'xmlns' must not be declared");
  if (prefix === 'xml') {
    if (uri !== XML_NAMESPACE) malformed(s, at, `the prefix 'xml' may only be bound to ${XML_NAMESPACE}`);
  } else if (uri === XML_NAMESPACE || uri === XMLNS_NAMESPACE) {
    malformed(s, at, `the namespace ${uri} may not be bound to ${prefix === '' ? 'the default namespace' : `prefix '${prefix}'`}`);
  }
  if (prefix !== '' && uri === '') malformed(s, at, `xmlns:${prefix}="" (undeclaring a prefix) is not allowed in XML 1.0`);
  if (declAt.length === XML_LIMITS.namespaceDeclarations) {
    fail(CodecErrorCode.LIMIT_EXCEEDED, s, at, `more than ${XML_LIMITS.namespaceDeclarations} namespace declarations on one element`);
  }
  decls.push(prefix, uri);
  declAt.push(at);
}

/** Where each declaration of the current start tag is (for errors); cleared with `decls`. */
const declAt: number[] = [];

/** Beyond this many entries a duplicate check uses a hash set instead of comparing pairs. */
const PAIRWISE_MAX = 8;
const seenKeys = new Set<string>();

/**
 * Index of the first of `n` keys (`keys[0]`, `keys[stride]`, …) that repeats an earlier one, or -1.
 * Pairwise for a few keys, a hash set past PAIRWISE_MAX: linear in `n` either way.
 */
function firstRepeat(keys: readonly string[], n: number, stride: number): number {
  if (n <= PAIRWISE_MAX) {
    for (let i = 1; i < n; i++) {
      const k = keys[i * stride];
      work += i;
      for (let j = 0; j < i; j++) if (keys[j * stride] === k) return i;
    }
    return -1;
  }
  work += n;
  let found = -1;
  for (let i = 0; i < n; i++) {
    const k = keys[i * stride] as string;
    if (seenKeys.has(k)) {
      found = i;
      break;
    }
    seenKeys.add(k);
  }
  seenKeys.clear();
  return found;
}

/** Refuses a start tag that declares a prefix (or the default namespace) twice (Namespaces in XML §3). */
function checkDeclarations(s: string, decls: readonly string[]): void {
  const i = firstRepeat(decls, decls.length >> 1, 2);
  if (i === -1) return;
  const prefix = decls[2 * i] as string;
  malformed(s, declAt[i] as number, `duplicate namespace declaration ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}`);
}

function prefixUri(s: string, at: number, qname: string, colon: number): string {
  const prefix = qname.slice(0, colon);
  const uri = boundUriOf(prefix);
  if (uri !== undefined) return uri;
  if (prefix === 'xmlns') return malformed(s, at, `the prefix 'xmlns' is reserved and cannot qualify ${JSON.stringify(qname)}`);
  return malformed(s, at, `undeclared namespace prefix '${prefix}' in ${JSON.stringify(qname)}`);
}

/** The hash the start-tag scanner computes, for a name already scanned. */
function hashName(s: string, start: number, end: number): number {
  let h = s.charCodeAt(start);
  for (let i = start + 1; i < end; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Final mix of the name hash, so the low bits used as a table index depend on every char. */
function mixHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  return h ^ (h >>> 16);
}

/**
 * The entry for the name `s[start, start + n)` (hash `hash`) in `scope`: from the table when an
 * entry with the same hash, length and chars is there, else resolved, validated as a QName and stored.
 */
function lookupName(s: string, b: Uint16Array, start: number, n: number, hash: number, scope: Scope): NameEntry {
  const names = scope.names;
  const mask = names.length - 1; // -1 for NO_TABLE: no probing, no insertion
  let slot = hash & mask;
  for (let probe = 0; probe < NAME_PROBES && mask > 0; probe++, slot = (slot + 1) & mask) {
    const e = names[slot];
    if (e === undefined) break;
    // Not counted in `work`: at most NAME_PROBES probes, each comparing at most the name's own length.
    if (e.hash === hash && e.codes.length === n) {
      const codes = e.codes;
      let i = 0;
      while (i < n && codes[i] === b[start + i]) i++;
      if (i === n) return e;
    }
  }
  const qname = detach(s.slice(start, start + n));
  const colon = qnameColon(s, start, start + n);
  const codes = new Uint16Array(n);
  for (let i = 0; i < n; i++) codes[i] = qname.charCodeAt(i);
  const entry: NameEntry =
    colon === -1
      ? { qname, codes, hash, uri: boundUriOf('') || '', local: interned(qname), owner: scope, child: undefined, sibling: undefined }
      : {
          qname,
          codes,
          hash,
          uri: prefixUri(s, start, qname, colon),
          local: interned(qname.slice(colon + 1)),
          owner: scope,
          child: undefined,
          sibling: undefined,
        };
  if (n > MAX_TABLE_NAME_CHARS || mask < 0) return entry; // resolved, but not kept
  // Insert into the first free probe slot, else replace the home slot.
  slot = hash & mask;
  for (let probe = 0; probe < NAME_PROBES; probe++) {
    const at = (slot + probe) & mask;
    if (names[at] === undefined) {
      names[at] = entry;
      return entry;
    }
  }
  names[slot] = entry;
  return entry;
}

/**
 * The scope of an element that declares `decls` ([prefix, uri] pairs) inside `parent` (whose bindings
 * are `bound`). Refuses a duplicate declaration first, unless `decls` are the parent's last derived
 * declarations (checked when they were remembered).
 */
function deriveScope(s: string, parent: Scope, decls: readonly string[]): Scope {
  work += decls.length;
  // The usual case from the second message on: the root's declarations, as last time. A scope stands
  // for the same bindings always, so declarations that derived a new scope under it still do.
  const lastDecls = parent.lastDecls;
  if (lastDecls !== undefined && lastDecls.length === decls.length) {
    let i = 0;
    while (i < decls.length && decls[i] === lastDecls[i]) i++;
    if (i === decls.length) {
      derivedDecls = lastDecls;
      return parent.lastDerived as Scope;
    }
  }
  if (decls.length > 2) checkDeclarations(s, decls);
  // Re-declaring what is already in scope (common in generated OpenADR) keeps the parent scope.
  let same = true;
  for (let i = 0; i < decls.length; i += 2) {
    const prefix = decls[i] as string;
    const uri = decls[i + 1] as string;
    if ((boundUriOf(prefix) ?? '') !== uri) {
      same = false;
      break;
    }
  }
  if (same) return parent;
  derivedDecls = undefined;
  let chars = 0;
  for (const d of decls) chars += d.length + 1;
  const key = chars <= MAX_MEMO_DECLS_CHARS ? decls.join('\u0000') : undefined;
  const known = key === undefined ? undefined : parent.derived.get(key);
  if (known !== undefined) return remember(parent, known.decls, known.scope);
  // A document declaring namespaces on thousands of elements must not cost a table each.
  const scope = makeScope(++scopesThisParse <= MAX_TABLES_PER_PARSE);
  // Unusually large declarations, or past the per-parse bound: used for this parse only.
  if (key === undefined || scope.names === NO_TABLE) return scope;
  if (memoScopes >= MAX_MEMO_SCOPES) {
    // Start the memo over; scopes in use by a running parse stay valid, they are just not shared.
    ROOT_SCOPE = makeScope(true);
    memoScopes = 0;
  }
  const copy = decls.map((d, i) => (i & 1 ? interned(d) : detach(d)));
  parent.derived.set(key, { scope, decls: copy });
  memoScopes++;
  return remember(parent, copy, scope);
}

/** The memoised copy of the declarations `deriveScope` last matched (URIs interned), or undefined. */
let derivedDecls: readonly string[] | undefined;

/** Makes `decls` (a memoised copy) and `scope` the parent's fast path. */
function remember(parent: Scope, decls: readonly string[], scope: Scope): Scope {
  parent.lastDecls = decls;
  derivedDecls = decls;
  parent.lastDerived = scope;
  return scope;
}

/** Skips a comment starting at `lt` ('<!--'); returns the position after '-->'. */
function skipComment(s: string, lt: number): number {
  const close = s.indexOf('-->', lt + 4);
  if (close === -1) return malformed(s, lt, 'unterminated comment');
  const dd = s.indexOf('--', lt + 4);
  if (dd < close) return malformed(s, dd, "'--' inside a comment");
  checkChars(s, s.slice(lt + 4, close), lt + 4);
  return close + 3;
}

/** Skips a processing instruction starting at `lt` ('<?'); returns the position after '?>'. */
function skipPi(s: string, lt: number): number {
  const nameEnd = scanName(s, lt + 2);
  if (nameEnd === lt + 2) return malformed(s, lt, 'processing instruction without a target');
  if (nameEnd - lt - 2 === 3 && s.slice(lt + 2, nameEnd).toLowerCase() === 'xml') {
    return malformed(s, lt, 'XML declaration not at the very start of the document');
  }
  if (colonWithin(s, lt + 2, nameEnd) !== -1) return malformed(s, lt, 'processing instruction target with a colon');
  const c = s.charCodeAt(nameEnd);
  if (!(isWs(c) || (c === 63 && s.charCodeAt(nameEnd + 1) === 62))) return malformed(s, nameEnd, describeEnd(s, nameEnd) + ' after the processing instruction target');
  const close = s.indexOf('?>', nameEnd);
  if (close === -1) return malformed(s, lt, 'unterminated processing instruction');
  checkChars(s, s.slice(nameEnd, close), nameEnd);
  return close + 2;
}

/** Reads `name="value"` of the XML declaration at `pos` (after whitespace); returns [name, value, position after it]. */
function declPseudoAttr(s: string, pos: number): [string, string, number] {
  const nameEnd = scanName(s, pos);
  if (nameEnd === pos) return malformed(s, pos, describeEnd(s, pos) + ' in the XML declaration');
  let p = skipWs(s, nameEnd);
  if (s.charCodeAt(p) !== 61) return malformed(s, p, "expected '=' in the XML declaration");
  p = skipWs(s, p + 1);
  const q = s.charCodeAt(p);
  if (q !== 34 && q !== 39) return malformed(s, p, 'expected a quoted value in the XML declaration');
  const close = s.indexOf(q === 34 ? '"' : "'", p + 1);
  if (close === -1) return malformed(s, p, 'unterminated value in the XML declaration');
  return [s.slice(pos, nameEnd), s.slice(p + 1, close), close + 1];
}

/** Parses `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` at `pos`; returns the position after it. */
function parseXmlDecl(s: string, start: number): number {
  let pos = start + 5;
  let seen = 0; // 1 = version, 2 = encoding, 3 = standalone: they must come in this order
  for (;;) {
    const wsEnd = skipWs(s, pos);
    if (s.charCodeAt(wsEnd) === 63 && s.charCodeAt(wsEnd + 1) === 62) {
      if (seen === 0) return malformed(s, start, 'XML declaration without version');
      return wsEnd + 2;
    }
    if (wsEnd === pos) return malformed(s, pos, describeEnd(s, pos) + ' in the XML declaration');
    const [name, value, end] = declPseudoAttr(s, wsEnd);
    if (name === 'version' && seen === 0) {
      if (!/^1\.[0-9]+$/.test(value)) return malformed(s, wsEnd, `unsupported XML version ${JSON.stringify(value)}`);
      seen = 1;
    } else if (name === 'encoding' && seen === 1) {
      if (!declarableEncodings.includes(value.toLowerCase())) {
        const actual = declarableEncodings === ENCODINGS_UTF8 ? 'OpenADR messages must be UTF-8 (or UTF-16 with a byte order mark)' : `the byte order mark says ${declarableEncodings[1]?.toUpperCase()}`;
        return malformed(s, wsEnd, `encoding ${JSON.stringify(value)}: ${actual}`);
      }
      seen = 2;
    } else if (name === 'standalone' && (seen === 1 || seen === 2)) {
      if (value !== 'yes' && value !== 'no') return malformed(s, wsEnd, `standalone must be "yes" or "no"`);
      seen = 3;
    } else {
      return malformed(s, wsEnd, `unexpected ${JSON.stringify(name)} in the XML declaration`);
    }
    pos = end;
  }
}

/** Handles `<!…` markup at `lt` outside CDATA: comment, or refuses DOCTYPE/ENTITY, else malformed. */
function bangMarkup(s: string, lt: number): never {
  if (s.startsWith('<!DOCTYPE', lt) || s.startsWith('<!ENTITY', lt)) {
    return fail(CodecErrorCode.FORBIDDEN_DTD, s, lt, 'DOCTYPE or ENTITY declaration refused');
  }
  return malformed(s, lt, "unexpected '<!' markup");
}

/** Skips whitespace, comments and PIs outside the root; returns the position of the next '<' that starts something else, or s.length. */
function skipMisc(s: string, pos: number, afterRoot: boolean): number {
  for (;;) {
    pos = skipWs(s, pos);
    if (pos >= s.length) return pos;
    if (s.charCodeAt(pos) !== 60) {
      return malformed(s, pos, afterRoot ? 'text after the root element' : 'text before the root element');
    }
    const c1 = s.charCodeAt(pos + 1);
    if (c1 === 33 /* ! */) {
      if (s.startsWith('<!--', pos)) pos = skipComment(s, pos);
      else return bangMarkup(s, pos);
    } else if (c1 === 63 /* ? */) {
      pos = skipPi(s, pos);
    } else {
      return pos;
    }
  }
}

function decodeInput(input: string | Uint8Array, maxBytes: number): string {
  declarableEncodings = ENCODINGS_UTF8;
  if (typeof input === 'string') {
    // UTF-8 byteLength >= length; <= 3 × length. Count exactly only near the limit.
    if (input.length > maxBytes || (input.length * 3 > maxBytes && Buffer.byteLength(input, 'utf8') > maxBytes)) {
      throw new OadrCodecError(CodecErrorCode.TOO_LARGE, `XML message larger than ${maxBytes} bytes; send a smaller message or raise maxBytes`, { offset: 0 });
    }
    if (!input.isWellFormed()) {
      let i = 0;
      for (; i < input.length; i++) {
        const c = input.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && (input.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
        else if (c >= 0xd800 && c <= 0xdfff) break;
      }
      return malformed(input, i, 'lone surrogate (not a Unicode character)');
    }
    return input;
  }
  if (!(input instanceof Uint8Array)) {
    throw new OadrCodecError(CodecErrorCode.INVALID_MODEL, 'parseXml takes a string or a Uint8Array', { offset: 0 });
  }
  if (input.byteLength > maxBytes) {
    throw new OadrCodecError(CodecErrorCode.TOO_LARGE, `XML message of ${input.byteLength} bytes is larger than ${maxBytes} bytes; send a smaller message or raise maxBytes`, { offset: 0 });
  }
  const bom = input.byteLength >= 2 ? (input[0] as number) * 256 + (input[1] as number) : 0;
  if (bom === 0xfffe || bom === 0xfeff) return decodeUtf16(input, bom === 0xfffe);
  try {
    return UTF8.decode(input);
  } catch (err) {
    // Find the first bad byte for the report (error path only).
    let ok = 0;
    for (let n = input.byteLength; ok < n; ) {
      try {
        UTF8.decode(input.subarray(0, ok + ((n - ok) >> 1) + 1));
        ok += ((n - ok) >> 1) + 1;
      } catch {
        n = ok + ((n - ok) >> 1);
      }
    }
    throw new OadrCodecError(CodecErrorCode.MALFORMED_XML, `XML message is not valid UTF-8 near byte ${ok}; OpenADR messages must be UTF-8`, { offset: ok }, { cause: err });
  }
}

/** UTF-16 with its byte order mark (XML 1.0 §4.3.3); the declaration may then only say UTF-16. */
function decodeUtf16(input: Uint8Array, littleEndian: boolean): string {
  const name = littleEndian ? 'utf-16le' : 'utf-16be';
  declarableEncodings = ['utf-16', name];
  try {
    // The decoder drops the byte order mark.
    return (littleEndian ? UTF16LE : UTF16BE).decode(input);
  } catch (err) {
    throw new OadrCodecError(CodecErrorCode.MALFORMED_XML, `XML message starts with a ${name.toUpperCase()} byte order mark but is not valid ${name.toUpperCase()} (odd length or a lone surrogate); send UTF-8 or well-formed UTF-16`, { offset: 0 }, { cause: err });
  }
}

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new OadrCodecError(CodecErrorCode.INVALID_MODEL, `parseXml option ${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// The parser

/**
 * Parses an XML document and returns its root element. Throws `OadrCodecError` (MALFORMED_XML,
 * FORBIDDEN_DTD, TOO_LARGE, TOO_DEEP, LIMIT_EXCEEDED) on any input that is not an acceptable document.
 */
export function parseXml(input: string | Uint8Array, options?: ParseXmlOptions): XmlElement {
  const maxBytes = limit(options?.maxBytes, DEFAULT_MAX_XML_BYTES, 'maxBytes');
  const maxDepth = limit(options?.maxDepth, DEFAULT_MAX_XML_DEPTH, 'maxDepth');
  const s = decodeInput(input, maxBytes);
  try {
    return parseDocument(s, maxDepth);
  } catch (err) {
    if (err instanceof OadrCodecError) throw err;
    // Defensive: an internal fault must still surface as a codec error, never as a crash type.
    throw new OadrCodecError(CodecErrorCode.MALFORMED_XML, `XML could not be parsed: ${(err as Error)?.message}`, { offset: 0 }, { cause: err });
  }
}

function parseDocument(s: string, maxDepth: number): XmlElement {
  const len = s.length;
  let pos = s.charCodeAt(0) === 0xfeff ? 1 : 0;

  // Whole-document screens (one native scan each); per-segment work only when they hit.
  const hasAmp = s.indexOf('&') !== -1;
  const b = codeUnits(s);
  scopesThisParse = 0;
  work = 0;
  if (declAt.length !== 0) declAt.length = 0;
  boundN = 0;
  markN = 0;
  const hasCr = s.indexOf('\r') !== -1;
  const hasCdEnd = s.indexOf(']]>') !== -1;
  // Control characters are caught where they can occur (text, attribute values, comments, PIs,
  // CDATA); the two non-characters U+FFFE / U+FFFF are screened here once.
  const nonChar = Math.max(s.indexOf('\uFFFE'), s.indexOf('\uFFFF'));
  if (nonChar !== -1) return forbiddenChar(s, nonChar);

  if (s.startsWith('<?xml', pos) && isWs(s.charCodeAt(pos + 5))) pos = parseXmlDecl(s, pos);
  pos = skipMisc(s, pos, false);
  if (pos >= len) return malformed(s, pos, 'no root element');

  const stack: MutableElement[] = [];
  const openNames: NameEntry[] = [];
  // The last start tag's name (opened) or the last closed element's name, for name prediction.
  let last: NameEntry | undefined;
  let opened = false;
  let scope = ROOT_SCOPE;
  let cur: MutableElement | undefined;
  let root: MutableElement | undefined;
  // Scratch for the attributes of one start tag.
  const attrQ: string[] = [];
  const attrColon: number[] = [];
  const attrV: string[] = [];
  const attrAt: number[] = [];
  const decls: string[] = [];

  // Invariant at the top of the loop: s[pos] === '<'.
  for (;;) {
    const lt = pos;
    const c1 = b[lt + 1] as number;
    if (c1 === 47 /* / */) {
      // ---- end tag: must repeat the start tag's name (compared with the start tag in the input)
      if (cur === undefined) return malformed(s, lt, 'end tag without a start tag');
      const codes = (openNames[openNames.length - 1] as NameEntry).codes;
      const n = codes.length;
      const a = lt + 2;
      let i = 0;
      while (i < n && codes[i] === b[a + i]) i++;
      let p = a + n;
      // (The sentinel at b[len] stops the compare; only read past the name when it matched.)
      if (i !== n || nameContinues(b[p] as number)) {
        const e = scanName(s, a);
        return malformed(s, lt, `end tag </${s.slice(a, e)}> does not match start tag <${cur.qname}> at offset ${cur.offset}`);
      }
      if (b[p] !== 62) {
        p = skipWs(s, p);
        if (s.charCodeAt(p) !== 62) return malformed(s, p, describeEnd(s, p) + ` in end tag </${cur.qname}>`);
      }
      pos = p + 1;
      if (markN !== 0 && markDepth[markN - 1] === stack.length) unbindDeclarations();
      stack.pop();
      last = openNames.pop();
      opened = false;
      const top = stack.length - 1;
      if (top < 0) break; // the root is closed
      cur = stack[top] as MutableElement;
      // Back to the parent's scope: the scope its name was resolved in.
      scope = (openNames[top] as NameEntry).owner;
    } else if (c1 === 33 /* ! */) {
      if (cur === undefined) return malformed(s, lt, "unexpected '<!' markup");
      if (s.startsWith('<!--', lt)) {
        pos = skipComment(s, lt);
      } else if (s.startsWith(CDATA_OPEN, lt)) {
        const close = s.indexOf(']]>', lt + 9);
        if (close === -1) return malformed(s, lt, 'unterminated CDATA section');
        let t = s.slice(lt + 9, close);
        checkChars(s, t, lt + 9);
        if (hasCr) t = normaliseNewlines(t);
        cur.text = cur.text === '' ? t : cur.text + t;
        pos = close + 3;
      } else {
        return bangMarkup(s, lt);
      }
    } else if (c1 === 63 /* ? */) {
      if (cur === undefined) return malformed(s, lt, 'unexpected processing instruction');
      pos = skipPi(s, lt);
    } else {
      // ---- start tag. Documents repeat their structure, so first try the name that followed the
      // previous tag last time (one compare pass); else scan, validate and hash the name.
      const ns = lt + 1;
      let c = c1;
      let name: NameEntry | undefined;
      let p = -1;
      const guess = last === undefined ? undefined : opened ? last.child : last.sibling;
      if (guess !== undefined && guess.owner === scope) {
        const codes = guess.codes;
        const gn = codes.length;
        let i = 0;
        while (i < gn && codes[i] === b[ns + i]) i++;
        if (i === gn) {
          c = b[ns + gn] as number;
          if (c < 128 && NAME_CHAR[c] === 0) {
            name = guess;
            p = ns + gn;
          }
        }
      }
      let h = 0;
      if (name === undefined) {
        c = c1;
        if (c < 128 && NAME_CHAR[c] !== 1) {
          return malformed(s, ns, describeEnd(s, ns) + " after '<'");
        }
        h = c;
        p = ns + 1;
        c = b[p] as number;
        while (c >= 128 || NAME_CHAR[c] !== 0) {
          h = (Math.imul(h, 31) + c) | 0;
          c = b[++p] as number;
        }
        if (p - ns > MAX_NAME_CHARS) return longName(s, ns, p);
      }
      const nameEnd = p;
      let n = 0;
      let selfClose = false;
      for (;;) {
        c = b[p] as number;
        if (c === 62 /* > */) {
          p++;
          break;
        }
        if (c === 47 /* / */) {
          if (s.charCodeAt(p + 1) !== 62) return malformed(s, p, "expected '>' after '/' in a tag");
          p += 2;
          selfClose = true;
          break;
        }
        if (!isWs(c)) return malformed(s, p, describeEnd(s, p) + ` in start tag <${s.slice(ns, nameEnd)}>`);
        p = skipWs(s, p + 1);
        c = s.charCodeAt(p);
        if (c === 62 || c === 47) continue;
        p = parseAttribute(s, p, hasAmp, decls);
        if (scratchQ !== '') {
          if (n === MAX_ATTRIBUTES) {
            return fail(CodecErrorCode.LIMIT_EXCEEDED, s, scratchAt, `more than ${XML_LIMITS.attributes} attributes on <${s.slice(ns, nameEnd)}>`);
          }
          attrQ[n] = scratchQ;
          attrColon[n] = scratchColon;
          attrV[n] = scratchV;
          attrAt[n] = scratchAt;
          n++;
        }
      }

      const depth = stack.length + 1;
      if (depth > maxDepth) return fail(CodecErrorCode.TOO_DEEP, s, lt, `element <${s.slice(ns, nameEnd)}> nested deeper than ${maxDepth} levels`);
      let elScope = scope;
      if (decls.length !== 0) {
        elScope = deriveScope(s, scope, decls);
        if (elScope !== scope) {
          bindDeclarations(s, lt, depth, derivedDecls ?? decls, derivedDecls !== undefined);
          if (name !== undefined) {
            name = undefined;
            h = hashName(s, ns, nameEnd);
          }
        }
        decls.length = 0;
        declAt.length = 0;
      }
      if (name === undefined) name = lookupName(s, b, ns, nameEnd - ns, mixHash(h), elScope);
      if (last !== undefined) {
        if (opened) {
          if (last.child !== name) last.child = name;
        } else if (last.sibling !== name) last.sibling = name;
      }
      last = name;
      opened = !selfClose;
      const el: MutableElement = {
        uri: name.uri,
        local: name.local,
        qname: name.qname,
        attrs: n === 0 ? EMPTY_ATTRS : resolveAttributes(s, n, attrQ, attrColon, attrV, attrAt, name.qname),
        children: NO_CHILDREN,
        text: '',
        offset: lt,
      };
      if (cur === undefined) root = el;
      else if (cur.children === NO_CHILDREN) cur.children = [el];
      else cur.children.push(el);
      pos = p;
      if (selfClose) {
        if (elScope !== scope) unbindDeclarations();
      } else {
        stack.push(el);
        openNames.push(name);
        scope = elScope;
        cur = el;
      }
    }

    if (cur === undefined) break;

    // ---- character data up to the next '<', checking for forbidden control characters
    let p = pos;
    let c = 0;
    let amp = false;
    while ((c = b[p] as number) !== 60) {
      if (c <= 38) {
        if (c === 38) amp = true;
        else if (c < 32 && c !== 10 && c !== 9 && c !== 13) return forbiddenChar(s, p);
      }
      p++;
    }
    if (p >= len) return malformed(s, len, `unexpected end of document: <${cur.qname}> at offset ${cur.offset} is not closed`);
    if (p !== pos) {
      let t = s.slice(pos, p);
      if (hasCdEnd) {
        const e = t.indexOf(']]>');
        if (e !== -1) return malformed(s, pos + e, "']]>' in text (write ]]&gt;)");
      }
      if (hasCr) t = normaliseNewlines(t);
      if (amp) t = decodeEntities(t, s, pos);
      cur.text = cur.text === '' ? t : cur.text + t;
    }
    pos = p;
  }

  pos = skipMisc(s, pos, true);
  if (pos < len) return malformed(s, pos, 'a second root element');
  return root as MutableElement;
}

// One attribute's result, handed back from parseAttribute without allocating (scratchQ '' = it was a namespace declaration).
let scratchQ = '';
let scratchColon = -1;
let scratchV = '';
let scratchAt = 0;

/** Parses `name = "value"` at `p`; namespace declarations go to `decls`, others to the scratch slots. Returns the position after the value. */
function parseAttribute(s: string, p: number, hasAmp: boolean, decls: string[]): number {
  const aStart = p;
  const aEnd = scanName(s, p);
  if (aEnd === p) return malformed(s, p, describeEnd(s, p) + ' in a start tag');
  if (aEnd - aStart > MAX_NAME_CHARS) return longName(s, aStart, aEnd);
  p = skipWs(s, aEnd);
  if (s.charCodeAt(p) !== 61) return malformed(s, p, `expected '=' after attribute name ${s.slice(aStart, aEnd)}`);
  p = skipWs(s, p + 1);
  const quote = s.charCodeAt(p);
  if (quote !== 34 && quote !== 39) return malformed(s, p, 'attribute value must be quoted with \' or "');
  const vStart = p + 1;
  let ws = false;
  let q = vStart;
  let c = 0;
  const len = s.length;
  while (q < len && (c = s.charCodeAt(q)) !== quote) {
    if (c < 32) {
      if (c === 9 || c === 10 || c === 13) ws = true;
      else return forbiddenChar(s, q);
    } else if (c === 60) {
      return malformed(s, q, "'<' in an attribute value (write &lt;)");
    }
    q++;
  }
  if (q >= len) return malformed(s, p, 'unterminated attribute value');
  let v = s.slice(vStart, q);
  if (ws) v = normaliseAttrWs(v);
  if (hasAmp && v.indexOf('&') !== -1) v = decodeEntities(v, s, vStart);
  const aq = s.slice(aStart, aEnd);
  if (aq.startsWith('xmlns') && (aq.length === 5 || aq.charCodeAt(5) === 58)) {
    if (aq.length === 5) declareNamespace(s, aStart, '', v, decls);
    else {
      const c6 = aq.charCodeAt(6);
      if (aq.length === 6 || aq.indexOf(':', 6) !== -1 || (c6 < 128 && NAME_CHAR[c6] !== 1)) {
        return malformed(s, aStart, `invalid namespace declaration ${aq}`);
      }
      declareNamespace(s, aStart, aq.slice(6), v, decls);
    }
    scratchQ = '';
  } else {
    scratchQ = aq;
    scratchColon = qnameColon(s, aStart, aEnd);
    scratchV = v;
    scratchAt = aStart;
  }
  return q + 1;
}

function resolveAttributes(
  s: string,
  n: number,
  attrQ: readonly string[],
  attrColon: readonly number[],
  attrV: readonly string[],
  attrAt: readonly number[],
  elementQname: string,
): XmlAttribute[] {
  const list: XmlAttribute[] = [];
  for (let i = 0; i < n; i++) {
    const aq = attrQ[i] as string;
    const colon = attrColon[i] as number;
    const at = attrAt[i] as number;
    // Namespaces in XML §6.2: unprefixed attributes are in no namespace.
    const uri = colon === -1 ? '' : prefixUri(s, at, aq, colon);
    const local = colon === -1 ? aq : aq.slice(colon + 1);
    list.push({ uri, local, value: attrV[i] as string });
  }
  // Unique by expanded name (Namespaces in XML §6.3). A local name holds no U+0000, so the key is unambiguous.
  const keys = n <= PAIRWISE_MAX ? undefined : list.map((a) => a.local + '\u0000' + a.uri);
  const d = keys === undefined ? firstRepeatAttr(list) : firstRepeat(keys, n, 1);
  if (d !== -1) {
    const { uri, local } = list[d] as XmlAttribute;
    return malformed(s, attrAt[d] as number, `duplicate attribute ${attrQ[d] as string}${uri === '' ? '' : ` ({${uri}}${local})`} on <${elementQname}>`);
  }
  return list;
}

/** `firstRepeat` for a few attributes, compared by expanded name without building keys. */
function firstRepeatAttr(list: readonly XmlAttribute[]): number {
  for (let i = 1; i < list.length; i++) {
    const a = list[i] as XmlAttribute;
    work += i;
    for (let j = 0; j < i; j++) {
      const o = list[j] as XmlAttribute;
      if (o.local === a.local && o.uri === a.uri) return i;
    }
  }
  return -1;
}

function longName(s: string, start: number, end: number): never {
  return fail(CodecErrorCode.LIMIT_EXCEEDED, s, start, `name ${JSON.stringify(s.slice(start, start + 40))}… of ${end - start} characters is longer than ${XML_LIMITS.nameChars}`);
}

/** True when `c` (a code unit from the input) may continue an XML name (every non-ASCII unit may). */
function nameContinues(c: number): boolean {
  return c >= 128 || NAME_CHAR[c] !== 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Scratch code-unit buffer reused across parses (parsing is synchronous); kept up to 4 MiB. */
const KEEP_UNITS = 1 << 21;
let scratchUnits = new Uint16Array(0);
let scratchBytes = Buffer.alloc(0);

/**
 * The UTF-16 code units of `s` followed by a '<' sentinel at index s.length, so the hot loops
 * read a typed array (about twice as fast as charCodeAt in V8) and stop at the end without a
 * bounds check: every scanning loop stops at '<', and no name contains it. Units past the
 * sentinel are stale and never read.
 */
function codeUnits(s: string): Uint16Array {
  const need = s.length + 1;
  let units = scratchUnits;
  let bytes = scratchBytes;
  if (units.length < need) {
    const buffer = new ArrayBuffer(Math.max(need, 8192) * 2);
    units = new Uint16Array(buffer);
    bytes = Buffer.from(buffer);
    if (need <= KEEP_UNITS) {
      scratchUnits = units;
      scratchBytes = bytes;
    }
  }
  if (LITTLE_ENDIAN) bytes.write(s, 0, 'utf16le');
  else for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
  units[s.length] = 60;
  return units;
}

function forbiddenChar(s: string, at: number): never {
  return malformed(s, at, `forbidden character U+${s.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** Checks a comment, PI or CDATA body (rare, off the hot path) for characters XML forbids. */
function checkChars(s: string, body: string, base: number): void {
  const bad = body.search(FORBIDDEN_CHAR);
  if (bad !== -1) forbiddenChar(s, base + bad);
}

// ---------------------------------------------------------------------------------------------
// Escaping

const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIAL_G = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>"\t\n\r]/;
const ATTR_SPECIAL_G = /[&<>"\t\n\r]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '&': return '&amp;';
    case '<': return '&lt;';
    case '>': return '&gt;';
    case '"': return '&quot;';
    case '\t': return '&#9;';
    case '\n': return '&#10;';
    default: return '&#13;';
  }
}

/** Escapes character data: & < > (and \r as &#13;, so it survives line-ending normalisation). */
export function escapeXmlText(s: string): string {
  return TEXT_SPECIAL.test(s) ? s.replace(TEXT_SPECIAL_G, escapeChar) : s;
}

/** Escapes an attribute value for double quotes: & < > " (and \t \n \r as character references, so they survive normalisation). */
export function escapeXmlAttr(s: string): string {
  return ATTR_SPECIAL.test(s) ? s.replace(ATTR_SPECIAL_G, escapeChar) : s;
}
