import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runVtnCommand } from './cli.ts';
import type { Logger } from '../operations/logger.ts';
import { recordingLogger } from '../testing/fake-ven.ts';

async function runOnce(dir: string, extra: string[] = []): Promise<{ code: number; log: ReturnType<typeof recordingLogger> }> {
  const log = recordingLogger();
  let stop!: () => void;
  const stopSignal = new Promise<void>((r) => (stop = r));
  const logger: Logger = {
    ...log,
    info: (obj, msg) => {
      log.info(obj, msg);
      if (msg === 'VTN listening') stop();
    },
  };
  const code = await runVtnCommand(['--insecure-http', '--data-dir', dir, '--port', '0', ...extra], { logger, stopSignal, stderr: () => {} });
  return { code, log };
}

test('oadr-ledger vtn starts with the embedded ledger under --data-dir: org certificates, the VTN identities and the accumulator, kept across restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-ledger-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await runOnce(dir);
  assert.equal(first.code, 0);
  assert.equal(first.log.records.find((r) => r.msg === 'embedded ledger open')?.verifyOwnSignatures, false, 'own signatures checked against the memo by default');
  for (const f of ['ledger/ledger.sqlite', 'ledger/certs/Org1MSP/ca-cert.pem', 'ledger/identities/operator-cert.pem', 'ledger/identities/retailer-key.pem', 'ledger-mapping.sqlite']) {
    assert.ok(existsSync(join(dir, f)), `${f} exists`);
  }
  const cert = readFileSync(join(dir, 'ledger/identities/operator-cert.pem'), 'utf8');
  const strict = await runOnce(dir, ['--verify-own-signatures']);
  assert.equal(strict.code, 0);
  assert.equal(strict.log.records.find((r) => r.msg === 'embedded ledger open')?.verifyOwnSignatures, true);
  assert.equal(readFileSync(join(dir, 'ledger/identities/operator-cert.pem'), 'utf8'), cert, 'the identities are issued once');
});

test('oadr-ledger vtn --no-ledger runs without a ledger and says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vtn-ledger-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { code, log } = await runOnce(dir, ['--no-ledger']);
  assert.equal(code, 0);
  assert.equal(existsSync(join(dir, 'ledger')), false);
  assert.ok(log.records.some((r) => r.level === 'warn' && (r.msg ?? '').includes('without the ledger')));
});
