/**
 * Modbus TCP codec: MBAP header + PDU, for the function codes our SunSpec devices use
 * (0x03 read holding registers, 0x04 read input registers, 0x06 write single register,
 * 0x10 write multiple registers) and exception responses. Pure: bytes in, values out, no I/O,
 * no clock. Clause references are to "MODBUS Application Protocol Specification V1.1b3" (AP)
 * and "MODBUS Messaging on TCP/IP Implementation Guide V1.0b" (TCP).
 *
 * ADU layout [TCP 3.1.3]: transaction id (u16) | protocol id (u16, 0 = Modbus) |
 * length (u16, bytes that follow: unit id + PDU) | unit id (u8) | PDU (function code + data).
 * All multi-byte fields are big-endian.
 */
import { FrameErrorCode, ModbusFrameError } from './errors.ts';

/** Bytes of the MBAP header including the unit id. */
export const MBAP_LENGTH = 7;
/** [AP 4.1] the PDU is at most 253 bytes (256-byte serial ADU minus address and CRC). */
export const MAX_PDU_LENGTH = 253;
/** [TCP 3.1.3] hence at most 260 bytes of Modbus TCP ADU. */
export const MAX_ADU_LENGTH = MBAP_LENGTH + MAX_PDU_LENGTH;
/** [AP 6.3, 6.4] at most 125 registers per read. */
export const MAX_READ_QUANTITY = 125;
/** [AP 6.12] at most 123 registers per write-multiple. */
export const MAX_WRITE_QUANTITY = 123;

export const FunctionCode = {
  READ_HOLDING_REGISTERS: 0x03,
  READ_INPUT_REGISTERS: 0x04,
  WRITE_SINGLE_REGISTER: 0x06,
  WRITE_MULTIPLE_REGISTERS: 0x10,
} as const;
export type ReadFunctionCode = typeof FunctionCode.READ_HOLDING_REGISTERS | typeof FunctionCode.READ_INPUT_REGISTERS;

/** [AP 7] exception codes a server answers with (function code | 0x80, then this byte). */
export const ExceptionCode = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  SERVER_DEVICE_FAILURE: 0x04,
} as const;
export type ExceptionCodeValue = (typeof ExceptionCode)[keyof typeof ExceptionCode];

/** One Modbus TCP application data unit, PDU still undecoded. */
export interface Adu {
  readonly transactionId: number;
  readonly unitId: number;
  readonly pdu: Uint8Array;
}

export type ModbusRequest =
  | { readonly kind: 'read'; readonly fc: ReadFunctionCode; readonly address: number; readonly quantity: number }
  | { readonly kind: 'write-single'; readonly address: number; readonly value: number }
  | { readonly kind: 'write-multiple'; readonly address: number; readonly values: readonly number[] };

export type ModbusResponse =
  | { readonly kind: 'read'; readonly fc: ReadFunctionCode; readonly values: readonly number[] }
  | { readonly kind: 'write-single'; readonly address: number; readonly value: number }
  | { readonly kind: 'write-multiple'; readonly address: number; readonly quantity: number }
  /** `fc` is the request's function code (without the 0x80 bit); `exceptionCode` as received (may be outside 1–4). */
  | { readonly kind: 'exception'; readonly fc: number; readonly exceptionCode: number };

export interface SplitResult {
  /** Complete ADUs, in order, each a fresh copy. */
  readonly frames: Uint8Array[];
  /** Bytes of an incomplete ADU to pass back with the next chunk. */
  readonly carry: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function requireInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ModbusFrameError(FrameErrorCode.INVALID_VALUE, `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

function isReadFc(fc: number): fc is ReadFunctionCode {
  return fc === FunctionCode.READ_HOLDING_REGISTERS || fc === FunctionCode.READ_INPUT_REGISTERS;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// ADU (MBAP header)

export function encodeAdu(adu: Adu): Uint8Array {
  requireInt('transactionId', adu.transactionId, 0, 0xffff);
  requireInt('unitId', adu.unitId, 0, 0xff);
  if (adu.pdu.length > MAX_PDU_LENGTH) {
    throw new ModbusFrameError(FrameErrorCode.TOO_LARGE, `PDU of ${adu.pdu.length} bytes exceeds ${MAX_PDU_LENGTH} [AP 4.1]`);
  }
  if (adu.pdu.length === 0) throw new ModbusFrameError(FrameErrorCode.INVALID_VALUE, 'PDU is empty: it needs at least a function code');
  const out = new Uint8Array(MBAP_LENGTH + adu.pdu.length);
  const dv = view(out);
  dv.setUint16(0, adu.transactionId);
  dv.setUint16(2, 0);
  dv.setUint16(4, adu.pdu.length + 1);
  dv.setUint8(6, adu.unitId);
  out.set(adu.pdu, MBAP_LENGTH);
  return out;
}

/** Reads one complete ADU (as `splitFrames` yields them). The PDU is a copy. */
export function parseAdu(bytes: Uint8Array): Adu {
  if (bytes.length < MBAP_LENGTH + 1) {
    throw new ModbusFrameError(FrameErrorCode.TRUNCATED, `ADU of ${bytes.length} bytes is shorter than the 7-byte MBAP header plus a function code`);
  }
  const dv = view(bytes);
  const protocolId = dv.getUint16(2);
  if (protocolId !== 0) {
    throw new ModbusFrameError(FrameErrorCode.BAD_PROTOCOL_ID, `MBAP protocol id is ${protocolId}, not 0 (Modbus) [TCP 3.1.3]`);
  }
  const length = dv.getUint16(4);
  if (length > MAX_PDU_LENGTH + 1 || bytes.length > MAX_ADU_LENGTH) {
    throw new ModbusFrameError(FrameErrorCode.TOO_LARGE, `MBAP length ${length} (ADU ${bytes.length} bytes) exceeds ${MAX_PDU_LENGTH + 1} (${MAX_ADU_LENGTH}) [TCP 3.1.3]`);
  }
  if (length !== bytes.length - 6) {
    throw new ModbusFrameError(FrameErrorCode.LENGTH_MISMATCH, `MBAP length field says ${length} bytes follow, ${bytes.length - 6} do`);
  }
  return { transactionId: dv.getUint16(0), unitId: dv.getUint8(6), pdu: bytes.slice(MBAP_LENGTH) };
}

/**
 * TCP stream reassembly: appends `chunk` to `carry` and cuts off every complete ADU.
 * Throws on a protocol id other than 0 or a length field outside [2, 254]: the stream then
 * cannot be re-synchronised and the connection should be dropped.
 */
export function splitFrames(chunk: Uint8Array, carry: Uint8Array = EMPTY): SplitResult {
  let buf: Uint8Array;
  if (carry.length === 0) buf = chunk;
  else {
    buf = new Uint8Array(carry.length + chunk.length);
    buf.set(carry, 0);
    buf.set(chunk, carry.length);
  }
  const frames: Uint8Array[] = [];
  const dv = view(buf);
  let off = 0;
  while (buf.length - off >= 6) {
    const protocolId = dv.getUint16(off + 2);
    if (protocolId !== 0) {
      throw new ModbusFrameError(FrameErrorCode.BAD_PROTOCOL_ID, `MBAP protocol id is ${protocolId}, not 0 (Modbus) [TCP 3.1.3]`);
    }
    const length = dv.getUint16(off + 4);
    if (length > MAX_PDU_LENGTH + 1) {
      throw new ModbusFrameError(FrameErrorCode.TOO_LARGE, `MBAP length ${length} exceeds ${MAX_PDU_LENGTH + 1} [TCP 3.1.3]`);
    }
    if (length < 2) {
      throw new ModbusFrameError(FrameErrorCode.LENGTH_MISMATCH, `MBAP length ${length} leaves no room for unit id and function code`);
    }
    if (buf.length - off < 6 + length) break;
    frames.push(buf.slice(off, off + 6 + length));
    off += 6 + length;
  }
  return { frames, carry: off === buf.length ? EMPTY : buf.slice(off) };
}

// ---------------------------------------------------------------------------------------------
// Requests

export function encodeRequest(request: ModbusRequest): Uint8Array {
  switch (request.kind) {
    case 'read': {
      if (!isReadFc(request.fc)) throw new ModbusFrameError(FrameErrorCode.INVALID_VALUE, `read function code ${hex(request.fc)} is not 0x03 or 0x04`);
      requireInt('address', request.address, 0, 0xffff);
      requireInt('quantity', request.quantity, 1, MAX_READ_QUANTITY);
      requireInt('address + quantity', request.address + request.quantity, 1, 0x10000);
      const out = new Uint8Array(5);
      const dv = view(out);
      dv.setUint8(0, request.fc);
      dv.setUint16(1, request.address);
      dv.setUint16(3, request.quantity);
      return out;
    }
    case 'write-single': {
      requireInt('address', request.address, 0, 0xffff);
      requireInt('value', request.value, 0, 0xffff);
      const out = new Uint8Array(5);
      const dv = view(out);
      dv.setUint8(0, FunctionCode.WRITE_SINGLE_REGISTER);
      dv.setUint16(1, request.address);
      dv.setUint16(3, request.value);
      return out;
    }
    case 'write-multiple': {
      const n = request.values.length;
      requireInt('address', request.address, 0, 0xffff);
      requireInt('quantity', n, 1, MAX_WRITE_QUANTITY);
      requireInt('address + quantity', request.address + n, 1, 0x10000);
      const out = new Uint8Array(6 + 2 * n);
      const dv = view(out);
      dv.setUint8(0, FunctionCode.WRITE_MULTIPLE_REGISTERS);
      dv.setUint16(1, request.address);
      dv.setUint16(3, n);
      dv.setUint8(5, 2 * n);
      request.values.forEach((v, i) => {
        requireInt(`values[${i}]`, v, 0, 0xffff);
        dv.setUint16(6 + 2 * i, v);
      });
      return out;
    }
  }
}

/**
 * Decodes a request PDU. UNSUPPORTED_FUNCTION maps to exception 01, TRUNCATED and BAD_PDU to 03
 * (see `exceptionFor`). Address ranges are not checked here: that is the server's map (02).
 */
export function parseRequest(pdu: Uint8Array): ModbusRequest {
  if (pdu.length < 1) throw new ModbusFrameError(FrameErrorCode.TRUNCATED, 'empty PDU: no function code');
  const dv = view(pdu);
  const fc = dv.getUint8(0);
  switch (fc) {
    case FunctionCode.READ_HOLDING_REGISTERS:
    case FunctionCode.READ_INPUT_REGISTERS: {
      exactLength(pdu, 5, fc);
      const quantity = dv.getUint16(3);
      // [AP 6.3] 1 <= quantity <= 0x7D, else exception 03
      if (quantity < 1 || quantity > MAX_READ_QUANTITY) {
        throw new ModbusFrameError(FrameErrorCode.BAD_PDU, `read quantity ${quantity} outside [1, ${MAX_READ_QUANTITY}] [AP 6.3]`);
      }
      return { kind: 'read', fc, address: dv.getUint16(1), quantity };
    }
    case FunctionCode.WRITE_SINGLE_REGISTER:
      exactLength(pdu, 5, fc);
      return { kind: 'write-single', address: dv.getUint16(1), value: dv.getUint16(3) };
    case FunctionCode.WRITE_MULTIPLE_REGISTERS: {
      if (pdu.length < 6) throw new ModbusFrameError(FrameErrorCode.TRUNCATED, `write-multiple PDU of ${pdu.length} bytes is shorter than 6`);
      const quantity = dv.getUint16(3);
      const byteCount = dv.getUint8(5);
      // [AP 6.12] 1 <= quantity <= 0x7B and byte count = 2 × quantity, else exception 03
      if (quantity < 1 || quantity > MAX_WRITE_QUANTITY || byteCount !== 2 * quantity) {
        throw new ModbusFrameError(FrameErrorCode.BAD_PDU, `write-multiple quantity ${quantity} with byte count ${byteCount} is invalid [AP 6.12]`);
      }
      exactLength(pdu, 6 + byteCount, fc);
      const values: number[] = [];
      for (let i = 0; i < quantity; i++) values.push(dv.getUint16(6 + 2 * i));
      return { kind: 'write-multiple', address: dv.getUint16(1), values };
    }
    default:
      throw new ModbusFrameError(FrameErrorCode.UNSUPPORTED_FUNCTION, `function code ${hex(fc)} is not served`);
  }
}

function exactLength(pdu: Uint8Array, expected: number, fc: number): void {
  if (pdu.length < expected) {
    throw new ModbusFrameError(FrameErrorCode.TRUNCATED, `PDU for function ${hex(fc)} has ${pdu.length} bytes, needs ${expected}`);
  }
  if (pdu.length > expected) {
    throw new ModbusFrameError(FrameErrorCode.BAD_PDU, `PDU for function ${hex(fc)} has ${pdu.length} bytes, expected ${expected}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

export function encodeResponse(response: ModbusResponse): Uint8Array {
  switch (response.kind) {
    case 'read': {
      if (!isReadFc(response.fc)) throw new ModbusFrameError(FrameErrorCode.INVALID_VALUE, `read function code ${hex(response.fc)} is not 0x03 or 0x04`);
      requireInt('quantity', response.values.length, 1, MAX_READ_QUANTITY);
      const out = new Uint8Array(2 + 2 * response.values.length);
      const dv = view(out);
      dv.setUint8(0, response.fc);
      dv.setUint8(1, 2 * response.values.length);
      response.values.forEach((v, i) => {
        requireInt(`values[${i}]`, v, 0, 0xffff);
        dv.setUint16(2 + 2 * i, v);
      });
      return out;
    }
    case 'write-single': {
      requireInt('address', response.address, 0, 0xffff);
      requireInt('value', response.value, 0, 0xffff);
      const out = new Uint8Array(5);
      const dv = view(out);
      dv.setUint8(0, FunctionCode.WRITE_SINGLE_REGISTER);
      dv.setUint16(1, response.address);
      dv.setUint16(3, response.value);
      return out;
    }
    case 'write-multiple': {
      requireInt('address', response.address, 0, 0xffff);
      requireInt('quantity', response.quantity, 1, MAX_WRITE_QUANTITY);
      const out = new Uint8Array(5);
      const dv = view(out);
      dv.setUint8(0, FunctionCode.WRITE_MULTIPLE_REGISTERS);
      dv.setUint16(1, response.address);
      dv.setUint16(3, response.quantity);
      return out;
    }
    case 'exception': {
      requireInt('fc', response.fc, 1, 0x7f);
      requireInt('exceptionCode', response.exceptionCode, 1, 0xff);
      return Uint8Array.of(response.fc | 0x80, response.exceptionCode);
    }
  }
}

export function parseResponse(pdu: Uint8Array): ModbusResponse {
  if (pdu.length < 1) throw new ModbusFrameError(FrameErrorCode.TRUNCATED, 'empty PDU: no function code');
  const dv = view(pdu);
  const fc = dv.getUint8(0);
  if (fc & 0x80) {
    exactLength(pdu, 2, fc);
    return { kind: 'exception', fc: fc & 0x7f, exceptionCode: dv.getUint8(1) };
  }
  switch (fc) {
    case FunctionCode.READ_HOLDING_REGISTERS:
    case FunctionCode.READ_INPUT_REGISTERS: {
      if (pdu.length < 2) throw new ModbusFrameError(FrameErrorCode.TRUNCATED, 'read response without byte count');
      const byteCount = dv.getUint8(1);
      if (byteCount === 0 || byteCount % 2 !== 0 || byteCount > 2 * MAX_READ_QUANTITY) {
        throw new ModbusFrameError(FrameErrorCode.BAD_PDU, `read response byte count ${byteCount} is not an even number in [2, ${2 * MAX_READ_QUANTITY}]`);
      }
      exactLength(pdu, 2 + byteCount, fc);
      const values: number[] = [];
      for (let i = 0; i < byteCount / 2; i++) values.push(dv.getUint16(2 + 2 * i));
      return { kind: 'read', fc, values };
    }
    case FunctionCode.WRITE_SINGLE_REGISTER:
      exactLength(pdu, 5, fc);
      return { kind: 'write-single', address: dv.getUint16(1), value: dv.getUint16(3) };
    case FunctionCode.WRITE_MULTIPLE_REGISTERS: {
      exactLength(pdu, 5, fc);
      const quantity = dv.getUint16(3);
      if (quantity < 1 || quantity > MAX_WRITE_QUANTITY) {
        throw new ModbusFrameError(FrameErrorCode.BAD_PDU, `write-multiple response quantity ${quantity} outside [1, ${MAX_WRITE_QUANTITY}]`);
      }
      return { kind: 'write-multiple', address: dv.getUint16(1), quantity };
    }
    default:
      throw new ModbusFrameError(FrameErrorCode.UNSUPPORTED_FUNCTION, `function code ${hex(fc)} is not understood`);
  }
}

/** The exception a server answers for a request PDU that `parseRequest` refused. */
export function exceptionFor(error: ModbusFrameError): ExceptionCodeValue {
  return error.code === FrameErrorCode.UNSUPPORTED_FUNCTION ? ExceptionCode.ILLEGAL_FUNCTION : ExceptionCode.ILLEGAL_DATA_VALUE;
}
