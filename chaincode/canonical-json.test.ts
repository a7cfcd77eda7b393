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
