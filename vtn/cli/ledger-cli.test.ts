import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runVtnCommand } from './cli.ts';
import type { Logger } from '../operations/logger.ts';
import { recordingLogger } from '../testing/fake-ven.ts';
import { createSqliteStore } from '../store/sqlite-store.ts';

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
  // Customers of two retailers, one of them with an id no ledger identity can carry (a store written
  // around the admin API): the next start issues the first one's identity and logs the other.
  const store = createSqliteStore({ dataDir: dir });
  for (const [customerId, retailer] of [['c1', 'retail-a'], ['c2', 'retail b']] as const) {
    store.putCustomer({ customerId, venName: undefined, fingerprint: undefined, venId: undefined, enrolledAt: 0, retailer });
  }
  store.close();
  const strict = await runOnce(dir, ['--verify-own-signatures']);
  assert.equal(strict.code, 0);
  assert.ok(existsSync(join(dir, 'ledger/identities/retailers/retail-a/cert.pem')), "retail-a's identity issued at start");
  const unusable = strict.log.records.find((r) => r.level === 'error' && (r.msg ?? '').startsWith('retailers without a ledger identity'));
  assert.match((unusable?.err as Error | undefined)?.message ?? '', /"retail b" cannot have a ledger identity/);
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
