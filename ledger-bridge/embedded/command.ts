/**
 * `oadr-ledger ledger …`: inspection of an embedded ledger's data directory, also while the VTN runs.
 *
 *   ledger verify --data-dir DIR [--no-signatures] [--json]   re-check the chain and the world state
 *   ledger blocks --data-dir DIR [--from N] [--limit N] [--json]   list blocks
 *
 * DIR is the VTN's data directory (the ledger is DIR/ledger), as for `oadr-ledger vtn`; a ledger
 * directory itself (one holding ledger.sqlite) is accepted too. Exit codes (README): 0 ok or help,
 * 1 verification failed or the store cannot be read, 2 usage error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { LedgerError } from '../errors.ts';
import { STORE_FILE } from './store.ts';
import { listBlocks, verifyLedger } from './verify.ts';

/** The embedded ledger's folder inside a VTN data directory. */
export const LEDGER_SUBDIR = 'ledger';

/**
 * The ledger directory a `--data-dir DIR` names: DIR/ledger (DIR is a VTN data directory, or a new
 * one), or DIR itself when DIR holds a ledger store and DIR/ledger none (a ledger directory given
 * directly). `direct` says which.
 */
export function ledgerDirOf(dataDir: string): { readonly dir: string; readonly direct: boolean } {
  const nested = join(dataDir, LEDGER_SUBDIR);
  if (!existsSync(join(nested, STORE_FILE)) && existsSync(join(dataDir, STORE_FILE))) return { dir: dataDir, direct: true };
  return { dir: nested, direct: false };
}

const DATA_DIR_HELP = `  --data-dir DIR   the VTN's data directory, as given to 'oadr-ledger vtn' (the ledger is DIR/ledger);
                   a ledger directory itself (holding ledger.sqlite) is accepted too`;

const VERIFY_USAGE = `Usage: oadr-ledger ledger verify --data-dir DIR [--no-signatures] [--json]

  Re-check every block (hash chain, data hashes, validation codes, signatures) and the world state,
  key history and transaction index against the chain; every difference is reported with its block.

${DATA_DIR_HELP}
  --no-signatures  skip the ECDSA check of every signature
  --json           the report as JSON

Works while the VTN runs: it reads a snapshot of the blocks committed when it starts.
Exit codes: 0 verified, 1 not verified or unreadable store, 2 usage error.
`;

const BLOCKS_USAGE = `Usage: oadr-ledger ledger blocks --data-dir DIR [--from N] [--limit N] [--json]

  List blocks: number, hash, previous hash, data hash, transactions with their validation codes.

${DATA_DIR_HELP}
  --from N         first block (default 0)
  --limit N        at most N blocks (default 100)
  --json           as JSON

Works while the VTN runs. Exit codes: 0 ok, 1 unreadable store, 2 usage error.
`;

export const LEDGER_USAGE = `Usage: oadr-ledger ledger <verify|blocks|serve> --data-dir DIR [options]

  verify --data-dir DIR [--no-signatures] [--json]
      Re-check every block (hash chain, data hashes, validation codes, signatures) and the world state,
      key history and transaction index against the chain; every difference is reported with its block.
  blocks --data-dir DIR [--from N] [--limit N] [--json]
      List blocks: number, hash, previous hash, data hash, transactions with their validation codes.
  serve --data-dir DIR [--host H] [--port N] [--tls-cert FILE --tls-key FILE] [--plaintext]
      Serve the ledger to Fabric clients over the Fabric Gateway gRPC API (the VTN stopped).

DIR is the VTN's data directory, as given to 'oadr-ledger vtn' (the ledger is DIR/ledger); a ledger
directory itself (holding ledger.sqlite) is accepted too. verify and blocks work while the VTN runs.
'oadr-ledger ledger <verify|blocks|serve> --help' for the options of one.
Exit codes: 0 ok or help, 1 verification failed or unreadable store, 2 usage error.
`;

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

const SUB_USAGE: Readonly<Record<string, string>> = { verify: VERIFY_USAGE, blocks: BLOCKS_USAGE };

export async function runLedgerCommand(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(LEDGER_USAGE);
    return 0;
  }
  const usage = SUB_USAGE[sub];
  if (usage === undefined) {
    io.stderr(`oadr-ledger ledger: unknown subcommand '${sub}'\n\n${LEDGER_USAGE}`);
    return 2;
  }
  const own: ParseArgsOptionsConfig = sub === 'verify' ? { 'no-signatures': { type: 'boolean' } } : { from: { type: 'string' }, limit: { type: 'string' } };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: { help: { type: 'boolean', short: 'h' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' }, ...own },
      strict: true,
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    io.stderr(`oadr-ledger ledger ${sub}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(usage);
    return 0;
  }
  const dataDir = values['data-dir'];
  if (typeof dataDir !== 'string' || dataDir === '') {
    io.stderr(`oadr-ledger ledger ${sub}: --data-dir DIR is required\n\n${usage}`);
    return 2;
  }
  const count = (name: string, fallback: number): number | undefined => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const from = count('from', 0);
  const limit = count('limit', 100);
  if (from === undefined || limit === undefined) {
    io.stderr(`oadr-ledger ledger blocks: --from and --limit take a non-negative integer\n\n${usage}`);
    return 2;
  }
  const ledger = ledgerDirOf(dataDir);
  if (ledger.direct) io.stderr(`oadr-ledger ledger ${sub}: ${dataDir} is a ledger directory itself; reading it (the VTN's data directory, of which it is the ledger/ folder, works too)\n`);
  try {
    if (sub === 'verify') {
      const report = await verifyLedger(ledger.dir, { signatures: values['no-signatures'] !== true });
      if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else {
        io.stdout(`${report.blocks} blocks, ${report.transactions} transactions (${report.validTransactions} valid), ${report.stateKeys} state keys\n`);
        for (const p of report.problems) io.stdout(`block ${p.blockNumber}: ${p.message}\n`);
        io.stdout(report.ok ? 'ledger verified: chain and world state agree\n' : `ledger NOT verified: ${report.problems.length} problem(s)\n`);
      }
      return report.ok ? 0 : 1;
    }
    const blocks = listBlocks(ledger.dir, { from, limit });
    if (values.json) io.stdout(`${JSON.stringify(blocks, null, 2)}\n`);
    else {
      for (const b of blocks) {
        const valid = b.transactions.filter((t) => t.validationCode === 'VALID').length;
        io.stdout(`#${b.number}  hash ${b.hash.slice(0, 16)}…  prev ${b.previousHash.slice(0, 16) || '-'.padEnd(16)}…  data ${b.dataHash.slice(0, 16)}…  ${b.transactions.length} tx (${valid} valid)\n`);
        for (const t of b.transactions) io.stdout(`    ${t.txId.slice(0, 16)}…  ${t.validationCode.padEnd(26)} ${t.creatorMspId.padEnd(8)} ${t.fn}\n`);
      }
    }
    return 0;
  } catch (err) {
    const message = err instanceof LedgerError ? err.message : `${(err as Error).message}`;
    io.stderr(`oadr-ledger ledger ${sub}: ${message}\n`);
    return 1;
  }
}
