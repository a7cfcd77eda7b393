/**
 * Errors of the PKI part. Every failure is a `CertsError` with a stable `code`; the message says
 * what to do next. The CLI maps them to exit code 1 (invalid input).
 */

export const CERTS_ERROR_CODES = [
  /** An option is missing or has a value the PKI cannot use (name, kind, profile, org, attribute, dates). */
  'INVALID_OPTIONS',
  /** A certificate could not be read (not PEM/DER, or not an X.509 certificate). */
  'INVALID_CERTIFICATE',
  /** A private key could not be read, or is of a type we do not issue with (only RSA and ECDSA P-256). */
  'INVALID_KEY',
  /** The directory holds no PKI made by `certs init` (no `pki.json`). */
  'PKI_NOT_FOUND',
  /** The directory holds part of a PKI (no `pki.json` but some of our folders): an interrupted init. */
  'PKI_INCOMPLETE',
  /** An identity of that name already exists; pass `force` to replace it. */
  'IDENTITY_EXISTS',
  /** An MSP folder lacks a required file (cacerts, signcerts, keystore) or holds more than one where one is expected. */
  'INVALID_MSP',
  /** A certificate handed to `revoke` was not issued by the CA asked to revoke it. */
  'NOT_ISSUED_BY_CA',
] as const;

export type CertsErrorCode = (typeof CERTS_ERROR_CODES)[number];

export class CertsError extends Error {
  override readonly name = 'CertsError';
  readonly code: CertsErrorCode;

  constructor(code: CertsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
