/**
 * The worker thread of `verifyLedgerInWorker` (verify.ts): runs `verifyLedger` on the data
 * directory it is given and posts the report, or the error's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyLedger, type VerifyOptions } from './verify.ts';

const { dataDir, options } = workerData as { dataDir: string; options: VerifyOptions };
verifyLedger(dataDir, options).then(
  (report) => parentPort?.postMessage({ report }),
  (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
