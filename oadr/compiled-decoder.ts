/**
 * The fast path of the decoder: for each object of the schema, a JavaScript function generated
 * once from its description (as ajv and fast-json-stringify do), with the element names as
 * constants and the model's keys as plain property stores, so that V8 sees small monomorphic
 * functions instead of one interpreter walking every description.
 *
 * The generated code handles well-formed input only. At the first thing it does not expect it
 * throws `BAIL`, and the caller decodes the document again with the interpreting decoder in
 * codec.ts, which finds the same problem and reports it precisely. The two must produce the
 * same model for every input they both accept; codec.test.ts checks it over the corpus and the
 * fuzz inputs. Nothing from the input ever reaches the generated source: only our schema's
 * names and keys, written with JSON.stringify.
 */
import type { AnyType, ChoiceType, Entry, ObjectType } from './schema.ts';
import { INVALID, type Scalar } from './scalars.ts';
import type { XmlElement } from './xml.ts';

/** Thrown by generated code when the input leaves the happy path. */
export const BAIL: { readonly bail: true } = Object.freeze({ bail: true });

export type CompiledDecoder = (el: XmlElement, out: Record<string, unknown>) => Record<string, unknown>;
type AnyField = Extract<Entry, { kind: 'field' }>;
type AttrEntry = Extract<Entry, { kind: 'attr' }>;

const compiled = new WeakMap<ObjectType<unknown>, CompiledDecoder>();

/** The generated decoder of an object type (generated on first use, then cached). */
export function compiledDecoder(type: ObjectType<unknown>): CompiledDecoder {
  let fn = compiled.get(type);
  if (fn === undefined) {
    // Registered before generating, so that recursive references resolve through the table.
    let real: CompiledDecoder | undefined;
    compiled.set(type, (el, out) => (real as CompiledDecoder)(el, out));
    real = generate(type);
    compiled.set(type, real);
    fn = real;
  }
  return fn;
}

/**
 * The value of attribute `name` on `el`: the qualified attribute, or else the same local name
 * without a prefix (tolerated: `Id` for `oadr:Id`, as some implementations write it).
 */
export function attributeValue(el: XmlElement, name: { readonly uri: string; readonly local: string }): string | undefined {
  let unqualified: string | undefined;
  for (const x of el.attrs) {
    if (x.local !== name.local) continue;
    if (x.uri === name.uri) return x.value;
    if (x.uri === '') unqualified = x.value;
  }
  return unqualified;
}

/** Reads the attributes of `el` into `out`. */
function readAttrs(attrs: readonly AttrEntry[], el: XmlElement, out: Record<string, unknown>): void {
  for (const a of attrs) {
    const raw = attributeValue(el, a.name);
    if (raw === undefined) {
      if (a.occurs === 'one') throw BAIL;
      continue;
    }
    const v = a.type.parse(a.type.collapse ? raw.trim() : raw);
    if (v === INVALID) throw BAIL;
    out[a.key] = v;
  }
}

/** Builds generated code: constants go into `K`, referenced as local bindings `k0`, `k1`, … */
class Gen {
  readonly consts: unknown[] = [];
  private readonly index = new Map<unknown, string>();
  k(value: unknown): string {
    let name = this.index.get(value);
    if (name === undefined) {
      name = `k${this.consts.length}`;
      this.consts.push(value);
      this.index.set(value, name);
    }
    return name;
  }
  /** `el.local === … && el.uri === …` for a name. */
  is(el: string, name: { readonly local: string; readonly uri: string }): string {
    return `${el}.local === ${this.k(name.local)} && ${el}.uri === ${this.k(name.uri)}`;
  }
}

function generate(type: ObjectType<unknown>): CompiledDecoder {
  const g = new Gen();
  const lines: string[] = [];
  if (type.attrs.length > 0) lines.push(`${g.k(readAttrs)}(${g.k(type.attrs)}, el, out);`);
  lines.push('const kids = el.children; let ci = 0; let c = kids[0]; let v; let items;');
  for (const e of type.children) {
    switch (e.kind) {
      case 'fixed':
      case 'ignore':
        lines.push(`if (c !== undefined && ${g.is('c', e.name)}) c = kids[++ci];`);
        break;
      case 'inline':
        lines.push(`if (c === undefined || !(${g.is('c', e.name)})) throw BAIL;`);
        lines.push(`${g.k(compiledDecoder(e.type))}(c, out); c = kids[++ci];`);
        break;
      case 'field':
        lines.push(...fieldCode(g, e));
        break;
    }
  }
  lines.push('if (ci < kids.length) throw BAIL;');
  if (type.children.length === 0) lines.push(`if (kids.length === 0 && el.text.trim() !== '') throw BAIL;`);
  lines.push('return out;');
  const header = g.consts.map((_, i) => `const k${i} = K[${i}];`).join('\n');
  const source = `${header}\nreturn function decode(el, out) {\n${lines.join('\n')}\n};`;
  // eslint-disable-next-line no-new-func -- generated from our schema only (see the file comment)
  return new Function('K', 'BAIL', 'INVALID', source)(g.consts, BAIL, INVALID) as CompiledDecoder;
}

/** Code that tests whether `el` is step `s` of field `f` (for a choice's step: any option). */
function stepTest(g: Gen, f: AnyField, s: number, el: string): string {
  const q = f.path[s];
  if (q !== undefined) return g.is(el, q);
  const choice = f.type as ChoiceType<unknown>;
  return `(${choice.options.map((o) => g.is(el, o.name)).join(' || ')})`;
}

function fieldCode(g: Gen, f: AnyField): string[] {
  const key = JSON.stringify(f.key);
  const out: string[] = [];
  if (f.occurs === 'one' || f.occurs === 'opt') {
    const read = g.k(reader(f, 0));
    out.push(`if (c !== undefined && ${stepTest(g, f, 0, 'c')}) {`);
    out.push(`  v = ${read}(c);`);
    out.push(f.occurs === 'one' ? `  if (v === undefined) throw BAIL;` : '');
    out.push(`  if (v !== undefined) out[${key}] = v;`);
    out.push('  c = kids[++ci];');
    out.push(f.occurs === 'one' ? '} else throw BAIL;' : '}');
    return out;
  }
  const at = f.at;
  const read = g.k(reader(f, at));
  out.push('items = [];');
  if (at === 0) {
    out.push(`while (c !== undefined && ${stepTest(g, f, 0, 'c')}) { items.push(${read}(c)); c = kids[++ci]; }`);
  } else {
    out.push(`if (c !== undefined && ${stepTest(g, f, 0, 'c')}) {`);
    out.push('  let w = c; c = kids[++ci];');
    for (let s = 1; s < at; s++) {
      out.push(`  if (w.children.length !== 1) throw BAIL; w = w.children[0]; if (!(${stepTest(g, f, s, 'w')})) throw BAIL;`);
    }
    out.push(`  for (const item of w.children) { if (!(${stepTest(g, f, at, 'item')})) throw BAIL; items.push(${read}(item)); }`);
    out.push(f.occurs === 'list' ? '} else throw BAIL;' : '}');
  }
  if (f.occurs === 'many1') out.push('if (items.length === 0) throw BAIL;');
  out.push(f.occurs === 'list' ? `out[${key}] = items;` : `if (items.length > 0) out[${key}] = items;`);
  return out;
}

/**
 * A function that reads the value of field `f` from `el`, which matched step `s`, down through the
 * single wrappers after it; `undefined` for an empty optional wrapper or an empty optional text.
 */
function reader(f: AnyField, s: number): (el: XmlElement) => unknown {
  const g = new Gen();
  const lines: string[] = [];
  const optional = f.occurs === 'opt';
  for (let i = s + 1; i < f.steps; i++) {
    lines.push(optional ? 'if (el.children.length === 0) return undefined;' : '');
    lines.push(`if (el.children.length !== 1) throw BAIL; el = el.children[0]; if (!(${stepTest(g, f, i, 'el')})) throw BAIL;`);
  }
  lines.push(...valueCode(g, f.type, optional));
  const header = g.consts.map((_, i) => `const k${i} = K[${i}];`).join('\n');
  const source = `${header}\nreturn function read(el) {\n${lines.join('\n')}\n};`;
  // eslint-disable-next-line no-new-func -- generated from our schema only (see the file comment)
  return new Function('K', 'BAIL', 'INVALID', source)(g.consts, BAIL, INVALID) as (el: XmlElement) => unknown;
}

function valueCode(g: Gen, type: AnyType, optional: boolean): string[] {
  switch (type.kind) {
    case 'scalar': {
      const scalar = type as Scalar<unknown>;
      return [
        'if (el.children.length !== 0) throw BAIL;',
        optional ? `if (el.text.length === 0) return undefined;` : '',
        `const v = ${g.k(scalar.parse)}(${scalar.collapse ? 'el.text.trim()' : 'el.text'});`,
        'if (v === INVALID) throw BAIL;',
        'return v;',
      ];
    }
    case 'object':
      return [`return ${g.k(compiledDecoder(type))}(el, {});`];
    case 'choice':
      return [
        ...type.options.map((o) => `if (${g.is('el', o.name)}) return ${g.k(compiledDecoder(o.type))}(el, { type: ${JSON.stringify(o.tag)} });`),
        'throw BAIL;',
      ];
  }
}
