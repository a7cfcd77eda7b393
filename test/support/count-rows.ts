/** The `n` of `SELECT count(*) AS n …` on a store file, read-only (the store may be open elsewhere: WAL). */
import { DatabaseSync } from 'node:sqlite';

export function countRows(file: string, sql: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number((db.prepare(sql).get() as { n: number }).n);
  } finally {
    db.close();
  }
}
