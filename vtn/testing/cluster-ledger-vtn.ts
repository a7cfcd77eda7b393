/**
 * Child process of the cluster ledger tests: `oadr-ledger vtn` (runVtnCommand) with the arguments
 * given after the options below, plain HTTP on 127.0.0.1 (port 0), the admin API under /api/v1 with
 * the token in OADR_ADMIN_TOKEN, a one-minute report program, polls every second. Prints
 * `url <URL>` once listening. Its clock is the number of milliseconds in the file CLOCK, read at
 * every call, so the test moves the time of every process of the cluster at once.
 *
 * With MARK, the first process of the cluster that has just handed ledger work to the ledger
 * (`outbox.sent`: the ledger took it, the outbox rows are still there) with the clock at or after
 * CRASH_AFTER creates MARK and SIGKILLs itself; SIGTERM closes a process cleanly.
 *
 *   node vtn/testing/cluster-ledger-vtn.ts CLOCK MARK|- CRASH_AFTER_MS -- VTN_ARGS…
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { runVtnCommand } from '../cli/cli.ts';
import { CRASH_POINTS } from '../services/context.ts';
import { silentLogger } from '../operations/logger.ts';

const [clockFile, mark, crashAfter, dashes, ...args] = process.argv.slice(2);
if (clockFile === undefined || mark === undefined || crashAfter === undefined || dashes !== '--') throw new Error('usage: cluster-ledger-vtn.ts CLOCK MARK|- CRASH_AFTER_MS -- VTN_ARGS…');
const now = (): number => Number(readFileSync(clockFile, 'utf8'));
let stderr = '';
const code = await runVtnCommand(['--insecure-http', '--port', '0', ...args], {
  config: { pollFrequencyMs: 1000, optCoalesceMs: 0, metricsCacheMs: 0, host: '127.0.0.1', programs: [{ id: 'default', reportGranularityMs: 60_000, reportBackDurationMs: 900_000 }] },
  adminToken: process.env.OADR_ADMIN_TOKEN,
  logger: silentLogger,
  stderr: (s) => void (stderr += s),
  now,
  crashPoint: (name) => {
    if (mark === '-' || name !== CRASH_POINTS.outboxSent || now() < Number(crashAfter)) return;
    try {
      closeSync(openSync(mark, 'wx'));
    } catch {
      return; // another process of the cluster crashed already
    }
    process.kill(process.pid, 'SIGKILL');
  },
  onListening: (_vtn, url) => void process.stdout.write(`url ${url}\n`),
});
if (code !== 0) process.stderr.write(stderr);
process.exit(code);
