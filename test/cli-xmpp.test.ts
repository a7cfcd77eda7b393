/**
 * `oadr-ledger vtn --xmpp-url … --xmpp-jid …` and `oadr-ledger ven --transport xmpp --xmpp-url …
 * --ven-jid …` against each other through a real Prosody (SCRAM accounts, development set-up): the
 * VEN registers over XMPP with its full JID; the VTN's XMPP settings come from flags merged over
 * an `OADR_*`-style configuration and a config file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configFromEnv, VTN_ENV_SETTINGS } from '../cli/env-config.ts';
import { RegistrationStatus, runVenCommand } from '../ven/index.ts';
import type { Ven } from '../ven/index.ts';
import { resolveVtnConfig, runVtnCommand } from '../vtn/index.ts';
import { recordingLogger } from '../vtn/testing/fake-ven.ts';
import { createXmppTestPki, startProsody } from '../xmpp/testing/prosody.ts';
import { until } from './support/until.ts';

const quiet = { info() {}, warn() {}, debug() {} };

test('R507 CLI: the VTN and the VEN over XMPP from flags, OADR_XMPP_* and the config file', async (t) => {
  const pki = await createXmppTestPki();
  const prosody = await startProsody({ auth: 'password', pki });
  t.after(() => prosody.stop());
  await prosody.register('vtn', 'vtn-secret');
  await prosody.register('house-cli', 'ven-secret');
  const dir = mkdtempSync(join(tmpdir(), 'oadr-cli-xmpp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, pki.caPem);

  // OADR_XMPP_RESOURCE and OADR_XMPP_CA from the environment, the JID from the config file, the URL as a flag.
  const env = configFromEnv({ OADR_XMPP_RESOURCE: 'vtn-main', OADR_XMPP_CA: ca, OADR_REGISTRATION_POLICY: 'open' }, VTN_ENV_SETTINGS);
  const file = join(dir, 'vtn.json');
  writeFileSync(file, JSON.stringify({ xmpp: { jid: 'vtn@localhost', resource: 'overridden-by-env' } }));
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  const log = recordingLogger();
  const done = runVtnCommand(['--config', file, '--insecure-http', '--no-ledger', '--data-dir', ':memory:', '--port', '0', '--xmpp-url', prosody.url], {
    config: env,
    logger: log,
    stopSignal,
    stderr: () => {},
    xmppPassword: 'vtn-secret',
  });
  await until('the VTN online over XMPP', () => log.records.some((r) => r.msg === 'XMPP connection online'), 20_000);
  t.assert.equal(log.records.find((r) => r.msg === 'XMPP connection online')?.['jid'], 'vtn@localhost/vtn-main');

  let started: Ven | undefined;
  const ac = new AbortController();
  let out = '';
  const venRun = runVenCommand(
    ['--transport', 'xmpp', '--xmpp-url', prosody.url, '--ven-jid', 'house-cli@localhost', '--vtn-jid', 'vtn@localhost/vtn-main', '--ven-name', 'house-cli', '--ca', ca, '--data-dir', join(dir, 'ven')],
    { signal: ac.signal, stdout: (s) => (out += s), log: quiet, xmppPassword: 'ven-secret', onStarted: (v) => (started = v) },
  );
  await until('the VEN registered over XMPP', () => started?.session.status() === RegistrationStatus.OPERATIONAL, 20_000);
  t.assert.match(out, /VEN house-cli started against xmpp:\/\/127\.0\.0\.1:\d+ \(XMPP as house-cli@localhost\/ven\)/);
  t.assert.equal(started?.status().registration?.venId !== undefined, true);
  ac.abort();
  t.assert.equal(await venRun, 0);
  stop();
  t.assert.equal(await done, 0);
});

test('CLI: the XMPP settings are checked once, with what to give', async () => {
  assert.throws(() => resolveVtnConfig({ xmpp: { url: 'http://x' } }), /xmpp\.url must be xmpp:\/\/host\[:port\]/);
  assert.throws(() => resolveVtnConfig({ xmpp: { url: 'xmpp://x' } }), /xmpp\.jid is required with xmpp\.url/);
  assert.throws(() => resolveVtnConfig({ xmpp: { url: 'xmpp://x', jid: 'vtn@x', cert: 'c.pem' } }), /xmpp\.cert and xmpp\.key go together/);
  let err = '';
  assert.equal(await runVenCommand(['--transport', 'xmpp', '--ven-name', 'x'], { stderr: (s) => (err += s) }), 2);
  assert.match(err, /--transport xmpp needs --xmpp-url, --ven-jid and --ven-name/);
  err = '';
  assert.equal(await runVenCommand(['--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--ven-jid', 'v@localhost', '--ven-name', 'x'], { stderr: (s) => (err += s), log: quiet }), 2, 'a configuration error (README: exit codes)');
  assert.match(err, /needs --cert and --key \(SASL EXTERNAL\) or, for development, OADR_XMPP_PASSWORD/);
  // R514 over XMPP: the VEN signs with its certificate and key, which SCRAM does not need.
  err = '';
  assert.equal(await runVenCommand(['--transport', 'xmpp', '--xmpp-url', 'xmpp://127.0.0.1:1', '--ven-jid', 'v@localhost', '--ven-name', 'x', '--xml-signature'], { stderr: (s) => (err += s), log: quiet, xmppPassword: 'p' }), 2);
  assert.match(err, /--xml-signature needs --cert and --key: the VEN signs with its TLS certificate/);
});
