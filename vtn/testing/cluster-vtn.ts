/**
 * Child process of the cluster tests: one VTN process of a cluster on a PostgreSQL store, without
 * a ledger, plain HTTP on 127.0.0.1 (port 0), registration policy `open`, the admin API under
 * /api/v1 with the token in OADR_ADMIN_TOKEN. Prints `url <URL>` once listening.
 *
 * With a MARK path, the first process of the cluster whose report ingestion reaches
 * `report.stored` (the intervals committed, the VEN not answered yet) creates MARK and SIGKILLs
 * itself, as a power cut would stop it mid-request; SIGTERM closes a process cleanly.
 *
 *   node vtn/testing/cluster-vtn.ts STORE_URL [MARK]
 */
import { closeSync, openSync } from 'node:fs';
import { CRASH_POINTS } from '../services/context.ts';
import { createVtn } from '../vtn.ts';

const [store, mark] = process.argv.slice(2);
if (store === undefined) throw new Error('usage: cluster-vtn.ts STORE_URL [MARK]');
const fail = (err: unknown) => {
  process.stderr.write(`cluster-vtn: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
};
process.on('uncaughtException', fail);
const vtn = createVtn({
  config: {
    store,
    dataDir: ':memory:',
    registrationPolicy: 'open',
    pollFrequencyMs: 1000,
    metricsCacheMs: 0,
    optCoalesceMs: 0,
    programs: [{ id: 'lab', reportGranularityMs: 10_000, reportBackDurationMs: 900_000 }],
  },
  adminToken: process.env.OADR_ADMIN_TOKEN,
  crashPoint: (name) => {
    if (mark === undefined || name !== CRASH_POINTS.reportStored) return;
    try {
      closeSync(openSync(mark, 'wx'));
    } catch {
      return; // another process of the cluster crashed already
    }
    process.kill(process.pid, 'SIGKILL');
  },
});
const url = await vtn.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`url ${url}\n`);
process.on('SIGTERM', () => {
  void vtn.close().then(() => process.exit(0), fail);
});
