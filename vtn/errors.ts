/**
 * Errors of the VTN. A `VtnError` has a stable `code`; the message says what to do next. OpenADR
 * application errors (a response code inside the answer payload) are `OadrProtocolError`s from
 * `oadr/`; they never leave the VTN as exceptions, the HTTP edge turns them into payloads.
 */

export const VTN_ERROR_CODES = [
  /** The configuration object is invalid (a wrong type, a value out of range, an unknown key). */
  'INVALID_CONFIG',
  /** An argument of the public API is invalid (an unknown program, a bad signal value, R104…). */
  'INVALID_ARGUMENT',
  /** No such event, VEN or customer. */
  'NOT_FOUND',
  /** The change would rewrite the past (R20) or touch a cancelled event. */
  'NOT_ALLOWED',
  /** The store failed or holds data this version cannot read. */
  'STORE',
  /** The ledger refused or failed (see `cause`: a LedgerError or the mapping's MappingError). */
  'LEDGER',
  /**
   * The ledger cannot be reached now (the peer or orderer is down, or a commit was not confirmed in
   * time): nothing was decided; the admin API answers 503 with Retry-After.
   */
  'LEDGER_UNAVAILABLE',
  /** The VTN is closed or closing. */
  'CLOSED',
  /** Admin API: no valid bearer token. */
  'UNAUTHORIZED',
  /** Admin API: the token's role may not do this. */
  'FORBIDDEN',
  /** The ledger port lacks the method this needs (admin API answers 501). */
  'NOT_IMPLEMENTED',
  /** Admin API: too many requests, or failed authentications, from this token or address (429). */
  'RATE_LIMITED',
] as const;

export type VtnErrorCode = (typeof VTN_ERROR_CODES)[number];

export class VtnError extends Error {
  override readonly name = 'VtnError';
  readonly code: VtnErrorCode;
  /** RATE_LIMITED: seconds until a retry may succeed (the HTTP `Retry-After`). */
  readonly retryAfterS: number | undefined;

  constructor(code: VtnErrorCode, message: string, options?: ErrorOptions & { readonly retryAfterS?: number }) {
    super(message, options);
    this.code = code;
    this.retryAfterS = options?.retryAfterS;
  }
}

/** A failure of the ledger mapping (its MappingError codes) as the VTN's error, `what` saying what failed. */
export function ledgerError(err: unknown, what: string): VtnError {
  const code = (err as { code?: unknown }).code;
  if (ledgerUnreachable(err)) return new VtnError('LEDGER_UNAVAILABLE', `${what}: ${(err as Error).message}`, { cause: err, retryAfterS: LEDGER_RETRY_AFTER_S });
  const kind = code === 'INVALID_REQUEST' || code === 'OFF_GRID' ? 'INVALID_ARGUMENT' : code === 'NOT_ALLOWED' || code === 'NO_CUSTOMERS' ? 'NOT_ALLOWED' : code === 'UNKNOWN_EVENT' || code === 'UNKNOWN_CLAIM' ? 'NOT_FOUND' : 'LEDGER';
  return new VtnError(kind, `${what}: ${(err as Error).message}`, { cause: err });
}

/** The `Retry-After` (s) of a LEDGER_UNAVAILABLE answer: the outbox's retries of ledger work reach 30 s apart. */
export const LEDGER_RETRY_AFTER_S = 30;

/**
 * Whether a failure says the ledger could not be reached rather than that it refused: a
 * LedgerError `UNAVAILABLE` (peer, orderer or store down) or `TIMEOUT` (the outcome is unknown: the
 * transaction may still commit), anywhere in the `cause` chain, or a VtnError LEDGER_UNAVAILABLE.
 * What failed so is worth doing again later with the same idempotency key.
 */
export function ledgerUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof VtnError) {
      if (code === 'LEDGER_UNAVAILABLE') return true;
      continue;
    }
    if ((e as { name?: unknown }).name === 'LedgerError') return code === 'UNAVAILABLE' || code === 'TIMEOUT';
  }
  return false;
}
