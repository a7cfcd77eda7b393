/**
 * Errors of the IEC 60870-5-104 part. An `Iec104Error` has a stable `code`; the message says what
 * was wrong and what to do. The codec throws nothing else on any input (the fuzz test checks it).
 */

export const IEC104_ERROR_CODES = [
  /** A frame does not begin with the start octet 0x68. */
  'BAD_START',
  /** The APDU length octet is below 4 or above 253, or an S/U frame carries an ASDU. */
  'BAD_LENGTH',
  /** Fewer octets than the length octet (or the ASDU's structure) announces. */
  'TRUNCATED',
  /** A control field that is no valid I, S or U format (a U frame with no or several functions). */
  'BAD_CONTROL',
  /** An ASDU type identification this codec does not know (answered with cause 44). */
  'UNKNOWN_TYPE',
  /** An ASDU whose length does not match its VSQ (number of objects, SQ bit) and type. */
  'ASDU_LENGTH',
  /** A value that cannot be encoded (out of range, not finite, a wrong field). */
  'BAD_VALUE',
  /** Link layer: a wrong N(S), an N(R) outside the window, an I-frame before STARTDT (the connection closes). */
  'SEQUENCE',
  /** Link layer: t1 ran out (an I-frame or a U act not confirmed). */
  'TIMEOUT',
  /** Configuration of the station or the bridge is invalid. */
  'INVALID_CONFIG',
  /** The connection or the station is closed. */
  'CLOSED',
] as const;

export type Iec104ErrorCode = (typeof IEC104_ERROR_CODES)[number];

export class Iec104Error extends Error {
  override readonly name = 'Iec104Error';
  readonly code: Iec104ErrorCode;

  constructor(code: Iec104ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
