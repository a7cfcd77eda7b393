import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceError } from './errors.ts';
import { MqttPayloadError, encodeMeasurement, encodeSetpoint, mqttTopics, parseMeasurement, parseSetpoint, parseStatus } from './mqtt-protocol.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

test('topics: oadr-ledger/<site>/<device>/{setpoint,measurement,status}; wildcards and separators refused', (t) => {
  t.assert.deepEqual(mqttTopics('site-1', 'inv.2'), {
    setpoint: 'oadr-ledger/site-1/inv.2/setpoint',
    measurement: 'oadr-ledger/site-1/inv.2/measurement',
    status: 'oadr-ledger/site-1/inv.2/status',
  });
  for (const [site, dev] of [['a/b', 'x'], ['a', '+'], ['#', 'x'], ['', 'x']]) {
    t.assert.throws(() => mqttTopics(site!, dev!), (e: unknown) => e instanceof DeviceError && e.code === 'INVALID_ARGUMENT');
  }
});

test('setpoint: exact bytes on the wire, parse of them, mirror', (t) => {
  const target = { mode: 'target', powerW: -1500, seq: 7, ts: '2026-01-14T10:30:00.000Z' } as const;
  const wire = '{"mode":"target","powerW":-1500,"seq":7,"ts":"2026-01-14T10:30:00.000Z"}';
  t.assert.equal(str(encodeSetpoint(target)), wire);
  t.assert.deepEqual(parseSetpoint(bytes(wire)), target);
  const normal = { mode: 'normal', seq: 8, ts: 'x' } as const;
  t.assert.equal(str(encodeSetpoint(normal)), '{"mode":"normal","seq":8,"ts":"x"}');
  t.assert.deepEqual(parseSetpoint(encodeSetpoint(normal)), normal);
});

test('measurement: exact bytes, optional fields, mirror', (t) => {
  const m = { powerW: -1498, mode: 'target', targetW: -1500, seq: 7, ts: 't' } as const;
  t.assert.equal(str(encodeMeasurement(m)), '{"powerW":-1498,"mode":"target","targetW":-1500,"seq":7,"ts":"t"}');
  t.assert.deepEqual(parseMeasurement(encodeMeasurement(m)), m);
  t.assert.deepEqual(parseMeasurement(bytes('{"powerW":20,"mode":"manual","ts":"t"}')), { powerW: 20, mode: 'manual', ts: 't' });
});

test('bad payloads are MqttPayloadError, never a crash', (t) => {
  const bad = (f: () => unknown, s: string): void => t.assert.throws(f, (e: unknown) => e instanceof MqttPayloadError, s);
  for (const s of ['', 'nan', '[1]', 'null', '{"mode":"target","seq":1,"ts":"t"}', '{"mode":"target","powerW":"5","seq":1,"ts":"t"}', '{"mode":"boost","seq":1,"ts":"t"}', '{"mode":"normal","seq":-1,"ts":"t"}', '{"mode":"normal","seq":1}']) {
    bad(() => parseSetpoint(bytes(s)), s);
  }
  for (const s of ['{"powerW":1,"mode":"off","ts":"t"}', '{"powerW":1e999,"mode":"normal","ts":"t"}', '{"powerW":1,"mode":"normal","ts":"t","seq":1.5}', '{"powerW":1,"mode":"normal","ts":"t","socPct":"x"}']) {
    bad(() => parseMeasurement(bytes(s)), s);
  }
  bad(() => parseSetpoint(new Uint8Array([0xff, 0xfe])), 'not utf-8');
  t.assert.equal(parseStatus(bytes('offline')), 'offline');
  bad(() => parseStatus(bytes('ONLINE')), 'ONLINE');
});

test('fuzz (seeded): random bytes never make a parser throw anything but MqttPayloadError', (t) => {
  let x = 12345;
  const rnd = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const alphabet = bytes('{}[]":,0123456789.-e modetargetnormalpowerWseqts');
  for (let i = 0; i < 2000; i++) {
    const b = Uint8Array.from({ length: rnd() % 40 }, () => (i % 2 === 0 ? rnd() : alphabet[rnd() % alphabet.length]!));
    for (const parse of [parseSetpoint, parseMeasurement, parseStatus]) {
      try {
        parse(b);
      } catch (e) {
        assert.ok(e instanceof MqttPayloadError, String(e));
      }
    }
  }
});
