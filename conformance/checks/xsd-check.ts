/**
 * XSD validity of every OpenADR body (2.0b schema, or 2.0a's for a document in the 2.0a
 * namespace). xmllint costs a process and a schema load, so verdicts are cached by body hash and a
 * miss validates every body of the case not yet cached in one batch; `prevalidateXsd` warms the
 * cache for a whole run without blocking the event loop.
 */
import { createHash } from 'node:crypto';
import type { Exchange, ExchangeCheck, Finding } from '../case.ts';
import { OADR_20A_XSD, OADR_XSD, validateXsdMany, validateXsdManySync, type XsdResult } from '../xsd.ts';
import { author, finding, readMessage } from './message.ts';

const MAX_CACHED = 20_000;
const verdicts = new Map<string, XsdResult>();

const keyOf = (body: string, schema: string): string => `${schema}\n${createHash('sha256').update(body).digest('hex')}`;

/** Which schema a body is checked against, or none (no body, or a non-200 answer whose body HTTP leaves undefined, §9.1.5). */
function schemaOf(exchange: Exchange): string | undefined {
  if (exchange.body.trim() === '') return undefined;
  if (exchange.status !== undefined && exchange.status !== 200) return undefined;
  // XMPP's own stanzas (disco, ping, IQ errors) are not OpenADR documents.
  if (exchange.channel === 'xmpp' && readMessage(exchange)?.profile === undefined) return undefined;
  return readMessage(exchange)?.profile === '2.0a' ? OADR_20A_XSD : OADR_XSD;
}

function remember(key: string, result: XsdResult): void {
  if (verdicts.size >= MAX_CACHED) verdicts.clear();
  verdicts.set(key, result);
}

/** Bodies of `exchanges` without a cached verdict, grouped by schema, deduplicated. */
function misses(exchanges: readonly Exchange[]): Map<string, Map<string, string>> {
  const bySchema = new Map<string, Map<string, string>>();
  for (const e of exchanges) {
    const schema = schemaOf(e);
    if (schema === undefined) continue;
    const key = keyOf(e.body, schema);
    if (verdicts.has(key)) continue;
    const group = bySchema.get(schema) ?? new Map<string, string>();
    group.set(key, e.body);
    bySchema.set(schema, group);
  }
  return bySchema;
}

/** Validates every body of `exchanges` not yet cached, one xmllint process per schema, off the event loop. */
export async function prevalidateXsd(exchanges: readonly Exchange[]): Promise<void> {
  for (const [schema, group] of misses(exchanges)) {
    const results = await validateXsdMany([...group.values()], schema);
    [...group.keys()].forEach((key, i) => remember(key, results[i] as XsdResult));
  }
}

function validateMissesSync(exchanges: readonly Exchange[]): void {
  for (const [schema, group] of misses(exchanges)) {
    const results = validateXsdManySync([...group.values()], schema);
    [...group.keys()].forEach((key, i) => remember(key, results[i] as XsdResult));
  }
}

/** XSD: the body validates against the profile's schema, and our decoder reads it. */
export const xsdCheck: ExchangeCheck = (exchange, index, exchanges) => {
  const schema = schemaOf(exchange);
  if (schema === undefined) return [];
  const key = keyOf(exchange.body, schema);
  if (!verdicts.has(key)) validateMissesSync(exchanges.includes(exchange) ? exchanges : [...exchanges, exchange]);
  const verdict = verdicts.get(key);
  const read = readMessage(exchange);
  const profile = schema === OADR_20A_XSD ? '2.0a' : '2.0b';
  const out: Finding[] = [];
  if (verdict !== undefined && !verdict.valid) {
    out.push(finding(index, ['XSD'], `${author(exchange)} sent a message that is not valid against the OpenADR ${profile} schema`, `a document valid against ${schema.split('/').pop() ?? schema}`, verdict.errors.slice(0, 5).join('\n')));
  } else if (read?.decodeError !== undefined) {
    // Valid for xmllint but refused by our decoder, which also checks what the schema's types leave open.
    out.push(finding(index, ['XSD'], `${author(exchange)} sent a message oadr-ledger's OpenADR reader refuses`, 'a message the OpenADR reader accepts', read.decodeError));
  }
  return out;
};
