import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveVtnConfig, type VtnConfigInput } from './config.ts';
import { VtnError } from '../errors.ts';

test('config: defaults work on a laptop and the result is frozen', () => {
  const c = resolveVtnConfig();
  assert.equal(c.registrationPolicy, 'enrolled-only');
  assert.equal(c.bodyLimitBytes, 1_048_576);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.programs[0]?.slotMs, 15 * 60_000);
  assert.deepEqual(c.programs[0]?.signals, ['LOAD_DISPATCH']);
  assert.deepEqual(c.push, { initialBackoffMs: 1000, maxBackoffMs: 60_000, jitter: 0.1, timeoutMs: 10_000, maxAttempts: 20, allowHttp: false, allowedHosts: [], requireCertificateHost: false });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.programs) && Object.isFrozen(c.programs[0]) && Object.isFrozen(c.push));
});

test('config: invalid values and unknown keys are refused with INVALID_CONFIG naming the key', () => {
  const cases: Array<[unknown, string]> = [
    [{ registrationPolicy: 'anyone' }, 'registrationPolicy'],
    [{ bodyLimitBytes: 10 }, 'bodyLimitBytes'],
    [{ pathPrefix: 'noslash' }, 'pathPrefix'],
    [{ colour: 'red' }, 'colour'],
    [{ push: { jitter: 2 } }, 'push.jitter'],
    [{ programs: [{ id: 'p', signals: ['PRICE'] }] }, 'programs[0].signals'],
    [{ programs: [{ id: 'p' }, { id: 'p' }] }, 'programs'],
    [{ programs: [{ id: 'p', marketContext: 'not a uri' }] }, 'programs[0].marketContext'],
    [{ port: 70_000 }, 'port'],
    [{ store: 'mysql://db/x' }, 'store'],
    [{ store: '/var/lib/vtn.db' }, 'store'],
    [{ storeStatementTimeoutMs: 10 }, 'storeStatementTimeoutMs'],
  ];
  for (const [input, key] of cases) {
    assert.throws(
      () => resolveVtnConfig(input as VtnConfigInput),
      (err: unknown) => err instanceof VtnError && err.code === 'INVALID_CONFIG' && err.message.includes(key),
      key,
    );
  }
});

test('config: a resolved configuration resolves to an equal one', () => {
  const c = resolveVtnConfig({ vtnId: 'v', programs: [{ id: 'uvam', signals: ['SIMPLE', 'LOAD_DISPATCH'], rampUpMs: 60_000 }] });
  assert.deepEqual(resolveVtnConfig(c), c);
});

test('config: the iec104 section — off by default, the documented point map, bad values refused naming the key', () => {
  const c = resolveVtnConfig().iec104;
  assert.equal(c.port, undefined);
  assert.deepEqual(
    { host: c.host, commonAddress: c.commonAddress, aggregateIoa: c.aggregateIoa, setpointIoa: c.setpointIoa, unit: c.unit, periodMs: c.periodMs, durationMinutes: c.durationMinutes, k: c.k, w: c.w },
    { host: '127.0.0.1', commonAddress: 1, aggregateIoa: 1001, setpointIoa: 5000, unit: 'kW', periodMs: 4_000, durationMinutes: 120, k: 12, w: 8 },
  );
  const refused = (iec104: VtnConfigInput['iec104'], key: string): void =>
    assert.throws(() => resolveVtnConfig({ iec104 }), (e: unknown) => e instanceof VtnError && e.code === 'INVALID_CONFIG' && e.message.includes(key), key);
  refused({ unit: 'GW' as never }, 'iec104.unit');
  refused({ leadTimeMs: 900_001 }, 'iec104.leadTimeMs');
  refused({ t2Ms: 15_000 }, 'iec104.t2Ms');
  refused({ commonAddress: 65_535 }, 'iec104.commonAddress');
  refused({ connectionPoints: ['a', 'b'], setpointIoa: 1003 }, 'iec104.setpointIoa');
  refused({ bogus: 1 } as never, 'iec104.bogus');
});
