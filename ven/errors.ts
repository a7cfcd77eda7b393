/**
 * Errors of the VEN protocol core. One class, `VenError`, with a stable `code`; the message says
 * what to do next. OpenADR application errors the VEN answers with (450, 460, 462, …) are not
 * exceptions: they travel as response codes in the payloads the state machines build.
 */

export const VenErrorCode = {
  /** A VEN option or the config file is wrong (bad URL, plain HTTP to a non-loopback host, …). */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** The VTN could not be reached or did not answer in time (after the retries). */
  VTN_UNREACHABLE: 'VTN_UNREACHABLE',
  /** The VTN answered with an HTTP status that must not be retried blindly (403, 404, 406, 501). */
  VTN_REJECTED: 'VTN_REJECTED',
  /** The VTN answered with a body that is not an OpenADR payload, or with the wrong payload. */
  VTN_BAD_ANSWER: 'VTN_BAD_ANSWER',
  /** The VTN refused the registration (an eiResponse 4xx in oadrCreatedPartyRegistration). */
  REGISTRATION_REFUSED: 'REGISTRATION_REFUSED',
  /** An operation needs a registration the VEN does not (or no longer) have. */
  NOT_REGISTERED: 'NOT_REGISTERED',
  /** The on-disk outbox could not be opened or written. */
  OUTBOX_FAILED: 'OUTBOX_FAILED',
  /** The VEN was stopped while the operation was under way. */
  STOPPED: 'STOPPED',
  /** A payload from the VTN was ignored: unsigned, or its XML signature was refused (R514). */
  SIGNATURE_REFUSED: 'SIGNATURE_REFUSED',
  /** The VTN answered oadrCreateOpt / oadrCancelOpt with an error code (R200–R211). */
  OPT_REFUSED: 'OPT_REFUSED',
} as const;
export type VenErrorCodeValue = (typeof VenErrorCode)[keyof typeof VenErrorCode];

export interface VenErrorDetails {
  /** HTTP status, for VTN_REJECTED. */
  readonly httpStatus?: number | undefined;
  /** OpenADR response code, for REGISTRATION_REFUSED and VTN_BAD_ANSWER. */
  readonly responseCode?: number | undefined;
}

export class VenError extends Error {
  override readonly name = 'VenError';
  readonly code: VenErrorCodeValue;
  readonly httpStatus: number | undefined;
  readonly responseCode: number | undefined;

  constructor(code: VenErrorCodeValue, message: string, details: VenErrorDetails = {}, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.httpStatus = details.httpStatus;
    this.responseCode = details.responseCode;
  }
}
