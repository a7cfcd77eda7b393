import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LEDGER_SUBDIR, runLedgerCommand } from './command.ts';
import { createTestEmbeddedLedger, tempDataDir } from '../testing/embedded.ts';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

test('ledger verify / blocks on a data directory; usage errors exit 2', async (t) => {
  const l = await createTestEmbeddedLedger();
  t.after(() => l.close());
  l.setTime(new Date('2025-05-01T12:00:00Z'));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', ['utility:1234']);
  await l.ledger.close();

  let c = capture();
  assert.equal(await runLedgerCommand(['verify', '--data-dir', l.dataDir], c.io), 0);
  assert.match(c.out.stdout, /2 blocks, 2 transactions \(2 valid\)/);
  assert.match(c.out.stdout, /ledger verified/);

  c = capture();
  assert.equal(await runLedgerCommand(['blocks', '--data-dir', l.dataDir, '--json'], c.io), 0);
  const blocks = JSON.parse(c.out.stdout) as { number: number; transactions: { fn: string; validationCode: string }[] }[];
  assert.deepEqual(blocks.map((b) => [b.number, b.transactions[0]?.fn, b.transactions[0]?.validationCode]), [[0, 'config', 'VALID'], [1, 'enableRetailer', 'VALID']]);

  c = capture();
  assert.equal(await runLedgerCommand(['blocks', '--data-dir', l.dataDir, '--from', '1'], c.io), 0);
  assert.match(c.out.stdout, /^#1 .*1 tx \(1 valid\)\n.*enableRetailer\n$/);

  assert.equal(await runLedgerCommand(['verify'], capture().io), 2);
  assert.equal(await runLedgerCommand(['verify', '--data-dir', l.dataDir, '--bogus'], capture().io), 2);
  assert.equal(await runLedgerCommand(['nope', '--data-dir', l.dataDir], capture().io), 2);
  c = capture();
  assert.equal(await runLedgerCommand(['verify', '--data-dir', tempDataDir()], c.io), 1);
  assert.match(c.out.stderr, /no ledger store/);
});

test('ledger verify / blocks --data-dir take the VTN data directory (DIR/ledger) and read the ledger while it runs; --help of each subcommand; a bare `ledger` is help', async (t) => {
  const dir = tempDataDir();
  const l = await createTestEmbeddedLedger({ dataDir: join(dir, LEDGER_SUBDIR) });
  t.after(async () => {
    await l.close();
    rmSync(dir, { recursive: true, force: true });
  });
  l.setTime(new Date('2025-05-01T12:00:00Z'));
  await l.ledger.submit(l.identities.operator, 'enableRetailer', ['utility:1234']);

  // The ledger is open (it holds its directory's lock), as under a running VTN.
  let c = capture();
  assert.equal(await runLedgerCommand(['verify', '--data-dir', dir], c.io), 0, c.out.stderr);
  assert.match(c.out.stdout, /2 blocks, 2 transactions \(2 valid\)/);
  assert.equal(c.out.stderr, '', 'no note: the VTN form');
  c = capture();
  assert.equal(await runLedgerCommand(['blocks', '--data-dir', dir, '--json'], c.io), 0, c.out.stderr);
  assert.equal((JSON.parse(c.out.stdout) as unknown[]).length, 2);
  // The ledger keeps committing after the readers closed.
  await l.ledger.submit(l.identities.operator, 'enableRetailer', ['utility:5678']);
  c = capture();
  assert.equal(await runLedgerCommand(['verify', '--data-dir', join(dir, LEDGER_SUBDIR)], c.io), 0, c.out.stderr);
  assert.match(c.out.stdout, /3 blocks/);
  assert.match(c.out.stderr, /is a ledger directory itself; reading it/);

  for (const sub of ['verify', 'blocks']) {
    c = capture();
    assert.equal(await runLedgerCommand([sub, '--help'], c.io), 0);
    assert.match(c.out.stdout, new RegExp(`^Usage: oadr-ledger ledger ${sub} --data-dir DIR`));
    assert.match(c.out.stdout, /the VTN's data directory/);
  }
  c = capture();
  assert.equal(await runLedgerCommand([], c.io), 0);
  assert.match(c.out.stdout, /<verify\|blocks\|serve>/);
  assert.match(c.out.stdout, /\n  serve --data-dir DIR/);
});
