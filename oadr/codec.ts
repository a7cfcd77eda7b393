/**
 * Reads and writes OpenADR 2.0b and 2.0a documents from the schema descriptions in model.ts (one
 * model: a 2.0a payload decodes to the same `Payload` as its 2.0b counterpart).
 *
 * Decoding matches namespace URIs, never prefixes, and checks the structure the schema gives
 * (order, cardinality, types); a failure is an `OadrCodecError`. Encoding writes elements in the
 * schema's order with our fixed prefixes, declaring on the root only the namespaces used, with
 * `ei:schemaVersion` as given in the model (see `payload()` helpers for defaults) and no
 * `schemaLocation` (R45). A 2.0a document is the payload element itself in the 2.0a namespace,
 * without schemaVersion (§7.1).
 */
import { attributeValue, BAIL, compiledDecoder } from './compiled-decoder.ts';
import { CodecErrorCode, OadrCodecError, type CodecErrorCodeValue } from './errors.ts';
import { NS, NS_OADR_20A, type OadrProfile, type Prefix, type QName } from './namespaces.ts';
import { ENVELOPE_ROOT, envelope, payload, payload20a, type OadrMessage, type Payload } from './model.ts';
import type { AnyType, ChoiceOption, ChoiceType, Entry, ObjectType } from './schema.ts';
import { INVALID, type Scalar } from './scalars.ts';
import { escapeXmlAttr, escapeXmlText, parseXml, type ParseXmlOptions, type XmlElement } from './xml.ts';

export type DecodeOptions = ParseXmlOptions;

export interface EncodeOptions {
  /** The profile to write: '2.0b' (default) wraps the payload in oadrPayload; '2.0a' writes the payload element alone. */
  readonly profile?: OadrProfile;
}

/** A decoded document and the profile it was written in. */
export interface DecodedDocument {
  readonly profile: OadrProfile;
  readonly message: OadrMessage;
}

type AnyField = Extract<Entry, { kind: 'field' }>;

// ---- decoding ---------------------------------------------------------------------------------
//
// The path of the element being read is kept as a stack of local names (`trail`) and joined only
// when an error is raised, so that the happy path builds no strings.

const trail: string[] = [];
const trailPath = (): string => trail.join('/');
const payloadTypes = payload as ChoiceType<unknown>;
const payloadTypes20a = payload20a as ChoiceType<unknown>;

/** Decode a whole `oadrPayload` document (or a bare payload element, which some peers send), or a 2.0a document. */
export function decodeOadr(input: string | Uint8Array, options?: DecodeOptions): OadrMessage {
  return decodeDocument(input, options).message;
}

/** Decode a 2.0b or 2.0a document and say which profile it is (by the namespace of its root). */
export function decodeDocument(input: string | Uint8Array, options?: DecodeOptions): DecodedDocument {
  const root = parseXml(input, options);
  if (root.uri === NS_OADR_20A) return { profile: '2.0a', message: decode20a(root) };
  return { profile: '2.0b', message: decode20b(root) };
}

function decode20a(root: XmlElement): OadrMessage {
  const found = payloadTypes20a.byKey.get(`${root.uri} ${root.local}`);
  if (found === undefined) {
    throw new OadrCodecError(
      CodecErrorCode.NOT_OADR_PAYLOAD,
      `the root element is {${root.uri}}${root.local}: OpenADR 2.0a has EiEvent only (oadrRequestEvent, oadrDistributeEvent, oadrCreatedEvent, oadrResponse)`,
      { path: root.local, offset: root.offset },
    );
  }
  try {
    return { payload: compiledDecoder(found.type)(root, { type: found.tag }) as Payload };
  } catch (err) {
    if (err !== BAIL) throw err;
  }
  trail.length = 0;
  trail.push(root.local);
  return { payload: decodeObject(found.type, root, { type: found.tag }) as Payload };
}

function decode20b(root: XmlElement): OadrMessage {
  const bare = payloadTypes.byKey.get(`${root.uri} ${root.local}`);
  try {
    // The generated fast path; any surprise sends us to the interpreter below for a precise error.
    if (bare !== undefined) return { payload: compiledDecoder(bare.type)(root, { type: bare.tag }) as Payload };
    if (root.uri === ENVELOPE_ROOT.uri && root.local === ENVELOPE_ROOT.local) {
      return compiledDecoder(envelope as ObjectType<unknown>)(root, {}) as OadrMessage;
    }
  } catch (err) {
    if (err !== BAIL) throw err;
  }
  return interpret(root);
}

/** The interpreting decoder alone (the reference the generated one is tested against). */
export function decodeOadrInterpreted(input: string | Uint8Array, options?: DecodeOptions): OadrMessage {
  const root = parseXml(input, options);
  const found = root.uri === NS_OADR_20A ? payloadTypes20a.byKey.get(`${root.uri} ${root.local}`) : undefined;
  if (found === undefined) return interpret(root);
  trail.length = 0;
  trail.push(root.local);
  return { payload: decodeObject(found.type, root, { type: found.tag }) as Payload };
}

function interpret(root: XmlElement): OadrMessage {
  trail.length = 0;
  trail.push(root.local);
  const bare = payloadTypes.byKey.get(`${root.uri} ${root.local}`);
  if (bare !== undefined) {
    // A payload without the oadrPayload wrapper (the §8.6 oadrPoll example): read, never written.
    return { payload: decodeObject(bare.type, root, { type: bare.tag }) as Payload };
  }
  if (root.uri !== ENVELOPE_ROOT.uri || root.local !== ENVELOPE_ROOT.local) {
    throw new OadrCodecError(
      CodecErrorCode.NOT_OADR_PAYLOAD,
      `the root element is {${root.uri}}${root.local}, not oadrPayload in ${NS.oadr}: this is not an OpenADR 2.0b message`,
      { path: root.local, offset: root.offset },
    );
  }
  const signed = root.children[root.children.length - 1];
  if (signed !== undefined && signed.uri === NS.oadr && signed.local === 'oadrSignedObject') {
    const inner = signed.children[0];
    if (inner !== undefined && !payloadTypes.byKey.has(`${inner.uri} ${inner.local}`)) {
      throw new OadrCodecError(CodecErrorCode.NOT_OADR_PAYLOAD, `unknown payload element {${inner.uri}}${inner.local}: expected one of the 23 OpenADR 2.0b payloads`, {
        path: 'oadrPayload/oadrSignedObject', offset: inner.offset,
      });
    }
  }
  return decodeObject(envelope as ObjectType<unknown>, root, {}) as OadrMessage;
}

/** Decode a document and return its payload. */
export function decodePayload(input: string | Uint8Array, options?: DecodeOptions): Payload {
  return decodeOadr(input, options).payload;
}

function fail(code: CodecErrorCodeValue, message: string, el?: XmlElement, extra?: string): never {
  const path = extra === undefined ? trailPath() : `${trailPath()}/${extra}`;
  throw new OadrCodecError(code, `${message} (at ${path})`, { path, offset: el?.offset });
}

function matches(el: XmlElement, f: AnyField, step: number): boolean {
  const q = f.path[step];
  if (q !== undefined) return el.local === q.local && el.uri === q.uri;
  return f.type.kind === 'choice' && f.type.byKey.has(`${el.uri} ${el.local}`);
}

function stepName(f: AnyField, step: number): string {
  const q = f.path[step];
  if (q !== undefined) return q.qname;
  return f.type.kind === 'choice' ? `one of ${f.type.options.map((o) => o.name.qname).join(', ')}` : '?';
}

function decodeObject(type: ObjectType<unknown>, el: XmlElement, out: Record<string, unknown>): Record<string, unknown> {
  for (const a of type.attrs) {
    const raw = attributeValue(el, a.name);
    if (raw === undefined) {
      if (a.occurs === 'one') fail(CodecErrorCode.SCHEMA_VIOLATION, `attribute ${a.name.qname} is missing on ${el.qname}`, el);
      continue;
    }
    out[a.key] = parseScalar(a.type, raw, el, `@${a.name.local}`);
  }
  const kids = el.children;
  let ci = 0;
  for (const e of type.children) {
    const child = kids[ci];
    switch (e.kind) {
      case 'fixed':
      case 'ignore':
        if (child !== undefined && child.local === e.name.local && child.uri === e.name.uri) ci++;
        break;
      case 'inline':
        if (child === undefined || child.local !== e.name.local || child.uri !== e.name.uri) missing(e.name.qname, el, child);
        trail.push(child.local);
        decodeObject(e.type, child, out);
        trail.pop();
        ci++;
        break;
      case 'field':
        ci = decodeField(e, kids, ci, el, out);
        break;
    }
  }
  if (ci < kids.length) {
    const extra = kids[ci] as XmlElement;
    fail(CodecErrorCode.SCHEMA_VIOLATION, `unexpected element ${extra.qname} in ${el.qname} (wrong name, namespace or order)`, extra);
  }
  if (kids.length === 0 && type.children.length === 0 && el.text.trim() !== '') {
    fail(CodecErrorCode.SCHEMA_VIOLATION, `${el.qname} must not contain text`, el);
  }
  return out;
}

function missing(what: string, parent: XmlElement, found: XmlElement | undefined): never {
  const instead = found === undefined ? '' : ` (found ${found.qname} instead)`;
  fail(CodecErrorCode.SCHEMA_VIOLATION, `required element ${what} is missing in ${parent.qname}${instead}`, found ?? parent);
}

function decodeField(f: AnyField, kids: readonly XmlElement[], ci: number, parent: XmlElement, out: Record<string, unknown>): number {
  const child = kids[ci];
  if (f.occurs === 'one' || f.occurs === 'opt') {
    if (child === undefined || !matches(child, f, 0)) {
      if (f.occurs === 'one') missing(stepName(f, 0), parent, child);
      return ci;
    }
    const v = decodeSteps(child, f, 0);
    if (v !== undefined) out[f.key] = v;
    else if (f.occurs === 'one') fail(CodecErrorCode.SCHEMA_VIOLATION, `${stepName(f, f.steps - 1)} is missing in ${child.qname}`, child);
    return ci + 1;
  }
  const at = f.at;
  const items: unknown[] = [];
  if (at === 0) {
    while (ci < kids.length && matches(kids[ci] as XmlElement, f, 0)) {
      items.push(decodeSteps(kids[ci] as XmlElement, f, 0));
      ci++;
    }
  } else if (child !== undefined && matches(child, f, 0)) {
    ci++;
    // Single wrappers down to the one holding the repeated elements.
    const depth = trail.length;
    let wrapper = child;
    trail.push(child.local);
    for (let s = 1; s < at; s++) {
      const next = wrapper.children[0];
      if (next === undefined || wrapper.children.length !== 1 || !matches(next, f, s)) missing(stepName(f, s), wrapper, next);
      wrapper = next;
      trail.push(next.local);
    }
    for (const item of wrapper.children) {
      if (!matches(item, f, at)) fail(CodecErrorCode.SCHEMA_VIOLATION, `unexpected element ${item.qname} in ${wrapper.qname}: expected ${stepName(f, at)}`, item);
      items.push(decodeSteps(item, f, at));
    }
    trail.length = depth;
  } else if (f.occurs === 'list') {
    missing(stepName(f, 0), parent, child);
  }
  if (items.length === 0) {
    if (f.occurs === 'many1') missing(stepName(f, at), parent, kids[ci]);
    if (f.occurs === 'list') out[f.key] = items;
    return ci;
  }
  out[f.key] = items;
  return ci;
}

/** Decode `el`, which matched step `s` of field `f`, down through its single wrappers. */
function decodeSteps(el: XmlElement, f: AnyField, s: number): unknown {
  let cur = el;
  for (let i = s + 1; i < f.steps; i++) {
    const next = cur.children[0];
    if (next === undefined) {
      // An empty wrapper of an optional leaf: empty equals absent (R46).
      if (f.occurs === 'opt') return undefined;
      withChain(el, cur, () => missing(stepName(f, i), cur, undefined));
    }
    if (cur.children.length !== 1 || !matches(next, f, i)) {
      const bad = matches(next, f, i) ? (cur.children[1] as XmlElement) : next;
      const parent = cur;
      withChain(el, cur, () => fail(CodecErrorCode.SCHEMA_VIOLATION, `unexpected element ${bad.qname} in ${parent.qname}: expected only ${stepName(f, i)}`, bad));
    }
    cur = next;
  }
  if (cur.children.length === 0 && f.type.kind === 'scalar') {
    // The common leaf: text, no trail bookkeeping unless it is wrong.
    if (f.occurs === 'opt' && cur.text.length === 0) return undefined;
    const text = f.type.collapse ? cur.text.trim() : cur.text;
    const v = f.type.parse(text);
    if (v !== INVALID) return v;
  }
  const depth = trail.length;
  for (let e: XmlElement | undefined = el; e !== undefined; e = e.children[0]) {
    trail.push(e.local);
    if (e === cur) break;
  }
  const v = decodeValue(f.type, cur, f.occurs === 'opt');
  trail.length = depth;
  return v;
}

/** Run `fn` (which throws) with the trail extended by the single-child chain from `from` to `to`. */
function withChain(from: XmlElement, to: XmlElement, fn: () => never): never {
  for (let e: XmlElement | undefined = from; e !== undefined; e = e.children[0]) {
    trail.push(e.local);
    if (e === to) break;
  }
  return fn();
}

function decodeValue(type: AnyType, el: XmlElement, optional: boolean): unknown {
  switch (type.kind) {
    case 'scalar': {
      if (el.children.length > 0) fail(CodecErrorCode.SCHEMA_VIOLATION, `${el.qname} must hold text, not element ${(el.children[0] as XmlElement).qname}`, el);
      if (optional && el.text.length === 0) return undefined;
      return parseScalar(type, el.text, el);
    }
    case 'object':
      return decodeObject(type, el, {});
    case 'choice': {
      const o = type.byKey.get(`${el.uri} ${el.local}`) as ChoiceOption;
      return decodeObject(o.type, el, { type: o.tag });
    }
  }
}

function parseScalar(type: Scalar<unknown>, raw: string, el: XmlElement, attrName?: string): unknown {
  const text = type.collapse ? raw.trim() : raw;
  const v = type.parse(text);
  if (v === INVALID) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    fail(CodecErrorCode.WRONG_TYPE, `'${shown}' is not a valid ${type.name}`, el, attrName);
  }
  return v;
}

// ---- encoding ---------------------------------------------------------------------------------

interface Writer {
  s: string;
  /** The prefixes written, with the namespace each stands for (`oadr` differs between profiles). */
  readonly used: Map<Prefix, string>;
  /** Refuse model keys the description does not know (2.0a: what its schema cannot express). */
  readonly strict: boolean;
}

/**
 * Encode a message (or just a payload, wrapped in `oadrPayload/oadrSignedObject`) as an XML
 * document; with `profile: '2.0a'`, the payload element alone in the 2.0a namespace, without
 * schemaVersion. Throws `OadrCodecError` INVALID_MODEL for a model the profile's schema cannot express.
 */
export function encodeOadr(message: OadrMessage | Payload, options?: EncodeOptions): string {
  const msg: OadrMessage = 'payload' in message && !('type' in message) ? message : { payload: message as Payload };
  if (options?.profile === '2.0a') return encode20a(msg.payload);
  const w: Writer = { s: '', used: new Map<Prefix, string>([['oadr', NS.oadr]]), strict: false };
  const body = writeObjectContent(envelope as ObjectType<unknown>, msg as unknown as Record<string, unknown>, w, 'oadrPayload');
  return document(ENVELOPE_ROOT, w, body);
}

function encode20a(p: Payload): string {
  const o = payloadTypes20a.byTag.get(p.type);
  if (o === undefined) {
    invalid(`${p.type} does not exist in OpenADR 2.0a, which has EiEvent only (RequestEvent, DistributeEvent, CreatedEvent, Response)`, p.type);
  }
  // The profile decides the version: a 2.0a document carries no schemaVersion (§7.1).
  const { schemaVersion: _, ...rest } = p as Payload & { schemaVersion?: unknown };
  const w: Writer = { s: '', used: new Map<Prefix, string>([['oadr', NS_OADR_20A]]), strict: true };
  const body = writeObjectContent(o.type, rest as Record<string, unknown>, w, o.name.local);
  return document(o.name, w, body);
}

function document(root: QName, w: Writer, body: { attrs: string; content: string }): string {
  let decl = '';
  for (const prefix of Object.keys(NS) as Prefix[]) {
    const uri = w.used.get(prefix);
    if (uri !== undefined) decl += ` xmlns:${prefix}="${uri}"`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root.qname}${decl}${body.attrs}>${body.content}</${root.qname}>`;
}

/** The model keys an object description reads and writes (its inline children's included). */
const knownKeys = new WeakMap<ObjectType<unknown>, ReadonlySet<string>>();
function keysOf(type: ObjectType<unknown>): ReadonlySet<string> {
  let keys = knownKeys.get(type);
  if (keys === undefined) {
    const set = new Set<string>(['type']);
    for (const e of type.entries) {
      if (e.kind === 'inline') for (const k of keysOf(e.type)) set.add(k);
      else if (e.kind === 'field' || e.kind === 'attr') set.add(e.key);
    }
    keys = set;
    knownKeys.set(type, keys);
  }
  return keys;
}

function refuseUnknownKeys(type: ObjectType<unknown>, value: Record<string, unknown>, path: string): void {
  const keys = keysOf(type);
  for (const k of Object.keys(value)) {
    if (value[k] !== undefined && !keys.has(k)) invalid(`${k} at ${path} cannot be expressed in OpenADR 2.0a (R506, §7.1); leave it out for a 2.0a VEN`, `${path}/${k}`);
  }
}

function invalid(message: string, path: string): never {
  throw new OadrCodecError(CodecErrorCode.INVALID_MODEL, message, { path });
}

function use(w: Writer, q: { readonly qname: string; readonly uri: string }): string {
  if (q.uri !== '') w.used.set((q as QName).prefix, q.uri);
  return q.qname;
}

/** Writes the attributes and children of an object; returns them apart so the caller can build the tag. */
function writeObjectContent(type: ObjectType<unknown>, value: Record<string, unknown>, w: Writer, path: string, inlined = false): { attrs: string; content: string } {
  if (value === null || typeof value !== 'object') invalid(`expected an object at ${path}, got ${value === null ? 'null' : typeof value}`, path);
  // An inlined element's keys live in its parent's value, which the parent checked.
  if (w.strict && !inlined) refuseUnknownKeys(type, value, path);
  let attrs = '';
  for (const a of type.attrs) {
    const v = value[a.key];
    if (v === undefined) {
      if (a.occurs === 'one') invalid(`${a.key} is required at ${path}`, path);
      continue;
    }
    const text = a.type.format(v);
    if (text === INVALID) invalid(`${a.key} at ${path}: ${JSON.stringify(v)} is not a valid ${a.type.name}`, path);
    attrs += ` ${use(w, a.name)}="${escapeXmlAttr(text)}"`;
  }
  const saved = w.s;
  w.s = '';
  for (const e of type.children) {
    switch (e.kind) {
      case 'ignore':
        break;
      case 'fixed':
        w.s += `<${use(w, e.name)}/>`;
        break;
      case 'inline':
        writeElement(w, e.name, e.type, value, `${path}/${e.name.local}`, true);
        break;
      case 'field':
        writeField(w, e, value[e.key], path);
        break;
    }
  }
  const content = w.s;
  w.s = saved;
  return { attrs, content };
}

function writeElement(w: Writer, name: QName, type: ObjectType<unknown>, value: Record<string, unknown>, path: string, inlined = false): void {
  const q = use(w, name);
  const { attrs, content } = writeObjectContent(type, value, w, path, inlined);
  w.s += content === '' ? `<${q}${attrs}/>` : `<${q}${attrs}>${content}</${q}>`;
}

function writeField(w: Writer, f: AnyField, v: unknown, path: string): void {
  const n = f.steps;
  if (f.occurs === 'one' || f.occurs === 'opt') {
    if (v === undefined) {
      if (f.occurs === 'one') invalid(`${f.key} is required at ${path}`, `${path}/${f.key}`);
      return;
    }
    writeSteps(w, f, 0, n, v, `${path}/${f.key}`);
    return;
  }
  if (v !== undefined && !Array.isArray(v)) invalid(`${f.key} at ${path} must be an array`, `${path}/${f.key}`);
  const items = (v ?? []) as unknown[];
  if (items.length === 0) {
    if (f.occurs === 'many1') invalid(`${f.key} at ${path} needs at least one item`, `${path}/${f.key}`);
    if (f.occurs === 'many') return;
  }
  const at = f.at;
  let close = '';
  for (let s = 0; s < at; s++) {
    const q = use(w, f.path[s] as QName);
    w.s += `<${q}>`;
    close = `</${q}>${close}`;
  }
  for (let i = 0; i < items.length; i++) writeSteps(w, f, at, n, items[i], `${path}/${f.key}[${i}]`);
  w.s += close;
}

function writeSteps(w: Writer, f: AnyField, s: number, n: number, v: unknown, path: string): void {
  let close = '';
  for (let i = s; i < n - 1; i++) {
    const q = use(w, f.path[i] as QName);
    w.s += `<${q}>`;
    close = `</${q}>${close}`;
  }
  writeValue(w, f.type, f.path[n - 1], v, path);
  w.s += close;
}

function writeValue(w: Writer, type: AnyType, name: QName | undefined, v: unknown, path: string): void {
  switch (type.kind) {
    case 'scalar': {
      const text = type.format(v);
      if (text === INVALID) invalid(`${path}: ${JSON.stringify(v)} is not a valid ${type.name}`, path);
      const q = use(w, name as QName);
      w.s += `<${q}>${escapeXmlText(text)}</${q}>`;
      return;
    }
    case 'object':
      writeElement(w, name as QName, type, v as Record<string, unknown>, path);
      return;
    case 'choice': {
      const tag = v !== null && typeof v === 'object' ? (v as { type?: unknown }).type : undefined;
      const o = typeof tag === 'string' ? type.byTag.get(tag) : undefined;
      if (o === undefined) invalid(`${path}: type must be one of ${type.options.map((x) => x.tag).join(', ')}, got ${JSON.stringify(tag)}`, path);
      writeElement(w, o.name, o.type, v as Record<string, unknown>, path);
      return;
    }
  }
}
