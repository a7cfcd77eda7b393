/**
 * `oadr-ledger vtn --store postgres://…`: a VTN on PostgreSQL runs without the embedded ledger
 * (refused, exit 2, pointing to `ledger serve` and `--ledger fabric`: test/cluster-ledger.test.ts
 * runs that), and with `--no-ledger` serves from the database the URL names.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startTestPostgres } from '../../storage/testing/postgres.ts';
import { createPostgresStore } from '../store/postgres-store.ts';
import { listeningLogger, registerVen } from '../testing/fake-ven.ts';
import { runVtnCommand } from './cli.ts';

const pg = await startTestPostgres();
after(() => pg.stop());

test('oadr-ledger vtn --store postgres://…: refused with the embedded ledger (exit 2, naming ledger serve, --ledger fabric and --no-ledger); with --no-ledger it serves from the database', async () => {
  const store = pg.createDatabase();
  let err = '';
  assert.equal(await runVtnCommand(['--store', store, '--insecure-http', '--data-dir', ':memory:', '--port', '0'], { stderr: (s) => void (err += s), stopSignal: Promise.resolve() }), 2);
  assert.match(err, /cannot use the embedded ledger.*'oadr-ledger ledger serve'.*--ledger fabric.*--no-ledger/);
  assert.equal(await runVtnCommand(['--store', 'mysql://db/x', '--insecure-http', '--no-ledger'], { stderr: () => {} }), 2);

  let stop = (): void => {};
  const stopSignal = new Promise<void>((r) => (stop = r));
  const { logger, listening: started } = listeningLogger();
  const done = runVtnCommand(['--store', store, '--no-ledger', '--insecure-http', '--data-dir', ':memory:', '--port', '0'], { logger, stopSignal, stderr: () => {}, config: { registrationPolicy: 'open' } });
  const url = await started;
  const { venId } = await registerVen(url, 'house-1');
  const s = createPostgresStore({ url: store });
  try {
    assert.equal(s.getRegistration(venId)?.customerId, 'house-1', 'the registration is in the database');
  } finally {
    s.close();
  }
  stop();
  assert.equal(await done, 0);
});
