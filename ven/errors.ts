/**
 * Errors of the VEN protocol core. One class, `VenError`, with a stable `code`; the message says
 * what to do next. OpenADR application errors the VEN answers with (450, 460, 462, …) are not
 * exceptions: they travel as response codes in the payloads the state machines build.
 */

export const VenErrorCode = {
  /** A VEN option or the config file is wrong (bad URL, plain HTTP to a non-loopback host, …). */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** The VTN could not be reached: connection refused or reset, DNS failure, TLS failure, or no answer in time. */
  VTN_UNREACHABLE: 'VTN_UNREACHABLE',
  /** The VTN refused the request with an HTTP error status (4xx, 5xx); `httpStatus` and `bodyLine` say which. */
  VTN_REJECTED: 'VTN_REJECTED',
  /** Protocol error: a 200 whose body is not an OpenADR payload, the wrong payload, or an OpenADR error response code. */
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
  /** The first line of the VTN's refusal body (trimmed, at most 200 characters), for VTN_REJECTED. */
  readonly bodyLine?: string | undefined;
  /** OpenADR response code, for REGISTRATION_REFUSED and VTN_BAD_ANSWER. */
  readonly responseCode?: number | undefined;
}

export class VenError extends Error {
  override readonly name = 'VenError';
  readonly code: VenErrorCodeValue;
  readonly httpStatus: number | undefined;
  readonly responseCode: number | undefined;
  readonly bodyLine: string | undefined;

  constructor(code: VenErrorCodeValue, message: string, details: VenErrorDetails = {}, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.httpStatus = details.httpStatus;
    this.responseCode = details.responseCode;
    this.bodyLine = details.bodyLine;
  }
}

/**
 * The three ways an exchange with the VTN fails, as the VEN logs them and shows them in its status:
 * `unreachable` (no HTTP answer: connect, DNS, TLS, timeout), `refused` (an HTTP 4xx/5xx answer) and
 * `protocol` (an HTTP 200 that is not a valid OpenADR answer, or carries an OpenADR error code).
 */
export const VtnFailureKind = { UNREACHABLE: 'unreachable', REFUSED: 'refused', PROTOCOL: 'protocol' } as const;
export type VtnFailureKindValue = (typeof VtnFailureKind)[keyof typeof VtnFailureKind];

const KIND_OF_CODE: Readonly<Partial<Record<VenErrorCodeValue, VtnFailureKindValue>>> = {
  [VenErrorCode.VTN_UNREACHABLE]: VtnFailureKind.UNREACHABLE,
  [VenErrorCode.VTN_REJECTED]: VtnFailureKind.REFUSED,
  [VenErrorCode.VTN_BAD_ANSWER]: VtnFailureKind.PROTOCOL,
  [VenErrorCode.SIGNATURE_REFUSED]: VtnFailureKind.PROTOCOL,
  [VenErrorCode.REGISTRATION_REFUSED]: VtnFailureKind.PROTOCOL,
};

/** A failed exchange with the VTN, as logged (`kind` first) and kept in the VEN's status. */
export interface VtnFailure {
  readonly kind: VtnFailureKindValue;
  readonly code: VenErrorCodeValue;
  readonly message: string;
  readonly httpStatus?: number | undefined;
  readonly bodyLine?: string | undefined;
  readonly responseCode?: number | undefined;
}

/** The failure an error stands for, or undefined when it is not about the VTN (STOPPED, OUTBOX_FAILED, a bug). */
export function vtnFailureOf(err: unknown): VtnFailure | undefined {
  if (!(err instanceof VenError)) return undefined;
  const kind = KIND_OF_CODE[err.code];
  if (kind === undefined) return undefined;
  return {
    kind,
    code: err.code,
    message: err.message,
    ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
    ...(err.bodyLine === undefined ? {} : { bodyLine: err.bodyLine }),
    ...(err.responseCode === undefined ? {} : { responseCode: err.responseCode }),
  };
}

/** An HTTP refusal that sending the same request again will not change (4xx other than 408 and 429). */
export function isPermanentRefusal(err: unknown): boolean {
  if (!(err instanceof VenError) || err.code !== VenErrorCode.VTN_REJECTED || err.httpStatus === undefined) return false;
  return err.httpStatus >= 400 && err.httpStatus < 500 && err.httpStatus !== 408 && err.httpStatus !== 429;
}

const KIND_TEXT: Readonly<Record<VtnFailureKindValue, string>> = {
  unreachable: 'VTN unreachable',
  refused: 'VTN refused the request',
  protocol: 'VTN protocol error',
};

/**
 * HTTP 404: there is no OpenADR service at the URL the VEN posts to (a wrong --vtn-url or path
 * prefix). Sending again will not change it: the VEN stops instead of retrying (docs/ven.md).
 */
export function isNoService(err: unknown): err is VenError {
  return err instanceof VenError && err.code === VenErrorCode.VTN_REJECTED && err.httpStatus === 404;
}

/**
 * The log line of a failed exchange: `{ kind, code, httpStatus?, bodyLine?, responseCode?, detail, ...context }`
 * and a message naming the kind, one line: a VTN failure is described, not dumped with a stack trace
 * (a retry every few seconds would fill the log with stacks); any other error keeps `err`, stack and all.
 */
export function vtnFailureLog(err: unknown, what: string, next: string): { fields: Record<string, unknown>; message: string } {
  const f = vtnFailureOf(err);
  if (f === undefined) return { fields: { err }, message: `${what} failed; ${next}` };
  const { message, ...rest } = f;
  const status = f.httpStatus === undefined ? '' : ` (HTTP ${f.httpStatus}${f.bodyLine === undefined || f.bodyLine === '' ? '' : `: ${f.bodyLine}`})`;
  const code = f.responseCode === undefined ? '' : ` (response code ${f.responseCode})`;
  return { fields: { ...rest, detail: message }, message: `${KIND_TEXT[f.kind]}${status}${code}: ${what} failed; ${next}` };
}
