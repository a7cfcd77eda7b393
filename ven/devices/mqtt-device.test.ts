import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import mqtt from 'mqtt';
import { DeviceError } from './errors.ts';
import { createMqttDevice } from './mqtt-device.ts';
import type { MqttDevice, MqttDeviceOptions } from './mqtt-device.ts';
import { createMqttInverterSim } from './mqtt-inverter-sim.ts';
import type { MqttInverterSim, MqttInverterSimOptions } from './mqtt-inverter-sim.ts';
import { mqttTopics, parseSetpoint } from './mqtt-protocol.ts';
import { freePort, startMosquitto } from './testing/mosquitto.ts';
import type { MosquittoBroker } from './testing/mosquitto.ts';
import { until } from '../../test/support/until.ts';

const LIMITS = { maxChargeW: 3000, maxDischargeW: 3000 };

/** Waits (not a timing assertion) until `cond` holds; fails with `what` after 10 s. */
async function broker(t: TestContext): Promise<MosquittoBroker> {
  const b = await startMosquitto();
  t.after(() => b.stop());
  return b;
}

async function driver(t: TestContext, b: MosquittoBroker, extra: Partial<MqttDeviceOptions> = {}): Promise<MqttDevice> {
  const d = createMqttDevice({ url: b.url, site: 'home-1', device: 'inv-1', limits: LIMITS, reconnectPeriodMs: 100, ...extra });
  t.after(() => d.close());
  await d.connect();
  return d;
}

async function inverter(t: TestContext, b: MosquittoBroker, extra: Partial<MqttInverterSimOptions> = {}): Promise<MqttInverterSim> {
  const s = await createMqttInverterSim({ url: b.url, site: 'home-1', device: 'inv-1', normalPowerW: 250, reconnectPeriodMs: 100, ...extra });
  t.after(() => s.close());
  return s;
}

test('a setpoint reaches the simulated inverter and its measurement comes back (clamped to the limits)', async (t) => {
  const b = await broker(t);
  const sim = await inverter(t, b);
  const dev = await driver(t, b);
  t.assert.equal(dev.kind, 'mqtt-power-reference');
  const r = await dev.setPowerTarget(-1500);
  t.assert.deepEqual(r, { powerW: -1500, socPct: undefined, online: true, manualOverride: false, targetW: -1500 });
  t.assert.equal(sim.powerW(), -1500);
  const clamped = await dev.setPowerTarget(-50_000);
  t.assert.equal(clamped.targetW, -3000);
  t.assert.equal(sim.powerW(), -3000);
  const read = await dev.read();
  t.assert.deepEqual([read.powerW, read.online, read.manualOverride], [-3000, true, false]);
  const [first, second] = sim.received();
  assert.ok(first !== undefined && second !== undefined && second.seq > first.seq, 'seq increases');
});

test('the retained setpoint is delivered to a device that connects later', async (t) => {
  const b = await broker(t);
  const dev = await driver(t, b, { confirmTimeoutMs: 300 });
  await t.assert.rejects(dev.setPowerTarget(1200), (e: unknown) => e instanceof DeviceError && e.code === 'DEVICE_UNREACHABLE' && e.message.includes('retained'));
  const sim = await inverter(t, b);
  const s = await sim.nextSetpoint(0);
  t.assert.deepEqual([s.mode, s.mode === 'target' ? s.powerW : null], ['target', 1200]);
  t.assert.equal(sim.powerW(), 1200);
  const r = await dev.read(); // the sim's answer to the retained setpoint
  t.assert.deepEqual([r.powerW, r.targetW, r.online], [1200, 1200, true]);
});

test('the driver reconnects after the broker restarts and re-publishes the last setpoint the restart lost', async (t) => {
  const b = await broker(t);
  const sim = await inverter(t, b);
  const dev = await driver(t, b);
  await dev.setPowerTarget(500);
  const before = sim.received().length;
  await b.restart(); // no persistence: the retained setpoint is gone with the old broker
  await until('driver noticed the restart', () => !dev.isConnected() || sim.received().length > before);
  await until('driver reconnected', () => dev.isConnected());
  // The sim reconnects too; the driver's re-published setpoint reaches it again, same seq.
  const again = await sim.nextSetpoint(before);
  t.assert.deepEqual([again.mode, again.mode === 'target' ? again.powerW : null, again.seq], ['target', 500, sim.received()[before - 1]!.seq]);
  const r = await dev.setPowerTarget(800);
  t.assert.deepEqual([r.powerW, r.targetW], [800, 800]);
  t.assert.equal(sim.powerW(), 800);
});

test('restoreNormal publishes the retained normal mode: the inverter returns to its own power, and a later device gets normal too', async (t) => {
  const b = await broker(t);
  const sim = await inverter(t, b);
  const dev = await driver(t, b);
  await dev.setPowerTarget(-2000);
  await dev.restoreNormal();
  t.assert.deepEqual([sim.mode(), sim.powerW()], ['normal', 250]);
  const r = await dev.read();
  t.assert.deepEqual([r.powerW, r.targetW, r.manualOverride], [250, undefined, false]);
  // What a device connecting now would get: the retained setpoint.
  const probe = await mqtt.connectAsync(b.url);
  t.after(() => probe.endAsync());
  const retained = new Promise<Buffer>((resolve) => probe.on('message', (_topic, payload) => resolve(payload)));
  await probe.subscribeAsync(mqttTopics('home-1', 'inv-1').setpoint, { qos: 1 });
  t.assert.equal(parseSetpoint(await retained).mode, 'normal');
});

test('a local manual override shows as manualOverride; the Will marks a crashed device offline', async (t) => {
  const b = await broker(t);
  const sim = await inverter(t, b);
  const dev = await driver(t, b, { readTimeoutMs: 300 });
  await dev.setPowerTarget(-1000);
  await sim.setManual(400);
  const r = await dev.setPowerTarget(-1000); // the device echoes the seq but keeps its manual power
  t.assert.deepEqual([r.powerW, r.manualOverride, r.targetW], [400, true, undefined]);
  t.assert.equal(dev.deviceStatus(), 'online');
  await sim.crash();
  await until('Will delivered', () => dev.deviceStatus() === 'offline');
  const stale = await dev.read();
  t.assert.deepEqual([stale.powerW, stale.online], [400, false]);
});

test('errors: NOT_CONNECTED before connect(), DEVICE_UNREACHABLE for a broker that is not there, INVALID_ARGUMENT for NaN', async (t) => {
  const dead = createMqttDevice({ url: `mqtt://127.0.0.1:${await freePort()}`, site: 's', device: 'd', limits: LIMITS, connectTimeoutMs: 300 });
  await t.assert.rejects(dead.read(), (e: unknown) => e instanceof DeviceError && e.code === 'NOT_CONNECTED');
  await t.assert.rejects(dead.connect(), (e: unknown) => e instanceof DeviceError && e.code === 'DEVICE_UNREACHABLE');
  const b = await broker(t);
  const dev = await driver(t, b);
  await t.assert.rejects(dev.setPowerTarget(Number.NaN), (e: unknown) => e instanceof DeviceError && e.code === 'INVALID_ARGUMENT');
});
