/**
 * The exit-code convention of every command (README, "Exit codes"): --help prints the command's
 * usage on standard output and exits 0; a bare command that has subcommands is help too; an unknown
 * option is a usage error: exit 2, the option named on standard error, nothing on standard output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../cli/oadr-ledger.js', import.meta.url));
const TABLE = fileURLToPath(new URL('./support/run-main.ts', import.meta.url));

interface Row {
  readonly command: readonly string[];
  /** What the first line of its help starts with. */
  readonly usage: string;
}

const COMMANDS: readonly Row[] = [
  { command: [], usage: 'Usage: oadr-ledger <command>' },
  { command: ['oadr'], usage: 'Usage: oadr-ledger oadr <decode|encode|validate>' },
  { command: ['oadr', 'decode'], usage: 'Usage: oadr-ledger oadr <decode|encode|validate>' },
  { command: ['oadr', 'validate'], usage: 'Usage: oadr-ledger oadr <decode|encode|validate>' },
  { command: ['start'], usage: 'Usage: oadr-ledger start ' },
  { command: ['vtn'], usage: 'Usage: oadr-ledger vtn ' },
  { command: ['ven'], usage: 'Usage: oadr-ledger ven ' },
  { command: ['ledger'], usage: 'Usage: oadr-ledger ledger <verify|blocks|serve>' },
  { command: ['ledger', 'verify'], usage: 'Usage: oadr-ledger ledger verify ' },
  { command: ['ledger', 'blocks'], usage: 'Usage: oadr-ledger ledger blocks ' },
  { command: ['ledger', 'serve'], usage: 'Usage: oadr-ledger ledger serve ' },
  { command: ['certs'], usage: 'Usage: oadr-ledger certs <init|issue|fingerprint>' },
  { command: ['certs', 'init'], usage: 'Usage: oadr-ledger certs <init|issue|fingerprint>' },
  { command: ['certs', 'issue'], usage: 'Usage: oadr-ledger certs <init|issue|fingerprint>' },
  { command: ['conformance'], usage: 'Usage: oadr-ledger conformance <vtn|ven>' },
  { command: ['conformance', 'vtn'], usage: 'Usage: oadr-ledger conformance <vtn|ven>' },
  { command: ['conformance', 'ven'], usage: 'Usage: oadr-ledger conformance <vtn|ven>' },
];

const BARE_IS_HELP: readonly (readonly string[])[] = [[], ['oadr'], ['ledger'], ['certs'], ['conformance']];

function table(rows: readonly (readonly string[])[]): { args: string[]; code: number; stdout: string; stderr: string }[] {
  const r = spawnSync(process.execPath, [TABLE, JSON.stringify(rows)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { args: string[]; code: number; stdout: string; stderr: string }[];
}

test('every command: --help prints its usage and exits 0; an unknown option exits 2 naming it; a bare command with subcommands is help', () => {
  const rows = [...COMMANDS.map((c) => [...c.command, '--help']), ...COMMANDS.map((c) => [...c.command, '--bogus-option']), ...BARE_IS_HELP];
  const results = table(rows);
  const [help, bad, bare] = [results.slice(0, COMMANDS.length), results.slice(COMMANDS.length, 2 * COMMANDS.length), results.slice(2 * COMMANDS.length)];
  COMMANDS.forEach((c, i) => {
    const name = `oadr-ledger ${c.command.join(' ')}`;
    const h = help[i];
    const b = bad[i];
    assert.ok(h !== undefined && b !== undefined);
    assert.equal(h.code, 0, `${name} --help exits 0 (stderr: ${h.stderr})`);
    assert.ok(h.stdout.startsWith(c.usage), `${name} --help prints its usage on stdout, got: ${h.stdout.slice(0, 120)}`);
    assert.equal(h.stderr, '', `${name} --help writes nothing on stderr`);
    assert.equal(b.code, 2, `${name} --bogus-option exits 2`);
    assert.match(b.stderr, /--bogus-option/, `${name} --bogus-option names the option`);
    assert.equal(b.stdout, '', `${name} --bogus-option writes nothing on stdout`);
  });
  for (const r of bare ?? []) {
    assert.equal(r.code, 0, `bare oadr-ledger ${r.args.join(' ')} exits 0`);
    assert.match(r.stdout, /^Usage: /, `bare oadr-ledger ${r.args.join(' ')} prints its help`);
  }
  const ledger = help[COMMANDS.findIndex((c) => c.command.join(' ') === 'ledger')];
  assert.match(ledger?.stdout ?? '', /^ {2}serve --data-dir DIR/m, 'ledger --help lists serve');
});

test('the process exits with the code main returns: bare oadr-ledger 0, ledger verify --help 0, an unknown command 2', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  const bare = run([]);
  assert.equal(bare.status, 0);
  assert.match(bare.stdout, /^Usage: oadr-ledger <command>/);
  assert.match(bare.stdout, /Exit codes: 0 done or help, 1 failed .*, 2 usage or configuration error/);
  assert.equal(run(['ledger', 'verify', '--help']).status, 0);
  assert.equal(run(['frobnicate']).status, 2);
});
