/**
 * Group commit on a real SQLite file: what is run in one turn commits in one transaction and is
 * resolved after it; one failure, or one answer that must stand alone, changes nothing of the others.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { createTransaction } from '../../storage/index.ts';
import { createGroupCommit } from './group-commit.ts';

function database(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
  const db = new DatabaseSync(join(dir, 'db.sqlite'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT NOT NULL)');
  const tx = createTransaction(db);
  let commits = 0;
  const insert = (v: string): string => {
    db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
    return v;
  };
  return {
    tx,
    insert,
    rows: (): string[] => (db.prepare('SELECT v FROM t ORDER BY rowid').all() as { v: string }[]).map((r) => r.v),
    commits: () => commits,
    store: {
      transaction: <T>(fn: () => T): T => {
        commits++;
        return tx(fn);
      },
    },
  };
}

test('what is run in one turn commits in one transaction; each caller gets its own value', async (t) => {
  const d = database(t);
  const commits = createGroupCommit({ store: d.store });
  const values = await Promise.all(['a', 'b', 'c'].map((v) => commits.run(() => d.insert(v))));
  t.assert.deepEqual(values, ['a', 'b', 'c']);
  t.assert.deepEqual(d.rows(), ['a', 'b', 'c']);
  t.assert.equal(d.commits(), 1);
  // A later turn is a group of its own.
  await Promise.all(['d', 'e'].map((v) => commits.run(() => d.insert(v))));
  t.assert.equal(d.commits(), 2);
  t.assert.deepEqual(d.rows(), ['a', 'b', 'c', 'd', 'e']);
});

test('one whose transaction throws is rolled back alone: the others of its group commit, its caller gets the error', async (t) => {
  const d = database(t);
  const commits = createGroupCommit({ store: d.store });
  const results = await Promise.allSettled([
    commits.run(() => d.insert('a')),
    commits.run(() =>
      d.tx(() => {
        d.insert('half-written');
        throw new Error('refused');
      }),
    ),
    commits.run(() => d.insert('c')),
  ]);
  t.assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  t.assert.equal((results[1] as PromiseRejectedResult).reason.message, 'refused');
  t.assert.deepEqual(d.rows(), ['a', 'c']);
});

test('a value its isolate picks runs in a transaction of its own, as it would have without grouping', async (t) => {
  const d = database(t);
  const commits = createGroupCommit({ store: d.store });
  // A handler whose inner transaction fails and which answers with an error (as dispatch does with
  // an OpenADR error): on its own, the inner transaction is rolled back; joined to a group, it would not be.
  const answersWithError = (): string => {
    try {
      d.tx(() => {
        d.insert('half-written');
        throw new Error('450');
      });
    } catch {
      return 'error';
    }
    return 'ok';
  };
  const values = await Promise.all([commits.run(() => d.insert('a')), commits.run(answersWithError, (v) => v === 'error'), commits.run(() => d.insert('c'))]);
  t.assert.deepEqual(values, ['a', 'error', 'c']);
  t.assert.deepEqual(d.rows(), ['a', 'c']);
});
