import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { JSONSerializer } from 'fabric-contract-api';
import { cacheShimParameterValidators } from './shim-parameters.ts';

const require = createRequire(import.meta.url);
type Marshall = { handleParameters(fn: object, params: readonly unknown[], prefix: string): unknown[] };
const DataMarshall = require('fabric-shim/lib/contract-spi/datamarshall.js') as new (name: string, serializers: object, components: object) => Marshall;
const logger = (require('fabric-shim/lib/logger.js') as { getLogger(n: string): { level: string; silent?: boolean } }).getLogger('contracts-spi/datamarshall.js');

const components = { Reading: { $id: 'Reading', type: 'object', properties: { w: { type: 'number' } }, required: ['w'] } };
const fn = {
  name: 'record',
  parameters: [
    { name: 'meter', schema: { type: 'string' } },
    { name: 'count', schema: { type: 'number' } },
    { name: 'reading', schema: { $ref: '#/components/schemas/Reading' } },
  ],
};
const cases: (readonly string[])[] = [
  ['m1', '3', '{"w":5}'],
  ['m1', 'abc', '{"w":5}'], // not a number
  ['m1', '3', '{"x":1}'], // misses a required property
  ['m1', '3'], // one argument short
  ['', '0', '{"w":-1}'],
];

/** What handleParameters answers: the values, or the error message. */
function outcome(m: Marshall, args: readonly string[]): unknown {
  try {
    return { values: m.handleParameters(fn, args.map((a) => Buffer.from(a)), '[c-1]') };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

test('cached parameter validation answers exactly what fabric-shim answers: values and error messages', () => {
  cacheShimParameterValidators();
  cacheShimParameterValidators(); // idempotent
  const marshall = new DataMarshall('jsonSerializer', { jsonSerializer: JSONSerializer }, components);
  const fast = cases.map((c) => outcome(marshall, c));
  // With debug logging on, the patched method runs fabric-shim's original code.
  const level = logger.level;
  const silent = logger.silent;
  logger.silent = true;
  logger.level = 'debug';
  try {
    const original = cases.map((c) => outcome(new DataMarshall('jsonSerializer', { jsonSerializer: JSONSerializer }, components), c));
    assert.deepEqual(fast, original);
  } finally {
    logger.level = level;
    logger.silent = silent;
  }
  assert.deepEqual(fast[0], { values: ['m1', 3, { w: 5 }] });
  assert.deepEqual(fast[1], { error: 'fromBuffer could not convert data to number' });
  assert.match((fast[2] as { error: string }).error, /^Unable to validate parameter due to .*required/);
  assert.deepEqual(fast[3], { error: 'Expected 3 parameters, but 2 have been supplied' });
  // A second round uses the validators compiled in the first one and still answers the same.
  assert.deepEqual(cases.map((c) => outcome(marshall, c)), fast);
});
