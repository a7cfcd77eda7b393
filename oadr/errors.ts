/**
 * Errors of the OpenADR message layer. Every failure to read or write a payload is an
 * `OadrCodecError` with a stable `code`, and says how the receiver must answer:
 *
 * - a transport-level error (`transport: true`): the message never became an OpenADR payload
 *   (malformed XML, DTD, too large, not schema-valid). HTTP answers with `httpStatus`
 *   (406 per §9.1.5, 413 for oversize), XMPP with an IQ `bad-request`.
 * - an application-level error (`transport: false`): the payload is readable but wrong; the
 *   receiver answers HTTP 200 with `responseCode` (§8.7) in the matching response payload.
 */

/** OpenADR application response codes (§8.7), as named in spec/openadr-2.0b-rules.md 2.7. */
export const ResponseCode = {
  OK: 200,
  OUT_OF_SEQUENCE: 450,
  NOT_ALLOWED: 451,
  INVALID_ID: 452,
  NOT_RECOGNIZED: 453,
  INVALID_DATA: 454,
  COMPLIANCE_ERROR: 459,
  SIGNAL_NOT_SUPPORTED: 460,
  REPORT_NOT_SUPPORTED: 461,
  TARGET_MISMATCH: 462,
  NOT_REGISTERED_OR_AUTHORIZED: 463,
  DEPLOYMENT_ERROR: 469,
} as const;
export type ResponseCodeValue = (typeof ResponseCode)[keyof typeof ResponseCode];

export const CodecErrorCode = {
  /** Not well-formed XML (unclosed tag, bad character, text outside the root, …). */
  MALFORMED_XML: 'MALFORMED_XML',
  /** A DOCTYPE or entity declaration: refused outright (no XXE, no entity expansion). */
  FORBIDDEN_DTD: 'FORBIDDEN_DTD',
  /** The payload is larger than the configured limit. */
  TOO_LARGE: 'TOO_LARGE',
  /** Elements nested deeper than the configured limit. */
  TOO_DEEP: 'TOO_DEEP',
  /** The root element is not `oadr:oadrPayload` (or the payload element is unknown). */
  NOT_OADR_PAYLOAD: 'NOT_OADR_PAYLOAD',
  /** A required element or attribute is missing, or an unexpected one is present. */
  SCHEMA_VIOLATION: 'SCHEMA_VIOLATION',
  /** A value does not have the type the schema gives it (a number, a date-time, a duration, an enumeration). */
  WRONG_TYPE: 'WRONG_TYPE',
  /** A model value handed to the encoder cannot be written (the caller's bug, not the peer's). */
  INVALID_MODEL: 'INVALID_MODEL',
} as const;
export type CodecErrorCodeValue = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

export interface CodecErrorDetails {
  /** Where in the document, as a slash path of local names, e.g. `oadrPayload/oadrSignedObject/oadrDistributeEvent`. */
  readonly path?: string | undefined;
  /** Byte/character offset in the input, when known. */
  readonly offset?: number | undefined;
  /** Override the default answer for this code. */
  readonly responseCode?: ResponseCodeValue | undefined;
}

const TRANSPORT_STATUS: Record<CodecErrorCodeValue, number | undefined> = {
  MALFORMED_XML: 406,
  FORBIDDEN_DTD: 406,
  TOO_LARGE: 413,
  TOO_DEEP: 406,
  NOT_OADR_PAYLOAD: 406,
  SCHEMA_VIOLATION: 406,
  WRONG_TYPE: 406,
  INVALID_MODEL: undefined,
};

export class OadrCodecError extends Error {
  override readonly name = 'OadrCodecError';
  readonly code: CodecErrorCodeValue;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  /** OpenADR response code to answer with when the error is application-level. */
  readonly responseCode: ResponseCodeValue | undefined;
  /** HTTP status to answer with when the error is transport-level (never parsed as a payload). */
  readonly httpStatus: number | undefined;

  constructor(code: CodecErrorCodeValue, message: string, details: CodecErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.path = details.path;
    this.offset = details.offset;
    this.responseCode = details.responseCode;
    this.httpStatus = details.responseCode === undefined ? TRANSPORT_STATUS[code] : undefined;
  }

  /** True when the peer must get a transport error (HTTP 406/413, XMPP bad-request), not an eiResponse. */
  get transport(): boolean {
    return this.httpStatus !== undefined;
  }
}

/** Application-level protocol error carrying the OpenADR response code to answer with. */
export class OadrProtocolError extends Error {
  override readonly name = 'OadrProtocolError';
  readonly responseCode: ResponseCodeValue;
  constructor(responseCode: ResponseCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.responseCode = responseCode;
  }
}
