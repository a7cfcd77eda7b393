import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';
import { intArrayMember } from './state.ts';

const bytes = (value: unknown) => Buffer.from(canonicalJson(value), 'utf8');

test('intArrayMember reads an integer array member of a stored record as JSON.parse would', () => {
  const record = { X: 21, day: '2024-06-12', daysUsed: ['2024-06-11'], meterId: 'sm:1', txId: 'ab', values: [0, 7, -3, 123456789012345, 250] };
  assert.deepEqual(intArrayMember(bytes(record), 'values'), record.values);
  assert.deepEqual(intArrayMember(bytes({ a: [], values: [] }), 'values'), []);
  assert.deepEqual(intArrayMember(bytes({ oprW: [5], values: [1, 2] }), 'oprW'), [5]);
  // A Uint8Array that is not a Buffer (an offset view) reads the same.
  const b = bytes(record);
  const whole = Buffer.concat([Buffer.from('xx'), b]);
  const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, b.length);
  assert.deepEqual(intArrayMember(view, 'values'), record.values);
});

test('intArrayMember with `into` fills and resizes that array and returns it', () => {
  const into = [9, 9, 9, 9, 9, 9];
  assert.equal(intArrayMember(bytes({ values: [1, -2, 3] }), 'values', into), into);
  assert.deepEqual(into, [1, -2, 3]);
  assert.deepEqual(intArrayMember(bytes({ values: [4, 5, 6, 7] }), 'values', into), [4, 5, 6, 7]);
  assert.deepEqual(intArrayMember(bytes({ values: [] }), 'values', into), []);
  assert.equal(intArrayMember(bytes({ values: [1, 2.5] }), 'values', into), undefined);
});

test('intArrayMember gives up (undefined) on anything but plain integers, and on an absent member', () => {
  for (const values of [[1, null], [1.5], [1e21], [1234567890123456], ['1']]) {
    assert.equal(intArrayMember(bytes({ values }), 'values'), undefined, JSON.stringify(values));
  }
  assert.equal(intArrayMember(bytes({ other: [1] }), 'values'), undefined);
  assert.equal(intArrayMember(bytes({ values: 3 }), 'values'), undefined);
});

test('intArrayMember is not fooled by the member name inside a string', () => {
  // In JSON a quote inside a string is escaped, so `"values":[` can only be the member's key.
  const tricky = { a: 'x"values":[9,9]', meterId: '"values":[8]', values: [1, 2] };
  assert.deepEqual(intArrayMember(bytes(tricky), 'values'), [1, 2]);
  assert.equal(intArrayMember(bytes({ meterId: '"values":[8]' }), 'values'), undefined);
});
