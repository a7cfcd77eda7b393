/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own Node process, one after the other
 * (so each one's memory figures are its own), and prints what each prints. A benchmark prints
 * its figure with the seed's figure beside it; `docs/benchmarks.md` records the latest run.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- codec xml    only those whose file name contains one of the words
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# oadr-ledger benchmarks — ${new Date().toISOString()}`);
console.log(`# machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`);
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}`);
  const r = spawnSync(process.execPath, [`${dir}${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
