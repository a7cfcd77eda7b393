/**
 * A full disk, for real: the VTN's data directory (its store, the embedded ledger, the mapping
 * store) on a small tmpfs filled to the last byte. `/readyz` fails and says why, for the VTN store,
 * the mapping store and the ledger's store; an event creation
 * fails with the store's own error and leaves nothing notified on the ledger; a submit whose block
 * cannot be written fails at once with the store's error (not at its 30 s timeout); once space is
 * freed the VTN works and is ready again. Needs permission to mount a tmpfs (root); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addDaysUtc, EVENT_DAY, profile } from '../../chaincode/testing/reference-scenario.ts';
import { LedgerError } from '../../ledger-bridge/index.ts';
import { openVtnLedger } from './embedded.ts';
import { createMappingLedgerPort } from './mapping-port.ts';
import { createTestClock, startTestVtn } from '../testing/fake-ven.ts';

const A = 'smartmeter:A';
const START = Date.parse(`${EVENT_DAY}T15:00:00Z`);

function mountTmpfs(sizeMb: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'oadr-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmdirSync(dir);
    return undefined;
  }
}

/** Writes zeros until the file system is full; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let size = chunk.length; size >= 1; ) {
      try {
        writeSync(fd, chunk, 0, size);
      } catch {
        size = Math.floor(size / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

test('reliability 3: a full disk — /readyz fails with the cause, creations fail with nothing left on the ledger, failed commits release their callers at once', async (t) => {
  const mnt = mountTmpfs(24);
  if (mnt === undefined) {
    t.skip('cannot mount a tmpfs here (needs root)');
    return;
  }
  const closers: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
  });
  const dataDir = join(mnt, 'data');
  const clock = createTestClock(Date.parse(`${EVENT_DAY}T10:00:00Z`));
  const vl = await openVtnLedger({ dataDir, clock: () => new Date(clock.now()) });
  closers.push(() => vl.close());
  const port = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger, store: vl.store });
  const { url, vtn } = await startTestVtn(t, { dataDir, registrationPolicy: 'enrolled-only' }, { ledger: port, clock });
  closers.push(() => vtn.close());
  vtn.customers.enrol({ customerId: A, venName: 'house-a' });
  await port.importEnergy?.(A, Array.from({ length: 35 }, (_, i) => ({ date: addDaysUtc(EVENT_DAY, -(i + 1)), valuesWh: profile(1, i + 1).map((w) => w / 4) })));
  const ready = async () => {
    const r = await fetch(`${url}/readyz`);
    return { status: r.status, body: (await r.json()) as { checks: Record<string, string>; errors: string[] } };
  };
  t.assert.equal((await ready()).status, 200);

  const filler = fill(mnt);
  // The ledger's check is the VTN's last probe of it: probed now rather than at its next turn.
  await vtn.probeLedger();
  const full = await ready();
  t.assert.equal(full.status, 503);
  t.assert.equal(full.body.checks.store, 'failed');
  t.assert.match(full.body.errors.join('; '), /full/);
  // Every store is probed, the mapping store too (before any block commit has failed).
  t.assert.equal(full.body.checks.ledger, 'failed');
  t.assert.match(full.body.errors.join('; '), /the mapping store cannot write: .*full/);
  // The ledger's own store is probed too: without the mapping store's probe the same full disk is
  // still found, before any block commit has failed.
  t.assert.equal(vl.ledger.storeError, undefined);
  const ledgerOnly = createMappingLedgerPort({ mapping: vl.mapping, ledger: vl.ledger });
  await t.assert.rejects(ledgerOnly.ping?.() ?? Promise.resolve(), /the ledger's store cannot write: .*full/);

  // The creation fails with the store's cause; the ledger never holds the event as notified.
  await t.assert.rejects(vtn.events.create({ eventId: 'ev-full', start: START, slots: 2, reductionW: 200, targets: { customerIds: [A] } }), /full/);
  t.assert.equal(vtn.events.get('ev-full'), undefined);
  const onLedger = await vl.ledger.evaluate(vl.identities.operator, 'queryDRevent', ['ev-full']).then(
    (s) => (JSON.parse(s) as { status: string }).status,
    (err: unknown) => (err as LedgerError).contractCode,
  );
  t.assert.notEqual(onLedger, 'notified');

  // A transaction whose block cannot be written: its submitter hears the store's error at once.
  const err = await vl.ledger.submit(vl.identities.retailer, 'enrolMeter', ['smartmeter:late']).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof LedgerError, String(err));
  t.assert.equal(err.code, 'UNAVAILABLE');
  t.assert.match(err.message, /full/);
  await vtn.probeLedger();
  t.assert.equal((await ready()).body.checks.ledger, 'failed');

  // Space again: the same creation works and the VTN is ready.
  rmSync(filler);
  const v = await vtn.events.create({ eventId: 'ev-full', start: START, slots: 2, reductionW: 200, targets: { customerIds: [A] } });
  t.assert.equal(v.event.eventId, 'ev-full');
  t.assert.equal((await ready()).status, 200);
  await ledgerOnly.ping?.();
});
