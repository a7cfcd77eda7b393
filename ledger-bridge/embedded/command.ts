/**
 * `oadr-ledger ledger …`: offline inspection of an embedded ledger's data directory.
 *
 *   ledger verify --data-dir DIR [--no-signatures] [--json]   re-check the chain and the world state
 *   ledger blocks --data-dir DIR [--from N] [--limit N] [--json]   list blocks
 *
 * Exit codes: 0 ok, 1 verification failed or the store cannot be read, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { LedgerError } from '../errors.ts';
import { listBlocks, verifyLedger } from './verify.ts';

export const LEDGER_USAGE = `Usage: oadr-ledger ledger <verify|blocks> --data-dir DIR [options]

  verify --data-dir DIR [--no-signatures] [--json]
      Re-check every block (hash chain, data hashes, validation codes, signatures) and the world state,
      key history and transaction index against the chain; every difference is reported with its block.
  blocks --data-dir DIR [--from N] [--limit N] [--json]
      List blocks: number, hash, previous hash, data hash, transactions with their validation codes.

Stop the ledger first: a running ledger holds its data directory.
Exit codes: 0 ok, 1 verification failed or unreadable store, 2 usage error.
`;

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export async function runLedgerCommand(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(LEDGER_USAGE);
    return sub === undefined ? 2 : 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        'data-dir': { type: 'string' },
        from: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        'no-signatures': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    io.stderr(`oadr-ledger ledger: ${(err as Error).message}\n\n${LEDGER_USAGE}`);
    return 2;
  }
  const dataDir = values['data-dir'];
  if (typeof dataDir !== 'string' || dataDir === '') {
    io.stderr(`oadr-ledger ledger ${sub}: --data-dir DIR is required\n\n${LEDGER_USAGE}`);
    return 2;
  }
  const count = (name: string, fallback: number): number | undefined => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  try {
    if (sub === 'verify') {
      const report = await verifyLedger(dataDir, { signatures: values['no-signatures'] !== true });
      if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else {
        io.stdout(`${report.blocks} blocks, ${report.transactions} transactions (${report.validTransactions} valid), ${report.stateKeys} state keys\n`);
        for (const p of report.problems) io.stdout(`block ${p.blockNumber}: ${p.message}\n`);
        io.stdout(report.ok ? 'ledger verified: chain and world state agree\n' : `ledger NOT verified: ${report.problems.length} problem(s)\n`);
      }
      return report.ok ? 0 : 1;
    }
    if (sub === 'blocks') {
      const from = count('from', 0);
      const limit = count('limit', 100);
      if (from === undefined || limit === undefined) {
        io.stderr(`oadr-ledger ledger blocks: --from and --limit take a non-negative integer\n`);
        return 2;
      }
      const blocks = listBlocks(dataDir, { from, limit });
      if (values.json) io.stdout(`${JSON.stringify(blocks, null, 2)}\n`);
      else {
        for (const b of blocks) {
          const valid = b.transactions.filter((t) => t.validationCode === 'VALID').length;
          io.stdout(`#${b.number}  hash ${b.hash.slice(0, 16)}…  prev ${b.previousHash.slice(0, 16) || '-'.padEnd(16)}…  data ${b.dataHash.slice(0, 16)}…  ${b.transactions.length} tx (${valid} valid)\n`);
          for (const t of b.transactions) io.stdout(`    ${t.txId.slice(0, 16)}…  ${t.validationCode.padEnd(26)} ${t.creatorMspId.padEnd(8)} ${t.fn}\n`);
        }
      }
      return 0;
    }
  } catch (err) {
    const message = err instanceof LedgerError ? err.message : `${(err as Error).message}`;
    io.stderr(`oadr-ledger ledger ${sub}: ${message}\n`);
    return 1;
  }
  io.stderr(`oadr-ledger ledger: unknown subcommand '${sub}'\n\n${LEDGER_USAGE}`);
  return 2;
}
