/**
 * Child process of the VTN crash tests: the VTN as `oadr-ledger vtn` assembles it — its store and
 * the embedded ledger in DATA_DIR, the mapping port, plain HTTP on 127.0.0.1 — with registration
 * policy `open`. Prints `url <URL>` once listening. At the named crash point (`CRASH_POINTS`,
 * `none` for no crash) it SIGKILLs itself, as a power cut would stop it; SIGTERM closes it cleanly.
 *
 *   node vtn/testing/crash-vtn.ts DATA_DIR CRASH_POINT
 */
import { openVtnLedger } from '../ledger/embedded.ts';
import { createMappingLedgerPort } from '../ledger/mapping-port.ts';
import { createVtn } from '../vtn.ts';

const [dataDir, crashAt] = process.argv.slice(2);
if (!dataDir || !crashAt) throw new Error('usage: crash-vtn.ts DATA_DIR CRASH_POINT');
const fail = (err: unknown) => {
  process.stderr.write(`crash-vtn: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
};
process.on('uncaughtException', fail);
const ledger = await openVtnLedger({ dataDir });
const port = createMappingLedgerPort({ mapping: ledger.mapping, ledger: ledger.ledger, store: ledger.store });
const vtn = createVtn({
  config: { dataDir, registrationPolicy: 'open', programs: [{ id: 'lab', reportGranularityMs: 10_000, reportBackDurationMs: 900_000 }] },
  ledger: port,
  crashPoint: (name) => {
    if (name === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
const url = await vtn.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`url ${url}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    await vtn.close();
    await ledger.close();
    process.exit(0);
  })().catch(fail);
});
