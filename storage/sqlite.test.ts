import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createTransaction } from './sqlite.ts';

function db(): DatabaseSync {
  const d = new DatabaseSync(':memory:');
  d.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  return d;
}
const rows = (d: DatabaseSync) => d.prepare('SELECT k, v FROM t ORDER BY k').all().map((r) => `${r.k}=${r.v}`);

test('a transaction commits what its function wrote, and returns its value', () => {
  const d = db();
  const tx = createTransaction(d);
  assert.equal(tx(() => (d.prepare('INSERT INTO t VALUES (?, ?)').run('a', 1), 'done')), 'done');
  assert.deepEqual(rows(d), ['a=1']);
  assert.equal(d.isTransaction, false);
});

test('a throwing function rolls back everything, the error is the caller’s, onRollback runs once', () => {
  const d = db();
  let rollbacks = 0;
  const tx = createTransaction(d, { onRollback: () => rollbacks++ });
  const boom = new Error('boom');
  assert.throws(() => tx(() => {
    d.prepare('INSERT INTO t VALUES (?, ?)').run('a', 1);
    throw boom;
  }), (err) => err === boom);
  assert.deepEqual(rows(d), []);
  assert.equal(rollbacks, 1);
  assert.equal(d.isTransaction, false);
});

test('a nested call joins the outer transaction: an outer failure undoes the inner writes too', () => {
  const d = db();
  const tx = createTransaction(d);
  assert.throws(() => tx(() => {
    tx(() => d.prepare('INSERT INTO t VALUES (?, ?)').run('inner', 1));
    assert.equal(d.isTransaction, true, 'the inner call did not commit');
    throw new Error('outer');
  }), /outer/);
  assert.deepEqual(rows(d), []);
  tx(() => tx(() => d.prepare('INSERT INTO t VALUES (?, ?)').run('b', 2)));
  assert.deepEqual(rows(d), ['b=2']);
});

test('a COMMIT that fails after SQLite rolled back reports its own cause, not "no transaction is active"', () => {
  const d = db();
  // RAISE(ROLLBACK) ends the transaction inside the statement, as SQLite does on a full disk or an
  // I/O error: the transaction is gone by the time the error reaches us.
  d.exec("CREATE TRIGGER no_x BEFORE INSERT ON t WHEN NEW.k = 'x' BEGIN SELECT RAISE(ROLLBACK, 'x refused'); END");
  let rollbacks = 0;
  const tx = createTransaction(d, { onRollback: () => rollbacks++ });
  assert.throws(() => tx(() => d.prepare('INSERT INTO t VALUES (?, ?)').run('x', 1)), /x refused/);
  assert.equal(rollbacks, 1);
  assert.equal(d.isTransaction, false);
  tx(() => d.prepare('INSERT INTO t VALUES (?, ?)').run('y', 1));
  assert.deepEqual(rows(d), ['y=1'], 'the next transaction works');
});
