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
