/**
 * Topics and payloads of the MQTT power-reference protocol (documented in docs/devices.md, "MQTT").
 * The thesis's testbed drove its inverters' power references over MQTT from the customer's app; this is
 * our own protocol in that spirit, one device per topic tree:
 *
 *   oadr-ledger/<site>/<device>/setpoint      VEN → device   QoS 1, retained   {"mode":"target","powerW":-1500,"seq":7,"ts":"…"}
 *                                                                              {"mode":"normal","seq":8,"ts":"…"}
 *   oadr-ledger/<site>/<device>/measurement   device → VEN   QoS 1             {"powerW":-1498,"mode":"target","seq":7,"ts":"…"}
 *   oadr-ledger/<site>/<device>/status        device → VEN   QoS 1, retained   online | offline (offline is the device's Will)
 *
 * Pure: encoders and parsers of values and bytes, no client, no clock. Power follows the sign
 * convention of `device.ts` (+ drawn from the grid, − fed in).
 */
import { DeviceError, DeviceErrorCode } from './errors.ts';

export const MQTT_TOPIC_ROOT = 'oadr-ledger';

export const MqttTopicSuffix = {
  SETPOINT: 'setpoint',
  MEASUREMENT: 'measurement',
  STATUS: 'status',
} as const;

export const DeviceStatus = { ONLINE: 'online', OFFLINE: 'offline' } as const;
export type DeviceStatusValue = (typeof DeviceStatus)[keyof typeof DeviceStatus];

export const SetpointMode = {
  /** Run at `powerW`. */
  TARGET: 'target',
  /** No external control: the device does what it would do on its own. */
  NORMAL: 'normal',
} as const;
/** What the device reports it is doing: following a target, normal operation, or under local (manual) control. */
export const MeasuredMode = { ...SetpointMode, MANUAL: 'manual' } as const;
export type MeasuredModeValue = (typeof MeasuredMode)[keyof typeof MeasuredMode];

export interface MqttTopics {
  readonly setpoint: string;
  readonly measurement: string;
  readonly status: string;
}

const LEVEL = /^[A-Za-z0-9_.-]{1,64}$/;

/** The three topics of one device. `site` and `device` are single topic levels: letters, digits, `_ . -`. */
export function mqttTopics(site: string, device: string): MqttTopics {
  for (const [name, value] of [['site', site], ['device', device]] as const) {
    if (!LEVEL.test(value)) {
      throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `MQTT ${name} ${JSON.stringify(value)} must be 1–64 letters, digits, '_', '.' or '-' (no '/', '+', '#')`);
    }
  }
  const base = `${MQTT_TOPIC_ROOT}/${site}/${device}`;
  return { setpoint: `${base}/${MqttTopicSuffix.SETPOINT}`, measurement: `${base}/${MqttTopicSuffix.MEASUREMENT}`, status: `${base}/${MqttTopicSuffix.STATUS}` };
}

export type Setpoint =
  | { readonly mode: typeof SetpointMode.TARGET; readonly powerW: number; readonly seq: number; readonly ts: string }
  | { readonly mode: typeof SetpointMode.NORMAL; readonly seq: number; readonly ts: string };

export interface Measurement {
  readonly powerW: number;
  readonly mode: MeasuredModeValue;
  /** `seq` of the last setpoint the device applied; absent if it never got one. */
  readonly seq?: number | undefined;
  /** The target in force, in mode 'target'. */
  readonly targetW?: number | undefined;
  readonly socPct?: number | undefined;
  readonly ts: string;
}

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

export function encodeSetpoint(s: Setpoint): Uint8Array {
  return utf8.encode(JSON.stringify(s.mode === SetpointMode.TARGET ? { mode: s.mode, powerW: s.powerW, seq: s.seq, ts: s.ts } : { mode: s.mode, seq: s.seq, ts: s.ts }));
}

export function encodeMeasurement(m: Measurement): Uint8Array {
  const o: Record<string, unknown> = { powerW: m.powerW, mode: m.mode };
  if (m.targetW !== undefined) o['targetW'] = m.targetW;
  if (m.socPct !== undefined) o['socPct'] = m.socPct;
  if (m.seq !== undefined) o['seq'] = m.seq;
  o['ts'] = m.ts;
  return utf8.encode(JSON.stringify(o));
}

/** A payload that is not what the protocol says. The receiver logs it and ignores the message. */
export class MqttPayloadError extends Error {
  override readonly name = 'MqttPayloadError';
}

function parseObject(payload: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text.decode(payload));
  } catch (err) {
    throw new MqttPayloadError(`${what} payload is not UTF-8 JSON`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MqttPayloadError(`${what} payload is not a JSON object`);
  return v as Record<string, unknown>;
}

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isSeq = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

export function parseSetpoint(payload: Uint8Array): Setpoint {
  const o = parseObject(payload, 'setpoint');
  if (!isSeq(o['seq']) || typeof o['ts'] !== 'string') throw new MqttPayloadError('setpoint needs a whole "seq" ≥ 0 and a "ts" string');
  if (o['mode'] === SetpointMode.NORMAL) return { mode: SetpointMode.NORMAL, seq: o['seq'], ts: o['ts'] };
  if (o['mode'] === SetpointMode.TARGET && isFiniteNumber(o['powerW'])) return { mode: SetpointMode.TARGET, powerW: o['powerW'], seq: o['seq'], ts: o['ts'] };
  throw new MqttPayloadError('setpoint "mode" must be "normal", or "target" with a finite "powerW"');
}

export function parseMeasurement(payload: Uint8Array): Measurement {
  const o = parseObject(payload, 'measurement');
  const mode = o['mode'];
  if (!isFiniteNumber(o['powerW']) || typeof o['ts'] !== 'string' || (mode !== 'target' && mode !== 'normal' && mode !== 'manual')) {
    throw new MqttPayloadError('measurement needs a finite "powerW", a "mode" of target/normal/manual and a "ts" string');
  }
  for (const k of ['targetW', 'socPct'] as const) if (o[k] !== undefined && !isFiniteNumber(o[k])) throw new MqttPayloadError(`measurement "${k}" must be a finite number`);
  if (o['seq'] !== undefined && !isSeq(o['seq'])) throw new MqttPayloadError('measurement "seq" must be a whole number ≥ 0');
  return {
    powerW: o['powerW'],
    mode,
    ts: o['ts'],
    ...(o['seq'] === undefined ? {} : { seq: o['seq'] as number }),
    ...(o['targetW'] === undefined ? {} : { targetW: o['targetW'] as number }),
    ...(o['socPct'] === undefined ? {} : { socPct: o['socPct'] as number }),
  };
}

export function parseStatus(payload: Uint8Array): DeviceStatusValue {
  let s: string;
  try {
    s = text.decode(payload);
  } catch (err) {
    throw new MqttPayloadError('status payload is not UTF-8', { cause: err });
  }
  if (s === DeviceStatus.ONLINE || s === DeviceStatus.OFFLINE) return s;
  throw new MqttPayloadError(`status payload must be "online" or "offline", got ${JSON.stringify(s.slice(0, 32))}`);
}
