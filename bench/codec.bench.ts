/**
 * OpenADR codec throughput: our decoder (strict XML parser + schema-driven decode into the typed
 * model) and encoder, against xml2js and fast-xml-parser doing parse + build of a generic tree.
 *
 *     node bench/codec.bench.ts
 *
 * The design card named xml2js; the issue asks to measure it against fast-xml-parser and to reach
 * ≥ 20,000 decodes/s of an oadrDistributeEvent with one event of 48 intervals on one core. The
 * two libraries only produce a prefix-keyed tree, not our model, so their figures are a lower
 * bound on what a decoder built on them would cost. The strictness probes at the end print what
 * each one does with a DOCTYPE, entities, undeclared prefixes and foreign prefixes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import xml2js from 'xml2js';
import { decodeOadr, encodeOadr } from '../oadr/codec.ts';
import type { OadrMessage } from '../oadr/model.ts';
import { reportFigures } from './support/report.ts';
import { rate, type Rate } from './support/throughput.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/oadr/', import.meta.url));
const TARGET = 20_000;

// ---- the contenders ---------------------------------------------------------------------------

const fxpParser = new XMLParser({ ignoreAttributes: false });
const fxpBuilder = new XMLBuilder({ ignoreAttributes: false });
const x2jBuilder = new xml2js.Builder();

/** fast-xml-parser with its validator first, so malformed input is refused as ours refuses it. */
function fxpDecode(xml: string): unknown {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`fast-xml-parser: ${valid.err.msg}`);
  return fxpParser.parse(xml);
}

/** xml2js (sax in strict mode), arrays everywhere as a schema-driven decoder would want them. */
function x2jDecode(xml: string): unknown {
  let out: unknown;
  let failure: unknown;
  new xml2js.Parser({ explicitArray: true, async: false }).parseString(xml, (err: Error | null, result: unknown) => {
    failure = err;
    out = result;
  });
  if (failure !== null && failure !== undefined) throw failure;
  return out;
}

// ---- measuring --------------------------------------------------------------------------------

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Workload {
  readonly label: string;
  readonly xml: readonly string[];
}

interface Row {
  readonly workload: string;
  readonly op: 'decode' | 'encode';
  readonly ours: Rate;
  readonly fxp: Rate;
  readonly x2j: Rate;
}

function bench(w: Workload): Row[] {
  const models: OadrMessage[] = w.xml.map((x) => decodeOadr(x));
  const fxpTrees = w.xml.map(fxpDecode);
  const x2jTrees = w.xml.map(x2jDecode);
  const decode: Row = {
    workload: w.label,
    op: 'decode',
    ours: rate(w.xml, (x) => decodeOadr(x)),
    fxp: rate(w.xml, fxpDecode),
    x2j: rate(w.xml, x2jDecode),
  };
  const encode: Row = {
    workload: w.label,
    op: 'encode',
    ours: rate(models, (m) => encodeOadr(m)),
    fxp: rate(fxpTrees, (t) => fxpBuilder.build(t)),
    x2j: rate(x2jTrees, (t) => x2jBuilder.buildObject(t)),
  };
  for (const r of [decode, encode]) {
    const target = r.op === 'decode' && w.label.startsWith('distributeEvent-48') ? `  (target ≥ ${fmt(TARGET)})` : '';
    console.log(`codec ${r.op} ${r.workload}: ours ${fmt(r.ours.wall)} msg/s | fast-xml-parser ${fmt(r.fxp.wall)} | xml2js ${fmt(r.x2j.wall)}${target}`);
    console.log(`  per CPU-second: ours ${fmt(r.ours.cpu)} | fast-xml-parser ${fmt(r.fxp.cpu)} | xml2js ${fmt(r.x2j.cpu)}`);
  }
  return [decode, encode];
}

// ---- strictness probes ------------------------------------------------------------------------

type Verdict = string;

function probe(run: (xml: string) => unknown, xml: string, look?: RegExp): Verdict {
  try {
    const out = JSON.stringify(run(xml));
    if (look !== undefined && look.test(out)) return 'accepted, entity EXPANDED';
    return 'accepted';
  } catch (err) {
    const m = err instanceof Error ? err.message : String(err);
    return `refused (${m.split('\n')[0]?.slice(0, 60)})`;
  }
}

function strictness(poll: string, jaxb: string): void {
  const body = poll.slice(poll.indexOf('<oadr:oadrPayload'));
  const cases: [string, string, RegExp?][] = [
    ['DOCTYPE with internal entity used in text', `<!DOCTYPE x [<!ENTITY e "EXPANDED-TEXT">]>${body.replace('<ei:venID>', '<ei:venID>&e;')}`, /EXPANDED-TEXT/],
    ['nested entities (billion laughs, 10^3)', `<!DOCTYPE x [<!ENTITY a "EXPANDED"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${body.replace('<ei:venID>', '<ei:venID>&c;')}`, /EXPANDED/],
    ['external entity (XXE)', `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>${body.replace('<ei:venID>', '<ei:venID>&e;')}`],
    ['undeclared prefix', body.replace(/ xmlns:ei="[^"]*"/, '')],
    ['end tag mismatch', body.replace('</ei:venID>', '</ei:venId>')],
    ['undefined entity &foo;', body.replace('<ei:venID>', '<ei:venID>&foo;')],
    ['DOCTYPE without entities', `<!DOCTYPE oadrPayload SYSTEM "oadr.dtd">${body}`],
  ];
  const ours = (x: string): unknown => decodeOadr(x);
  console.log('codec strictness (ours | fast-xml-parser + XMLValidator | xml2js):');
  for (const [what, xml, look] of cases) {
    console.log(`  ${what}: ${probe(ours, xml, look)} | ${probe(fxpDecode, xml, look)} | ${probe(x2jDecode, xml, look)}`);
  }
  // Namespaces: the same message with JAXB's ns7:/ns2: prefixes gives other keys in the generic trees.
  const fxpKeys = Object.keys(fxpParser.parse(jaxb) as object).filter((k) => !k.startsWith('?'));
  const x2jKeys = Object.keys(x2jDecode(jaxb) as object);
  console.log(`  JAXB prefixes (ns7:oadrPayload): ours decodes by URI | fast-xml-parser root key ${JSON.stringify(fxpKeys)} | xml2js root key ${JSON.stringify(x2jKeys)}`);
}

// ---- main -------------------------------------------------------------------------------------

function main(): void {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).sort();
  const corpus = files.map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
  const de48 = encodeOadr(decodeOadr(readFileSync(join(FIXTURES, 'oadrDistributeEvent-load-dispatch-48.xml'), 'utf8')));
  const kb = (s: string): string => `${(Buffer.byteLength(s) / 1000).toFixed(1)} KB`;
  const corpusBytes = corpus.reduce((n, x) => n + Buffer.byteLength(x), 0);
  console.log(`codec machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`);
  const rows = [
    ...bench({ label: `distributeEvent-48 (${kb(de48)}, as our encoder writes it)`, xml: [de48] }),
    ...bench({ label: `corpus (${corpus.length} files, ${(corpusBytes / corpus.length / 1000).toFixed(1)} KB average)`, xml: corpus }),
  ];
  const headline = rows[0]?.ours ?? { wall: 0, cpu: 0 };
  const verdict = (n: number): string => (n >= TARGET ? 'met' : 'MISSED');
  console.log(`codec target ≥ ${fmt(TARGET)} decodes/s of the 48-interval oadrDistributeEvent: wall clock ${fmt(headline.wall)} (${verdict(headline.wall)}), per CPU-second ${fmt(headline.cpu)} (${verdict(headline.cpu)})`);
  console.log(`codec load average during the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  strictness(readFileSync(join(FIXTURES, 'oadrPoll.xml'), 'utf8'), readFileSync(join(FIXTURES, 'foreign-jaxb-oadrUpdateReport.xml'), 'utf8'));
  console.log(`codec peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  const corpusDecode = rows[2];
  const same = (r: Row) => [
    { source: 'xml2js 0.6.2, generic tree, same run', value: r.x2j.wall },
    { source: 'fast-xml-parser 5.12.1 + validator, same run', value: r.fxp.wall },
  ];
  reportFigures([
    {
      id: 'codec.decode-event-48',
      label: 'OpenADR decode of an oadrDistributeEvent with 48 intervals, one core',
      value: headline.wall,
      unit: 'msg/s',
      better: 'higher',
      detail: `${fmt(headline.cpu)} per CPU-second`,
      target: TARGET,
      seeds: rows[0] ? same(rows[0]) : [],
    },
    ...(corpusDecode ? [{ id: 'codec.decode-corpus', label: `OpenADR decode of the message corpus (${corpus.length} messages)`, value: corpusDecode.ours.wall, unit: 'msg/s', better: 'higher' as const, detail: `${fmt(corpusDecode.ours.cpu)} per CPU-second`, seeds: same(corpusDecode) }] : []),
  ]);
}

main();
