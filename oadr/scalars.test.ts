/** The simple types of the 2.0b schema: how text is read into the model and written back. */
import { test, type TestContext } from 'node:test';
import {
  INVALID, bool, dateTime, decimal, doubleList, duration, enumeration, float, normalizeDateTime, percent, responseCode, str, token, uint,
} from './scalars.ts';

test('xs:float reads numbers and INF, -INF, NaN as the schema spells them, and writes them back', (t: TestContext) => {
  const cases: [string, number][] = [['1', 1], ['-1.5', -1.5], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['-2.5E3', -2500], ['+7', 7], ['1E-2', 0.01]];
  for (const [text, n] of cases) t.assert.equal(float.parse(text), n, text);
  t.assert.equal(float.parse('INF'), Infinity);
  t.assert.equal(float.parse('+INF'), Infinity);
  t.assert.equal(float.parse('-INF'), -Infinity);
  t.assert.ok(Number.isNaN(float.parse('NaN')));
  t.assert.equal(float.format(Infinity), 'INF');
  t.assert.equal(float.format(-Infinity), '-INF');
  t.assert.equal(float.format(NaN), 'NaN');
  t.assert.equal(float.format(-2500), '-2500');
  t.assert.equal(float.format(1e21), '1e+21');
  // The float lexical form allows a signed exponent, so what we write reads back.
  t.assert.equal(float.parse(float.format(1e21) as string), 1e21);
});

test('xs:float refuses other spellings: inf, Infinity, nan, decimal comma, hex, empty', (t: TestContext) => {
  for (const s of ['', ' ', 'inf', 'Infinity', '-Infinity', 'nan', '-NaN', '1,5', '0x10', '1e', 'e3', '.', '1.2.3', '--1', '1 2', '١']) {
    t.assert.equal(float.parse(s), INVALID, JSON.stringify(s));
  }
  for (const v of ['1', null, undefined, true, 1n]) t.assert.equal(float.format(v), INVALID, String(v));
});

test('xs:float -0 survives a round trip', (t: TestContext) => {
  const text = float.format(-0);
  t.assert.notEqual(text, INVALID);
  t.assert.ok(Object.is(float.parse(text as string), -0), `wrote ${String(text)}`);
});

test('xs:decimal: no exponent, no INF; large and small values written without exponent', (t: TestContext) => {
  t.assert.equal(decimal.parse('230'), 230);
  t.assert.equal(decimal.parse('-0.5'), -0.5);
  for (const s of ['1e3', 'INF', 'NaN', '', '1,5']) t.assert.equal(decimal.parse(s), INVALID, s);
  t.assert.equal(decimal.format(1e-7), '0.0000001');
  t.assert.equal(decimal.format(123456789012), '123456789012');
  t.assert.equal(decimal.format(Infinity), INVALID);
  t.assert.equal(decimal.format(NaN), INVALID);
});

test('xs:decimal never writes an exponent, even from 1e21 up', (t: TestContext) => {
  t.assert.equal(decimal.format(1e21), '1000000000000000000000');
  t.assert.equal(decimal.format(-2.5e22), '-25000000000000000000000');
});

test('xs:unsignedInt bounds: 0 … 4294967295, integers only', (t: TestContext) => {
  t.assert.equal(uint.parse('0'), 0);
  t.assert.equal(uint.parse('+5'), 5);
  t.assert.equal(uint.parse('007'), 7);
  t.assert.equal(uint.parse('4294967295'), 4294967295);
  for (const s of ['4294967296', '-1', '-0x1', '1.0', '1e3', '', 'abc', ' 1 2', '99999999999999999999']) t.assert.equal(uint.parse(s), INVALID, s);
  t.assert.equal(uint.format(4294967295), '4294967295');
  for (const v of [4294967296, -1, 1.5, NaN, Infinity, '1']) t.assert.equal(uint.format(v), INVALID, String(v));
});

test('confidence is 0–100', (t: TestContext) => {
  t.assert.equal(percent.parse('100'), 100);
  t.assert.equal(percent.parse('101'), INVALID);
  t.assert.equal(percent.format(101), INVALID);
  t.assert.equal(percent.format(0), '0');
});

test('xs:boolean: true, false, 1, 0 only; written as true/false', (t: TestContext) => {
  t.assert.equal(bool.parse('1'), true);
  t.assert.equal(bool.parse('0'), false);
  t.assert.equal(bool.parse('true'), true);
  for (const s of ['TRUE', 'False', 'yes', '']) t.assert.equal(bool.parse(s), INVALID, s);
  t.assert.equal(bool.format(false), 'false');
  t.assert.equal(bool.format(1), INVALID);
});

test('R1 dateTime: normalised to UTC with milliseconds and Z; zoneless read as UTC', (t: TestContext) => {
  t.assert.equal(normalizeDateTime('2025-06-12T14:00:00Z'), '2025-06-12T14:00:00.000Z');
  t.assert.equal(normalizeDateTime('2025-06-12T14:00:00'), '2025-06-12T14:00:00.000Z');
  t.assert.equal(normalizeDateTime('2013-04-22T15:26:44.123Z'), '2013-04-22T15:26:44.123Z');
  // Fractions are truncated to milliseconds, never rounded.
  t.assert.equal(normalizeDateTime('2025-06-12T14:00:00.5Z'), '2025-06-12T14:00:00.500Z');
  t.assert.equal(normalizeDateTime('2025-06-12T14:00:00.123999Z'), '2025-06-12T14:00:00.123Z');
  t.assert.equal(normalizeDateTime('2025-12-31T23:59:59.9999Z'), '2025-12-31T23:59:59.999Z');
  // 29 February only in leap years.
  t.assert.equal(normalizeDateTime('2024-02-29T00:00:00Z'), '2024-02-29T00:00:00.000Z');
  t.assert.equal(normalizeDateTime('2025-02-29T00:00:00Z'), INVALID);
});

test('dateTime 24:00:00 is the end of the day, i.e. the next midnight', (t: TestContext) => {
  t.assert.equal(normalizeDateTime('2025-06-12T24:00:00Z'), '2025-06-13T00:00:00.000Z');
  t.assert.equal(normalizeDateTime('2025-12-31T24:00:00Z'), '2026-01-01T00:00:00.000Z');
  t.assert.equal(normalizeDateTime('2025-06-12T24:00:00.000Z'), '2025-06-13T00:00:00.000Z');
  for (const s of ['2025-06-12T24:00:01Z', '2025-06-12T24:01:00Z', '2025-06-12T24:00:00.1Z', '2025-06-12T25:00:00Z']) t.assert.equal(normalizeDateTime(s), INVALID, s);
});

test('dateTime refuses impossible dates and other zone spellings', (t: TestContext) => {
  for (const s of [
    '2025-04-31T00:00:00Z', // 31 April
    '2025-02-30T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-00-10T00:00:00Z',
    '2025-06-00T00:00:00Z',
    '2025-06-12T12:60:00Z',
    '2025-06-12T12:00:60Z', // no leap seconds
    '2025-06-12T12:00:00+00:00', // R1: a zero offset is never Z
    '2025-06-12T12:00:00+0000',
    '2025-06-12T12:00:00-05:00',
    '2025-06-12 12:00:00Z',
    '2025-06-12T12:00Z',
    '2025-6-12T12:00:00Z',
    '2025-06-12T12:00:00z',
    '2025-06-12',
    '',
    'yesterday',
  ]) {
    t.assert.equal(normalizeDateTime(s), INVALID, s);
  }
});

test('dateTime scalar: Date objects are written in UTC; whitespace around the text is collapsed', (t: TestContext) => {
  t.assert.equal(dateTime.collapse, true);
  t.assert.equal(dateTime.format(new Date(Date.UTC(2025, 5, 12, 14, 0, 0, 7))), '2025-06-12T14:00:00.007Z');
  t.assert.equal(dateTime.format(new Date(Number.NaN)), INVALID);
  t.assert.equal(dateTime.format('2025-06-12T14:00:00+02:00'), INVALID);
  t.assert.equal(dateTime.format(1_749_736_800_000), INVALID);
});

test('duration scalar checks the lexical form and keeps the text', (t: TestContext) => {
  t.assert.equal(duration.parse('PT15M'), 'PT15M');
  t.assert.equal(duration.parse('PT1.5H'), INVALID);
  t.assert.equal(duration.format('PT1.5H'), INVALID);
  t.assert.equal(duration.format(900_000), INVALID);
});

test('duration scalar never writes weeks, which the 2.0b pattern does not allow as P2W', (t: TestContext) => {
  const text = duration.format(duration.parse('P2W'));
  t.assert.doesNotMatch(String(text), /W/);
});

test('enumerations: exact values, x- extensions only where the schema allows them', (t: TestContext) => {
  const closed = enumeration('closed', ['a', 'b'] as const, false);
  const open = enumeration('open', ['a', 'b'] as const, true);
  t.assert.equal(closed.parse('a'), 'a');
  t.assert.equal(closed.parse('A'), INVALID);
  t.assert.equal(closed.parse('x-c'), INVALID);
  t.assert.equal(open.parse('x-c'), 'x-c');
  t.assert.equal(open.parse('x-'), INVALID);
  t.assert.equal(open.parse('y-c'), INVALID);
  t.assert.equal(closed.format(' a '), 'a');
  t.assert.equal(closed.format('c'), INVALID);
});

test('responseCode: three digits, written zero-padded', (t: TestContext) => {
  t.assert.equal(responseCode.parse('200'), 200);
  t.assert.equal(responseCode.parse('463'), 463);
  for (const s of ['OK', '20', '2000', ' 200', '2e2']) t.assert.equal(responseCode.parse(s), INVALID, s);
  t.assert.equal(responseCode.format(7), '007');
  t.assert.equal(responseCode.format(1000), INVALID);
});

test('strings are kept exactly; tokens collapse whitespace', (t: TestContext) => {
  t.assert.equal(str.parse('  a \n b  '), '  a \n b  ');
  t.assert.equal(str.collapse, false);
  t.assert.equal(token.parse('  a \n\t b  '), 'a b');
  t.assert.equal(token.format(' http://x  y '), 'http://x y');
  t.assert.equal(str.format(1), INVALID);
});

test('gml:doubleList: space-separated floats', (t: TestContext) => {
  t.assert.deepStrictEqual(doubleList.parse('45.46 9.19 45.47 9.2'), [45.46, 9.19, 45.47, 9.2]);
  t.assert.deepStrictEqual(doubleList.parse(''), []);
  t.assert.equal(doubleList.parse('45.46,9.19'), INVALID);
  t.assert.equal(doubleList.format([1, -2.5, Infinity]), '1 -2.5 INF');
  t.assert.equal(doubleList.format([1, 'x']), INVALID);
});
