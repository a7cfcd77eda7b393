/**
 * A small declarative description of the 2.0b schema, from which both the decoder and the encoder
 * work, and from which the TypeScript types of our model are inferred: one source, no drift.
 *
 * - `obj({ key: field, … })`: an element with a sequence of children; the order of the keys is
 *   the order of the schema's `xs:sequence`.
 * - `one | opt | many | many1(path, type)`: a child, reached through `path` (a chain of elements
 *   that each hold only the next one, e.g. `xcal:dtstart/xcal:date-time`), with its cardinality.
 *   `many` (minOccurs 0) is optional in the model: absent means none.
 * - `inline(name, obj)`: a child element whose own fields are merged into the parent's model.
 * - `fixed(name)`: a child written empty and ignored on reading (`xcal:components`).
 * - `attr(name, scalar)`: an attribute.
 * - `choice({ tag: [name, obj] })`: one element out of a substitution group; the model carries
 *   `type: tag`.
 */
import type { QName } from './namespaces.ts';
import type { Scalar } from './scalars.ts';

export type Occurs = 'one' | 'opt' | 'many' | 'many1' | 'list';

export interface ObjectType<T> {
  readonly kind: 'object';
  readonly entries: readonly Entry[];
  /** The attribute entries and the child entries, split once for the codec. */
  readonly attrs: readonly Attr<unknown, 'one' | 'opt'>[];
  readonly children: readonly Exclude<Entry, { kind: 'attr' }>[];
  /** Phantom: the model type. */
  readonly model?: T;
}

export interface ChoiceOption {
  readonly tag: string;
  readonly name: QName;
  readonly type: ObjectType<unknown>;
}

export interface ChoiceType<T> {
  readonly kind: 'choice';
  readonly options: readonly ChoiceOption[];
  /** Options by `uri local` of their element, and by tag. */
  readonly byKey: ReadonlyMap<string, ChoiceOption>;
  readonly byTag: ReadonlyMap<string, ChoiceOption>;
  readonly model?: T;
}

export type AnyType = Scalar<unknown> | ObjectType<unknown> | ChoiceType<unknown>;

export interface Field<T, O extends Occurs> {
  readonly kind: 'field';
  readonly key: string;
  readonly path: readonly QName[];
  readonly occurs: O;
  readonly type: AnyType;
  /**
   * For repeated fields: the index, in the path (with a choice's element appended), of the
   * element that repeats; the elements before it are wrappers written once, those after it are
   * single wrappers inside each item (default: the last).
   */
  readonly at: number;
  /** Number of elements from the parent to the value: the path, plus the option element of a choice. */
  readonly steps: number;
  readonly model?: T;
}

export interface Inline<T> {
  readonly kind: 'inline';
  readonly key: string;
  readonly name: QName;
  readonly type: ObjectType<T>;
}

export interface Fixed {
  readonly kind: 'fixed';
  readonly key: string;
  readonly name: QName;
}

/** An optional element skipped on reading and never written (`ds:Signature`, checked elsewhere). */
export interface Ignore {
  readonly kind: 'ignore';
  readonly key: string;
  readonly name: QName;
}

export interface Attr<T, O extends 'one' | 'opt'> {
  readonly kind: 'attr';
  readonly key: string;
  /** Attribute name; `uri` '' for an unqualified attribute. */
  readonly name: QName | { readonly uri: ''; readonly local: string; readonly qname: string; readonly key: string };
  readonly occurs: O;
  readonly type: Scalar<T>;
}

export type Entry = Field<unknown, Occurs> | Inline<unknown> | Fixed | Ignore | Attr<unknown, 'one' | 'opt'>;

// ---- builders -------------------------------------------------------------------------------

type Pathish = QName | readonly QName[];
const toPath = (p: Pathish): readonly QName[] => (Array.isArray(p) ? p : [p as QName]);

type TypeValue<X> = X extends Scalar<infer T> ? T : X extends ObjectType<infer T> ? T : X extends ChoiceType<infer T> ? T : never;

function field<X extends AnyType, O extends Occurs>(occurs: O, path: Pathish, type: X, at?: number): Field<TypeValue<X>, O> {
  const p = toPath(path);
  const steps = p.length + (type.kind === 'choice' ? 1 : 0);
  return { kind: 'field', key: '', path: p, occurs, type, steps, at: at ?? steps - 1 };
}

export const one = <X extends AnyType>(path: Pathish, type: X) => field('one', path, type);
export const opt = <X extends AnyType>(path: Pathish, type: X) => field('opt', path, type);
/** 0..n items; optional in the model. */
export const many = <X extends AnyType>(path: Pathish, type: X, at?: number) => field('many', path, type, at);
/** 1..n items. */
export const many1 = <X extends AnyType>(path: Pathish, type: X, at?: number) => field('many1', path, type, at);
/** 0..n items inside wrappers that are required, possibly empty (`oadrPendingReports`); required in the model. */
export const list = <X extends AnyType>(path: Pathish, type: X, at?: number) => field('list', path, type, at);
export const ignore = (name: QName): Ignore => ({ kind: 'ignore', key: '', name });

export const inline = <T>(name: QName, type: ObjectType<T>): Inline<T> => ({ kind: 'inline', key: '', name, type });
export const fixed = (name: QName): Fixed => ({ kind: 'fixed', key: '', name });

export function attr<T, O extends 'one' | 'opt'>(occurs: O, name: QName | string, type: Scalar<T>): Attr<T, O> {
  const n = typeof name === 'string' ? { uri: '' as const, local: name, qname: name, key: ` ${name}` } : name;
  return { kind: 'attr', key: '', name: n, occurs, type };
}

// ---- model inference --------------------------------------------------------------------------

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

type EntryValue<E> =
  E extends Field<infer T, infer O> ? (O extends 'many' | 'many1' | 'list' ? T[] : T) : E extends Attr<infer T, 'one' | 'opt'> ? T : never;
type RequiredKeys<M> = {
  [K in keyof M]: M[K] extends Field<unknown, 'one' | 'many1' | 'list'> | Attr<unknown, 'one'> ? K : never;
}[keyof M];
type OptionalKeys<M> = {
  [K in keyof M]: M[K] extends Field<unknown, 'opt' | 'many'> | Attr<unknown, 'opt'> ? K : never;
}[keyof M];
type InlineModels<M> = UnionToIntersection<{ [K in keyof M]: M[K] extends Inline<infer T> ? T : never }[keyof M]>;

export type ModelOf<M> = Simplify<
  { -readonly [K in RequiredKeys<M>]: EntryValue<M[K]> } & { -readonly [K in OptionalKeys<M>]?: EntryValue<M[K]> } & InlineModels<M>
>;

export type Model<X> = TypeValue<X>;

export function obj<const M extends Record<string, Entry>>(entries: M): ObjectType<ModelOf<M>> {
  const list = Object.entries(entries).map(([key, e]) => ({ ...e, key }) as Entry);
  const attrs = list.filter((e): e is Attr<unknown, 'one' | 'opt'> => e.kind === 'attr');
  const children = list.filter((e): e is Exclude<Entry, { kind: 'attr' }> => e.kind !== 'attr');
  return { kind: 'object', entries: list, attrs, children };
}

type ChoiceModel<M> = {
  [K in keyof M]: M[K] extends readonly [QName, ObjectType<infer T>] ? Simplify<{ type: K } & T> : never;
}[keyof M];

export function choice<const M extends Record<string, readonly [QName, ObjectType<unknown>]>>(options: M): ChoiceType<ChoiceModel<M>> {
  const list = Object.entries(options).map(([tag, [name, type]]) => ({ tag, name, type }));
  return {
    kind: 'choice',
    options: list,
    byKey: new Map(list.map((o) => [o.name.key, o])),
    byTag: new Map(list.map((o) => [o.tag, o])),
  };
}
