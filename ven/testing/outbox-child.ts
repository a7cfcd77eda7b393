/**
 * A VEN process for the outbox crash test (ven/outbox.test.ts): a real `createVen` with an
 * in-memory device, a fast clock (one VEN minute every `msPerMinute` real ms, continuous across
 * restarts) and the data directory given on the command line. Runs until it is killed.
 *
 *   node ven/testing/outbox-child.ts VTN_URL DATA_DIR T_BASE_MS EPOCH_REAL_MS MS_PER_MINUTE
 */
import { createVen } from '../ven.ts';
import { createMemoryDevice } from './memory-device.ts';

const [vtnUrl, dataDir, tBase, epoch, msPerMinute] = process.argv.slice(2);
if (vtnUrl === undefined || dataDir === undefined || tBase === undefined || epoch === undefined || msPerMinute === undefined) {
  process.stderr.write('usage: outbox-child.ts VTN_URL DATA_DIR T_BASE_MS EPOCH_REAL_MS MS_PER_MINUTE\n');
  process.exit(2);
}
const speed = 60_000 / Number(msPerMinute);
const clock = (): number => Number(tBase) + Math.floor((Date.now() - Number(epoch)) * speed);
let n = 0;
const ven = await createVen({
  vtnUrl,
  venName: 'crash-ven',
  device: createMemoryDevice(undefined, 1000),
  dataDir,
  clock,
  tickMs: Math.max(5, Math.floor(Number(msPerMinute) / 3)),
  pollIntervalMs: 3_600_000,
  backoff: { initialMs: 10, capMs: 50 },
  maxIntervalsPerUpdate: 4,
  random: () => ((n = (n * 1103515245 + 12345) % 2147483648) / 2147483648),
});
await ven.start();
setInterval(() => undefined, 1 << 30);
