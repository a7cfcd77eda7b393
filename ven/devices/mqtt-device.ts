/**
 * `Device` driver for a power-controlled device behind an MQTT broker: per-device power references
 * and measurements, as the thesis testbed drove its inverters (topics and payloads in
 * `mqtt-protocol.ts` and docs/devices.md).
 *
 * - Setpoints go out QoS 1 and **retained**, so a device that connects (or reconnects) later gets the
 *   last one at once; each carries a `seq` (increasing, seeded from the clock so it also increases
 *   across driver restarts) that the device echoes in its measurement: that echo is the read-back.
 * - The client reconnects on its own (every `reconnectPeriodMs`), resubscribes, and re-publishes the
 *   last setpoint, so the retained setpoint survives a broker that restarted without persistence.
 * - `restoreNormal()` publishes the retained `{"mode":"normal"}` setpoint: a device that connects
 *   later also returns to normal operation.
 * - The device's `status` (its retained `online`, its Will `offline`) and the age of its last
 *   measurement make up `online`; a measurement in mode `manual` is a manual override.
 */
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { clampToLimits, Metering } from './device.ts';
import type { Device, DeviceLimits, DeviceReading, MeteringValue } from './device.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { DeviceStatus, MeasuredMode, MqttPayloadError, SetpointMode, encodeSetpoint, mqttTopics, parseMeasurement, parseStatus } from './mqtt-protocol.ts';
import type { DeviceStatusValue, Measurement, Setpoint } from './mqtt-protocol.ts';

export const MQTT_DEVICE_KIND = 'mqtt-power-reference';

export interface MqttDeviceOptions {
  /** Broker URL: `mqtt://host:1883`, `mqtts://…` (TLS options through `clientOptions`). */
  readonly url: string;
  readonly site: string;
  readonly device: string;
  /** What the device may be set to; `setPowerTarget` clamps to these. */
  readonly limits: DeviceLimits;
  /**
   * What the measurement's `powerW` is: `device` (default: the device's own power) or `site` (the
   * publisher measures the customer's connection point, e.g. an EMS gateway behind the meter).
   */
  readonly metering?: MeteringValue | undefined;
  readonly clientId?: string;
  /** Extra MQTT.js options (credentials, TLS, protocolVersion); ours win for clean, will and reconnect. */
  readonly clientOptions?: Readonly<IClientOptions>;
  /** Delay between reconnection attempts, ms; default 1,000. */
  readonly reconnectPeriodMs?: number;
  /** Longest wait for the first connection, ms; default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for the device to confirm a setpoint, ms; default 10,000. */
  readonly confirmTimeoutMs?: number;
  /** A measurement younger than this is fresh for `read()`, ms; default 5,000. */
  readonly maxAgeMs?: number;
  /** Longest wait in `read()` for a fresh measurement, ms; default 5,000. */
  readonly readTimeoutMs?: number;
  /** Clock for `ts`, `seq` and measurement age; default Date.now. */
  readonly now?: () => number;
  /** Called with every message the driver had to ignore (bad payload); default: ignored silently. */
  readonly onBadMessage?: (topic: string, err: MqttPayloadError) => void;
}

export interface MqttDevice extends Device {
  /** True while the client holds a connection to the broker. */
  isConnected(): boolean;
  /** The device's last announced status; 'unknown' before it announced one. */
  deviceStatus(): DeviceStatusValue | 'unknown';
  /** Resolves once the client is connected again (at once if it is). */
  whenConnected(): Promise<void>;
}

interface Waiter {
  readonly accept: (m: Measurement) => boolean;
  readonly resolve: (m: Measurement) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export function createMqttDevice(options: Readonly<MqttDeviceOptions>): MqttDevice {
  const topics = mqttTopics(options.site, options.device);
  const now = options.now ?? Date.now;
  const endpoint = `${options.url} ${topics.setpoint.slice(0, -'/setpoint'.length)}`;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 5_000;
  const readTimeoutMs = options.readTimeoutMs ?? 5_000;
  let client: MqttClient | undefined;
  let closed = false;
  let seq = 0;
  let lastCommand: Setpoint | undefined;
  let last: { m: Measurement; at: number } | undefined;
  let status: DeviceStatusValue | 'unknown' = 'unknown';
  const waiters = new Set<Waiter>();
  const onConnect = new Set<() => void>();

  const unreachable = (message: string, cause?: unknown): DeviceError =>
    new DeviceError(DeviceErrorCode.DEVICE_UNREACHABLE, message, { endpoint }, cause === undefined ? undefined : { cause });
  const nextSeq = (): number => (seq = Math.max(seq + 1, Math.floor(now())));
  const reading = (m: Measurement, online: boolean): DeviceReading => ({
    powerW: m.powerW,
    socPct: m.socPct,
    online,
    manualOverride: m.mode === MeasuredMode.MANUAL,
    targetW: m.mode === MeasuredMode.TARGET ? m.targetW : undefined,
  });
  const waitFor = (accept: (m: Measurement) => boolean, timeoutMs: number, onTimeout: () => Error): Promise<Measurement> =>
    new Promise((resolve, reject) => {
      const w: Waiter = {
        accept,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(w);
          reject(onTimeout());
        }, timeoutMs),
      };
      w.timer.unref?.();
      waiters.add(w);
    });
  const need = (): MqttClient => {
    if (client === undefined || closed) throw new DeviceError(DeviceErrorCode.NOT_CONNECTED, `MQTT device ${options.device}: call connect() first (or it was closed)`, { endpoint });
    return client;
  };
  const publishCommand = async (c: MqttClient, s: Setpoint): Promise<void> => {
    // QoS 1 publishes made while offline are queued by MQTT.js and sent on reconnection.
    await c.publishAsync(topics.setpoint, Buffer.from(encodeSetpoint(s)), { qos: 1, retain: true });
  };
  /** Publishes `s` and waits for the measurement that echoes its seq. */
  const command = async (s: Setpoint): Promise<Measurement> => {
    const c = need();
    lastCommand = s;
    const confirmed = waitFor(
      (m) => m.seq !== undefined && m.seq >= s.seq,
      confirmTimeoutMs,
      () => unreachable(`setpoint seq ${s.seq} is published (retained) on ${topics.setpoint} but ${options.device} did not confirm it within ${confirmTimeoutMs} ms; the device gets it when it reconnects — check that it is running`),
    );
    await Promise.all([publishCommand(c, s), confirmed]).catch((err: unknown) => {
      confirmed.catch(() => {});
      throw err;
    });
    return confirmed;
  };

  return {
    kind: MQTT_DEVICE_KIND,
    metering: options.metering ?? Metering.DEVICE,
    async connect() {
      if (client !== undefined) return;
      closed = false;
      const c = mqtt.connect(options.url, {
        ...options.clientOptions,
        clientId: options.clientId ?? `oadr-ledger-ven-${options.site}-${options.device}`,
        clean: true,
        reconnectPeriod: options.reconnectPeriodMs ?? 1000,
        connectTimeout: options.connectTimeoutMs ?? 5000,
      });
      client = c;
      c.on('message', (topic, payload) => {
        try {
          if (topic === topics.status) {
            status = payload.length === 0 ? 'unknown' : parseStatus(payload);
          } else if (topic === topics.measurement) {
            const m = parseMeasurement(payload);
            last = { m, at: now() };
            for (const w of waiters) {
              if (!w.accept(m)) continue;
              clearTimeout(w.timer);
              waiters.delete(w);
              w.resolve(m);
            }
          }
        } catch (err) {
          if (!(err instanceof MqttPayloadError)) throw err;
          options.onBadMessage?.(topic, err);
        }
      });
      let first = true;
      c.on('connect', () => {
        // MQTT.js resubscribes by itself; the last setpoint is re-published because a broker that
        // restarted without persistence lost it (the same payload again is harmless otherwise).
        if (!first && lastCommand !== undefined) publishCommand(c, lastCommand).catch(() => {});
        first = false;
        for (const f of onConnect) f();
        onConnect.clear();
      });
      c.on('error', () => {}); // connection errors surface as timeouts of the calls that need the device
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(unreachable(`no connection to the MQTT broker ${options.url} within ${options.connectTimeoutMs ?? 5000} ms; check the URL and that the broker runs`)), options.connectTimeoutMs ?? 5000);
          c.once('connect', () => {
            clearTimeout(t);
            resolve();
          });
        });
        await c.subscribeAsync([topics.measurement, topics.status], { qos: 1 });
      } catch (err) {
        client = undefined;
        await c.endAsync(true).catch(() => {});
        throw err instanceof DeviceError ? err : unreachable(`subscribing to ${topics.measurement} failed`, err);
      }
    },
    async read() {
      need();
      if (last !== undefined && now() - last.at <= maxAgeMs && status !== DeviceStatus.OFFLINE) return reading(last.m, true);
      try {
        const m = await waitFor(() => true, readTimeoutMs, () => unreachable(`no measurement from ${options.device} on ${topics.measurement} within ${readTimeoutMs} ms; check that the device runs`));
        return reading(m, status !== DeviceStatus.OFFLINE);
      } catch (err) {
        if (last !== undefined) return reading(last.m, false);
        throw err;
      }
    },
    async setPowerTarget(targetW) {
      let clamped: number;
      try {
        clamped = clampToLimits(targetW, options.limits);
      } catch (err) {
        throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `power target ${String(targetW)} W is not a finite number`, { endpoint }, { cause: err });
      }
      const m = await command({ mode: SetpointMode.TARGET, powerW: clamped, seq: nextSeq(), ts: new Date(now()).toISOString() });
      if (m.mode === MeasuredMode.TARGET && m.targetW !== clamped) {
        throw new DeviceError(DeviceErrorCode.READBACK_MISMATCH, `${options.device} applied ${m.targetW} W instead of ${clamped} W; align the driver's limits with the device's`, {
          endpoint,
          expected: { targetW: clamped },
          actual: { targetW: m.targetW ?? Number.NaN },
        });
      }
      return { ...reading(m, true), targetW: m.mode === MeasuredMode.TARGET ? clamped : undefined };
    },
    async restoreNormal() {
      const m = await command({ mode: SetpointMode.NORMAL, seq: nextSeq(), ts: new Date(now()).toISOString() });
      if (m.mode === MeasuredMode.TARGET) {
        throw new DeviceError(DeviceErrorCode.READBACK_MISMATCH, `${options.device} still follows a target after the normal-mode setpoint`, { endpoint });
      }
    },
    limits: () => options.limits,
    isConnected: () => client?.connected === true,
    deviceStatus: () => status,
    whenConnected: () => (client?.connected === true ? Promise.resolve() : new Promise<void>((resolve) => onConnect.add(resolve))),
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(unreachable('the driver was closed'));
      }
      waiters.clear();
      if (c !== undefined) await c.endAsync(!c.connected);
    },
  };
}
