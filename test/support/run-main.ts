/**
 * Runs `main` of the `oadr-ledger` command once per argument list given as JSON in argv[2], in this
 * one process, and prints `[{ code, stdout, stderr }]` as JSON: a table of command lines checked
 * without starting a process per row. Nothing in the commands it runs may start a server.
 */
import { main } from '../../cli/main.ts';

const rows = JSON.parse(process.argv[2] ?? '[]') as string[][];
const results: { args: string[]; code: number; stdout: string; stderr: string }[] = [];
const out = process.stdout.write.bind(process.stdout);
const err = process.stderr.write.bind(process.stderr);
for (const args of rows) {
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  results.push({ args, code, stdout, stderr });
}
out(JSON.stringify(results));
