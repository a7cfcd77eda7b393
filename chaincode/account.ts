/**
 * The account record's writer: settlement writes one account per customer (100,000 per event), so
 * its canonical JSON is written by a fixed-order template instead of canonicalJson's walk over the
 * value. The members are AccountRecord's in sorted order, so the bytes are exactly the ones
 * canonicalJson writes for the same record (tested), and non-finite numbers are refused likewise.
 */
import type { AccountRecord } from './tx-event.ts';

/** JSON text of a finite number (the same as JSON.stringify); TypeError as canonicalJson for others. */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
  return JSON.stringify(value);
}

function numbers(values: readonly number[]): string {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`canonicalJson: account value ${String(v)} is not a finite number`);
  }
  return JSON.stringify(values);
}

/** The canonical JSON of an account record (what canonicalJson writes for it). */
export function accountJson(a: AccountRecord): string {
  return `{"applied":${JSON.stringify(a.applied)},"balanceMilli":${num(a.balanceMilli)},"meterId":${JSON.stringify(a.meterId)},"mintedMilli":${num(a.mintedMilli)},"redeemedMilli":${num(a.redeemedMilli)},"txId":${JSON.stringify(a.txId)},"values":${numbers(a.values)}}`;
}

/** The account record as the bytes to store. */
export function accountBytes(a: AccountRecord): Buffer {
  return Buffer.from(accountJson(a), 'utf8');
}
