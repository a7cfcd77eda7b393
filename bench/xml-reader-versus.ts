/**
 * Our XML reader against an earlier version of itself, in the same run: a change to `oadr/xml.ts`
 * must not make it slower, and on a shared machine only an in-run comparison says so.
 *
 *     node bench/xml-reader-versus.ts --against <git revision>     (default HEAD)
 *
 * The earlier `oadr/xml.ts` is taken from git into a temporary file (its import of `./errors.ts`
 * pointed at ours). Two inputs: the 48-interval oadrDistributeEvent of `xml-parse.bench.ts`, and
 * the message corpus `test/fixtures/oadr` (small messages, where the per-parse cost shows). The two
 * readers alternate in 25 ms slices, 300 pairs, the earlier one first in every other pair; each
 * pair gives a ratio of messages per CPU-second, and the median ratio is the figure (a load swing
 * hits both halves of a pair alike; a slice the scheduler starved is an outlier the median drops).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseXml } from '../oadr/xml.ts';
import { buildDistributeEvent } from './xml-parse.bench.ts';

type Parse = (s: string) => unknown;

const root = fileURLToPath(new URL('..', import.meta.url));

async function earlierReader(revision: string): Promise<{ parse: Parse; dir: string }> {
  const source = execFileSync('git', ['-C', root, 'show', `${revision}:oadr/xml.ts`], { encoding: 'utf8' });
  const errors = pathToFileURL(join(root, 'oadr/errors.ts')).href;
  const dir = mkdtempSync(join(tmpdir(), 'xml-versus-'));
  const file = join(dir, 'xml.ts');
  writeFileSync(file, source.replaceAll("'./errors.ts'", `'${errors}'`));
  const mod = (await import(pathToFileURL(file).href)) as { parseXml: Parse };
  return { parse: mod.parseXml, dir };
}

/** Messages per CPU-second of `parse` over `inputs` for about `ms` milliseconds. */
function slice(parse: Parse, inputs: readonly string[], ms: number): number {
  const cpu0 = process.cpuUsage();
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (const x of inputs) parse(x);
    n += inputs.length;
  }
  const used = process.cpuUsage(cpu0);
  return (n * 1e6) / Math.max(1, used.user + used.system);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function compare(name: string, earlier: Parse, ours: Parse, inputs: readonly string[]): void {
  for (let w = 0; w < 6; w++) slice(w & 1 ? ours : earlier, inputs, 150);
  const ratios: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 300; r++) {
    let old: number;
    let now: number;
    if (r & 1) {
      now = slice(ours, inputs, 25);
      old = slice(earlier, inputs, 25);
    } else {
      old = slice(earlier, inputs, 25);
      now = slice(ours, inputs, 25);
    }
    a.push(old);
    b.push(now);
    ratios.push(now / old);
  }
  console.log(
    `xml-reader-versus ${name}: earlier ${median(a).toFixed(0)} msg per CPU-s, ours ${median(b).toFixed(0)}; ` +
      `ours / earlier, median of 300 pairs: ${median(ratios).toFixed(3)}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { against: { type: 'string', default: 'HEAD' } } });
  const { parse: earlier, dir } = await earlierReader(values.against);
  try {
    const fixtures = join(root, 'test/fixtures/oadr');
    const corpus = readdirSync(fixtures)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => readFileSync(join(fixtures, f), 'utf8'));
    console.log(`xml-reader-versus: oadr/xml.ts of ${values.against} against the working tree's`);
    compare('oadrDistributeEvent, 48 intervals', earlier, parseXml, [buildDistributeEvent(48)]);
    compare(`corpus, ${corpus.length} messages`, earlier, parseXml, corpus);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
