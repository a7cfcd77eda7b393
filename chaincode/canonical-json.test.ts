import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

test('keys sorted at every level, undefined members dropped, same as JSON for the rest', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: null }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[3,{"y":null,"z":1}]},"b":1}');
  const v = { list: [1, -2.5, 'é"\n', true, null], n: 0 };
  assert.deepEqual(JSON.parse(canonicalJson(v)), v);
  assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
});

test('refuses what would not round-trip', () => {
  assert.throws(() => canonicalJson({ x: Number.NaN }), TypeError);
  assert.throws(() => canonicalJson([Infinity]), TypeError);
  assert.throws(() => canonicalJson({ x: 1n }), TypeError);
});

test('the native fast path and the sorting writer give the same bytes', () => {
  // Values built in sorted key order take JSON.stringify; the rest the writer. Same output either way.
  const sorted = { a: [1, 2, -0, 1.5e-7, 2 ** 60], b: { c: null, d: 'x\u2028"' }, e: true, f: [[1], [], [{ g: 1 }]] };
  const unsorted = { f: [[1], [], [{ g: 1 }]], e: true, b: { d: 'x\u2028"', c: null }, a: [1, 2, -0, 1.5e-7, 2 ** 60] };
  assert.equal(canonicalJson(sorted), canonicalJson(unsorted));
  assert.equal(canonicalJson(sorted), JSON.stringify(sorted));
  // Integer-like keys enumerate numerically ("9" before "10"): not sorted as strings, so sorted by the writer.
  assert.equal(canonicalJson({ 9: 'a', 10: 'b' }), '{"10":"b","9":"a"}');
  // Holes and undefined elements are null, undefined members dropped, on both paths.
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(canonicalJson({ a: [1, , undefined], b: undefined }), '{"a":[1,null,null]}');
  assert.equal(canonicalJson({ b: undefined, a: [1, , undefined] }), '{"a":[1,null,null]}');
  // toJSON is not honoured on either path (a Date is an object without own keys).
  assert.equal(canonicalJson({ a: new Date(0) }), '{"a":{}}');
  assert.throws(() => canonicalJson(undefined), TypeError);
  assert.throws(() => canonicalJson({ a: [1, Number.NaN] }), TypeError);
  assert.throws(() => canonicalJson({ a: () => 1 }), TypeError);
});
