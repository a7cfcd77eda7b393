import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountBytes, accountJson } from './account.ts';
import { canonicalJson } from './canonical-json.ts';
import type { AccountRecord } from './tx-event.ts';
import { createSeededRandom } from '../test/support/seeded-random.ts';

const account = (over: Partial<AccountRecord> = {}): AccountRecord => ({
  applied: ['ev-1', 'ev-2'],
  balanceMilli: 4320,
  meterId: 'meter-0001',
  mintedMilli: 5000,
  redeemedMilli: 680,
  txId: 'a1b2c3',
  values: [500_000, 512_345, 0, 1_000_000],
  ...over,
});

test('the account writer gives the bytes canonicalJson gives', (t) => {
  const a = account();
  t.assert.equal(accountJson(a), '{"applied":["ev-1","ev-2"],"balanceMilli":4320,"meterId":"meter-0001","mintedMilli":5000,"redeemedMilli":680,"txId":"a1b2c3","values":[500000,512345,0,1000000]}');
  t.assert.equal(accountJson(a), canonicalJson(a));
  // Members built in another order: canonicalJson sorts them, the writer has a fixed order.
  const shuffled = { values: a.values, txId: a.txId, redeemedMilli: 680, mintedMilli: 5000, meterId: a.meterId, balanceMilli: 4320, applied: a.applied };
  t.assert.equal(accountJson(shuffled), canonicalJson(shuffled));
  t.assert.deepEqual(accountBytes(a), Buffer.from(canonicalJson(a), 'utf8'));
});

test('edge values: empty lists, escapes, non-ASCII, doubles that are integers, -0, large and negative numbers', (t) => {
  const values = new Array<number>(96).fill(500_000);
  values[3] = 0.5; // the array now holds doubles
  values[3] = 250_000;
  const cases: AccountRecord[] = [
    account({ applied: [], values: [] }),
    account({ meterId: 'm"\\\u0001é€𝄞', txId: '\u2028x' }),
    account({ values }),
    account({ balanceMilli: -0, mintedMilli: Number.MAX_SAFE_INTEGER, redeemedMilli: -12 }),
    account({ values: [1e21, 1.5, -3] }),
  ];
  for (const a of cases) {
    t.assert.equal(accountJson(a), canonicalJson(a));
    t.assert.deepEqual(accountBytes(a), Buffer.from(canonicalJson(a), 'utf8'));
  }
});

test('seeded random accounts: the writer and canonicalJson agree', (t) => {
  const random = createSeededRandom(0x5e771e);
  for (let n = 0; n < 500; n++) {
    const values = Array.from({ length: random.between(1, 96) }, () => random.int(1_000_001));
    const applied = Array.from({ length: random.int(4) }, (_, i) => `ev-${i}-${random.int(1e6)}`).sort();
    const a = account({ applied, values, balanceMilli: random.int(1e12), mintedMilli: random.int(1e12), meterId: `m-${n}` });
    t.assert.equal(accountJson(a), canonicalJson(a));
  }
});

test('non-finite numbers are refused, as canonicalJson refuses them', (t) => {
  for (const a of [account({ balanceMilli: Number.NaN }), account({ values: [1, Number.POSITIVE_INFINITY] })]) {
    t.assert.throws(() => canonicalJson(a), TypeError);
    t.assert.throws(() => accountJson(a), TypeError);
  }
});
