/**
 * Errors of the VEN device layer. Two families, each with a stable `code`:
 *
 * - `ModbusFrameError`: the Modbus TCP codec met bytes it cannot read or a value it cannot write.
 *   Pure, thrown by `modbus-frame.ts`; a server maps it to a Modbus exception or drops the stream.
 * - `DeviceError`: a device driver could not do what the VEN asked (device down, SunSpec map
 *   missing, a setpoint that did not stick). The message says what to check next.
 */

export const FrameErrorCode = {
  /** Fewer bytes than the MBAP header or the PDU needs. */
  TRUNCATED: 'TRUNCATED',
  /** MBAP protocol identifier is not 0 (Modbus). The stream cannot be re-synchronised. */
  BAD_PROTOCOL_ID: 'BAD_PROTOCOL_ID',
  /** MBAP length field does not match the bytes that follow it. */
  LENGTH_MISMATCH: 'LENGTH_MISMATCH',
  /** PDU over 253 bytes (ADU over 260), or an MBAP length field over 254. */
  TOO_LARGE: 'TOO_LARGE',
  /** A function code the codec does not serve (a server answers exception 01). */
  UNSUPPORTED_FUNCTION: 'UNSUPPORTED_FUNCTION',
  /** Well-framed PDU with a bad field: quantity out of range, byte count wrong (exception 03). */
  BAD_PDU: 'BAD_PDU',
  /** A value handed to an encoder is out of range (the caller's bug, not the peer's). */
  INVALID_VALUE: 'INVALID_VALUE',
} as const;
export type FrameErrorCodeValue = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

export class ModbusFrameError extends Error {
  override readonly name = 'ModbusFrameError';
  readonly code: FrameErrorCodeValue;

  constructor(code: FrameErrorCodeValue, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

export const DeviceErrorCode = {
  /** No TCP connection, connection lost, or no answer within the timeout. */
  DEVICE_UNREACHABLE: 'DEVICE_UNREACHABLE',
  /** The device answered a Modbus exception. */
  MODBUS_EXCEPTION: 'MODBUS_EXCEPTION',
  /** No `SunS` marker at any of the base addresses tried. */
  SUNSPEC_NOT_FOUND: 'SUNSPEC_NOT_FOUND',
  /** The model chain lacks a model the driver needs (1 common, 124 storage, …). */
  SUNSPEC_MODEL_MISSING: 'SUNSPEC_MODEL_MISSING',
  /** The model chain is malformed: runs past the address space, never ends, bad lengths. */
  SUNSPEC_BAD_CHAIN: 'SUNSPEC_BAD_CHAIN',
  /** A required point reads as "not implemented" (0xFFFF / 0x8000). */
  POINT_NOT_IMPLEMENTED: 'POINT_NOT_IMPLEMENTED',
  /** The values read back after a write differ from those written. */
  READBACK_MISMATCH: 'READBACK_MISMATCH',
  /** A call that needs discovery ran before `connect()` succeeded. */
  NOT_CONNECTED: 'NOT_CONNECTED',
  /** The caller passed a non-finite setpoint or an invalid option. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;
export type DeviceErrorCodeValue = (typeof DeviceErrorCode)[keyof typeof DeviceErrorCode];

export interface DeviceErrorDetails {
  /** `host:port` (or another endpoint name) of the device. */
  readonly endpoint?: string | undefined;
  /** Modbus exception code, for MODBUS_EXCEPTION. */
  readonly modbusCode?: number | undefined;
  /** What was written and what came back, for READBACK_MISMATCH. */
  readonly expected?: Readonly<Record<string, number>> | undefined;
  readonly actual?: Readonly<Record<string, number>> | undefined;
}

export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  readonly code: DeviceErrorCodeValue;
  readonly endpoint: string | undefined;
  readonly modbusCode: number | undefined;
  readonly expected: Readonly<Record<string, number>> | undefined;
  readonly actual: Readonly<Record<string, number>> | undefined;

  constructor(code: DeviceErrorCodeValue, message: string, details: DeviceErrorDetails = {}, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.endpoint = details.endpoint;
    this.modbusCode = details.modbusCode;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}
