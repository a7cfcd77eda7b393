/**
 * `oadr-ledger vtn --iec104-port N`: the VTN command starts the IEC 104 bridge from its flag (off
 * without it), a controlling station starts data transfer and interrogates it, and a bad iec104
 * setting is a configuration error (exit 2).
 */
import { test } from 'node:test';
import { startUvamBridge } from '../iec104/index.ts';
import { connectControllingStation } from '../iec104/testing/controlling-station.ts';
import { configFromEnv, VTN_ENV_SETTINGS } from '../cli/env-config.ts';
import { resolveVtnConfig, runVtnCommand, silentLogger } from '../vtn/index.ts';
import { until } from './support/until.ts';

test('oadr-ledger vtn --iec104-port serves a controlling station; without the flag no bridge starts', async (t) => {
  let stop = (): void => {};
  const stopSignal = new Promise<void>((r) => (stop = r));
  let err = '';
  const done = runVtnCommand(['--insecure-http', '--no-ledger', '--data-dir', ':memory:', '--port', '0', '--iec104-port', '0', '--iec104-host', '127.0.0.1'], {
    logger: silentLogger,
    stopSignal,
    stderr: (s) => (err += s),
    bridges: [startUvamBridge],
  });
  t.after(() => stop());
  await until('the bridge listening', () => /IEC 60870-5-104 controlled station listening on 127\.0\.0\.1:\d+/.test(err), 20_000);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
  const cs = await connectControllingStation({ port });
  await cs.startDt();
  const gi = await cs.interrogate();
  t.assert.deepEqual(gi.map((r) => [r.typeId, r.cause, r.ioa]), [[100, 7, 0], [13, 20, 1001], [100, 10, 0]]);
  // Without the ledger a set-point is refused: act-con with P/N.
  const sp = await cs.setpoint({ ioa: 5000, value: 1 });
  t.assert.deepEqual([sp.cause, sp.negative], [7, true]);
  cs.close();
  stop();
  t.assert.equal(await done, 0);

  let quiet = '';
  let stopQuiet = (): void => {};
  const off = runVtnCommand(['--insecure-http', '--no-ledger', '--data-dir', ':memory:', '--port', '0'], { logger: silentLogger, stopSignal: new Promise((r) => (stopQuiet = r)), stderr: (s) => (quiet += s), bridges: [startUvamBridge] });
  await until('the VTN listening', () => quiet.includes('http://127.0.0.1:'), 20_000);
  stopQuiet();
  t.assert.equal(await off, 0);
  t.assert.equal(quiet.includes('IEC 60870-5-104'), false);
});

test('a bad iec104 setting is a configuration error (exit 2) that names the key', async (t) => {
  let err = '';
  const code = await runVtnCommand(['--insecure-http', '--no-ledger', '--data-dir', ':memory:', '--port', '0', '--iec104-port', '70000'], { logger: silentLogger, stderr: (s) => (err += s), bridges: [startUvamBridge] });
  t.assert.equal(code, 2);
  t.assert.match(err, /--iec104-port must be a port number/);
});

test('OADR_IEC104_* set the iec104 section', (t) => {
  const env = configFromEnv({ OADR_IEC104_PORT: '2404', OADR_IEC104_ALLOW: '10.0.0.5, 10.0.0.6', OADR_IEC104_COMMON_ADDRESS: '7', OADR_IEC104_UNIT: 'MW', OADR_IEC104_SELECT_REQUIRED: 'true' }, VTN_ENV_SETTINGS);
  const c = resolveVtnConfig(env).iec104;
  t.assert.deepEqual([c.port, c.allow, c.commonAddress, c.unit, c.selectRequired], [2404, ['10.0.0.5', '10.0.0.6'], 7, 'MW', true]);
});
