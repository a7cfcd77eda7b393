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
  /** An element past a per-element limit: attributes, namespace declarations, prefixes in scope, name length. */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
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
  LIMIT_EXCEEDED: 406,
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

// ---- XML signatures --------------------------------------------------------------------------

/**
 * Stable codes of the XML-signature layer (the "High" security level, R514, rules digest 9.6–9.7).
 *
 * Verification never throws for a peer's bad input: it answers `{ ok: false, reason }` with one of
 * `SignatureFailure`, and the caller ignores the message (no OpenADR application answer, R514;
 * HTTP 403, XMPP `not-authorized`). Signing throws `OadrSignatureError` for the caller's own
 * mistakes (a key that does not match the certificate, a document that is not an oadrPayload).
 */

/** Why a received payload was refused. */
export const SignatureFailure = {
  /** No `ds:Signature` where the 2.0b schema puts it (first child of `oadrPayload`). */
  UNSIGNED: 'UNSIGNED',
  /** A Reference's digest does not match what it points at: the content was altered. */
  BAD_DIGEST: 'BAD_DIGEST',
  /** The SignatureValue does not verify over SignedInfo with the KeyInfo certificate's key. */
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** No Reference covers THE `oadrSignedObject` that `decodeOadr` reads (or ids are ambiguous: signature wrapping). */
  NOT_COVERED: 'NOT_COVERED',
  /** The signing certificate is not the TLS peer's. */
  CERT_MISMATCH: 'CERT_MISMATCH',
  /** The signing certificate is expired or not yet valid at `now` (R516). */
  CERT_EXPIRED: 'CERT_EXPIRED',
  /** `dsp:timestamp` is further from `now` than the window (§10.6.4 step 3). */
  STALE_TIMESTAMP: 'STALE_TIMESTAMP',
  /** `dsp:nonce` was already seen within the window. */
  REPLAYED_NONCE: 'REPLAYED_NONCE',
  /** A canonicalisation, signature, digest or transform algorithm outside the allowed set (R514, §10.6.3). */
  UNSUPPORTED_ALGORITHM: 'UNSUPPORTED_ALGORITHM',
  /** Not well-formed, a DTD, a structure the schema forbids, a missing part (KeyInfo, ReplayProtect, …). */
  MALFORMED: 'MALFORMED',
} as const;
export type SignatureFailureCode = (typeof SignatureFailure)[keyof typeof SignatureFailure];

/** Codes of `OadrSignatureError` (signing side: the caller's mistake, never the peer's). */
export const SignatureErrorCode = {
  /** The input is not an oadrPayload document our encoder writes, or it is signed already. */
  INVALID_DOCUMENT: 'INVALID_DOCUMENT',
  /** The private key is not RSA or EC, or it does not belong to the certificate. */
  INVALID_KEY: 'INVALID_KEY',
  /** A nonce or clock value that cannot be written (empty nonce, invalid date). */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
} as const;
export type SignatureErrorCodeValue = (typeof SignatureErrorCode)[keyof typeof SignatureErrorCode];

export class OadrSignatureError extends Error {
  override readonly name = 'OadrSignatureError';
  readonly code: SignatureErrorCodeValue;
  constructor(code: SignatureErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
