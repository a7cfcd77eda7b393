import { test } from 'node:test';
import { bigDivRoundHalfUp, divFloor, divRoundHalfUp } from './integer.ts';

test('divRoundHalfUp: exact half-up rounding of integer quotients', (t) => {
  t.assert.equal(divRoundHalfUp(7, 2), 4); // 3.5 → 4
  t.assert.equal(divRoundHalfUp(5, 3), 2); // 1.67 → 2
  t.assert.equal(divRoundHalfUp(4, 3), 1); // 1.33 → 1
  t.assert.equal(divRoundHalfUp(0, 9), 0);
  t.assert.equal(bigDivRoundHalfUp(7n, 2n), 4n);
  t.assert.equal(bigDivRoundHalfUp(10n ** 30n + 1n, 2n), 5n * 10n ** 29n + 1n);
});

test('divFloor stays exact near 2^53, where a float quotient rounds up', (t) => {
  // (2^53 − 1) / (2^53 − 2) = 1.000…0001: the float quotient is 1 — check against BigInt on a few cases.
  const cases: [number, number][] = [[Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1], [Number.MAX_SAFE_INTEGER, 3], [Number.MAX_SAFE_INTEGER - 1, 94_906_267], [9_007_199_254_740_990, 7]];
  for (const [n, d] of cases) t.assert.equal(BigInt(divFloor(n, d)), BigInt(n) / BigInt(d), `${n} / ${d}`);
  t.assert.throws(() => divFloor(1, 0), /INVALID_ARGUMENT/);
  t.assert.throws(() => divFloor(-1, 3), /INVALID_ARGUMENT/);
});
