import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeOadr } from '../oadr/index.ts';
import { runVtnCommand, VTN_USAGE } from './cli.ts';
import type { Logger } from './logger.ts';
import { postXml, recordingLogger, ven } from './testing/fake-ven.ts';

test('vtn command: without TLS or --insecure-http it refuses to start (exit 2); unknown flags are usage errors', async () => {
  let err = '';
  assert.equal(await runVtnCommand([], { stderr: (s) => void (err += s) }), 2);
  assert.match(err, /--insecure-http/);
  assert.equal(await runVtnCommand(['--bogus'], { stderr: () => {} }), 2);
  assert.equal(await runVtnCommand(['--insecure-http', '--port', 'eighty'], { stderr: () => {} }), 2);
  assert.match(VTN_USAGE, /--data-dir/);
});

test('vtn command: --insecure-http serves OpenADR on loopback, warns loudly, and stops on the stop signal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = recordingLogger();
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  let listening!: (url: string) => void;
  const started = new Promise<string>((r) => (listening = r));
  const logger: Logger = {
    ...log,
    info: (obj, msg) => {
      log.info(obj, msg);
      if (msg === 'VTN listening') listening((obj as { url: string }).url);
    },
  };
  const done = runVtnCommand(['--insecure-http', '--data-dir', dir, '--port', '0'], { logger, stopSignal, config: { host: '0.0.0.0', registrationPolicy: 'open' } });
  const url = await started;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await postXml(url, 'EiRegisterParty', encodeOadr(ven.query()));
  assert.equal(r.status, 200);
  assert.ok(log.records.some((x) => x.level === 'warn' && (x.msg ?? '').includes('INSECURE')));
  assert.ok(log.records.some((x) => x.level === 'warn' && (x.msg ?? '').includes('loopback')));
  stop();
  assert.equal(await done, 0);
});
