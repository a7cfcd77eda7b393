/**
 * The outbox of ledger work around the events' catch-up: a catch-up that fails does not hold back
 * the acknowledged work, and it is tried again with the backoff although the drain succeeded.
 */
import { test } from 'node:test';
import { until } from '../../test/support/until.ts';
import { VtnError } from '../errors.ts';
import { LEDGER_WORK_TELEMETRY } from '../services/report-service.ts';
import { createSqliteStore } from '../store/sqlite-store.ts';
import { createLedgerOutbox } from './outbox.ts';
import type { LedgerPort, TelemetryPoint } from './port.ts';

const reading: TelemetryPoint = { venId: 'ven-1', customerId: 'c1', rId: 'power', startMs: 0, durationMs: 60_000, value: 1, unit: 'W' };

test('outbox: a catch-up that cannot reach the ledger while the drain succeeds is tried again after the backoff, without another report', async (t) => {
  const store = createSqliteStore({ dataDir: ':memory:' });
  const recorded: TelemetryPoint[][] = [];
  const ledger: LedgerPort = {
    notifyEvent: async () => new Map(),
    recordOpt: async () => {},
    recordTelemetry: async (points) => void recorded.push([...points]),
  };
  let catchUps = 0;
  const outbox = createLedgerOutbox({
    store,
    ledger,
    minBackoffMs: 10,
    maxBackoffMs: 20,
    catchUp: async () => {
      catchUps++;
      if (catchUps === 1) throw new VtnError('LEDGER_UNAVAILABLE', 'the ledger did not take event ev-1: no answer in time');
    },
  });
  t.after(async () => {
    await outbox.stop();
    store.close();
  });
  store.putLedgerWork('k1', LEDGER_WORK_TELEMETRY, reading, 0);

  await outbox.drain();
  t.assert.equal(catchUps, 1);
  t.assert.equal(outbox.depth(), 0, 'the acknowledged work went although the catch-up failed');
  t.assert.deepEqual(recorded.flat(), [reading]);
  // No report arrives and nobody kicks the outbox: the backoff brings the catch-up back.
  await until('the catch-up tried again', () => catchUps === 2);
});
