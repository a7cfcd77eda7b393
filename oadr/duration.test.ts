/** ISO 8601 durations as OpenADR 2.0b uses them (R1, §8.1, xcal:DurationValueType). */
import { test, type TestContext } from 'node:test';
import { canonicalDuration, durationToMs, formatDuration, isDuration, parseDuration } from './duration.ts';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

test('§8.1 parseDuration reads every component, signs and weeks', (t: TestContext) => {
  t.assert.deepStrictEqual(parseDuration('P1Y2M3DT4H5M6S'), { negative: false, years: 1, months: 2, weeks: 0, days: 3, hours: 4, minutes: 5, seconds: 6 });
  t.assert.deepStrictEqual(parseDuration('-PT15M'), { negative: true, years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 15, seconds: 0 });
  t.assert.equal(parseDuration('+PT15M')?.negative, false);
  t.assert.equal(parseDuration('P2W')?.weeks, 2);
  t.assert.equal(parseDuration('-P2W')?.negative, true);
  // Month and minute are told apart by the T.
  t.assert.equal(parseDuration('P5M')?.months, 5);
  t.assert.equal(parseDuration('PT5M')?.minutes, 5);
});

test('the schema admits P and PT alone; they are zero', (t: TestContext) => {
  for (const s of ['P', 'PT', 'PT0S', 'P0D', '-PT0S']) {
    t.assert.equal(isDuration(s), true, s);
    t.assert.equal(Math.abs(durationToMs(s)), 0, s);
  }
});

test('R1 decimal components are refused', (t: TestContext) => {
  for (const s of ['PT1.5H', 'P0.5D', 'PT0,5H', 'P1.0Y', 'PT1.M']) {
    t.assert.equal(parseDuration(s), undefined, s);
    t.assert.equal(isDuration(s), false, s);
    t.assert.throws(() => durationToMs(s), RangeError, s);
  }
});

test('malformed durations are refused', (t: TestContext) => {
  for (const s of ['', ' PT1M', 'PT1M ', 'pt15m', 'PT15', '15M', 'T15M', 'P1W1D', 'P-1D', 'PT1S1M', 'P1D1Y', 'PT1D', '--P1D', 'P1DT1H ', 'P\u0661D']) {
    t.assert.equal(isDuration(s), false, JSON.stringify(s));
    t.assert.equal(parseDuration(s), undefined, JSON.stringify(s));
  }
});

test('the schema pattern makes T optional: P1H is one hour, written back as PT1H; a fraction of a second is truncated', (t: TestContext) => {
  t.assert.equal(durationToMs('P1H'), H);
  t.assert.equal(canonicalDuration('P1H'), 'PT1H');
  t.assert.equal(canonicalDuration('P1DT'), 'P1D');
  t.assert.equal(canonicalDuration('P'), 'PT0S');
  t.assert.equal(canonicalDuration('P2W'), 'P14D');
  t.assert.equal(canonicalDuration('PT1.5S'), 'PT1S');
  t.assert.equal(canonicalDuration('PT60M'), 'PT60M');
  t.assert.equal(canonicalDuration('PT1.5H'), undefined);
});

test('durationToMs: fixed components, negative durations and weeks', (t: TestContext) => {
  t.assert.equal(durationToMs('PT0S'), 0);
  t.assert.equal(durationToMs('PT15M'), 15 * MIN);
  t.assert.equal(durationToMs('-PT15M'), -15 * MIN);
  t.assert.equal(durationToMs('P1DT2H3M4S'), D + 2 * H + 3 * MIN + 4 * S);
  t.assert.equal(durationToMs('P2W'), 14 * D);
  t.assert.equal(durationToMs('PT36H'), 36 * H);
  t.assert.equal(durationToMs('PT90M'), 90 * MIN);
  t.assert.equal(durationToMs('P400D'), 400 * D);
  // A day is 24 h, whatever the start (no time zones in UTC).
  t.assert.equal(durationToMs('P1D', Date.UTC(2025, 2, 30)), D);
});

test('durationToMs: years and months need a start and are applied calendar-wise', (t: TestContext) => {
  t.assert.throws(() => durationToMs('P1M'), RangeError);
  t.assert.throws(() => durationToMs('P1Y'), RangeError);
  t.assert.equal(durationToMs('P1M', Date.UTC(2025, 0, 1)), 31 * D);
  t.assert.equal(durationToMs('P1M', new Date(Date.UTC(2025, 1, 1))), 28 * D);
  t.assert.equal(durationToMs('P1M', Date.UTC(2024, 1, 1)), 29 * D);
  t.assert.equal(durationToMs('P1Y', Date.UTC(2024, 0, 1)), 366 * D);
  t.assert.equal(durationToMs('P1Y', Date.UTC(2025, 0, 1)), 365 * D);
  t.assert.equal(durationToMs('P1MT1H', Date.UTC(2025, 3, 1)), 30 * D + H);
  t.assert.equal(durationToMs('-P1M', Date.UTC(2025, 2, 1)), -28 * D);
});

test(
  'durationToMs: P1M from 31 January ends on the last day of February (XML Schema Part 2, Appendix E)',
  (t: TestContext) => {
    // Appendix E pins the day to the end of a shorter month: 2025-01-31 + P1M = 2025-02-28.
    t.assert.equal(durationToMs('P1M', Date.UTC(2025, 0, 31)), 28 * D);
    t.assert.equal(durationToMs('P1Y', Date.UTC(2024, 1, 29)), 365 * D);
    t.assert.equal(durationToMs('-P1M', Date.UTC(2025, 2, 31)), -31 * D);
  },
);

test('formatDuration writes days, hours, minutes and whole seconds; PT0S for zero; never weeks', (t: TestContext) => {
  t.assert.equal(formatDuration(0), 'PT0S');
  t.assert.equal(formatDuration(15 * MIN), 'PT15M');
  t.assert.equal(formatDuration(H), 'PT1H');
  t.assert.equal(formatDuration(D), 'P1D');
  t.assert.equal(formatDuration(14 * D), 'P14D');
  t.assert.equal(formatDuration(D + H + MIN + S), 'P1DT1H1M1S');
  t.assert.equal(formatDuration(D + 30 * S), 'P1DT30S');
  t.assert.equal(formatDuration(-15 * MIN), '-PT15M');
  // Milliseconds are dropped (R1: no decimals in a duration).
  t.assert.equal(formatDuration(1999), 'PT1S');
  t.assert.equal(formatDuration(999), 'PT0S');
  for (const bad of [NaN, Infinity, -Infinity]) t.assert.throws(() => formatDuration(bad), RangeError, String(bad));
});

test('formatDuration and durationToMs are inverse on whole seconds', (t: TestContext) => {
  for (const ms of [0, S, 59 * S, MIN, 15 * MIN, H, 23 * H + 59 * MIN + 59 * S, D, 7 * D + 3 * H, 1000 * D + S, -S, -(2 * D + 5 * MIN)]) {
    const s = formatDuration(ms);
    t.assert.equal(isDuration(s), true, s);
    t.assert.equal(durationToMs(s), ms, s);
  }
});
