/**
 * The device side of the MQTT power-reference protocol, simulated: an inverter (or any power-controlled
 * load) that takes setpoints and publishes measurements, as the dSPACE-controlled inverters of the
 * thesis testbed did. For tests and the demo. It announces `online` (retained) on every connection and
 * leaves `offline` as its Will; it applies each setpoint at once (clamped to its own limits) and
 * answers with a measurement that echoes the setpoint's `seq`; under manual override it echoes the
 * `seq` but keeps its manual power, so the VEN sees the override.
 */
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { DeviceStatus, MeasuredMode, MqttPayloadError, SetpointMode, encodeMeasurement, mqttTopics, parseSetpoint } from './mqtt-protocol.ts';
import type { MeasuredModeValue, Setpoint } from './mqtt-protocol.ts';

export interface MqttInverterSimOptions {
  /** Broker URL, `mqtt://host:port`. */
  readonly url: string;
  readonly site: string;
  readonly device: string;
  /** Power in normal operation (no external control), W, grid-side sign; default 0. */
  readonly normalPowerW?: number;
  /** Most the inverter draws / feeds, W (magnitudes); default 10,000 each. */
  readonly maxChargeW?: number;
  readonly maxDischargeW?: number;
  /** Period of unsolicited measurements, ms; 0 (default) = only in answer to a setpoint or a change. */
  readonly measurementIntervalMs?: number;
  readonly reconnectPeriodMs?: number;
  readonly clientId?: string;
  /** Clock for measurement timestamps; default Date.now. */
  readonly now?: () => number;
}

export interface MqttInverterSim {
  powerW(): number;
  mode(): MeasuredModeValue;
  /** Setpoints received, oldest first (retained ones included). */
  received(): Setpoint[];
  /** Resolves at the next received setpoint (or at once with the latest one if `since` received already). */
  nextSetpoint(since?: number): Promise<Setpoint>;
  /** A local operator takes over at `powerW` (or hands back with undefined: normal operation). */
  setManual(powerW: number | undefined): Promise<void>;
  /** Publishes a measurement now. */
  publishMeasurement(): Promise<void>;
  /** Drops the connection without DISCONNECT (the broker then publishes the Will) and stops. */
  crash(): Promise<void>;
  /** Publishes `offline`, disconnects and stops. */
  close(): Promise<void>;
}

export async function createMqttInverterSim(options: Readonly<MqttInverterSimOptions>): Promise<MqttInverterSim> {
  const topics = mqttTopics(options.site, options.device);
  const now = options.now ?? Date.now;
  const normalPowerW = options.normalPowerW ?? 0;
  const clamp = (w: number): number => Math.min(options.maxChargeW ?? 10_000, Math.max(-(options.maxDischargeW ?? 10_000), w));
  let power = normalPowerW;
  let mode: MeasuredModeValue = MeasuredMode.NORMAL;
  let manual = false;
  let seq: number | undefined;
  let target: number | undefined;
  const received: Setpoint[] = [];
  const waiting: ((s: Setpoint) => void)[] = [];

  const client: MqttClient = mqtt.connect(options.url, {
    clientId: options.clientId ?? `oadr-inverter-sim-${options.site}-${options.device}`,
    clean: true,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    will: { topic: topics.status, payload: Buffer.from(DeviceStatus.OFFLINE), qos: 1, retain: true },
  });
  const publishMeasurement = async (): Promise<void> => {
    const payload = encodeMeasurement({ powerW: power, mode, targetW: mode === MeasuredMode.TARGET ? target : undefined, seq, ts: new Date(now()).toISOString() });
    await client.publishAsync(topics.measurement, Buffer.from(payload), { qos: 1 });
  };
  client.on('connect', () => {
    client.publish(topics.status, DeviceStatus.ONLINE, { qos: 1, retain: true });
    client.subscribe(topics.setpoint, { qos: 1 });
  });
  client.on('message', (topic, payload) => {
    if (topic !== topics.setpoint || payload.length === 0) return;
    let s: Setpoint;
    try {
      s = parseSetpoint(payload);
    } catch (err) {
      if (err instanceof MqttPayloadError) return; // a real device would log and ignore it
      throw err;
    }
    received.push(s);
    seq = s.seq;
    if (!manual) {
      if (s.mode === SetpointMode.TARGET) {
        target = clamp(s.powerW);
        power = target;
        mode = MeasuredMode.TARGET;
      } else {
        target = undefined;
        power = normalPowerW;
        mode = MeasuredMode.NORMAL;
      }
    }
    for (const w of waiting.splice(0)) w(s);
    publishMeasurement().catch(() => {});
  });
  const timer = (options.measurementIntervalMs ?? 0) > 0 ? setInterval(() => client.connected && publishMeasurement().catch(() => {}), options.measurementIntervalMs) : undefined;
  timer?.unref();

  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      client.end(true);
      reject(new DeviceError(DeviceErrorCode.DEVICE_UNREACHABLE, `inverter sim could not reach the broker at ${options.url}`));
    }, 5000);
    client.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await client.subscribeAsync(topics.setpoint, { qos: 1 });

  return {
    powerW: () => power,
    mode: () => mode,
    received: () => [...received],
    nextSetpoint: (since = received.length) =>
      received.length > since ? Promise.resolve(received[received.length - 1]!) : new Promise((resolve) => waiting.push(resolve)),
    async setManual(powerW) {
      manual = powerW !== undefined;
      power = powerW ?? normalPowerW;
      mode = manual ? MeasuredMode.MANUAL : MeasuredMode.NORMAL;
      target = undefined;
      await publishMeasurement();
    },
    publishMeasurement,
    async crash() {
      if (timer !== undefined) clearInterval(timer);
      // Destroy the socket so the broker sees a lost connection and publishes the Will.
      client.options.reconnectPeriod = 0;
      client.stream.destroy();
      await client.endAsync(true);
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      if (client.connected) await client.publishAsync(topics.status, DeviceStatus.OFFLINE, { qos: 1, retain: true });
      await client.endAsync();
    },
  };
}
